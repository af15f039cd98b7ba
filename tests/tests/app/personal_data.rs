//! Personal data caught before publication: CPR numbers are masked before
//! anything is stored, other personal data holds the text for a moderator.

use samskab::auth::Role;
use samskab::domain::{CommentStatus, IdeaStatus, StatementStatus, VotingEligibility};
use samskab::entities::{comment, idea, statement};
use samskab_tests::{Backend, Page, TestApp, both_backends, location};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};

const CPRS: [&str; 3] = ["0101901234", "010190-1234", "2902004123"];

/// Every text column of every table, from the database's own catalogue.
async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let db = &app.db;
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    match app.backend {
        Backend::Sqlite => {
            let tables = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                ))
                .await
                .unwrap();
            for t in tables {
                let table: String = t.try_get_by_index(0).unwrap();
                let cols = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name, type FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .unwrap();
                for c in cols {
                    let name: String = c.try_get_by_index(0).unwrap();
                    let ty: String = c.try_get_by_index(1).unwrap();
                    let ty = ty.to_lowercase();
                    if ty.contains("text") || ty.contains("char") || ty.contains("clob") {
                        out.push((table.clone(), name));
                    }
                }
            }
        }
        Backend::Postgres => {
            let cols = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() \
                     AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')",
                ))
                .await
                .unwrap();
            for c in cols {
                out.push((
                    c.try_get_by_index(0).unwrap(),
                    c.try_get_by_index(1).unwrap(),
                ));
            }
        }
    }
    out
}

/// Every (table, column, value) whose digits contain one of the CPR numbers.
async fn cpr_anywhere(app: &TestApp) -> Vec<(String, String, String)> {
    let db = &app.db;
    let backend = db.get_database_backend();
    let wanted: Vec<String> = CPRS.iter().map(|c| c.replace('-', "")).collect();
    let mut found = Vec::new();
    let columns = text_columns(app).await;
    assert!(
        columns
            .iter()
            .any(|(t, c)| t == "statements" && c == "body")
            && columns
                .iter()
                .any(|(t, c)| t == "mail_outbox" && c == "data")
            && columns
                .iter()
                .any(|(t, c)| t == "users" && c == "display_name"),
        "the catalogue lists the text columns: {columns:?}"
    );
    for (table, column) in columns {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\""),
            ))
            .await
            .unwrap();
        for r in rows {
            let value: Option<String> = r.try_get_by_index(0).unwrap();
            let Some(value) = value else { continue };
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            if wanted.iter().any(|w| digits.contains(w.as_str())) {
                found.push((table.clone(), column.clone(), value));
            }
        }
    }
    found
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Collect this test binary's logs at debug level (the server runs in this
/// process). `false` when another test installed its own collector first.
fn capture_logs() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_writer(|| LogSink)
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .try_init()
            .is_ok()
    })
}

fn flashes(page: &Page) -> Vec<String> {
    page.texts(".flash")
}

both_backends!(cpr_numbers_are_never_stored_from_any_form);
async fn cpr_numbers_are_never_stored_from_any_form(app: TestApp) {
    let logging = capture_logs();
    let staff = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("cpr")
        .with_ideas()
        .conversation()
        .voting(VotingEligibility::LoggedIn)
        .pre_moderated()
        .by(&staff)
        .open()
        .create()
        .await;
    let (browser, citizen) = app
        .user(Role::Citizen)
        .email("borger@example.org")
        .in_browser()
        .await;

    // A statement (pre-moderated: it waits, and its rejection is mailed with the text).
    let res = app
        .post_form_with(
            &browser,
            "/consultations/cpr/statements",
            &[("body", "Mit cpr er 010190-1234 og det skal I vide")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app
        .page_with(&browser, "/consultations/cpr/statements")
        .await;
    assert!(
        flashes(&page)
            .iter()
            .any(|f| f.contains("fjernet et CPR-nummer")),
        "the citizen is told why: {:?}",
        flashes(&page)
    );
    let s = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.body, "Mit cpr er XXXXXX-XXXX og det skal I vide");

    // An idea: CPR numbers in title, text and place.
    let res = app
        .post_form_with(
            &browser,
            "/consultations/cpr/ideas",
            &[
                ("title", "Idé fra 0101901234"),
                ("body", "Ring ikke, mit cpr er 2902004123."),
                ("place", "ved 010190-1234"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let idea_id: i64 = location(&res)
        .trim_start_matches("/ideas/")
        .parse()
        .unwrap();
    // The author edits it, CPR number again.
    let res = app
        .post_form_with(
            &browser,
            &format!("/ideas/{idea_id}/edit"),
            &[
                ("title", "Rettet idé 0101901234"),
                ("body", "Stadig 010190 1234 her."),
                ("place", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let i = idea::Entity::find_by_id(idea_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(i.title, "Rettet idé XXXXXXXXXX");
    assert_eq!(i.body, "Stadig XXXXXX XXXX her.");

    // Comments on a published idea, and an edit of one.
    app.change_idea_status(&staff, idea_id, IdeaStatus::Published, "Godkendt")
        .await;
    let res = app
        .post_form_with(
            &browser,
            &format!("/ideas/{idea_id}/comments"),
            &[("body", "Mit nummer: 0101901234")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let cm = comment::Entity::find()
        .filter(comment::Column::IdeaId.eq(idea_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let res = app
        .post_form_with(
            &browser,
            &format!("/comments/{}/edit", cm.id),
            &[("body", "Rettet: 010190-1234")],
        )
        .await;
    assert_eq!(res.status(), 303);

    // The display name.
    let res = app
        .post_form_with(
            &browser,
            "/account",
            &[("display_name", "Anna 0101901234"), ("locale", "da")],
        )
        .await;
    assert_eq!(res.status(), 303);

    // The moderator rejects the statement: the author's mail quotes it.
    let (mod_browser, _) = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .in_browser()
        .await;
    let res = app
        .post_form_with(
            &mod_browser,
            "/staff/moderation/decide",
            &[
                ("item", &format!("statement-{}", s.id)),
                ("verdict", "reject"),
                ("reason", "Handler ikke om emnet"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let outbox: Vec<String> = samskab::entities::mail_outbox::Entity::find()
        .filter(samskab::entities::mail_outbox::Column::UserId.eq(citizen.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.data)
        .collect();
    assert!(
        outbox.iter().any(|d| d.contains("XXXXXX-XXXX")),
        "the mail quotes the masked text: {outbox:?}"
    );

    let found = cpr_anywhere(&app).await;
    assert!(found.is_empty(), "CPR numbers stored: {found:?}");

    if logging {
        let logs = String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned();
        assert!(!logs.is_empty(), "the server logged something");
        let digits: String = logs.chars().filter(char::is_ascii_digit).collect();
        for cpr in CPRS {
            assert!(
                !digits.contains(&cpr.replace('-', "")),
                "{cpr} in the server log"
            );
        }
    } else {
        eprintln!("another test collects the logs: log check left to a run of this module alone");
    }
}

both_backends!(phone_numbers_hold_texts_for_a_moderator_even_in_post_moderation);
async fn phone_numbers_hold_texts_for_a_moderator_even_in_post_moderation(app: TestApp) {
    let staff = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("post")
        .with_ideas()
        .conversation()
        .voting(VotingEligibility::LoggedIn)
        .by(&staff)
        .open()
        .create()
        .await;
    let (browser, _) = app.user(Role::Citizen).in_browser().await;

    // Without personal data: published at once (post-moderation).
    let res = app
        .post_form_with(
            &browser,
            "/consultations/post/statements",
            &[("body", "Flere bænke ved åen, det koster 1.250 kr. i 2027")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // With a phone number: held.
    let res = app
        .post_form_with(
            &browser,
            "/consultations/post/statements",
            &[("body", "Ring til mig på 23 45 67 89 om bænkene")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app
        .page_with(&browser, "/consultations/post/statements")
        .await;
    assert!(
        flashes(&page).iter().any(|f| f.contains("telefonnummer")),
        "{:?}",
        flashes(&page)
    );
    let all = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap();
    let status_of = |start: &str| {
        all.iter()
            .find(|s| s.body.starts_with(start))
            .map(|s| s.status)
            .unwrap()
    };
    assert_eq!(status_of("Flere bænke"), StatementStatus::Accepted);
    assert_eq!(status_of("Ring til mig"), StatementStatus::Pending);

    // An idea with an email address waits, one without is published.
    let res = app
        .post_form_with(
            &browser,
            "/consultations/post/ideas",
            &[
                ("title", "Skriv til mig"),
                ("body", "anna.hansen@eksempel.dk ved mere"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let held_idea: i64 = location(&res)
        .trim_start_matches("/ideas/")
        .parse()
        .unwrap();
    let held = idea::Entity::find_by_id(held_idea)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, IdeaStatus::Submitted);
    let res = app
        .post_form_with(
            &browser,
            "/consultations/post/ideas",
            &[
                ("title", "Lys på stien"),
                ("body", "Ved 8000 Aarhus C er der mørkt"),
            ],
        )
        .await;
    let open_idea: i64 = location(&res)
        .trim_start_matches("/ideas/")
        .parse()
        .unwrap();
    let published = idea::Entity::find_by_id(open_idea)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.status, IdeaStatus::Published);

    // A comment with an address is hidden until a moderator decides.
    let res = app
        .post_form_with(
            &browser,
            &format!("/ideas/{open_idea}/comments"),
            &[("body", "Jeg bor på Bogensevej 12, kom forbi")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let cm = comment::Entity::find()
        .filter(comment::Column::IdeaId.eq(open_idea))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cm.status, CommentStatus::Hidden);
    assert!(!cm.moderated);

    // The moderator sees all three, the matches highlighted.
    let (mod_browser, _) = app.user(Role::Moderator).in_browser().await;
    let (status, queue) = app.page_with(&mod_browser, "/staff/moderation").await;
    assert_eq!(status, 200);
    let marks = queue.texts("mark.personal-data");
    let joined = marks.join(" | ");
    assert!(joined.contains("23 45 67 89"), "{joined}");
    assert!(joined.contains("anna.hansen@eksempel.dk"), "{joined}");
    assert!(joined.contains("Bogensevej 12"), "{joined}");
    assert!(!joined.contains("8000"), "{joined}");
    assert_eq!(queue.texts(".queue-item").len(), 3);
}
