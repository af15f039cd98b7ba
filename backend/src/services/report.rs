//! The report of a consultation for politicians and, once published, for
//! everyone: participation, opinion groups, what unites and divides, ideas,
//! who took part, and the math receipt.
//!
//! Aggregates only: no name, email or pseudonym of anyone leaves this module.
//! Opinion groups and age or municipality cells with fewer people than
//! `report.min_group_size` are withheld, because statistics of a handful of
//! people can point at who they are.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::session::CurrentUser;
use crate::entities::{comment, consultation, idea, idea_status_change, participant, statement};
use crate::errors::AppError;
use crate::opinion::{Counts, Direction, Receipt, Snapshot, significance};

use super::consultations::{self, Status};
use super::ideas::IdeaStatus;
use super::participant_facts;
use super::population::{self, AGE_BANDS};
use super::statements::StatementStatus;

/// How many ideas, consensus and divisive statements the report lists.
const TOP_IDEAS: usize = 10;
const TOP_STATEMENTS: usize = 5;

/// May `viewer` read the report of `c`? Drafts have nothing to report but
/// staff may look at the empty page; while a consultation is open or closed
/// the report is for politicians and staff; once published it is public. An
/// archived consultation's report stays public if it was published, and
/// internal if it was archived straight from closed.
pub fn can_view(viewer: Option<&CurrentUser>, c: &consultation::Model) -> bool {
    let early = viewer.is_some_and(|u| u.role.reads_reports_early());
    match c.status {
        Status::Draft => viewer.is_some_and(|u| u.role.is_staff()),
        Status::Open | Status::Closed => early,
        Status::Published => true,
        Status::Archived => c.published_at.is_some() || early,
    }
}

/// The consultation `slug` if `viewer` may read its report: `NotFound` for an
/// unknown slug (and a draft for anyone but staff, as drafts do not exist
/// for them), `Forbidden` when the report is not theirs to read yet.
pub async fn consultation_for(
    db: &DatabaseConnection,
    viewer: Option<&CurrentUser>,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    let c = consultations::get_visible(db, viewer, slug).await?;
    if can_view(viewer, &c) {
        Ok(c)
    } else {
        Err(AppError::forbidden())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub consultation: ReportConsultation,
    /// Groups and cells with fewer people than this are withheld.
    pub min_group_size: usize,
    pub participation: Participation,
    /// `None` when the conversation has no opinion snapshot yet.
    pub opinion: Option<OpinionReport>,
    /// The most supported public ideas, most supported first.
    pub ideas: Vec<ReportIdea>,
    pub who_took_part: WhoTookPart,
    /// The top of the report: what a councillor reads first.
    pub brief: super::report_brief::Brief,
    /// Participation and group sizes at each snapshot, oldest first (thinned to at most
    /// twelve points), so a reader sees whether opinion moved.
    pub history: Vec<super::opinion_history::HistoryPoint>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportConsultation {
    pub slug: String,
    pub title: String,
    /// draft, open, closed, published or archived
    pub status: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opens_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closes_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<DateTime<Utc>>,
    /// What the council decided ("Det kom der ud af"), once published.
    pub outcome: Option<super::outcome::Outcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Participation {
    /// Pseudonyms in the consultation (anyone who voted or wrote a statement).
    pub participants: u64,
    /// Participants with at least one current vote.
    pub voters: u64,
    /// Current votes (a changed vote counts once).
    pub votes: u64,
    /// Accepted statements.
    pub statements: u64,
    /// Published ideas, withdrawn ones left out.
    pub ideas: u64,
    /// Visible comments on those ideas.
    pub comments: u64,
    /// Votes cast per day (UTC), every vote including later-changed ones.
    pub votes_per_day: Vec<DayVotes>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayVotes {
    /// YYYY-MM-DD
    pub date: String,
    pub votes: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpinionReport {
    /// warm (while open) or final (stored when the consultation closed)
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: DateTime<Utc>,
    /// Number of opinion groups.
    pub k: usize,
    pub participants_clustered: usize,
    pub groups: Vec<ReportGroup>,
    /// Participants on the opinion map (members of withheld groups left out):
    /// all of them, or an even sample of at most 2,000 in a big conversation.
    pub map: Vec<MapPoint>,
    /// How many participants the map stands for (`map` may be a sample).
    pub map_participants: usize,
    /// Statements most participants agree with.
    pub consensus_agree: Vec<StatementShare>,
    /// Statements most participants disagree with.
    pub consensus_disagree: Vec<StatementShare>,
    /// Statements every group tends to agree with, best first.
    pub group_informed_consensus: Vec<RankedStatement>,
    /// Statements agreed with across the participants' main opinion axis
    /// (Community Notes' bridging score), best first; empty before the
    /// engine computed it.
    pub bridging: Vec<RankedStatement>,
    /// Statements with the largest spread of agreement between groups.
    pub divisive: Vec<DivisiveStatement>,
    /// The math receipt: engine, input hash, seed, parameters, silhouette per k.
    #[schema(value_type = Object)]
    pub receipt: Receipt,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportGroup {
    pub id: usize,
    /// A, B, C …
    pub name: String,
    /// The group is smaller than the minimum: no numbers, no statements.
    pub withheld: bool,
    pub members: Option<usize>,
    /// Centre of the group on the opinion map.
    pub center: Option<[f64; 2]>,
    pub representative: Vec<RepresentativeStatement>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepresentativeStatement {
    pub statement_id: i64,
    pub number: i64,
    pub text: String,
    /// agree or disagree: what sets the group apart
    pub direction: String,
    /// Share of the group voting that way, in percent.
    pub group_percent: u32,
    /// Share of the participants in the other groups voting that way.
    pub others_percent: u32,
    pub agree_percent: u32,
    pub disagree_percent: u32,
    pub pass_percent: u32,
    /// Votes of the group on the statement.
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    pub group: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementShare {
    pub statement_id: i64,
    pub number: i64,
    pub text: String,
    /// Share of everyone who voted on it, in percent.
    pub percent: u32,
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedStatement {
    pub statement_id: i64,
    pub number: i64,
    pub text: String,
    /// Product over groups of each group's smoothed agree share; for the
    /// bridging ranking, the statement's intercept (docs/opinion.md §18).
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DivisiveStatement {
    pub statement_id: i64,
    pub number: i64,
    pub text: String,
    /// Highest minus lowest agree share between groups, in percentage points.
    pub spread: u32,
    pub groups: Vec<GroupAgree>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupAgree {
    pub group: String,
    pub agree_percent: u32,
    /// Votes of the group on the statement.
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportIdea {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub supports: i32,
    pub comments: i32,
    /// The council's latest written answer, if any.
    pub answer: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhoTookPart {
    pub participants: u64,
    /// Participants logged in with MitID (age and municipality known).
    pub verified: u64,
    /// Anonymous pseudonyms and local accounts: nothing is known about them.
    pub unknown: u64,
    pub unknown_percent: u32,
    /// The municipality compared with (the consultation's, or the one whose
    /// population figures were entered).
    pub municipality_code: Option<String>,
    pub age_bands: Vec<AgeBandRow>,
    /// Verified participants without a known birth year, or under 15.
    pub age_unknown: Option<u64>,
    /// Verified participants living in / outside the municipality; `None`
    /// when withheld or when there is no municipality to compare with.
    pub in_municipality: Option<u64>,
    pub other_municipality: Option<u64>,
    pub municipality_unknown: Option<u64>,
    /// Whether population figures exist for the municipality.
    pub has_population: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgeBandRow {
    /// e.g. 25-34, 80+
    pub band: String,
    /// `None`: withheld (fewer than the minimum, but not zero).
    pub participants: Option<u64>,
    /// Share of the verified participants with a known age band.
    pub participants_percent: Option<u32>,
    pub population: Option<i64>,
    pub population_percent: Option<u32>,
}

fn percent(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    let p = (part as f64 * 100.0 / whole as f64).round();
    // Shares are within 0..=100.
    p.clamp(0.0, 100.0) as u32
}

fn share(counts: Counts, direction: Direction) -> u32 {
    let n = match direction {
        Direction::Agree => counts.na,
        Direction::Disagree => counts.nd,
    };
    percent(u64::from(n), u64::from(counts.ns))
}

fn add(a: Counts, b: Counts) -> Counts {
    Counts {
        na: a.na + b.na,
        nd: a.nd + b.nd,
        ns: a.ns + b.ns,
    }
}

/// A count as shown: withheld (`None`) when it is above zero but below the
/// minimum.
fn guarded(n: u64, min: usize) -> Option<u64> {
    if n > 0 && n < min as u64 {
        None
    } else {
        Some(n)
    }
}

/// Build the report of `c` (whose visibility the caller checked).
pub async fn build(
    db: &DatabaseConnection,
    c: &consultation::Model,
    min_group_size: usize,
) -> Result<Report, AppError> {
    let statements = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .all(db)
        .await?;
    let participation = participation(db, c, &statements).await?;
    let latest = super::snapshots::latest(db, c.id).await?;
    let who_took_part = who_took_part(db, c, min_group_size).await?;
    let stability = match &latest {
        Some((row, snap)) => super::opinion_history::stability_for(db, c.id, row, snap).await?,
        None => None,
    };
    let history = super::opinion_history::history(db, c.id, min_group_size).await?;
    let brief = super::report_brief::build(
        db,
        c,
        latest.as_ref().map(|(_, snap)| &**snap),
        stability,
        &statements,
        &super::report_brief::Turnout {
            participants: who_took_part.participants,
            verified: who_took_part.verified,
            has_population: who_took_part.has_population,
            bands: who_took_part
                .age_bands
                .iter()
                .map(|b| (b.band.clone(), b.participants_percent, b.population_percent))
                .collect(),
        },
        participation.voters,
        min_group_size,
    )
    .await?;
    let opinion = match latest {
        Some((row, snap)) => Some(opinion_report_of(
            row.kind.as_str().to_owned(),
            row.computed_at,
            &snap,
            &statements,
            min_group_size,
        )),
        None => None,
    };
    let ideas = top_ideas(db, c).await?;
    Ok(Report {
        consultation: ReportConsultation {
            slug: c.slug.clone(),
            title: c.title.clone(),
            status: c.status.as_str().to_owned(),
            opens_at: c.opens_at,
            closes_at: c.closes_at,
            published_at: c.published_at,
            outcome: super::outcome::published(c),
        },
        min_group_size,
        participation,
        opinion,
        ideas,
        who_took_part,
        brief,
        history,
    })
}

async fn participation(
    db: &DatabaseConnection,
    c: &consultation::Model,
    statements: &[statement::Model],
) -> Result<Participation, AppError> {
    let participants = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .count(db)
        .await?;
    // Counted once per process and then brought up to date from the new rows:
    // a big conversation has millions of votes.
    let tally = super::vote_tally::tally(db, c.id, !statements.is_empty()).await?;
    let (votes, voters) = (tally.votes, tally.voters);
    let accepted = statements
        .iter()
        .filter(|s| s.status == StatementStatus::Accepted)
        .count() as u64;
    let idea_ids: Vec<i64> = idea::Entity::find()
        .select_only()
        .column(idea::Column::Id)
        .filter(idea::Column::ConsultationId.eq(c.id))
        .filter(idea::Column::PublishedAt.is_not_null())
        .filter(idea::Column::Status.ne(IdeaStatus::Withdrawn))
        .into_tuple()
        .all(db)
        .await?;
    let comments = if idea_ids.is_empty() {
        0
    } else {
        comment::Entity::find()
            .filter(comment::Column::IdeaId.is_in(idea_ids.clone()))
            .filter(comment::Column::Status.eq(crate::domain::CommentStatus::Visible))
            .count(db)
            .await?
    };
    Ok(Participation {
        participants,
        voters,
        votes,
        statements: accepted,
        ideas: idea_ids.len() as u64,
        comments,
        votes_per_day: tally
            .per_day
            .into_iter()
            .map(|(date, votes)| DayVotes { date, votes })
            .collect(),
    })
}

/// At most this many participants are drawn on the opinion map: a map of a
/// big conversation shows a deterministic sample (every n-th participant by
/// id), which keeps the groups' shapes and sizes relative to each other.
pub const MAP_POINTS_MAX: usize = 2_000;

/// The opinion part, from a stored snapshot and the statements' texts.
pub fn opinion_report(
    kind: String,
    computed_at: DateTime<Utc>,
    snap: Snapshot,
    statements: &[statement::Model],
    min_group_size: usize,
) -> OpinionReport {
    opinion_report_of(kind, computed_at, &snap, statements, min_group_size)
}

/// [`opinion_report`] from a borrowed (shared, parsed once) snapshot.
pub fn opinion_report_of(
    kind: String,
    computed_at: DateTime<Utc>,
    snap: &Snapshot,
    statements: &[statement::Model],
    min_group_size: usize,
) -> OpinionReport {
    let by_number: HashMap<i64, &statement::Model> =
        statements.iter().map(|s| (s.number, s)).collect();
    let describe = |n: i64| {
        by_number
            .get(&n)
            .map_or((0, String::new()), |s| (s.id, s.body.clone()))
    };
    let shown: Vec<bool> = snap
        .groups
        .iter()
        .map(|g| g.members >= min_group_size)
        .collect();
    let z = snap.receipt.params.significance_z;
    let group_counts = |number: i64, g: usize| -> Counts {
        snap.statements
            .get(&number)
            .and_then(|s| s.group_counts.get(g).copied())
            .unwrap_or_default()
    };
    let groups = snap
        .groups
        .iter()
        .map(|g| {
            let name = super::snapshots::group_name(g.id);
            if !shown[g.id] {
                return ReportGroup {
                    id: g.id,
                    name,
                    withheld: true,
                    members: None,
                    center: None,
                    representative: Vec::new(),
                };
            }
            let representative = g
                .representative
                .iter()
                .filter(|r| {
                    // Listed only when significant with enough votes (opinion::significance).
                    let own = group_counts(r.statement, g.id);
                    let others = (0..snap.groups.len())
                        .filter(|&o| o != g.id)
                        .fold(Counts::default(), |acc, o| {
                            add(acc, group_counts(r.statement, o))
                        });
                    significance::representative(own, others, r.direction, z)
                })
                .map(|r| {
                    let (statement_id, text) = describe(r.statement);
                    let own = group_counts(r.statement, g.id);
                    let others = (0..snap.groups.len())
                        .filter(|&o| o != g.id)
                        .fold(Counts::default(), |acc, o| {
                            add(acc, group_counts(r.statement, o))
                        });
                    let pass = own.ns.saturating_sub(own.na + own.nd);
                    RepresentativeStatement {
                        statement_id,
                        number: r.statement,
                        text,
                        direction: match r.direction {
                            Direction::Agree => "agree".into(),
                            Direction::Disagree => "disagree".into(),
                        },
                        group_percent: share(own, r.direction),
                        others_percent: share(others, r.direction),
                        agree_percent: percent(u64::from(own.na), u64::from(own.ns)),
                        disagree_percent: percent(u64::from(own.nd), u64::from(own.ns)),
                        pass_percent: percent(u64::from(pass), u64::from(own.ns)),
                        votes: own.ns,
                    }
                })
                .collect();
            ReportGroup {
                id: g.id,
                name,
                withheld: false,
                members: Some(g.members),
                center: Some(g.center),
                representative,
            }
        })
        .collect();
    let on_map: Vec<MapPoint> = snap
        .participants
        .values()
        .filter_map(|p| {
            let g = p.group?;
            shown.get(g).copied().unwrap_or(false).then_some(MapPoint {
                x: p.projection[0],
                y: p.projection[1],
                group: g,
            })
        })
        .collect();
    let map_participants = on_map.len();
    let stride = map_participants.div_ceil(MAP_POINTS_MAX).max(1);
    let map = on_map.into_iter().step_by(stride).collect();
    let consensus = |items: &[crate::opinion::ConsensusStatement], direction: Direction| {
        items
            .iter()
            .filter(|cs| significance::significant_majority(cs.counts, direction, z))
            .map(|cs| {
                let (statement_id, text) = describe(cs.statement);
                StatementShare {
                    statement_id,
                    number: cs.statement,
                    text,
                    percent: share(cs.counts, direction),
                    votes: cs.counts.ns,
                }
            })
            .collect::<Vec<_>>()
    };
    let mut ranked: Vec<(i64, f64)> = snap
        .group_informed_consensus
        .iter()
        .filter(|(n, _)| {
            snap.statements.get(n).is_some_and(|s| {
                let per_group: Vec<Counts> = (0..snap.groups.len())
                    .filter(|&g| shown[g])
                    .filter_map(|g| s.group_counts.get(g).copied())
                    .collect();
                !s.excluded && significance::uniting(s.counts, &per_group, Direction::Agree, z)
            })
        })
        .map(|(n, v)| (*n, *v))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let group_informed_consensus = ranked
        .into_iter()
        .take(TOP_STATEMENTS)
        .map(|(number, score)| {
            let (statement_id, text) = describe(number);
            RankedStatement {
                statement_id,
                number,
                text,
                score,
            }
        })
        .collect();
    let bridging = snap
        .bridging
        .top(TOP_STATEMENTS)
        .into_iter()
        .filter(|b| {
            snap.statements
                .get(&b.statement)
                .is_some_and(|s| !s.excluded)
        })
        .map(|b| {
            let (statement_id, text) = describe(b.statement);
            RankedStatement {
                statement_id,
                number: b.statement,
                text,
                score: b.intercept,
            }
        })
        .collect();
    // What divides: only groups that are shown take part, so a withheld
    // group's opinions cannot be read off the spread.
    let shown_ids: Vec<usize> = (0..snap.groups.len()).filter(|&g| shown[g]).collect();
    let mut divisive: Vec<DivisiveStatement> = Vec::new();
    if shown_ids.len() >= 2 {
        for (number, s) in &snap.statements {
            if s.excluded {
                continue;
            }
            let shares: Vec<GroupAgree> = shown_ids
                .iter()
                .filter_map(|&g| {
                    let counts = s.group_counts.get(g).copied()?;
                    (counts.ns > 0).then(|| GroupAgree {
                        group: super::snapshots::group_name(g),
                        agree_percent: share(counts, Direction::Agree),
                        votes: counts.ns,
                    })
                })
                .collect();
            if shares.len() < 2 {
                continue;
            }
            let per_group: Vec<Counts> = shown_ids
                .iter()
                .map(|&g| s.group_counts.get(g).copied().unwrap_or_default())
                .collect();
            if significance::dividing(&per_group, z).is_none() {
                continue;
            }
            let max = shares.iter().map(|g| g.agree_percent).max().unwrap_or(0);
            let min = shares.iter().map(|g| g.agree_percent).min().unwrap_or(0);
            if max == min {
                continue;
            }
            let (statement_id, text) = describe(*number);
            divisive.push(DivisiveStatement {
                statement_id,
                number: *number,
                text,
                spread: max - min,
                groups: shares,
            });
        }
    }
    divisive.sort_by(|a, b| b.spread.cmp(&a.spread).then(a.number.cmp(&b.number)));
    divisive.truncate(TOP_STATEMENTS);
    OpinionReport {
        kind,
        computed_at,
        k: snap.k,
        participants_clustered: snap.receipt.counts.in_conv,
        groups,
        map,
        map_participants,
        consensus_agree: consensus(&snap.consensus.agree, Direction::Agree),
        consensus_disagree: consensus(&snap.consensus.disagree, Direction::Disagree),
        group_informed_consensus,
        bridging,
        divisive,
        receipt: snap.receipt.clone(),
    }
}

async fn top_ideas(
    db: &DatabaseConnection,
    c: &consultation::Model,
) -> Result<Vec<ReportIdea>, AppError> {
    let list = idea::Entity::find()
        .filter(idea::Column::ConsultationId.eq(c.id))
        .filter(idea::Column::PublishedAt.is_not_null())
        .filter(idea::Column::Status.ne(IdeaStatus::Withdrawn))
        .order_by_desc(idea::Column::SupportCount)
        .order_by_asc(idea::Column::Id)
        .limit(TOP_IDEAS as u64)
        .all(db)
        .await?;
    let ids: Vec<i64> = list.iter().map(|i| i.id).collect();
    let mut answers: HashMap<i64, String> = HashMap::new();
    if !ids.is_empty() {
        // Oldest first, so the latest answer of each idea wins.
        let changes = idea_status_change::Entity::find()
            .filter(idea_status_change::Column::IdeaId.is_in(ids))
            .filter(idea_status_change::Column::Response.ne(""))
            .order_by_asc(idea_status_change::Column::Id)
            .all(db)
            .await?;
        for ch in changes {
            answers.insert(ch.idea_id, ch.response);
        }
    }
    Ok(list
        .into_iter()
        .map(|i| ReportIdea {
            answer: answers.remove(&i.id),
            id: i.id,
            title: i.title,
            status: i.status.as_str().to_owned(),
            supports: i.support_count,
            comments: i.comment_count,
        })
        .collect())
}

async fn who_took_part(
    db: &DatabaseConnection,
    c: &consultation::Model,
    min: usize,
) -> Result<WhoTookPart, AppError> {
    let (participants, by_participant) = participant_facts::verified_participants(db, c).await?;
    // A person counts once, however many participant rows link to them.
    let mut seen_users = HashSet::new();
    let facts: Vec<participant_facts::VerifiedFacts> = by_participant
        .into_values()
        .filter(|f| f.user_id.is_none_or(|u| seen_users.insert(u)))
        .collect();
    let verified = facts.len() as u64;
    let unknown = participants - verified.min(participants);
    let comparison = population::for_report(db, c.municipality_code.as_deref()).await?;
    let municipality_code = comparison.as_ref().map(|(code, _)| code.clone());
    let figures = comparison.map(|(_, f)| f).unwrap_or_default();
    let mut per_band: BTreeMap<&str, u64> = BTreeMap::new();
    let mut age_unknown = 0u64;
    let (mut inside, mut outside, mut place_unknown) = (0u64, 0u64, 0u64);
    for f in &facts {
        match f.age_band {
            Some(band) => *per_band.entry(band).or_default() += 1,
            None => age_unknown += 1,
        }
        match (&f.municipality, &municipality_code) {
            (None, _) => place_unknown += 1,
            (Some(m), Some(home)) if m == home => inside += 1,
            (Some(_), _) => outside += 1,
        }
    }
    let with_band: u64 = per_band.values().sum();
    let residents: i64 = figures.values().sum();
    let age_bands = AGE_BANDS
        .iter()
        .map(|(band, _, _)| {
            let n = per_band.get(band).copied().unwrap_or(0);
            let shown = guarded(n, min);
            let population = figures.get(*band).copied();
            AgeBandRow {
                band: (*band).to_owned(),
                participants: shown,
                participants_percent: shown.map(|n| percent(n, with_band)),
                population,
                population_percent: population.map(|p| {
                    percent(
                        u64::try_from(p).unwrap_or(0),
                        u64::try_from(residents).unwrap_or(0),
                    )
                }),
            }
        })
        .collect();
    let has_home = municipality_code.is_some();
    Ok(WhoTookPart {
        participants,
        verified,
        unknown,
        unknown_percent: percent(unknown, participants),
        has_population: !figures.is_empty(),
        municipality_code,
        age_bands,
        age_unknown: guarded(age_unknown, min),
        in_municipality: if has_home { guarded(inside, min) } else { None },
        other_municipality: if has_home {
            guarded(outside, min)
        } else {
            None
        },
        municipality_unknown: guarded(place_unknown, min),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_withheld_but_zero_is_not() {
        assert_eq!(guarded(0, 5), Some(0));
        assert_eq!(guarded(4, 5), None);
        assert_eq!(guarded(5, 5), Some(5));
    }

    #[test]
    fn percentages_round() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(3, 0), 0);
    }

    #[test]
    fn a_big_conversation_draws_an_even_sample_and_says_how_many_it_stands_for() {
        use crate::opinion_tools::synthetic::{SyntheticParams, generate};
        let params = SyntheticParams {
            participants: 5_000,
            statements: 30,
            votes: 60_000,
            ..Default::default()
        };
        let snap = crate::opinion::cold_run(&generate(&params, 3).input, &Default::default());
        let report = opinion_report_of("warm".into(), Utc::now(), &snap, &[], 1);
        let clustered = snap
            .participants
            .values()
            .filter(|p| p.group.is_some())
            .count();
        assert_eq!(report.map_participants, clustered);
        assert!(clustered > MAP_POINTS_MAX);
        assert!(report.map.len() <= MAP_POINTS_MAX);
        assert!(report.map.len() > MAP_POINTS_MAX / 2);
        // Every group keeps about its share of the points.
        for g in &snap.groups {
            let drawn = report.map.iter().filter(|p| p.group == g.id).count();
            let expected = g.members as f64 * report.map.len() as f64 / clustered as f64;
            assert!((drawn as f64 - expected).abs() <= expected * 0.1 + 5.0);
        }
        // The same snapshot always gives the same map.
        let again = opinion_report_of("warm".into(), Utc::now(), &snap, &[], 1);
        assert_eq!(
            serde_json::to_value(&again.map).unwrap_or_default(),
            serde_json::to_value(&report.map).unwrap_or_default()
        );
    }
}
