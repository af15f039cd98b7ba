//! Kinds of stored opinion snapshots.

use sea_orm::entity::prelude::*;

/// Stored in `opinion_snapshots.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum SnapshotKind {
    /// Warm-started from the previous snapshot, while votes come in.
    Warm,
    /// Cold run when the consultation closes; the report and exports use it.
    Final,
}

impl SnapshotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Warm => "warm",
            SnapshotKind::Final => "final",
        }
    }
}
