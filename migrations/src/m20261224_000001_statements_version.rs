//! A marker of a consultation's statements: `consultations.statements_version`
//! goes up in the same transaction as every insert, update or delete of one of
//! its statements. The pages of a big conversation keep its statements in
//! memory and read them again only when the marker moved, which every server
//! process sharing the database sees on its next read of the consultation.
//!
//! The marker is kept by database triggers rather than by the application, so
//! that no write path (forms, moderation, duplicates, import, the workbench,
//! data moves, a future one, or SQL typed by hand) can change a statement
//! without moving it.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: [&str; 3] = [
    "CREATE TRIGGER statements_version_insert AFTER INSERT ON statements BEGIN \
     UPDATE consultations SET statements_version = statements_version + 1 \
     WHERE id = NEW.consultation_id; END",
    "CREATE TRIGGER statements_version_update AFTER UPDATE ON statements BEGIN \
     UPDATE consultations SET statements_version = statements_version + 1 \
     WHERE id IN (OLD.consultation_id, NEW.consultation_id); END",
    "CREATE TRIGGER statements_version_delete AFTER DELETE ON statements BEGIN \
     UPDATE consultations SET statements_version = statements_version + 1 \
     WHERE id = OLD.consultation_id; END",
];

const POSTGRES_UP: [&str; 2] = [
    "CREATE FUNCTION samskab_statements_version() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP <> 'INSERT' THEN \
         UPDATE consultations SET statements_version = statements_version + 1 \
         WHERE id = OLD.consultation_id; \
       END IF; \
       IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.consultation_id <> OLD.consultation_id) THEN \
         UPDATE consultations SET statements_version = statements_version + 1 \
         WHERE id = NEW.consultation_id; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER statements_version AFTER INSERT OR UPDATE OR DELETE ON statements \
     FOR EACH ROW EXECUTE FUNCTION samskab_statements_version()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .add_column(big_integer(Consultations::StatementsVersion).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &POSTGRES_UP,
            _ => &SQLITE_UP,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER IF EXISTS statements_version ON statements",
                "DROP FUNCTION IF EXISTS samskab_statements_version()",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS statements_version_insert",
                "DROP TRIGGER IF EXISTS statements_version_update",
                "DROP TRIGGER IF EXISTS statements_version_delete",
            ],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Consultations::Table)
                    .drop_column(Consultations::StatementsVersion)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    StatementsVersion,
}
