//! Upgrading a municipality's database: a database as release 0.1.0 left it,
//! with people, a consultation, ideas, comments, a conversation, votes and
//! mails in it, is migrated forward through every migration there is now, and
//! then everything written before must still be there and be served.
//!
//! The 0.1.0 database is made here by the project's own migrations, applied up
//! to the last one of that release, and filled with plain inserts by table and
//! column name: the schema as it was, not today's entities. A migration that
//! fails on existing rows, drops or rewrites them, or leaves them unreadable to
//! the current code fails this test (on SQLite and on PostgreSQL).

use chrono::{DateTime, TimeZone, Utc};
use samskab::configuration::Settings;
use samskab_migrations::{Migrator, MigratorTrait};
use samskab_tests::{Backend, BuildOptions, PASSWORD, TestApp};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Value};

/// The migrations of release 0.1.0, in order. Released migrations never change.
const RELEASE_0_1_0: [&str; 6] = [
    "m20261123_000001_accounts_and_consultations",
    "m20261123_000003_deliberation",
    "m20261124_000001_ideas",
    "m20261124_000002_identity_and_mail",
    "m20261130_000001_population_figures",
    "m20261130_000002_mail_tokens",
];

const SLUG: &str = "cykelstier-i-aarhus-vest";
const TITLE: &str = "Cykelstier i Aarhus Vest";
const IDEA_TITLE: &str = "Cykelsti langs Silkeborgvej";
const COMMENT: &str = "Godt forslag, vi ser på strækningen ved Gellerup.";
const STATEMENTS: [&str; 3] = [
    "Der skal være flere cykelstier i Aarhus Vest.",
    "Biler skal have lige så meget plads som cykler.",
    "Cykelstier skal ryddes for sne før vejene.",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_0_database_upgrades_with_its_data_sqlite() {
    upgrade_and_serve(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_0_database_upgrades_with_its_data_postgres() {
    upgrade_and_serve(Backend::Postgres).await;
}

#[test]
fn release_0_1_0_is_the_start_of_the_migration_list() {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert!(
        names.len() >= RELEASE_0_1_0.len() && names[..RELEASE_0_1_0.len()] == RELEASE_0_1_0,
        "released migrations were removed, renamed or reordered: {names:?}"
    );
}

/// One row as it was written: its table, its id and every column given.
struct Row {
    table: &'static str,
    id: i64,
    values: Vec<(&'static str, Value)>,
}

struct Fixture {
    rows: Vec<Row>,
    idea_id: i64,
    citizen_email: &'static str,
    admin_email: &'static str,
}

impl Fixture {
    async fn insert(
        &mut self,
        db: &DatabaseConnection,
        table: &'static str,
        values: Vec<(&'static str, Value)>,
    ) -> i64 {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(values.iter().map(|(c, _)| Alias::new(*c)))
            .values_panic(values.iter().map(|(_, v)| Expr::val(v.clone())))
            .returning_col(Alias::new("id"));
        let row = db
            .query_one(&insert)
            .await
            .unwrap_or_else(|e| panic!("insert into {table}: {e}"))
            .expect("the new row's id");
        let id: i64 = row.try_get("", "id").expect("an id");
        self.rows.push(Row { table, id, values });
        id
    }

    fn count(&self, table: &str) -> usize {
        self.rows.iter().filter(|r| r.table == table).count()
    }
}

fn at(day: u32, hour: u32) -> Value {
    let t: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .expect("a valid time");
    t.into()
}

fn text(s: &str) -> Value {
    s.to_owned().into()
}

fn no_text() -> Value {
    Option::<String>::None.into()
}

/// What a municipality's 0.1.0 database holds, one or more rows per table.
async fn fill_0_1_0(db: &DatabaseConnection) -> Fixture {
    let hash = samskab::auth::password::hash(PASSWORD).expect("hashing");
    let mut f = Fixture {
        rows: Vec::new(),
        idea_id: 0,
        citizen_email: "borger@example.org",
        admin_email: "admin@example.org",
    };
    let admin = f
        .insert(
            db,
            "users",
            vec![
                ("display_name", text("Anne Admin")),
                ("email", text(f.admin_email)),
                ("password_hash", text(&hash)),
                ("role", text("admin")),
                ("locale", text("da")),
                ("email_verified", true.into()),
                ("created_at", at(20, 8)),
            ],
        )
        .await;
    let citizen = f
        .insert(
            db,
            "users",
            vec![
                ("display_name", text("Bente Borger")),
                ("email", text(f.citizen_email)),
                ("password_hash", text(&hash)),
                ("role", text("citizen")),
                ("locale", text("da")),
                ("email_verified", true.into()),
                ("created_at", at(20, 9)),
                ("last_login_at", at(25, 9)),
                ("mail_locale", text("en")),
                ("mail_statements", false.into()),
            ],
        )
        .await;
    let mitid = f
        .insert(
            db,
            "users",
            vec![
                ("display_name", text("Mads MitID")),
                ("oidc_subject_hash", text(&"ab".repeat(32))),
                ("role", text("citizen")),
                ("locale", text("da")),
                ("created_at", at(21, 10)),
                ("identity_provider", text("mitid")),
                ("loa", text("substantial")),
                ("birth_year", 1990i32.into()),
                ("municipality_code", text("0751")),
            ],
        )
        .await;
    let c = f
        .insert(
            db,
            "consultations",
            vec![
                ("slug", text(SLUG)),
                ("title", text(TITLE)),
                ("summary", text("Hvor skal de nye cykelstier ligge?")),
                ("body", text("Kommunen planlægger **nye cykelstier**.")),
                ("status", text("open")),
                ("moderation_mode", text("post")),
                ("support_threshold", 10i32.into()),
                ("categories", text(r#"["Trafik","Natur"]"#)),
                ("opens_at", at(20, 12)),
                ("closes_at", at(30, 12)),
                ("created_by", admin.into()),
                ("created_at", at(20, 11)),
                ("updated_at", at(20, 12)),
                ("voting_eligibility", text("anyone")),
                ("statement_max_chars", 200i32.into()),
                ("eligibility", text("account")),
            ],
        )
        .await;
    f.insert(
        db,
        "audit_log",
        vec![
            ("actor_id", admin.into()),
            ("action", text("consultation.status")),
            ("subject_type", text("consultation")),
            ("subject_id", c.into()),
            ("detail", text("draft -> open")),
            ("created_at", at(20, 12)),
        ],
    )
    .await;

    // The conversation: three seed statements, one pending from the citizen,
    // a logged-in and an anonymous participant, their votes and the history.
    let p_citizen = f
        .insert(
            db,
            "participants",
            vec![
                ("consultation_id", c.into()),
                ("user_id", citizen.into()),
                ("created_at", at(21, 9)),
            ],
        )
        .await;
    let p_anon = f
        .insert(
            db,
            "participants",
            vec![
                ("consultation_id", c.into()),
                ("anon_token_hash", text(&"cd".repeat(32))),
                ("created_at", at(21, 10)),
            ],
        )
        .await;
    let mut statements = Vec::new();
    for (i, body) in STATEMENTS.iter().enumerate() {
        let id = f
            .insert(
                db,
                "statements",
                vec![
                    ("consultation_id", c.into()),
                    ("number", (i as i64).into()),
                    ("created_by", admin.into()),
                    ("body", text(body)),
                    (
                        "normalized",
                        text(&samskab::services::statements::normalize(body)),
                    ),
                    ("status", text("accepted")),
                    ("is_seed", true.into()),
                    ("created_at", at(20, 12)),
                ],
            )
            .await;
        statements.push(id);
    }
    let own = "Der mangler cykelparkering ved Bazar Vest.";
    let own_statement = f
        .insert(
            db,
            "statements",
            vec![
                ("consultation_id", c.into()),
                ("number", 3i64.into()),
                ("participant_id", p_citizen.into()),
                ("created_by", citizen.into()),
                ("body", text(own)),
                (
                    "normalized",
                    text(&samskab::services::statements::normalize(own)),
                ),
                ("status", text("rejected")),
                ("moderation_reason", text("Handler ikke om cykelstier.")),
                ("moderated_by", admin.into()),
                ("moderated_at", at(22, 8)),
                ("created_at", at(21, 11)),
            ],
        )
        .await;
    f.insert(
        db,
        "moderation_actions",
        vec![
            ("actor_id", admin.into()),
            ("subject_type", text("statement")),
            ("subject_id", own_statement.into()),
            ("action", text("reject")),
            ("reason", text("Handler ikke om cykelstier.")),
            ("created_at", at(22, 8)),
        ],
    )
    .await;
    let votes: [(i64, i64, i16); 5] = [
        (statements[0], p_citizen, 1),
        (statements[1], p_citizen, -1),
        (statements[2], p_citizen, 0),
        (statements[0], p_anon, 1),
        (statements[1], p_anon, 1),
    ];
    for (n, (statement, participant, value)) in votes.into_iter().enumerate() {
        let when = at(23, 8 + n as u32);
        f.insert(
            db,
            "votes",
            vec![
                ("consultation_id", c.into()),
                ("statement_id", statement.into()),
                ("participant_id", participant.into()),
                ("value", value.into()),
                ("updated_at", when.clone()),
            ],
        )
        .await;
        f.insert(
            db,
            "vote_history",
            vec![
                ("consultation_id", c.into()),
                ("statement_id", statement.into()),
                ("participant_id", participant.into()),
                ("value", value.into()),
                ("cast_at", when),
            ],
        )
        .await;
    }

    // An idea with its history, a support, a comment thread, a flag, follows,
    // a notification.
    let idea = f
        .insert(
            db,
            "ideas",
            vec![
                ("consultation_id", c.into()),
                ("author_id", citizen.into()),
                ("title", text(IDEA_TITLE)),
                ("body", text("En sikker cykelsti fra Brabrand til centrum.")),
                ("category", text("Trafik")),
                ("place", text("Silkeborgvej")),
                ("status", text("under_review")),
                ("support_count", 1i32.into()),
                ("comment_count", 2i32.into()),
                ("published_at", at(21, 12)),
                ("created_at", at(21, 12)),
                ("updated_at", at(24, 9)),
            ],
        )
        .await;
    f.idea_id = idea;
    for (from, to, hour, response) in [
        (None, "published", 12, ""),
        (
            Some("published"),
            "under_review",
            33,
            "Forvaltningen undersøger strækningen.",
        ),
    ] {
        f.insert(
            db,
            "idea_status_changes",
            vec![
                ("idea_id", idea.into()),
                ("from_status", from.map(str::to_owned).into()),
                ("to_status", text(to)),
                ("actor_id", admin.into()),
                ("response", text(response)),
                ("created_at", at(21 + hour / 24, hour % 24)),
            ],
        )
        .await;
    }
    f.insert(
        db,
        "idea_supports",
        vec![
            ("idea_id", idea.into()),
            ("user_id", mitid.into()),
            ("created_at", at(22, 10)),
        ],
    )
    .await;
    let comment = f
        .insert(
            db,
            "comments",
            vec![
                ("idea_id", idea.into()),
                ("author_id", admin.into()),
                ("depth", 0i32.into()),
                ("body", text(COMMENT)),
                ("status", text("visible")),
                ("flag_count", 1i32.into()),
                ("created_at", at(22, 11)),
            ],
        )
        .await;
    f.insert(
        db,
        "comments",
        vec![
            ("idea_id", idea.into()),
            ("parent_id", comment.into()),
            ("author_id", citizen.into()),
            ("depth", 1i32.into()),
            ("body", text("Tak, det glæder jeg mig til.")),
            ("status", text("visible")),
            ("created_at", at(22, 12)),
            ("edited_at", at(22, 13)),
        ],
    )
    .await;
    f.insert(
        db,
        "comment_flags",
        vec![
            ("comment_id", comment.into()),
            ("user_id", mitid.into()),
            ("reason", text("Svarer ikke på spørgsmålet.")),
            ("created_at", at(22, 14)),
        ],
    )
    .await;
    f.insert(
        db,
        "idea_follows",
        vec![
            ("idea_id", idea.into()),
            ("user_id", citizen.into()),
            ("created_at", at(21, 12)),
        ],
    )
    .await;
    f.insert(
        db,
        "notifications",
        vec![
            ("user_id", citizen.into()),
            ("kind", text("idea_status")),
            ("subject_type", text("idea")),
            ("subject_id", idea.into()),
            (
                "data",
                text(
                    &serde_json::json!({ "title": IDEA_TITLE, "status": "under_review" })
                        .to_string(),
                ),
            ),
            ("created_at", at(22, 9)),
        ],
    )
    .await;

    // Mail: a delivered mail (its body already wiped), a used verification
    // token, a follower, and the population figures for the report.
    f.insert(
        db,
        "mail_outbox",
        vec![
            ("user_id", citizen.into()),
            ("kind", text("verify_email")),
            ("data", text("{}")),
            ("status", text("sent")),
            ("attempts", 1i32.into()),
            ("next_attempt_at", at(20, 9)),
            ("last_error", no_text()),
            ("created_at", at(20, 9)),
            ("sent_at", at(20, 9)),
        ],
    )
    .await;
    f.insert(
        db,
        "email_tokens",
        vec![
            ("user_id", citizen.into()),
            ("purpose", text("verify")),
            ("token_hash", text(&"ef".repeat(32))),
            ("email", text(f.citizen_email)),
            ("expires_at", at(21, 9)),
            ("used_at", at(20, 10)),
            ("created_at", at(20, 9)),
        ],
    )
    .await;
    f.insert(
        db,
        "consultation_follows",
        vec![
            ("consultation_id", c.into()),
            ("user_id", citizen.into()),
            ("created_at", at(21, 9)),
        ],
    )
    .await;
    for (band, residents) in [("15-24", 61_000i64), ("25-34", 70_000)] {
        f.insert(
            db,
            "population_figures",
            vec![
                ("municipality_code", text("0751")),
                ("age_band", text(band)),
                ("residents", residents.into()),
                ("updated_at", at(20, 8)),
            ],
        )
        .await;
    }
    f
}

/// Every value written before the upgrade reads back unchanged.
async fn assert_rows_intact(db: &DatabaseConnection, fixture: &Fixture) {
    let mut tables: Vec<&str> = fixture.rows.iter().map(|r| r.table).collect();
    tables.dedup();
    for table in tables {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("counting")
            .expect("a count");
        let n: i64 = row.try_get("", "n").expect("a count");
        assert_eq!(n as usize, fixture.count(table), "rows in {table}");
    }
    for written in &fixture.rows {
        let mut select = Query::select();
        select
            .from(Alias::new(written.table))
            .columns(written.values.iter().map(|(c, _)| Alias::new(*c)))
            .and_where(Expr::col(Alias::new("id")).eq(written.id));
        let row = db
            .query_one(&select)
            .await
            .unwrap_or_else(|e| panic!("reading {} {}: {e}", written.table, written.id))
            .unwrap_or_else(|| panic!("{} {} is gone", written.table, written.id));
        for (column, value) in &written.values {
            let at = format!("{}.{} of row {}", written.table, column, written.id);
            match value {
                Value::String(v) => {
                    assert_eq!(
                        &row.try_get::<Option<String>>("", column).expect(&at),
                        v,
                        "{at}"
                    )
                }
                Value::BigInt(v) => {
                    assert_eq!(
                        &row.try_get::<Option<i64>>("", column).expect(&at),
                        v,
                        "{at}"
                    )
                }
                Value::Int(v) => {
                    assert_eq!(
                        &row.try_get::<Option<i32>>("", column).expect(&at),
                        v,
                        "{at}"
                    )
                }
                Value::SmallInt(v) => {
                    assert_eq!(
                        &row.try_get::<Option<i16>>("", column).expect(&at),
                        v,
                        "{at}"
                    )
                }
                Value::Bool(v) => {
                    assert_eq!(
                        &row.try_get::<Option<bool>>("", column).expect(&at),
                        v,
                        "{at}"
                    )
                }
                Value::ChronoDateTimeUtc(v) => assert_eq!(
                    &row.try_get::<Option<DateTime<Utc>>>("", column).expect(&at),
                    v,
                    "{at}"
                ),
                other => panic!("{at}: no comparison for {other:?}"),
            }
        }
    }
}

async fn upgrade_and_serve(backend: Backend) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Some(url) = samskab_tests::empty_database(backend, &dir)
        .await
        .expect("an empty database")
    else {
        samskab_tests::report_postgres_skipped("a_0_1_0_database_upgrades_with_its_data");
        return;
    };

    // Release 0.1.0: its migrations, then its data.
    let db = Database::connect(&url).await.expect("connecting");
    Migrator::up(&db, Some(RELEASE_0_1_0.len() as u32))
        .await
        .expect("the 0.1.0 migrations");
    let applied: Vec<String> = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied migrations")
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(applied, RELEASE_0_1_0);
    let fixture = fill_0_1_0(&db).await;

    // The upgrade, as `samskab migrate` does it.
    samskab::db::migrate(&db).await.expect("migrating forward");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending migrations")
            .is_empty()
    );
    assert_rows_intact(&db, &fixture).await;
    db.close().await.expect("closing");

    // The new release serves the old data.
    let options = BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    };
    let url_for_app = url.clone();
    let app = TestApp::spawn_configured(backend, options, move |s: &mut Settings| {
        s.database_url = Some(url_for_app.into());
    })
    .await
    .expect("the app starts on the upgraded database")
    .expect("the backend is available");
    assert_eq!(app.get("/readyz").await.status(), 200);

    let (status, page) = app.page(&format!("/consultations/{SLUG}")).await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), TITLE);

    let (status, page) = app.page(&format!("/ideas/{}", fixture.idea_id)).await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), IDEA_TITLE);
    assert!(page.body.contains(COMMENT), "the comment is shown");
    assert!(
        page.body.contains("Forvaltningen undersøger strækningen."),
        "the official answer is shown"
    );

    // The citizen logs in with the password set under 0.1.0 and finds their
    // notification; the conversation shows its statements.
    app.login_with(&app.client, fixture.citizen_email).await;
    let (status, page) = app.page("/notifications").await;
    assert_eq!(status, 200);
    assert!(page.body.contains(IDEA_TITLE), "the notification is listed");
    let (status, page) = app
        .page(&format!("/consultations/{SLUG}/statements/all"))
        .await;
    assert_eq!(status, 200, "{}", page.body);
    for statement in STATEMENTS {
        assert!(page.body.contains(statement), "{statement} is listed");
    }

    // Staff download the votes cast under 0.1.0.
    let admin = samskab_tests::client();
    app.login_with(&admin, fixture.admin_email).await;
    let res = app
        .get_with(&admin, &format!("/consultations/{SLUG}/export/votes.csv"))
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.expect("the votes");
    assert_eq!(
        csv.lines().count(),
        1 + fixture.count("vote_history"),
        "a header and every vote: {csv}"
    );
    let (_, users) = app.page_with(&admin, "/admin/users").await;
    assert!(users.body.contains(fixture.citizen_email));
}
