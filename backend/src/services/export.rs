//! Open data: a consultation's conversation as Pol.is openData-compatible CSV
//! files (`comments.csv`, `votes.csv`, `participants-votes.csv`,
//! `summary.csv`, `stats-history.csv`), one JSON document and a zip of all of
//! them with the CC BY 4.0 licence text.
//!
//! The CSVs follow Pol.is's current export column for column, so
//! `samskab opinion analyze --polis-export DIR` (and any tool written for
//! Pol.is data) reads them, and a cold run on the export of a closed
//! consultation gives exactly the groups of its final snapshot.
//!
//! Privacy: participant ids are numbered 0..n per consultation in the order
//! people joined (never database or user ids), statement ids are their
//! per-consultation numbers, and no name, email or account is ever written.
//! Statements awaiting moderation are left out (their text has not been
//! checked and they are not part of the conversation yet); rejected ones keep
//! their row with `moderated = -1`, as in Pol.is, but without their text.
//!
//! Every CSV is written by [`crate::open_csv::CsvWriter`]: text cells in
//! double quotes, with one `'` in front of a text that a spreadsheet would
//! run as a formula (`=`, `+`, `-`, `@`, tab, CR); numbers bare. The JSON
//! document keeps the texts as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::auth::session::CurrentUser;
use crate::entities::{consultation, participant, statement, vote, vote_history};
use crate::errors::AppError;
use crate::open_csv::{Cell, CsvError, CsvWriter};
use crate::opinion::Snapshot;

use super::consultations::{self, Status};
use super::statements::StatementStatus;

pub const LICENSE_NAME: &str = "CC BY 4.0";
pub const LICENSE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";
/// Version of the JSON document's shape.
pub const JSON_FORMAT: &str = "samskab-open-data/1";
pub const JSON_FILE: &str = "export.json";
/// The Pol.is-compatible files, in the order they are listed everywhere.
pub const CSV_FILES: [&str; 5] = [
    "comments.csv",
    "votes.csv",
    "participants-votes.csv",
    "summary.csv",
    "stats-history.csv",
];

/// One downloadable file of a consultation's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFile {
    Comments,
    Votes,
    ParticipantsVotes,
    Summary,
    StatsHistory,
    Json,
    /// Every file above plus LICENSE.txt, named `{slug}.zip`.
    Zip,
}

impl ExportFile {
    pub const ALL: [ExportFile; 7] = [
        ExportFile::Comments,
        ExportFile::Votes,
        ExportFile::ParticipantsVotes,
        ExportFile::Summary,
        ExportFile::StatsHistory,
        ExportFile::Json,
        ExportFile::Zip,
    ];

    /// The file name in the URL and in the zip (`slug` names the zip).
    pub fn name(self, slug: &str) -> String {
        match self {
            ExportFile::Comments => "comments.csv".into(),
            ExportFile::Votes => "votes.csv".into(),
            ExportFile::ParticipantsVotes => "participants-votes.csv".into(),
            ExportFile::Summary => "summary.csv".into(),
            ExportFile::StatsHistory => "stats-history.csv".into(),
            ExportFile::Json => JSON_FILE.into(),
            ExportFile::Zip => format!("{slug}.zip"),
        }
    }

    pub fn parse(slug: &str, name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name(slug) == name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFile::Json => "application/json",
            ExportFile::Zip => "application/zip",
            _ => "text/csv; charset=utf-8",
        }
    }

    /// Translation key suffix (`open_data.file.…`) describing the file.
    pub fn key(self) -> &'static str {
        match self {
            ExportFile::Comments => "comments",
            ExportFile::Votes => "votes",
            ExportFile::ParticipantsVotes => "participants_votes",
            ExportFile::Summary => "summary",
            ExportFile::StatsHistory => "stats_history",
            ExportFile::Json => "json",
            ExportFile::Zip => "zip",
        }
    }
}

/// Address of one export file.
pub fn url(slug: &str, file: ExportFile) -> String {
    format!("/consultations/{slug}/export/{}", file.name(slug))
}

/// Who may download a consultation's export: staff and politicians while it
/// runs (drafts: staff only), everyone once it is published or archived.
pub fn can_download(actor: Option<&CurrentUser>, c: &consultation::Model) -> bool {
    let role = actor.map(|u| u.role);
    match c.status {
        Status::Draft => role.is_some_and(Role::is_staff),
        Status::Open | Status::Closed => {
            role.is_some_and(|r| r.is_staff() || r == Role::Politician)
        }
        Status::Published | Status::Archived => true,
    }
}

/// The consultation behind `slug` if `actor` may download its export.
/// Drafts and consultations without a conversation do not exist for those who
/// may not see them (as on the consultation page); otherwise a refusal is
/// `Forbidden` (the handler sends an anonymous visitor to log in).
pub async fn authorize(
    db: &DatabaseConnection,
    actor: Option<&CurrentUser>,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    let c = consultations::get_visible(db, actor, slug).await?;
    if !c.has_conversation {
        return Err(AppError::NotFound);
    }
    if can_download(actor, &c) {
        Ok(c)
    } else {
        Err(AppError::forbidden())
    }
}

/// Everything the files are made from, read once.
pub struct ExportData {
    pub consultation: consultation::Model,
    /// Absolute address of the consultation page (relative without `public_url`).
    pub page_url: String,
    /// Accepted and rejected statements by number.
    pub statements: Vec<statement::Model>,
    /// Database participant id → consultation-scoped id (0..n in joining order).
    pub ids: BTreeMap<i64, i64>,
    /// Joining time per exported participant, in id order.
    pub joined: Vec<DateTime<Utc>>,
    /// Current votes: (export participant, statement number) → value.
    pub current: BTreeMap<(i64, i64), i16>,
    /// Every vote as cast, oldest first: (time, statement number, export participant, value).
    pub history: Vec<(DateTime<Utc>, i64, i64, i16)>,
    /// The snapshot whose groups are exported: the final one once the
    /// consultation closed, else the newest.
    pub snapshot: Option<(
        crate::entities::opinion_snapshot::Model,
        std::sync::Arc<Snapshot>,
    )>,
}

pub async fn load(
    db: &DatabaseConnection,
    c: consultation::Model,
    public_url: Option<&str>,
) -> Result<ExportData, AppError> {
    let statements: Vec<statement::Model> = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .order_by_asc(statement::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .filter(|s| s.status != StatementStatus::Pending)
        .collect();
    let number_of: HashMap<i64, i64> = statements.iter().map(|s| (s.id, s.number)).collect();
    let votes = vote::Entity::find()
        .filter(vote::Column::ConsultationId.eq(c.id))
        .order_by_asc(vote::Column::Id)
        .all(db)
        .await?;
    let history_rows = vote_history::Entity::find()
        .filter(vote_history::Column::ConsultationId.eq(c.id))
        .order_by_asc(vote_history::Column::Id)
        .all(db)
        .await?;
    // Everyone who voted on or wrote an exported statement, in joining order
    // (participant rows are created on first contribution, so ids ascend with
    // time). Keeping the order keeps the engine's row order, hence its groups.
    let mut present: BTreeSet<i64> = BTreeSet::new();
    present.extend(
        votes
            .iter()
            .filter(|v| number_of.contains_key(&v.statement_id))
            .map(|v| v.participant_id),
    );
    present.extend(
        history_rows
            .iter()
            .filter(|v| number_of.contains_key(&v.statement_id))
            .map(|v| v.participant_id),
    );
    present.extend(statements.iter().filter_map(|s| s.participant_id));
    let ids: BTreeMap<i64, i64> = present.iter().zip(0_i64..).map(|(&p, i)| (p, i)).collect();
    let created: HashMap<i64, DateTime<Utc>> = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.created_at))
        .collect();
    let joined = ids
        .keys()
        .map(|p| created.get(p).copied().unwrap_or(c.created_at))
        .collect();
    let current = votes
        .iter()
        .filter_map(|v| {
            Some((
                (
                    *ids.get(&v.participant_id)?,
                    *number_of.get(&v.statement_id)?,
                ),
                v.value,
            ))
        })
        .collect();
    let history = history_rows
        .iter()
        .filter_map(|v| {
            Some((
                v.cast_at,
                *number_of.get(&v.statement_id)?,
                *ids.get(&v.participant_id)?,
                v.value,
            ))
        })
        .collect();
    let snapshot = super::snapshots::latest(db, c.id).await?;
    let page_url = format!(
        "{}/consultations/{}",
        public_url.unwrap_or("").trim_end_matches('/'),
        c.slug
    );
    Ok(ExportData {
        consultation: c,
        page_url,
        statements,
        ids,
        joined,
        current,
        history,
        snapshot,
    })
}

fn millis(at: &DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Pol.is's `datetime` column, e.g. `Fri Sep 20 14:29:43 UTC 2024`.
fn polis_datetime(at: &DateTime<Utc>) -> String {
    at.format("%a %b %d %H:%M:%S UTC %Y").to_string()
}

fn csv_error(e: CsvError) -> AppError {
    AppError::Unexpected(anyhow::Error::new(e))
}

fn finish(w: CsvWriter) -> Result<Vec<u8>, AppError> {
    w.finish().map_err(csv_error)
}

/// The columns of `comments.csv`, Pol.is's order.
pub const COMMENT_COLUMNS: [&str; 10] = [
    "timestamp",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "is-meta",
    "is-seed",
    "group-informed-consensus",
    "comment-body",
];

/// One row of `comments.csv`.
#[derive(Debug, Clone)]
pub struct CommentRow<'a> {
    pub timestamp: i64,
    pub id: i64,
    pub author: Option<i64>,
    pub agrees: u32,
    pub disagrees: u32,
    /// 1 accepted, -1 rejected.
    pub moderated: i8,
    pub is_meta: bool,
    pub is_seed: bool,
    pub group_informed_consensus: Option<f64>,
    pub body: &'a str,
}

/// `comments.csv` from its rows; the statement text is the one text cell.
pub fn write_comments<'a>(
    rows: impl IntoIterator<Item = CommentRow<'a>>,
) -> Result<Vec<u8>, AppError> {
    let mut w = CsvWriter::new();
    w.row(COMMENT_COLUMNS.map(Cell::name)).map_err(csv_error)?;
    for r in rows {
        w.row([
            Cell::int(r.timestamp),
            Cell::int(r.id),
            Cell::opt_int(r.author),
            Cell::int(r.agrees),
            Cell::int(r.disagrees),
            Cell::int(r.moderated),
            Cell::bool(r.is_meta),
            Cell::bool(r.is_seed),
            Cell::opt_float(r.group_informed_consensus),
            Cell::text(r.body),
        ])
        .map_err(csv_error)?;
    }
    finish(w)
}

/// Per statement number: (agrees, disagrees, passes) of the current votes.
fn tallies(data: &ExportData) -> BTreeMap<i64, (u32, u32, u32)> {
    let mut out: BTreeMap<i64, (u32, u32, u32)> = BTreeMap::new();
    for (&(_, number), &value) in &data.current {
        let t = out.entry(number).or_default();
        match value {
            1 => t.0 += 1,
            -1 => t.1 += 1,
            _ => t.2 += 1,
        }
    }
    out
}

fn moderated(s: &statement::Model) -> i8 {
    match s.status {
        StatementStatus::Accepted => 1,
        StatementStatus::Rejected => -1,
        StatementStatus::Pending => 0,
    }
}

fn public_text(s: &statement::Model) -> &str {
    if s.status == StatementStatus::Rejected {
        ""
    } else {
        &s.body
    }
}

impl ExportData {
    fn author(&self, s: &statement::Model) -> Option<i64> {
        s.participant_id.and_then(|p| self.ids.get(&p).copied())
    }

    fn gic(&self, number: i64) -> Option<f64> {
        let (_, snapshot) = self.snapshot.as_ref()?;
        snapshot.group_informed_consensus.get(&number).copied()
    }

    fn comments_by(&self) -> BTreeMap<i64, u32> {
        let mut out = BTreeMap::new();
        for s in &self.statements {
            if let Some(a) = self.author(s) {
                *out.entry(a).or_insert(0) += 1;
            }
        }
        out
    }

    /// Groups per consultation-scoped participant id.
    pub fn groups(&self) -> BTreeMap<i64, Option<usize>> {
        let Some((_, snapshot)) = self.snapshot.as_ref() else {
            return self.ids.values().map(|&e| (e, None)).collect();
        };
        self.ids
            .iter()
            .map(|(db, &e)| (e, snapshot.participants.get(db).and_then(|r| r.group)))
            .collect()
    }

    pub fn comments_csv(&self) -> Result<Vec<u8>, AppError> {
        let tallies = tallies(self);
        write_comments(self.statements.iter().map(|s| {
            let (agrees, disagrees, _) = tallies.get(&s.number).copied().unwrap_or_default();
            CommentRow {
                timestamp: millis(&s.created_at),
                id: s.number,
                author: self.author(s),
                agrees,
                disagrees,
                moderated: moderated(s),
                is_meta: s.is_meta,
                is_seed: s.is_seed,
                group_informed_consensus: self.gic(s.number),
                body: public_text(s),
            }
        }))
    }

    pub fn votes_csv(&self) -> Result<Vec<u8>, AppError> {
        let mut w = CsvWriter::new();
        w.row(["timestamp", "datetime", "comment-id", "voter-id", "vote"].map(Cell::name))
            .map_err(csv_error)?;
        for (at, number, voter, value) in &self.history {
            w.row([
                Cell::int(millis(at)),
                Cell::owned_text(polis_datetime(at)),
                Cell::int(*number),
                Cell::int(*voter),
                Cell::int(*value),
            ])
            .map_err(csv_error)?;
        }
        finish(w)
    }

    pub fn participants_votes_csv(&self) -> Result<Vec<u8>, AppError> {
        let numbers: Vec<i64> = self.statements.iter().map(|s| s.number).collect();
        let comments = self.comments_by();
        let groups = self.groups();
        let mut w = CsvWriter::new();
        let mut header: Vec<Cell> = [
            "participant",
            "xid",
            "group-id",
            "n-comments",
            "n-votes",
            "n-agree",
            "n-disagree",
        ]
        .map(Cell::name)
        .into();
        header.extend(numbers.iter().map(|n| Cell::int(*n)));
        w.row(header).map_err(csv_error)?;
        for &p in self.ids.values() {
            let cells: Vec<Option<i16>> = numbers
                .iter()
                .map(|n| self.current.get(&(p, *n)).copied())
                .collect();
            let count = |f: fn(i16) -> bool| cells.iter().flatten().filter(|v| f(**v)).count();
            let mut row = vec![
                Cell::int(p),
                Cell::empty(),
                Cell::opt_int(
                    groups
                        .get(&p)
                        .copied()
                        .flatten()
                        .and_then(|g| i64::try_from(g).ok()),
                ),
                Cell::int(comments.get(&p).copied().unwrap_or(0)),
                Cell::count(count(|_| true)),
                Cell::count(count(|v| v == 1)),
                Cell::count(count(|v| v == -1)),
            ];
            row.extend(cells.iter().map(|c| Cell::opt_int(*c)));
            w.row(row).map_err(csv_error)?;
        }
        finish(w)
    }

    pub fn summary(&self) -> ExportSummary {
        let voters: BTreeSet<i64> = self.current.keys().map(|(p, _)| *p).collect();
        let commenters = self.comments_by().len();
        let (k, in_conv) = match &self.snapshot {
            Some((_, s)) => (s.k, s.state.in_conv.len()),
            None => (0, 0),
        };
        ExportSummary {
            participants: self.ids.len(),
            voters: voters.len(),
            voters_in_conv: in_conv,
            commenters,
            comments: self.statements.len(),
            votes: self.history.len(),
            groups: k,
        }
    }

    pub fn summary_csv(&self) -> Result<Vec<u8>, AppError> {
        let s = self.summary();
        let c = &self.consultation;
        let mut w = CsvWriter::new();
        let rows: [(&str, Cell); 9] = [
            ("topic", Cell::text(&c.title)),
            ("url", Cell::text(&self.page_url)),
            // No page views are counted; everyone who took part is the nearest.
            ("views", Cell::count(s.participants)),
            ("voters", Cell::count(s.voters)),
            ("voters-in-conv", Cell::count(s.voters_in_conv)),
            ("commenters", Cell::count(s.commenters)),
            ("comments", Cell::count(s.comments)),
            ("groups", Cell::count(s.groups)),
            ("conversation-description", Cell::text(&c.summary)),
        ];
        for (key, value) in rows {
            w.row([Cell::name(key), value]).map_err(csv_error)?;
        }
        finish(w)
    }

    /// Running totals after every event (someone joined, a statement was
    /// written, a vote was cast), oldest first, as Pol.is writes them.
    pub fn stats_history_csv(&self) -> Result<Vec<u8>, AppError> {
        enum Event {
            Joined,
            Comment(Option<i64>),
            Vote(i64),
        }
        let mut events: Vec<(DateTime<Utc>, u8, Event)> = Vec::new();
        events.extend(self.joined.iter().map(|at| (*at, 0, Event::Joined)));
        events.extend(
            self.statements
                .iter()
                .map(|s| (s.created_at, 1, Event::Comment(self.author(s)))),
        );
        events.extend(
            self.history
                .iter()
                .map(|(at, _, p, _)| (*at, 2, Event::Vote(*p))),
        );
        events.sort_by_key(|(at, order, _)| (*at, *order));
        let mut w = CsvWriter::new();
        w.row(
            [
                "n-votes",
                "n-comments",
                "n-visitors",
                "n-voters",
                "n-commenters",
            ]
            .map(Cell::name),
        )
        .map_err(csv_error)?;
        let (mut votes, mut comments, mut visitors) = (0_usize, 0_usize, 0_usize);
        let mut voters = BTreeSet::new();
        let mut commenters = BTreeSet::new();
        for (_, _, event) in events {
            match event {
                Event::Joined => visitors += 1,
                Event::Comment(author) => {
                    comments += 1;
                    commenters.extend(author);
                }
                Event::Vote(p) => {
                    votes += 1;
                    voters.insert(p);
                }
            }
            w.row([
                Cell::count(votes),
                Cell::count(comments),
                Cell::count(visitors),
                Cell::count(voters.len()),
                Cell::count(commenters.len()),
            ])
            .map_err(csv_error)?;
        }
        finish(w)
    }

    pub fn document(&self) -> ExportDocument {
        let c = &self.consultation;
        let tallies = tallies(self);
        let comments = self.comments_by();
        let groups = self.groups();
        let statements = self
            .statements
            .iter()
            .map(|s| {
                let (agrees, disagrees, passes) =
                    tallies.get(&s.number).copied().unwrap_or_default();
                ExportStatement {
                    id: s.number,
                    author: self.author(s),
                    created_at: millis(&s.created_at),
                    text: public_text(s).to_owned(),
                    moderated: moderated(s),
                    is_meta: s.is_meta,
                    is_seed: s.is_seed,
                    agrees,
                    disagrees,
                    passes,
                    group_informed_consensus: self.gic(s.number),
                }
            })
            .collect();
        let participants = self
            .ids
            .values()
            .map(|&p| {
                let votes: BTreeMap<String, i16> = self
                    .current
                    .range((p, i64::MIN)..=(p, i64::MAX))
                    .map(|((_, n), v)| (n.to_string(), *v))
                    .collect();
                ExportParticipant {
                    id: p,
                    group: groups.get(&p).copied().flatten(),
                    n_comments: comments.get(&p).copied().unwrap_or(0),
                    n_votes: votes.len(),
                    n_agree: votes.values().filter(|v| **v == 1).count(),
                    n_disagree: votes.values().filter(|v| **v == -1).count(),
                    votes,
                }
            })
            .collect();
        let votes = self
            .history
            .iter()
            .map(|(at, n, p, v)| ExportVote {
                timestamp: millis(at),
                statement: *n,
                participant: *p,
                vote: *v,
            })
            .collect();
        ExportDocument {
            format: JSON_FORMAT.into(),
            license: ExportLicense {
                name: LICENSE_NAME.into(),
                url: LICENSE_URL.into(),
                attribution: attribution(c, &self.page_url),
            },
            consultation: ExportConsultation {
                slug: c.slug.clone(),
                title: c.title.clone(),
                summary: c.summary.clone(),
                status: c.status.as_str().to_owned(),
                url: self.page_url.clone(),
                opens_at: c.opens_at.map(|d| d.to_rfc3339()),
                closes_at: c.closes_at.map(|d| d.to_rfc3339()),
                published_at: c.published_at.map(|d| d.to_rfc3339()),
                outcome: super::outcome::published(c),
            },
            snapshot: self.snapshot.as_ref().map(|(row, s)| ExportSnapshot {
                kind: row.kind.as_str().to_owned(),
                computed_at: row.computed_at.to_rfc3339(),
                k: s.k,
                input_sha256: s.receipt.input_sha256.clone(),
            }),
            summary: self.summary(),
            statements,
            participants,
            votes,
        }
    }

    pub fn json(&self) -> Result<Vec<u8>, AppError> {
        serde_json::to_vec_pretty(&self.document()).map_err(|e| anyhow::Error::from(e).into())
    }

    /// The bytes of one file.
    pub fn file(&self, file: ExportFile) -> Result<Vec<u8>, AppError> {
        match file {
            ExportFile::Comments => self.comments_csv(),
            ExportFile::Votes => self.votes_csv(),
            ExportFile::ParticipantsVotes => self.participants_votes_csv(),
            ExportFile::Summary => self.summary_csv(),
            ExportFile::StatsHistory => self.stats_history_csv(),
            ExportFile::Json => self.json(),
            ExportFile::Zip => self.zip(),
        }
    }

    /// Every file in one zip, with the licence as LICENSE.txt.
    pub fn zip(&self) -> Result<Vec<u8>, AppError> {
        let zip_error = |e: &dyn std::fmt::Display| {
            AppError::Unexpected(anyhow::anyhow!("cannot write the zip: {e}"))
        };
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let slug = &self.consultation.slug;
        let mut entries: Vec<(String, Vec<u8>)> = vec![(
            "LICENSE.txt".into(),
            license_text(&self.consultation, &self.page_url).into_bytes(),
        )];
        for file in ExportFile::ALL {
            if file != ExportFile::Zip {
                entries.push((file.name(slug), self.file(file)?));
            }
        }
        for (name, bytes) in entries {
            zip.start_file(name, options).map_err(|e| zip_error(&e))?;
            zip.write_all(&bytes).map_err(|e| zip_error(&e))?;
        }
        let cursor = zip.finish().map_err(|e| zip_error(&e))?;
        Ok(cursor.into_inner())
    }
}

fn attribution(c: &consultation::Model, page_url: &str) -> String {
    format!(
        "Data from the consultation \"{}\" ({page_url}), collected with Samskab, \
         licensed under {LICENSE_NAME} ({LICENSE_URL}).",
        c.title
    )
}

/// LICENSE.txt in the zip, in Danish and English.
pub fn license_text(c: &consultation::Model, page_url: &str) -> String {
    format!(
        "{title}\n{page_url}\n\n\
         Data i denne mappe er frigivet under Creative Commons Navngivelse 4.0 \
         International ({LICENSE_NAME}): {LICENSE_URL}\n\
         Du må dele og bearbejde data til ethvert formål, også kommercielt, når du \
         angiver kilden.\n\n\
         The data in this folder is licensed under Creative Commons Attribution 4.0 \
         International ({LICENSE_NAME}): {LICENSE_URL}\n\
         You may share and adapt it for any purpose, even commercially, as long as you \
         give credit.\n\n\
         Attribution: {attribution}\n\n\
         Files (Pol.is openData format):\n\
         - comments.csv: one row per statement (comment-id, author-id, vote counts, \
         moderated 1 = accepted / -1 = rejected, text)\n\
         - votes.csv: every vote as cast (1 = agree, -1 = disagree, 0 = pass)\n\
         - participants-votes.csv: one row per participant with their opinion group \
         and current vote on each statement\n\
         - summary.csv: key figures\n\
         - stats-history.csv: running totals over time\n\
         - export.json: all of the above in one JSON document\n\n\
         Participant ids are numbered per consultation and cannot be traced to a \
         person. Names and email addresses are never exported.\n\n\
         Text cells are always in double quotes. A text that begins with = + - @, a \
         tab or a carriage return (also after one or more ') has one extra ' in \
         front, so that spreadsheets do not run it as a formula; remove that one ' \
         to get the original text. Numbers (such as -1) are written as numbers.\n",
        title = c.title,
        attribution = attribution(c, page_url),
    )
}

/// The JSON export (`export.json`, `GET /api/v1/consultations/{slug}/export`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportDocument {
    /// Version of this document's shape: `samskab-open-data/1`.
    pub format: String,
    pub license: ExportLicense,
    pub consultation: ExportConsultation,
    /// The opinion snapshot whose groups are given (final once closed).
    pub snapshot: Option<ExportSnapshot>,
    pub summary: ExportSummary,
    pub statements: Vec<ExportStatement>,
    pub participants: Vec<ExportParticipant>,
    /// Every vote as cast, oldest first.
    pub votes: Vec<ExportVote>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportLicense {
    /// `CC BY 4.0`
    pub name: String,
    pub url: String,
    /// How to credit the source.
    pub attribution: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportConsultation {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// draft, open, closed, published or archived
    pub status: String,
    pub url: String,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub published_at: Option<String>,
    /// What the council decided ("Det kom der ud af"), once published.
    pub outcome: Option<super::outcome::Outcome>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportSnapshot {
    /// warm | final
    pub kind: String,
    pub computed_at: String,
    /// Number of opinion groups.
    pub k: usize,
    /// Hash of the engine's input (the math receipt).
    pub input_sha256: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportSummary {
    pub participants: usize,
    pub voters: usize,
    /// Participants placed in an opinion group.
    pub voters_in_conv: usize,
    pub commenters: usize,
    pub comments: usize,
    pub votes: usize,
    pub groups: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportStatement {
    /// The statement's number in the consultation (Pol.is `comment-id`).
    pub id: i64,
    /// Consultation-scoped participant id of the author; null for seed statements.
    pub author: Option<i64>,
    /// Milliseconds since 1970-01-01 UTC.
    pub created_at: i64,
    /// Empty for rejected statements.
    pub text: String,
    /// 1 accepted, -1 rejected
    pub moderated: i8,
    pub is_meta: bool,
    pub is_seed: bool,
    pub agrees: u32,
    pub disagrees: u32,
    pub passes: u32,
    pub group_informed_consensus: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportParticipant {
    /// Consultation-scoped id (0..n in joining order).
    pub id: i64,
    /// Opinion group, or null when not placed in one.
    pub group: Option<usize>,
    pub n_comments: u32,
    pub n_votes: usize,
    pub n_agree: usize,
    pub n_disagree: usize,
    /// Current vote per statement id: 1 agree, -1 disagree, 0 pass.
    #[schema(value_type = Object)]
    pub votes: BTreeMap<String, i16>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportVote {
    /// Milliseconds since 1970-01-01 UTC.
    pub timestamp: i64,
    pub statement: i64,
    pub participant: i64,
    /// 1 agree, -1 disagree, 0 pass
    pub vote: i16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_unknown_names_are_none() {
        for f in ExportFile::ALL {
            assert_eq!(ExportFile::parse("x", &f.name("x")), Some(f));
        }
        assert_eq!(ExportFile::parse("x", "passwords.csv"), None);
        assert_eq!(ExportFile::parse("x", "y.zip"), None);
        assert_eq!(
            ExportFile::ParticipantsVotes.content_type(),
            "text/csv; charset=utf-8"
        );
    }

    #[test]
    fn polis_datetime_looks_like_polis() {
        let at = DateTime::from_timestamp(1_726_860_583, 0).unwrap_or_default();
        assert_eq!(polis_datetime(&at), "Fri Sep 20 19:29:43 UTC 2024");
    }
}
