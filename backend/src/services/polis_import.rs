//! `samskab import polis DIR --consultation SLUG`: load a Pol.is openData
//! export into a consultation — statements from comments.csv (with their
//! moderation and comment ids as statement numbers), votes with their times
//! from votes.csv, or the final matrix of participants-votes.csv when
//! votes.csv is missing. Participants are created in ascending Pol.is id
//! order, so the engine sees the same row order as on the export itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::entities::{participant, statement, vote, vote_history};
use crate::errors::AppError;
use crate::open_csv;
use crate::opinion_tools::polis;

use super::consultations;
use super::statements::{StatementStatus, normalize};
use super::{audit, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub statements: usize,
    pub participants: usize,
    pub votes: usize,
    pub history: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no consultation with the address `{0}`")]
    NoConsultation(String),
    #[error("consultation `{0}` already has statements; import into an empty conversation")]
    NotEmpty(String),
    #[error(transparent)]
    Polis(#[from] polis::PolisError),
    #[error("cannot read {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{0}")]
    Service(#[from] AppError),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Service(e.into())
    }
}

/// Comment texts by comment id (the engine's reader keeps only the flags).
/// A leading quote that Samskab's own export put before a formula-like text
/// is taken off again ([`open_csv::restore`]), so an export imports as it was.
fn comment_bodies(path: &Path, input: &[u8]) -> Result<BTreeMap<i64, String>, ImportError> {
    let csv_error = |source| ImportError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let id_col = headers.iter().position(|h| h.trim() == "comment-id");
    let body_col = headers.iter().position(|h| h.trim() == "comment-body");
    let mut out = BTreeMap::new();
    let (Some(id_col), Some(body_col)) = (id_col, body_col) else {
        return Ok(out);
    };
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        if let Ok(id) = record.get(id_col).unwrap_or("").trim().parse::<i64>() {
            let body = open_csv::restore(record.get(body_col).unwrap_or(""));
            out.insert(id, body.trim().to_owned());
        }
    }
    Ok(out)
}

/// A statement as the import will store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStatement {
    pub number: i64,
    pub body: String,
    pub rejected: bool,
    pub meta: bool,
}

/// An export folder's files, read and checked before anything is written.
pub struct ParsedExport {
    pub export: polis::PolisExport,
    bodies: BTreeMap<i64, String>,
}

impl ParsedExport {
    /// Every comment, and any statement column without a comment row, by number.
    pub fn statements(&self) -> Vec<PlannedStatement> {
        let export = &self.export;
        let mut numbers: BTreeSet<i64> = export.input.statements.keys().copied().collect();
        numbers.extend(export.input.votes.iter().map(|v| v.statement));
        numbers
            .into_iter()
            .map(|n| {
                let flags = export.input.statements.get(&n).copied().unwrap_or_default();
                PlannedStatement {
                    number: n,
                    body: self
                        .bodies
                        .get(&n)
                        .cloned()
                        .unwrap_or_else(|| format!("Pol.is #{n}")),
                    // Pol.is shows unmoderated (0) comments too; only −1 is out.
                    rejected: flags.moderated_out,
                    meta: flags.meta,
                }
            })
            .collect()
    }
}

/// The files' contents: comments.csv, participants-votes.csv and votes.csv
/// when there is one; `dir` only names them in errors.
pub fn parse(
    dir: &Path,
    comments: &[u8],
    participants_votes: &[u8],
    votes: Option<&[u8]>,
) -> Result<ParsedExport, ImportError> {
    let export = polis::parse_export(dir, comments, participants_votes, votes)?;
    let bodies = comment_bodies(&dir.join("comments.csv"), comments)?;
    Ok(ParsedExport { export, bodies })
}

fn read_dir(dir: &Path) -> Result<ParsedExport, ImportError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| polis::PolisError::Io { path, source })
    };
    let comments = read("comments.csv")?;
    let matrix = read("participants-votes.csv")?;
    let votes = if dir.join("votes.csv").is_file() {
        Some(read("votes.csv")?)
    } else {
        None
    };
    parse(dir, &comments, &matrix, votes.as_deref())
}

const CHUNK: usize = 500;

/// Create consultation `slug` (open, with a conversation anyone may vote in) unless it exists.
/// For `samskab import polis --create`: trials and the load benchmark, where no staff member
/// is at hand to create it in the web interface.
pub async fn create_open_consultation(
    db: &DatabaseConnection,
    slug: &str,
    title: &str,
) -> Result<(), ImportError> {
    if consultations::find_by_slug(db, slug).await?.is_some() {
        return Ok(());
    }
    let form = consultations::ConsultationForm {
        title: title.to_owned(),
        slug: slug.to_owned(),
        summary: title.to_owned(),
        has_conversation: Some("on".into()),
        voting_eligibility: "anyone".into(),
        ..Default::default()
    };
    let valid = form.validate().map_err(AppError::Validation)?;
    let at = now();
    crate::entities::consultation::ActiveModel {
        slug: Set(valid.slug),
        title: Set(valid.title),
        summary: Set(valid.summary),
        body: Set(valid.body),
        status: Set(consultations::Status::Open),
        moderation_mode: Set(valid.moderation_mode),
        accepts_ideas: Set(valid.accepts_ideas),
        has_conversation: Set(valid.has_conversation),
        support_threshold: Set(valid.support_threshold),
        allow_self_support: Set(valid.allow_self_support),
        comment_flag_threshold: Set(valid.comment_flag_threshold),
        categories: Set(
            serde_json::to_string(&valid.categories).map_err(|e| AppError::Unexpected(e.into()))?
        ),
        voting_eligibility: Set(valid.voting_eligibility),
        statement_max_chars: Set(valid.statement_max_chars),
        eligibility: Set(crate::domain::Participation::Account),
        min_loa: Set(valid.eligibility.min_loa),
        min_age: Set(valid.eligibility.min_age),
        municipality_code: Set(valid.eligibility.municipality_code),
        new_participants_per_hour: Set(valid.new_participants_per_hour),
        created_by: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        // Set here, not left to the column's default: without it the inserted row's
        // model could not be built ("Missing value for column") and the import stopped.
        statements_version: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn import(
    db: &DatabaseConnection,
    slug: &str,
    dir: &Path,
) -> Result<ImportSummary, ImportError> {
    let c = consultations::find_by_slug(db, slug)
        .await?
        .ok_or_else(|| ImportError::NoConsultation(slug.to_owned()))?;
    let parsed = read_dir(dir)?;
    let planned = parsed.statements();
    let export = parsed.export;

    let txn = super::begin_write(db).await?;
    let existing = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .limit(1)
        .all(&txn)
        .await?;
    if !existing.is_empty() {
        return Err(ImportError::NotEmpty(slug.to_owned()));
    }
    let at = now();

    // Statements: every comment, and any statement column without a comment row.
    let rows: Vec<statement::ActiveModel> = planned
        .iter()
        .map(|p| statement::ActiveModel {
            consultation_id: Set(c.id),
            number: Set(p.number),
            participant_id: Set(None),
            created_by: Set(None),
            normalized: Set(normalize(&p.body)),
            body: Set(p.body.clone()),
            status: Set(if p.rejected {
                StatementStatus::Rejected
            } else {
                StatementStatus::Accepted
            }),
            is_meta: Set(p.meta),
            is_seed: Set(false),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        statement::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let statement_ids: BTreeMap<i64, i64> = statement::Entity::find()
        .select_only()
        .column(statement::Column::Number)
        .column(statement::Column::Id)
        .filter(statement::Column::ConsultationId.eq(c.id))
        .into_tuple::<(i64, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();

    // Participants, in ascending Pol.is id order (row ids grow with them).
    let mut pids: BTreeSet<i64> = export.participants.iter().copied().collect();
    if let Some(h) = &export.history {
        pids.extend(h.iter().map(|t| t.vote.participant));
    }
    let rows: Vec<participant::ActiveModel> = pids
        .iter()
        .map(|&pid| participant::ActiveModel {
            consultation_id: Set(c.id),
            user_id: Set(None),
            anon_token_hash: Set(None),
            external_id: Set(Some(pid)),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        participant::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let participant_ids: BTreeMap<i64, i64> = participant::Entity::find()
        .select_only()
        .column(participant::Column::ExternalId)
        .column(participant::Column::Id)
        .filter(participant::Column::ConsultationId.eq(c.id))
        .into_tuple::<(Option<i64>, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|(e, id)| e.map(|e| (e, id)))
        .collect();

    // History (with times) and the current vote of each (participant, statement).
    let timed: Vec<(i64, crate::opinion::Vote)> = match &export.history {
        Some(h) => h.iter().map(|t| (t.timestamp, t.vote)).collect(),
        None => export
            .input
            .votes
            .iter()
            .map(|v| (at.timestamp_millis(), *v))
            .collect(),
    };
    let mut current: BTreeMap<(i64, i64), (i16, i64)> = BTreeMap::new();
    let mut history = Vec::with_capacity(timed.len());
    for (ms, v) in &timed {
        let (Some(&sid), Some(&pid)) = (
            statement_ids.get(&v.statement),
            participant_ids.get(&v.participant),
        ) else {
            continue;
        };
        let cast_at = chrono::DateTime::from_timestamp_millis(*ms).unwrap_or(at);
        current.insert((sid, pid), (v.value as i16, *ms));
        history.push(vote_history::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(sid),
            participant_id: Set(pid),
            value: Set(v.value as i16),
            cast_at: Set(cast_at),
            ..Default::default()
        });
    }
    for chunk in history.chunks(CHUNK) {
        vote_history::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let votes: Vec<vote::ActiveModel> = current
        .iter()
        .map(|(&(sid, pid), &(value, ms))| vote::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(sid),
            participant_id: Set(pid),
            value: Set(value),
            updated_at: Set(chrono::DateTime::from_timestamp_millis(ms).unwrap_or(at)),
            ..Default::default()
        })
        .collect();
    for chunk in votes.chunks(CHUNK) {
        vote::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let summary = ImportSummary {
        statements: statement_ids.len(),
        participants: participant_ids.len(),
        votes: votes.len(),
        history: history.len(),
    };
    audit::record(
        &txn,
        None,
        "conversation.imported",
        "consultation",
        Some(c.id),
        &format!(
            "polis {}: {} statements, {} participants, {} votes",
            dir.display(),
            summary.statements,
            summary.participants,
            summary.votes
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_csv::{Cell, CsvWriter};
    use crate::services::export::{CommentRow, write_comments};
    use proptest::prelude::*;

    /// participants-votes.csv with a column per statement number.
    fn matrix(numbers: &[i64], votes: &[(i64, i64, i8)]) -> Vec<u8> {
        let mut w = CsvWriter::new();
        let mut header = vec![Cell::name("participant"), Cell::name("group-id")];
        header.extend(numbers.iter().map(|n| Cell::int(*n)));
        w.row(header).expect("header");
        let people: BTreeSet<i64> = votes.iter().map(|v| v.0).collect();
        for p in people {
            let mut row = vec![Cell::int(p), Cell::empty()];
            row.extend(numbers.iter().map(|n| {
                Cell::opt_int(
                    votes
                        .iter()
                        .rev()
                        .find(|v| v.0 == p && v.1 == *n)
                        .map(|v| v.2),
                )
            }));
            w.row(row).expect("row");
        }
        w.finish().expect("finish")
    }

    #[test]
    fn a_formula_statement_imports_as_written() {
        let text = "=HYPERLINK(\"https://evil.example\",\"klik\")";
        let comments = write_comments([CommentRow {
            timestamp: 0,
            id: 3,
            author: None,
            agrees: 0,
            disagrees: 0,
            moderated: 1,
            is_meta: false,
            is_seed: false,
            group_informed_consensus: None,
            body: text,
        }])
        .expect("comments.csv");
        assert!(String::from_utf8_lossy(&comments).contains("\"'=HYPERLINK("));
        let parsed = parse(Path::new(""), &comments, &matrix(&[3], &[]), None).expect("parses");
        assert_eq!(parsed.statements()[0].body, text);
    }

    #[test]
    fn only_the_quote_our_export_adds_is_taken_off() {
        let comments = b"comment-id,moderated,comment-body\n1,1,'Tis the season\n2,1,\"'=x\"\n";
        let parsed =
            parse(Path::new(""), comments, b"participant,group-id\n", None).expect("parses");
        let bodies: Vec<String> = parsed.statements().into_iter().map(|s| s.body).collect();
        assert_eq!(bodies, ["'Tis the season", "=x"]);
    }

    fn statement() -> impl Strategy<Value = (String, i8, bool)> {
        (
            "['=+@\t\r -]{0,3}\\PC{0,40}|\\PC{0,40}",
            prop_oneof![Just(1i8), Just(-1i8), Just(0i8)],
            any::<bool>(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn our_export_imports_back_to_the_same_statements_and_votes(
            statements in proptest::collection::vec(statement(), 1..12),
            votes in proptest::collection::vec((0i64..6, 0usize..12, -1i8..=1), 0..40),
        ) {
            let numbers: Vec<i64> = (0..statements.len() as i64).map(|i| i * 3 + 1).collect();
            let votes: Vec<(i64, i64, i8)> = votes
                .into_iter()
                .map(|(p, s, v)| (p, numbers[s % numbers.len()], v))
                .collect();
            let comments = write_comments(statements.iter().zip(&numbers).map(
                |((body, moderated, meta), &id)| CommentRow {
                    timestamp: 1_700_000_000_000 + id,
                    id,
                    author: None,
                    agrees: 0,
                    disagrees: 0,
                    moderated: *moderated,
                    is_meta: *meta,
                    is_seed: false,
                    group_informed_consensus: Some(0.5),
                    body,
                },
            ))
            .expect("comments.csv");
            let parsed = parse(Path::new(""), &comments, &matrix(&numbers, &votes), None)
                .expect("our own export parses");
            let planned = parsed.statements();
            prop_assert_eq!(planned.len(), statements.len());
            for (p, ((body, moderated, meta), &id)) in planned.iter().zip(statements.iter().zip(&numbers)) {
                prop_assert_eq!(p.number, id);
                prop_assert_eq!(&p.body, body.trim());
                prop_assert_eq!(p.rejected, *moderated == -1);
                prop_assert_eq!(p.meta, *meta);
            }
            let mut expected: BTreeMap<(i64, i64), i8> = BTreeMap::new();
            for (p, s, v) in &votes {
                expected.insert((*p, *s), *v);
            }
            let read: BTreeMap<(i64, i64), i8> = parsed.export.input.votes.iter()
                .map(|v| ((v.participant, v.statement), v.value as i8))
                .collect();
            prop_assert_eq!(read, expected);
        }

        #[test]
        fn any_bytes_are_read_or_refused_without_panicking(
            comments in proptest::collection::vec(any::<u8>(), 0..200),
            matrix in proptest::collection::vec(any::<u8>(), 0..200),
            votes in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        ) {
            if let Ok(parsed) = parse(Path::new(""), &comments, &matrix, votes.as_deref()) {
                let _ = parsed.statements();
            }
        }

        #[test]
        fn csv_shaped_input_is_read_or_refused_without_panicking(
            comments in "(comment-id|moderated|is-meta|comment-body|[0-9,\"'=-]{0,6})(,[a-z0-9\"' -]{0,6}){0,4}(\n[0-9,\"'=+ -]{0,12}){0,5}",
            matrix in "participant,group-id(,[0-9]{1,2}){0,3}(\n[0-9,-]{0,10}){0,5}",
        ) {
            if let Ok(parsed) = parse(Path::new(""), comments.as_bytes(), matrix.as_bytes(), None) {
                let _ = parsed.statements();
            }
        }
    }
}
