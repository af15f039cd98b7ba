//! `samskab import polis DIR --consultation SLUG`: load a Pol.is openData
//! export into a consultation — statements from comments.csv (with their
//! moderation and comment ids as statement numbers), votes with their times
//! from votes.csv, or the final matrix of participants-votes.csv when
//! votes.csv is missing. Participants are created in ascending Pol.is id
//! order, so the engine sees the same row order as on the export itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};

use crate::entities::{participant, statement, vote, vote_history};
use crate::errors::AppError;
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
fn comment_bodies(path: &Path) -> Result<BTreeMap<i64, String>, ImportError> {
    let mut reader = csv::Reader::from_path(path).map_err(|source| ImportError::Csv {
        path: path.to_owned(),
        source,
    })?;
    let headers = reader
        .headers()
        .map_err(|source| ImportError::Csv {
            path: path.to_owned(),
            source,
        })?
        .clone();
    let id_col = headers.iter().position(|h| h.trim() == "comment-id");
    let body_col = headers.iter().position(|h| h.trim() == "comment-body");
    let mut out = BTreeMap::new();
    let (Some(id_col), Some(body_col)) = (id_col, body_col) else {
        return Ok(out);
    };
    for record in reader.records() {
        let record = record.map_err(|source| ImportError::Csv {
            path: path.to_owned(),
            source,
        })?;
        if let Ok(id) = record.get(id_col).unwrap_or("").trim().parse::<i64>() {
            out.insert(id, record.get(body_col).unwrap_or("").trim().to_owned());
        }
    }
    Ok(out)
}

const CHUNK: usize = 500;

pub async fn import(
    db: &DatabaseConnection,
    slug: &str,
    dir: &Path,
) -> Result<ImportSummary, ImportError> {
    let c = consultations::find_by_slug(db, slug)
        .await?
        .ok_or_else(|| ImportError::NoConsultation(slug.to_owned()))?;
    let has_votes_csv = dir.join("votes.csv").is_file();
    let export = polis::read_export(dir, has_votes_csv)?;
    let bodies = comment_bodies(&dir.join("comments.csv"))?;

    let txn = db.begin().await?;
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
    let mut numbers: BTreeSet<i64> = export.input.statements.keys().copied().collect();
    numbers.extend(export.input.votes.iter().map(|v| v.statement));
    let rows: Vec<statement::ActiveModel> = numbers
        .iter()
        .map(|&n| {
            let flags = export.input.statements.get(&n).copied().unwrap_or_default();
            let body = bodies
                .get(&n)
                .cloned()
                .unwrap_or_else(|| format!("Pol.is #{n}"));
            statement::ActiveModel {
                consultation_id: Set(c.id),
                number: Set(n),
                participant_id: Set(None),
                created_by: Set(None),
                normalized: Set(normalize(&body)),
                body: Set(body),
                // Pol.is shows unmoderated (0) comments too; only −1 is out.
                status: Set(if flags.moderated_out {
                    StatementStatus::Rejected
                } else {
                    StatementStatus::Accepted
                }),
                is_meta: Set(flags.meta),
                is_seed: Set(false),
                created_at: Set(at),
                ..Default::default()
            }
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
