//! Samskab's schema, one migration per change. Every migration must run on both
//! SQLite (the zero-setup default) and PostgreSQL (production), so only portable
//! column types are used: text for enumerations (checked in the services),
//! timestamps with time zone, 64-bit integer keys.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts_and_consultations;
mod m20261123_000003_deliberation;
mod m20261124_000001_ideas;
mod m20261124_000002_identity_and_mail;
mod m20261130_000001_population_figures;
mod m20261130_000002_mail_tokens;
mod m20261202_000001_sessions;
mod m20261202_000002_rate_limits;
mod m20261213_000001_consultation_dates_and_outcome;
mod m20261214_000001_data_rights;
mod m20261214_000002_complaints;
mod m20261215_000001_participation_channels;
mod m20261217_000001_big_conversation_indexes;
mod m20261220_000001_duplicates;
mod m20261221_000001_opinion_history;
mod m20261223_000001_kept_report_facts;
mod m20261224_000001_statements_version;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts_and_consultations::Migration),
            Box::new(m20261123_000003_deliberation::Migration),
            Box::new(m20261124_000001_ideas::Migration),
            Box::new(m20261124_000002_identity_and_mail::Migration),
            Box::new(m20261130_000001_population_figures::Migration),
            Box::new(m20261130_000002_mail_tokens::Migration),
            Box::new(m20261202_000001_sessions::Migration),
            Box::new(m20261202_000002_rate_limits::Migration),
            Box::new(m20261213_000001_consultation_dates_and_outcome::Migration),
            Box::new(m20261214_000001_data_rights::Migration),
            Box::new(m20261214_000002_complaints::Migration),
            Box::new(m20261215_000001_participation_channels::Migration),
            Box::new(m20261217_000001_big_conversation_indexes::Migration),
            Box::new(m20261220_000001_duplicates::Migration),
            Box::new(m20261221_000001_opinion_history::Migration),
            Box::new(m20261223_000001_kept_report_facts::Migration),
            Box::new(m20261224_000001_statements_version::Migration),
        ]
    }
}
