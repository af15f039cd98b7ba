//! The rules. Handlers parse input and call these; every permission check
//! happens here, whatever a template shows or hides.

pub mod assisted;
pub mod attachments;
pub mod audit;
pub mod comments;
pub mod complaints;
pub mod consultations;
pub mod data_inventory;
pub mod data_rights;
pub mod demo;
pub mod duplicates;
pub mod eligibility;
pub mod engine_pool;
pub mod export;
pub mod ideas;
pub mod licenses;
pub mod lifecycle;
pub mod mail;
pub mod moderation;
pub mod notifications;
pub mod oidc;
pub mod opinion_history;
pub mod outcome;
pub mod paper;
pub mod participant_facts;
pub mod participants;
pub mod polis_import;
pub mod politician;
pub mod population;
pub mod rate_limits;
pub mod report;
pub mod report_brief;
pub mod retention;
pub mod security_txt;
pub mod sessions;
pub mod shown_statements;
pub mod snapshots;
pub mod statements;
pub mod tokens;
pub mod users;
pub mod vote_batches;
pub mod vote_tally;
pub mod votes;
pub mod workbench;

/// Begin a transaction that writes. On SQLite it takes the write lock at
/// BEGIN (IMMEDIATE), waiting up to the busy timeout: a deferred transaction
/// that reads first and writes later fails at once with "database is locked"
/// when another connection wrote in between. PostgreSQL ignores the mode.
pub(crate) async fn begin_write<C: sea_orm::TransactionTrait>(
    db: &C,
) -> Result<C::Transaction, sea_orm::DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    // Whole microseconds: PostgreSQL keeps microseconds, so values read back
    // compare equal on both databases.
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Trimmed text with a length limit counted in characters (not bytes), and no
/// control characters other than line breaks and tabs. CPR numbers are
/// masked here: every free text on its way to the database passes through
/// this function, so none can be stored (or logged or mailed from there).
pub(crate) fn clean_text(value: &str, max_chars: usize) -> Result<String, &'static str> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err("too_long");
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("invalid_characters");
    }
    Ok(crate::domain::personal_data::mask_cpr(trimmed).replace("\r\n", "\n"))
}
