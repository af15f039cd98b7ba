//! Odd and hostile input: redirect targets, control characters, invalid UTF-8, CSV formulas, methods and headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Read;

use samskab::auth::Role;
use samskab::entities::{comment, idea, statement, user};
use samskab::opinion::VoteValue;
use samskab::services::consultations::Status;
use samskab::services::polis_import;
use samskab::services::statements::ModerationAction;
use samskab_tests::{
    BuildOptions, PASSWORD, Page, TestApp, anonymous, both_backends, client, location, oidc_issuer,
    with_test_oidc,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// The probe's `next` values (as the form decodes them) that must all end on
/// the default page: each would lead a browser off the site or break the header.
const HOSTILE_NEXT: [&str; 12] = [
    "/\t/evil.example",
    "//evil.example",
    "/\\evil",
    "\\\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/\n/x",
    "/\r\n/x",
    "/\0/x",
    "/ /evil.example",
    "/.//evil.example",
    "/\u{a0}/evil.example",
];
const LEGIT_NEXT: &str = "/consultations/x?tab=1";

async fn login_to(app: &TestApp, email: &str, next: &str) -> reqwest::Response {
    let browser = client();
    app.post_form_with(
        &browser,
        "/login",
        &[("email", email), ("password", PASSWORD), ("next", next)],
    )
    .await
}

both_backends!(next_after_login_stays_on_the_site);
async fn next_after_login_stays_on_the_site(app: TestApp) {
    let u = app
        .user(Role::Citizen)
        .email("karen@example.org")
        .create()
        .await;
    let email = u.email.as_deref().unwrap();
    for next in HOSTILE_NEXT {
        let res = login_to(&app, email, next).await;
        assert_eq!(res.status(), 303, "login with next={next:?}");
        assert_eq!(location(&res), "/account", "next={next:?}");
    }
    let res = login_to(&app, email, LEGIT_NEXT).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), LEGIT_NEXT, "a local path is kept");

    // The probe's exact bodies, percent-encoded by hand.
    for body in [
        "next=%2F%0A%2Fx",
        "next=%2F%09%2Fevil.example",
        "next=%2F%00",
    ] {
        let browser = client();
        let token = app.csrf_token_for(&browser).await;
        let res = browser
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email=karen%40example.org&password={PASSWORD}&csrf_token={token}&{body}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{body} is a normal redirect, not a 500");
        assert_eq!(location(&res), "/account", "{body}");
    }

    // The login page carries only a safe `next` in its form.
    for (query, kept) in [
        ("next=/%09/evil.example", "/account"),
        ("next=//evil.example", "/account"),
        ("next=%2F%5Cevil", "/account"),
        ("next=/consultations/x%3Ftab%3D1", LEGIT_NEXT),
    ] {
        let (status, page) = app.page_with(&client(), &format!("/login?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            page.attr("input[name=next]", "value").as_deref(),
            Some(kept),
            "{query}"
        );
    }
    // Someone already logged in is sent on at once, to the same safe place.
    let (browser, _) = app.user(Role::Citizen).in_browser().await;
    for (query, to) in [
        ("next=/%09/evil.example", "/account"),
        ("next=https://evil.example", "/account"),
        ("next=/consultations/x%3Ftab%3D1", LEGIT_NEXT),
    ] {
        let res = app.get_with(&browser, &format!("/login?{query}")).await;
        assert_eq!(res.status(), 303, "{query}");
        assert_eq!(location(&res), to, "{query}");
    }
}

both_backends!(pages_that_need_a_login_send_their_own_path_only);
async fn pages_that_need_a_login_send_their_own_path_only(app: TestApp) {
    let res = app.get("/account?tab=1").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=/account%3Ftab%3D1");
    let res = app.get("/notifications").await;
    assert_eq!(location(&res), "/login?next=/notifications");
    // A path that would be another host in a Location header is not passed on.
    let res = client()
        .get(format!("{}//evil.example/account", app.address))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert!(!to.contains("evil.example"), "{} → {to}", res.status());
}

both_backends!(the_language_switch_never_links_to_another_site);
async fn the_language_switch_never_links_to_another_site(app: TestApp) {
    for path in [
        "//evil.example",
        "//evil.example/ideas",
        "/%09/evil.example",
    ] {
        let res = client()
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let page = Page::parse(&res.text().await.unwrap());
        let href = page.attr("a.lang-switch", "href").unwrap();
        let base = reqwest::Url::parse(&app.address).unwrap();
        let target = base.join(&href).unwrap();
        assert!(
            href.starts_with('/') && !href.starts_with("//") && target.host() == base.host(),
            "{path}: {href}"
        );
    }
    let (_, page) = app.page("/consultations?status=open").await;
    assert_eq!(
        page.attr("a.lang-switch", "href").as_deref(),
        Some("/consultations?lang=en")
    );
}

/// Through the test OpenID Provider: `next` is checked when the login starts
/// and again when it ends, for a first login (the welcome page) and a later one.
async fn oidc_next_stays_on_the_site(app: TestApp) {
    let encoded = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            out.push_str(&format!("%{b:02X}"));
        }
        out
    };
    let start = |next: &str| format!("/auth/oidc/mitid/start?next={}", encoded(next));
    // First login of `anna`: the welcome page, then `next`.
    let browser = client();
    let (_, res) = app
        .oidc_to_callback_from(&browser, &start("/\t/evil.example"), "anna")
        .await;
    assert_eq!(location(&res), "/auth/oidc/welcome");
    let res = app
        .post_form_with(&browser, "/auth/oidc/welcome", &[("display_name", "Anna")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    for (next, to) in [
        ("//evil.example", "/account"),
        ("/\n/x", "/account"),
        ("https://evil.example", "/account"),
        (LEGIT_NEXT, LEGIT_NEXT),
    ] {
        let (_, res) = app
            .oidc_to_callback_from(&client(), &start(next), "anna")
            .await;
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(location(&res), to, "{next:?}");
    }
    // A first login keeps a local `next` through the welcome page.
    let browser = client();
    let (_, res) = app
        .oidc_to_callback_from(&browser, &start(LEGIT_NEXT), "bertha")
        .await;
    assert_eq!(location(&res), "/auth/oidc/welcome");
    let res = app
        .post_form_with(
            &browser,
            "/auth/oidc/welcome",
            &[("display_name", "Bertha")],
        )
        .await;
    assert_eq!(location(&res), LEGIT_NEXT);
}

mod oidc_next {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(samskab_tests::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(samskab_tests::Backend::Postgres).await;
    }

    async fn run(backend: samskab_tests::Backend) {
        let Some(issuer) = oidc_issuer("security::input::oidc_next") else {
            return;
        };
        match TestApp::spawn_configured(backend, BuildOptions::default(), with_test_oidc(&issuer))
            .await
            .unwrap()
        {
            Some(app) => oidc_next_stays_on_the_site(app).await,
            None => samskab_tests::report_postgres_skipped("security::input::oidc_next"),
        }
    }
}

// ------------------------------------------------------------ CSV formulas

const FORMULA: &str = "=HYPERLINK(\"https://evil.example\",\"klik\")";
/// Statements that spreadsheets would read as formulas, and what each must look like.
const FORMULA_STATEMENTS: [&str; 5] = [
    FORMULA,
    "+45 12 34 56 78 er kommunens nummer",
    "-1 til bilerne, +1 til cyklerne",
    "@alle: flere bænke",
    "'=1+1 står der på skiltet",
];

fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap()
}

/// A published conversation whose statements, title and summary start like formulas.
async fn formula_conversation(app: &TestApp, slug: &str) -> samskab::entities::consultation::Model {
    let me = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug(slug)
        .title("=1+1 Cykelstier")
        .summary("@kommunen: hvor skal stierne gå?")
        .conversation()
        .seeds(&FORMULA_STATEMENTS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    for (i, id) in ids.iter().enumerate() {
        let value = if i % 2 == 0 {
            VoteValue::Disagree
        } else {
            VoteValue::Agree
        };
        app.vote_as(&c, &anonymous(&format!("{slug}-a")), *id, value)
            .await;
        app.vote_as(
            &c,
            &anonymous(&format!("{slug}-b")),
            *id,
            VoteValue::Disagree,
        )
        .await;
    }
    let rejected = app.seed_statement(&me, slug, "=AFVIST()").await;
    app.moderate_statement(&me, slug, rejected.id, ModerationAction::Reject, "Spam")
        .await;
    app.transition(&me, slug, Status::Closed).await;
    app.transition(&me, slug, Status::Published).await;
    c
}

async fn download(app: &TestApp, slug: &str, file: &str) -> Vec<u8> {
    let res = app
        .get(&format!("/consultations/{slug}/export/{file}"))
        .await;
    assert_eq!(res.status(), 200, "{file}");
    res.bytes().await.unwrap().to_vec()
}

both_backends!(
    formula_cells_are_neutralised_in_every_csv,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn formula_cells_are_neutralised_in_every_csv(app: TestApp) {
    let slug = "formler";
    formula_conversation(&app, slug).await;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for f in samskab::services::export::CSV_FILES {
        files.insert(f.to_owned(), download(&app, slug, f).await);
    }
    // No cell of any CSV starts like a formula.
    for (name, bytes) in &files {
        for row in cells(bytes) {
            for cell in row {
                let numeric = cell.parse::<f64>().is_ok();
                assert!(
                    numeric || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{name}: {cell:?}"
                );
            }
        }
    }
    let comments = cells(&files["comments.csv"]);
    let body = column(&comments, "comment-body");
    let moderated = column(&comments, "moderated");
    let bodies: Vec<&str> = comments[1..].iter().map(|r| r[body].as_str()).collect();
    for text in FORMULA_STATEMENTS {
        let expected = format!("'{text}");
        assert!(
            bodies.contains(&expected.as_str()),
            "{expected:?} in {bodies:?}"
        );
    }
    // Text cells are quoted in the file itself; numbers stay bare numbers.
    let raw = String::from_utf8(files["comments.csv"].clone()).unwrap();
    assert!(
        raw.contains("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"klik\"\")\""),
        "{raw}"
    );
    let rejected = comments[1..]
        .iter()
        .find(|r| r[moderated] == "-1")
        .expect("the rejected statement keeps its row");
    assert_eq!(rejected[body], "", "without its text");
    assert!(
        raw.lines().any(|l| l.contains(",-1,")),
        "moderated -1 is bare: {raw}"
    );
    let votes = cells(&files["votes.csv"]);
    let vote = column(&votes, "vote");
    assert!(votes[1..].iter().any(|r| r[vote] == "-1"));
    let votes_raw = String::from_utf8(files["votes.csv"].clone()).unwrap();
    assert!(
        votes_raw
            .lines()
            .skip(1)
            .all(|l| l.ends_with(",-1") || l.ends_with(",1") || l.ends_with(",0"))
    );
    let pv = cells(&files["participants-votes.csv"]);
    assert!(pv[1..].iter().flatten().any(|c| c == "-1"));
    let summary = cells(&files["summary.csv"]);
    let value = |key: &str| {
        summary
            .iter()
            .find(|r| r[0] == key)
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert_eq!(value("topic"), "'=1+1 Cykelstier");
    assert_eq!(
        value("conversation-description"),
        "'@kommunen: hvor skal stierne gå?"
    );
    // The zip holds the same files.
    let zip_bytes = download(&app, slug, &format!("{slug}.zip")).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    for (name, bytes) in &files {
        let mut inside = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut inside).unwrap();
        assert_eq!(&inside, bytes, "{name} in the zip");
    }
    let mut license = String::new();
    zip.by_name("LICENSE.txt")
        .unwrap()
        .read_to_string(&mut license)
        .unwrap();
    assert!(
        license.contains("one extra '"),
        "the rule is documented: {license}"
    );
    // And on the open data page, in both languages.
    let (_, da) = app.page("/open-data?lang=da").await;
    assert!(da.body.contains("regner den ikke ud som en formel"));
    let (_, en) = app.page("/open-data?lang=en").await;
    assert!(en.body.contains("calculating it as a formula"));
}

both_backends!(
    an_export_with_formulas_imports_back_unchanged,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn an_export_with_formulas_imports_back_unchanged(app: TestApp) {
    let slug = "formler-ud";
    let original = formula_conversation(&app, slug).await;
    let dir = tempfile::tempdir().unwrap();
    for f in samskab::services::export::CSV_FILES {
        std::fs::write(dir.path().join(f), download(&app, slug, f).await).unwrap();
    }
    let copy = app
        .consultation()
        .slug("formler-ind")
        .conversation()
        .open()
        .create()
        .await;
    polis_import::import(&app.db, "formler-ind", dir.path())
        .await
        .unwrap();
    let db = &app.db;
    let bodies = |id: i64| async move {
        statement::Entity::find()
            .filter(statement::Column::ConsultationId.eq(id))
            .filter(statement::Column::Status.eq("accepted"))
            .order_by_asc(statement::Column::Number)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.number, s.body))
            .collect::<Vec<_>>()
    };
    let before = bodies(original.id).await;
    assert_eq!(
        before.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        FORMULA_STATEMENTS
    );
    assert_eq!(
        bodies(copy.id).await,
        before,
        "every text as it was written"
    );
    // The engine's reader (`samskab opinion analyze`) reads the same export.
    let export = samskab::opinion_tools::polis::read_export(dir.path(), true).unwrap();
    assert_eq!(export.input.statements.len(), FORMULA_STATEMENTS.len() + 1);
    assert!(export.input.statements.values().any(|f| f.moderated_out));
}

// ------------------------------------------------------------ invalid UTF-8

/// POST `body` (already urlencoded, may hold any bytes) with `browser`'s CSRF token.
async fn post_bytes(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    body: &[u8],
) -> reqwest::Response {
    let token = app.csrf_token_for(browser).await;
    let mut all = body.to_vec();
    all.extend_from_slice(format!("&csrf_token={token}").as_bytes());
    browser
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(all)
        .send()
        .await
        .unwrap()
}

async fn assert_refused(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), 400, "{what}");
    let page = Page::parse(&res.text().await.unwrap());
    assert!(
        page.body.contains("ugyldig tegnkodning"),
        "{what}: a translated page: {}",
        page.body
    );
}

both_backends!(invalid_utf8_in_forms_is_refused_and_nothing_is_stored);
async fn invalid_utf8_in_forms_is_refused_and_nothing_is_stored(app: TestApp) {
    let me = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("tegn")
        .with_ideas()
        .conversation()
        .seeds(&["Et udsagn"])
        .by(&me)
        .open()
        .create()
        .await;
    let (browser, citizen) = app
        .user(Role::Citizen)
        .email("tegn@example.org")
        .name("Karen Tegn")
        .in_browser()
        .await;
    let author = samskab::auth::session::CurrentUser::from_model(&citizen);
    let existing = app.idea(&author, "tegn").title("En god idé").create().await;

    // Login: a 400, not a failed login, and no session.
    let anonymous_browser = client();
    let res = post_bytes(
        &app,
        &anonymous_browser,
        "/login",
        format!("email=tegn%40example.org&password={PASSWORD}%FF").as_bytes(),
    )
    .await;
    assert_refused(res, "login").await;
    let res = app.get_with(&anonymous_browser, "/account").await;
    assert_eq!(res.status(), 303, "not logged in");

    let ideas_before = idea::Entity::find().count(&app.db).await.unwrap();
    let res = post_bytes(
        &app,
        &browser,
        "/consultations/tegn/ideas",
        b"title=Cykelsti+%FF+i+byen&body=Mere+plads+til+cykler",
    )
    .await;
    assert_refused(res, "idea").await;
    assert_eq!(
        idea::Entity::find().count(&app.db).await.unwrap(),
        ideas_before
    );

    let res = post_bytes(
        &app,
        &browser,
        &format!("/ideas/{}/comments", existing.id),
        b"body=Enig+%C3%28+helt",
    )
    .await;
    assert_refused(res, "comment").await;
    assert_eq!(comment::Entity::find().count(&app.db).await.unwrap(), 0);

    let statements_before = statement::Entity::find().count(&app.db).await.unwrap();
    let res = post_bytes(
        &app,
        &browser,
        "/consultations/tegn/statements",
        b"body=Flere+tr%E6er+langs+vejen",
    )
    .await;
    assert_refused(res, "statement").await;
    assert_eq!(
        statement::Entity::find().count(&app.db).await.unwrap(),
        statements_before
    );

    let res = post_bytes(
        &app,
        &browser,
        "/account",
        b"display_name=Karen+%ED%A0%80&locale=da",
    )
    .await;
    assert_refused(res, "account").await;
    let stored = user::Entity::find_by_id(citizen.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.display_name, "Karen Tegn");

    // Invalid bytes in a field name count too, and so do raw (unencoded) bytes.
    let res = post_bytes(&app, &browser, "/account", b"display_name=Karen&%FF=1").await;
    assert_refused(res, "field name").await;
    let res = post_bytes(&app, &browser, "/account", b"display_name=Karen\xff").await;
    assert_refused(res, "raw byte").await;

    // A bad body never passes as a good form, token or not.
    let res = browser
        .post(app.url("/account"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"display_name=Hacket&csrf_token=%FF".to_vec())
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 400 | 403),
        "{}",
        res.status()
    );
    let stored = user::Entity::find_by_id(citizen.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.display_name, "Karen Tegn");

    // Query strings: a search or filter with invalid UTF-8 is refused too.
    for path in [
        "/consultations?status=%FF",
        "/consultations/tegn/ideas?q=cykel%C3",
        "/api/v1/consultations?cursor=%FF",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 400, "{path}");
    }
    // Valid UTF-8 still works, of course.
    let res = post_bytes(
        &app,
        &browser,
        &format!("/ideas/{}/comments", existing.id),
        "body=Enig%2C+gr%C3%B8nne+omr%C3%A5der".as_bytes(),
    )
    .await;
    assert_eq!(res.status(), 303);
    let stored = comment::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.body, "Enig, grønne områder");
    let _ = c;
}

// ------------------------------------------------------------ methods and headers

fn allow(res: &reqwest::Response) -> Vec<String> {
    let mut methods: Vec<String> = res
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    methods
}

both_backends!(wrong_methods_answer_405_with_allow);
async fn wrong_methods_answer_405_with_allow(app: TestApp) {
    let anonymous = client();
    for (method, path, expected) in [
        ("POST", "/privacy", vec!["GET", "HEAD"]),
        ("PUT", "/login", vec!["GET", "HEAD", "POST"]),
        ("DELETE", "/login", vec!["GET", "HEAD", "POST"]),
        ("PATCH", "/consultations", vec!["GET", "HEAD"]),
        ("GET", "/logout", vec!["POST"]),
        ("GET", "/ideas/1/support", vec!["POST"]),
        ("OPTIONS", "/", vec!["GET", "HEAD"]),
        ("POST", "/api/v1/consultations", vec!["GET", "HEAD"]),
    ] {
        let res = anonymous
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(allow(&res), expected, "{method} {path}");
        let body = res.text().await.unwrap();
        if path.starts_with("/api/") {
            assert!(body.contains("\"status\":405"), "{body}");
        } else {
            assert!(
                body.contains("Den handling kan ikke bruges på denne adresse."),
                "a translated page: {body}"
            );
        }
    }
    // With a valid CSRF token it is the same answer.
    let res = app.post_form("/privacy", &[]).await;
    assert_eq!(res.status(), 405);
    assert_eq!(allow(&res), ["GET", "HEAD"]);
    // A forged form on a route that takes POST is still refused as one.
    let res = app.post_raw("/login", &[("email", "a@b.dk")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Formularen er udløbet"));
    // And a path that does not exist is 404 whatever the method.
    for method in ["GET", "POST", "PUT"] {
        let res = anonymous
            .request(method.parse().unwrap(), app.url("/findes-ikke"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method}");
        assert!(res.headers().get("allow").is_none());
    }
    // HEAD is still answered like GET.
    let res = anonymous.head(app.url("/privacy")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

both_backends!(csrf_still_guards_every_post_route);
/// A forged POST (no token) to routes of every area changes nothing and gets
/// the CSRF page, now that refused requests are routed to the fallback.
async fn csrf_still_guards_every_post_route(app: TestApp) {
    let (browser, u) = app
        .user(Role::Citizen)
        .email("forged@example.org")
        .name("Ikke Hacket")
        .in_browser()
        .await;
    for (path, fields) in [
        (
            "/account",
            vec![("display_name", "Hacket"), ("locale", "en")],
        ),
        ("/logout", vec![]),
        ("/notifications/read", vec![]),
        ("/consultations/x/ideas", vec![("title", "Hacket idé")]),
        ("/ideas/1/support", vec![]),
        ("/admin/users/1/role", vec![("role", "admin")]),
    ] {
        let res = browser
            .post(app.url(path))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let stored = user::Entity::find_by_id(u.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.display_name, "Ikke Hacket");
    assert_eq!(
        app.get_with(&browser, "/account").await.status(),
        200,
        "still logged in"
    );
}

both_backends!(no_hsts_header_by_default);
async fn no_hsts_header_by_default(app: TestApp) {
    let res = app.get("/").await;
    assert!(res.headers().get("strict-transport-security").is_none());
}

both_backends!(
    hsts_header_when_configured,
    BuildOptions::default(),
    |s: &mut samskab::configuration::Settings| s.hsts_max_age = 31_536_000
);
async fn hsts_header_when_configured(app: TestApp) {
    for path in ["/", "/findes-ikke", "/static/css/samskab.css"] {
        let res = app.get(path).await;
        assert_eq!(
            res.headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}
