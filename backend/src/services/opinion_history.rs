//! The history of a consultation's opinion snapshots: one small summary row per snapshot
//! (when, how many took part, voted and were placed in groups, the groups' sizes), kept for
//! good although the snapshots themselves are pruned, so the report can show whether opinion
//! moved. The row also keeps the groups' stability, computed once with the snapshot (it runs
//! [`RESAMPLES`] k-means), so a report load only reads it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::entities::opinion_history;
use crate::errors::AppError;
use crate::opinion::Snapshot;
use crate::opinion::stability::{self, RESAMPLES, Stability};

/// The groups' stability in `snap`, reproducible with the snapshot's seed; `None` with fewer
/// than two groups. CPU work: call it off the async threads for a big conversation.
pub fn stability_of(snap: &Snapshot) -> Option<Stability> {
    if snap.groups.len() < 2 {
        return None;
    }
    let mut points = Vec::new();
    let mut of_group = Vec::new();
    for p in snap.participants.values() {
        if let Some(g) = p.group {
            points.push(p.projection);
            of_group.push(g);
        }
    }
    Some(stability::stability(
        &points,
        &of_group,
        snap.groups.len(),
        snap.receipt.seed,
        RESAMPLES,
    ))
}

/// Store the summary of snapshot `snapshot_id` (in the snapshot's own transaction).
pub async fn record(
    db: &impl ConnectionTrait,
    consultation_id: i64,
    snapshot_id: i64,
    kind: &str,
    computed_at: DateTime<Utc>,
    snap: &Snapshot,
    stability: Option<&Stability>,
) -> Result<(), AppError> {
    let sizes: Vec<usize> = snap.groups.iter().map(|g| g.members).collect();
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    opinion_history::ActiveModel {
        consultation_id: Set(consultation_id),
        snapshot_id: Set(snapshot_id),
        kind: Set(kind.to_owned()),
        computed_at: Set(computed_at),
        participants: Set(as_i64(snap.receipt.counts.participants)),
        clustered: Set(as_i64(snap.receipt.counts.in_conv)),
        votes: Set(as_i64(snap.receipt.counts.votes)),
        group_sizes: Set(serde_json::to_string(&sizes).map_err(anyhow::Error::from)?),
        stability: Set(stability
            .map(serde_json::to_string)
            .transpose()
            .map_err(anyhow::Error::from)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The stability of snapshot `snapshot_id`: read from its summary row, or, for a snapshot
/// made before summaries were kept, computed now and its summary stored, once.
pub async fn stability_for(
    db: &DatabaseConnection,
    consultation_id: i64,
    snapshot: &crate::entities::opinion_snapshot::Model,
    snap: &std::sync::Arc<Snapshot>,
) -> Result<Option<Stability>, AppError> {
    let row = opinion_history::Entity::find()
        .filter(opinion_history::Column::SnapshotId.eq(snapshot.id))
        .one(db)
        .await?;
    if let Some(row) = row {
        return Ok(row
            .stability
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()));
    }
    let shared = snap.clone();
    let computed = tokio::task::spawn_blocking(move || stability_of(&shared))
        .await
        .map_err(|e| anyhow::anyhow!("stability stopped: {e}"))?;
    // Two readers at once may both compute it; the unique snapshot id keeps one row.
    if let Err(e) = record(
        db,
        consultation_id,
        snapshot.id,
        snapshot.kind.as_str(),
        snapshot.computed_at,
        snap,
        computed.as_ref(),
    )
    .await
    {
        tracing::debug!(error = %e, "summary of an older snapshot already stored");
    }
    Ok(computed)
}

/// One point of the history, as the report shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPoint {
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: DateTime<Utc>,
    /// warm or final
    pub kind: String,
    pub participants: u64,
    /// Participants placed in groups.
    pub clustered: u64,
    pub votes: u64,
    /// The groups' sizes, group A first; `None` for a group smaller than the minimum.
    pub groups: Vec<Option<u64>>,
}

/// Points of the history shown at most; a longer history is thinned evenly, keeping the
/// first and the last.
pub const MAX_POINTS: usize = 12;

/// The history of `consultation_id`, oldest first, small groups withheld.
pub async fn history(
    db: &DatabaseConnection,
    consultation_id: i64,
    min_group_size: usize,
) -> Result<Vec<HistoryPoint>, AppError> {
    let rows = opinion_history::Entity::find()
        .filter(opinion_history::Column::ConsultationId.eq(consultation_id))
        .order_by_asc(opinion_history::Column::ComputedAt)
        .order_by_asc(opinion_history::Column::Id)
        .all(db)
        .await?;
    let points: Vec<HistoryPoint> = rows
        .into_iter()
        .map(|r| {
            let sizes: Vec<u64> = serde_json::from_str(&r.group_sizes).unwrap_or_default();
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            HistoryPoint {
                computed_at: r.computed_at,
                kind: r.kind,
                participants: count(r.participants),
                clustered: count(r.clustered),
                votes: count(r.votes),
                groups: sizes
                    .into_iter()
                    .map(|n| (n >= min_group_size as u64).then_some(n))
                    .collect(),
            }
        })
        .collect();
    Ok(thin(points, MAX_POINTS))
}

/// At most `max` items, evenly spread, the first and the last kept.
pub fn thin<T>(items: Vec<T>, max: usize) -> Vec<T> {
    let n = items.len();
    if n <= max || max < 2 {
        return items;
    }
    let wanted: std::collections::BTreeSet<usize> = (0..max)
        .map(|i| (i * (n - 1) + (max - 1) / 2) / (max - 1))
        .collect();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| wanted.contains(i))
        .map(|(_, t)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::thin;

    #[test]
    fn a_long_history_is_thinned_keeping_first_and_last() {
        let t = thin((0..100).collect::<Vec<_>>(), 12);
        assert_eq!(t.len(), 12);
        assert_eq!(t.first(), Some(&0));
        assert_eq!(t.last(), Some(&99));
        assert_eq!(thin(vec![1, 2, 3], 12), vec![1, 2, 3]);
    }
}
