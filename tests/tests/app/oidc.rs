//! MitID login through OpenID Connect, against the real test OpenID Provider
//! (`tests/oidc`, started by `tests/run`), on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use samskab::configuration::Settings;
use samskab::entities::user;
use samskab::services::consultations::{self, ConsultationForm, Status};
use samskab_tests::{
    Backend, BuildOptions, TestApp, client, location, oidc_issuer, with_test_oidc,
    with_test_staff_oidc,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// `oidc_test!(name)`: `async fn name(app: TestApp)` on SQLite and PostgreSQL
/// with the `mitid` provider pointing at the test OP. `oidc_test!(name,
/// settings)` configures the providers with `settings(issuer)` instead.
macro_rules! oidc_test {
    ($name:ident) => {
        oidc_test!($name, samskab_tests::with_test_oidc);
    };
    ($name:ident, $settings:path) => {
        mod $name {
            async fn run(backend: samskab_tests::Backend) {
                let Some(issuer) = samskab_tests::oidc_issuer(stringify!($name)) else {
                    return;
                };
                match samskab_tests::TestApp::spawn_configured(
                    backend,
                    samskab_tests::BuildOptions::default(),
                    $settings(&issuer),
                )
                .await
                .expect("spawning the app")
                {
                    Some(app) => super::$name(app).await,
                    None => samskab_tests::report_postgres_skipped(stringify!($name)),
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(samskab_tests::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(samskab_tests::Backend::Postgres).await;
            }
        }
    };
}

async fn mitid_users(app: &TestApp) -> Vec<user::Model> {
    user::Entity::find()
        .filter(user::Column::OidcSubjectHash.is_not_null())
        .all(&app.db)
        .await
        .unwrap()
}

oidc_test!(first_mitid_login_asks_for_a_name_and_keeps_only_what_is_needed);
async fn first_mitid_login_asks_for_a_name_and_keeps_only_what_is_needed(app: TestApp) {
    let (status, login) = app.page("/login").await;
    assert_eq!(status, 200);
    let links = login.attrs("a[href^='/auth/oidc/']", "href");
    assert_eq!(links, vec!["/auth/oidc/mitid/start?next=%2Faccount"]);
    assert!(login.body.contains("Log ind med MitID"));

    let (_, res) = app.mitid_to_callback(&app.client, "anna").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/auth/oidc/welcome");
    let (status, welcome) = app.page("/auth/oidc/welcome").await;
    assert_eq!(status, 200);
    assert_eq!(welcome.h1(), "Vælg dit visningsnavn");

    let bad = app
        .post_form("/auth/oidc/welcome", &[("display_name", "A")])
        .await;
    assert_eq!(bad.status(), 422, "too short a name is refused");
    let res = app
        .post_form("/auth/oidc/welcome", &[("display_name", "Anna fra Aarhus")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    let (_, account) = app.page("/account").await;
    assert!(account.body.contains("Anna fra Aarhus"));
    assert!(account.body.contains("Din konto er forbundet med MitID"));

    let users = mitid_users(&app).await;
    assert_eq!(users.len(), 1);
    let anna = &users[0];
    let hash = anna.oidc_subject_hash.clone().unwrap();
    assert_eq!(hash.len(), 64, "an HMAC-SHA256 in hex");
    assert!(!hash.contains("anna"));
    assert_eq!(anna.loa.as_deref(), Some("substantial"));
    assert_eq!(anna.birth_year, Some(1990));
    assert_eq!(anna.municipality_code.as_deref(), Some("0751"));
    assert_eq!(anna.identity_provider.as_deref(), Some("mitid"));
    assert_eq!(anna.email, None);
    assert_eq!(anna.role, samskab::auth::Role::Citizen);

    // A second login (new browser) goes straight in, to the same account.
    let other = client();
    let (_, res) = app.mitid_to_callback(&other, "anna").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    let (_, account) = app.page_with(&other, "/account").await;
    assert!(account.body.contains("Anna fra Aarhus"));
    assert_eq!(mitid_users(&app).await.len(), 1);
}

oidc_test!(a_replayed_callback_is_refused);
async fn a_replayed_callback_is_refused(app: TestApp) {
    app.mitid_login(&app.client, "carl", "Carl").await;
    let browser = client();
    let (callback, res) = app.mitid_to_callback(&browser, "carl").await;
    assert_eq!(location(&res), "/account", "logged in");
    app.post_form_with(&browser, "/logout", &[]).await;
    // The same code and state again, from the browser that used them.
    let res = browser.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("udløbet eller er allerede brugt"), "{body}");
    assert!(body.contains("href=\"/login\""), "a way back");
    let (_, page) = app.page_with(&browser, "/account").await;
    assert!(!page.body.contains("Carl"), "not logged in");
    // Nor while another login of this browser is pending: the state differs.
    let res = browser
        .get(app.url("/auth/oidc/mitid/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = browser.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let (_, page) = app.page_with(&browser, "/account").await;
    assert!(!page.body.contains("Carl"), "still not logged in");
}

oidc_test!(a_callback_with_another_state_is_refused);
async fn a_callback_with_another_state_is_refused(app: TestApp) {
    // Nothing pending at all.
    let res = app
        .get("/auth/oidc/mitid/callback?code=abc&state=xyz")
        .await;
    assert_eq!(res.status(), 400);

    // A pending login, answered with a different state.
    let res = app.get("/auth/oidc/mitid/start").await;
    assert_eq!(res.status(), 303);
    let res = app
        .get("/auth/oidc/mitid/callback?code=abc&state=not-the-one")
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("passede ikke"));
    // The pending login is used up by the failed attempt.
    assert!(mitid_users(&app).await.is_empty());
}

fn state_of(authorize_url: &str) -> String {
    reqwest::Url::parse(authorize_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state in the authorization URL")
}

oidc_test!(cancelling_at_the_provider_ends_on_a_clear_page);
async fn cancelling_at_the_provider_ends_on_a_clear_page(app: TestApp) {
    let res = app.get("/auth/oidc/mitid/start").await;
    let authorize = location(&res);
    assert!(authorize.contains("code_challenge_method=S256"));
    assert!(authorize.contains("nonce="));
    let state = state_of(&authorize);
    let res = app
        .get(&format!(
            "/auth/oidc/mitid/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("afbrudt"));
}

oidc_test!(an_answer_naming_another_issuer_is_refused);
async fn an_answer_naming_another_issuer_is_refused(app: TestApp) {
    let browser = client();
    // Stop at the OP's redirect back to us, and change the `iss` parameter.
    let res = browser
        .get(app.url("/auth/oidc/mitid/start"))
        .send()
        .await
        .unwrap();
    let state = state_of(&location(&res));
    let res = browser
        .get(app.url(&format!(
            "/auth/oidc/mitid/callback?code=abc&state={state}&iss=https%3A%2F%2Fevil.example"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("anden login-tjeneste"));
    assert!(mitid_users(&app).await.is_empty());
}

oidc_test!(a_local_account_links_mitid);
async fn a_local_account_links_mitid(app: TestApp) {
    let local = app
        .logged_in_as("lokal@example.org", samskab::auth::Role::Citizen)
        .await;
    let (_, account) = app.page("/account").await;
    let link = account
        .attr("a[href^='/auth/oidc/mitid/start']", "href")
        .expect("a link to connect MitID");
    assert_eq!(link, "/auth/oidc/mitid/start?link=1");
    let (_, res) = {
        // Start from the account page's link, as the browser would.
        let at_op = samskab_tests::follow(&app.client, &app.url(&link)).await;
        assert_eq!(at_op.response.status(), 200);
        let interaction = at_op.urls.last().unwrap().clone();
        let res = app
            .client
            .post(&interaction)
            .form(&[("prompt", "login"), ("login", "dorte"), ("password", "x")])
            .send()
            .await
            .unwrap();
        let next = reqwest::Url::parse(&interaction)
            .unwrap()
            .join(&location(&res))
            .unwrap();
        let back = samskab_tests::follow(&app.client, next.as_str()).await;
        (back.urls, back.response)
    };
    assert_eq!(res.status(), 200);
    let stored = user::Entity::find_by_id(local.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.oidc_subject_hash.is_some(), "MitID is linked");
    assert_eq!(stored.loa.as_deref(), Some("low"));
    let page = res.text().await.unwrap();
    assert!(page.contains("Din konto er nu forbundet med MitID"));

    // MitID now logs in to the local account.
    let other = client();
    let (_, res) = app.mitid_to_callback(&other, "dorte").await;
    assert_eq!(location(&res), "/account");
    let (_, account) = app.page_with(&other, "/account").await;
    assert!(account.body.contains("lokal@example.org"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_ends_on_a_clear_page() {
    // No OP needed: the issuer points at a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        BuildOptions::default(),
        with_test_oidc(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .unwrap()
    .unwrap();
    let res = app.get("/auth/oidc/mitid/start").await;
    assert_eq!(res.status(), 502);
    let body = res.text().await.unwrap();
    assert!(body.contains("svarer ikke lige nu"));
    assert!(body.contains("href=\"/login\""));
    let res = app.get("/auth/oidc/nope/start").await;
    assert_eq!(res.status(), 404);
}

#[test]
fn the_test_provider_is_configured_under_tests_run() {
    // Documents the skip rule: only fails when tests/run demands everything.
    let _ = oidc_issuer("the_test_provider_is_configured_under_tests_run");
}

// ------------------------------------------------------------ staff directory

/// MitID for citizens and the council's staff directory (`aarhus`), both at
/// the test OP (two clients).
fn mitid_and_staff(issuer: &str) -> impl FnOnce(&mut Settings) + use<> {
    let mitid = with_test_oidc(issuer);
    let staff = with_test_staff_oidc(issuer);
    move |settings: &mut Settings| {
        mitid(settings);
        staff(settings);
    }
}

async fn user_named(app: &TestApp, display_name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::DisplayName.eq(display_name))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {display_name}"))
}

async fn status_of(app: &TestApp, browser: &reqwest::Client, path: &str) -> u16 {
    app.get_with(browser, path).await.status().as_u16()
}

oidc_test!(
    staff_log_in_through_the_directory_with_the_role_of_their_group,
    super::mitid_and_staff
);
async fn staff_log_in_through_the_directory_with_the_role_of_their_group(app: TestApp) {
    let (_, login) = app.page("/login").await;
    assert_eq!(
        login.attrs("a.button[href^='/auth/oidc/']", "href"),
        vec!["/auth/oidc/mitid/start?next=%2Faccount"],
        "only MitID is a button"
    );
    assert_eq!(
        login.attrs("a[href^='/auth/oidc/aarhus/']", "href"),
        vec!["/auth/oidc/aarhus/start?next=%2Faccount"]
    );
    assert_eq!(
        login.text("a[href^='/auth/oidc/aarhus/']").as_deref(),
        Some("Medarbejder-login")
    );

    let mads = client();
    let (_, res) = app.oidc_to_callback(&mads, "aarhus", "mads").await;
    assert_eq!(location(&res), "/auth/oidc/welcome");
    let (_, welcome) = app.page_with(&mads, "/auth/oidc/welcome").await;
    assert!(welcome.body.contains("medarbejder-login for første gang"));
    assert!(!welcome.body.contains("MitID"));
    let res = app
        .post_form_with(&mads, "/auth/oidc/welcome", &[("display_name", "Mads")])
        .await;
    assert_eq!(res.status(), 303);
    let stored = user_named(&app, "Mads").await;
    assert_eq!(stored.role, samskab::auth::Role::Moderator);
    assert_eq!(stored.identity_provider.as_deref(), Some("aarhus"));
    assert_eq!(status_of(&app, &mads, "/staff/consultations").await, 200);
    assert_eq!(status_of(&app, &mads, "/admin/users").await, 403);
    let (_, account) = app.page_with(&mads, "/account").await;
    assert!(
        account.body.contains("ikke forbundet med MitID"),
        "a staff login is no MitID"
    );

    let alma = client();
    app.oidc_login(&alma, "aarhus", "alma", "Alma").await;
    assert_eq!(
        user_named(&app, "Alma").await.role,
        samskab::auth::Role::Admin
    );
    assert_eq!(status_of(&app, &alma, "/admin/users").await, 200);

    let per = client();
    app.oidc_login(&per, "aarhus", "per", "Per").await;
    assert_eq!(
        user_named(&app, "Per").await.role,
        samskab::auth::Role::Politician
    );
    assert_eq!(status_of(&app, &per, "/admin/users").await, 403);

    // The next login goes straight in, to the same account and role.
    let again = client();
    let (_, res) = app.oidc_to_callback(&again, "aarhus", "mads").await;
    assert_eq!(location(&res), "/account");
    assert_eq!(status_of(&app, &again, "/staff/consultations").await, 200);
}

oidc_test!(
    a_directory_user_without_a_mapped_group_is_a_plain_participant,
    super::mitid_and_staff
);
async fn a_directory_user_without_a_mapped_group_is_a_plain_participant(app: TestApp) {
    // Sif is in the directory, but in no group that maps to a Samskab role:
    // she gets an ordinary account, as anyone could by registering.
    app.oidc_login(&app.client, "aarhus", "sif", "Sif").await;
    let sif = user_named(&app, "Sif").await;
    assert_eq!(sif.role, samskab::auth::Role::Citizen);
    assert_eq!(
        status_of(&app, &app.client, "/staff/consultations").await,
        403
    );
    assert_eq!(status_of(&app, &app.client, "/admin/users").await, 403);
    let (_, account) = app.page("/account").await;
    assert!(account.body.contains("ikke forbundet med MitID"));

    // Nor does the directory login count as MitID where a consultation asks for it.
    let staff = app
        .create_user("moderator@example.org", samskab::auth::Role::Moderator)
        .await;
    let staff = samskab::auth::session::CurrentUser::from_model(&staff);
    let form = ConsultationForm {
        title: "Kun for borgere".into(),
        summary: "Med MitID".into(),
        body: "Log ind med MitID for at deltage.".into(),
        moderation_mode: "post".into(),
        accepts_ideas: Some("on".into()),
        eligibility: "mitid".into(),
        ..Default::default()
    };
    let c = consultations::create(&app.db, &staff, &form).await.unwrap();
    samskab::services::lifecycle::transition(&app.db, &staff, &c.slug, Status::Open)
        .await
        .unwrap();
    let res = app
        .post_form(
            &format!("/consultations/{}/ideas", c.slug),
            &[("title", "Min idé"), ("body", "Tekst")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("kræver, at du logger ind med MitID")
    );
}

/// The `mitid` provider, misconfigured to read groups and map them to roles.
fn mitid_claiming_groups(issuer: &str) -> impl FnOnce(&mut Settings) + use<> {
    let mitid = with_test_oidc(issuer);
    move |settings: &mut Settings| {
        mitid(settings);
        let provider = settings.oidc.get_mut("mitid").unwrap();
        provider.scopes = "openid mitid groups".into();
        provider.group_claim = Some("groups".into());
        provider.group_roles = "samskab-admins=admin samskab-moderatorer=moderator".into();
    }
}

oidc_test!(
    a_citizen_provider_never_grants_staff_roles,
    super::mitid_claiming_groups
);
async fn a_citizen_provider_never_grants_staff_roles(app: TestApp) {
    // Alma's claims say samskab-admins, but MitID only ever makes citizens.
    app.mitid_login(&app.client, "alma", "Alma").await;
    let alma = user_named(&app, "Alma").await;
    assert_eq!(alma.role, samskab::auth::Role::Citizen);
    assert_eq!(alma.identity_provider.as_deref(), Some("mitid"));
    assert_eq!(status_of(&app, &app.client, "/admin/users").await, 403);
    assert_eq!(
        status_of(&app, &app.client, "/staff/consultations").await,
        403
    );
}

// ------------------------------------------------------------ expired ID token

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

/// Collect this test binary's logs (all tests, from now on) as the app
/// writes them, to check what a failed login leaves in them.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| LogSink)
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .try_init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

fn query_param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

oidc_test!(an_expired_id_token_ends_on_a_clear_page);
async fn an_expired_id_token_ends_on_a_clear_page(app: TestApp) {
    capture_logs();
    // The test OP issues Eva's ID tokens ten minutes expired.
    let (callback, res) = app.mitid_to_callback(&app.client, "eva").await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("var udløbet, da det nåede frem"), "{body}");
    assert!(body.contains("href=\"/login\""), "a way back");
    assert!(mitid_users(&app).await.is_empty(), "nobody logged in");
    let (_, account) = app.page("/account").await;
    assert_ne!(account.h1(), "Din konto");

    let logs = logs();
    assert!(logs.contains("ID token expired"), "the reason is logged");
    for secret in [
        query_param(&callback, "code"),
        query_param(&callback, "state"),
        "samskab-test-secret".to_owned(),
    ] {
        assert!(!logs.contains(&secret), "{secret} in the logs:\n{logs}");
    }
}

// ------------------------------------------------------------ userinfo

oidc_test!(claims_missing_from_the_id_token_are_read_from_userinfo);
async fn claims_missing_from_the_id_token_are_read_from_userinfo(app: TestApp) {
    // Ulla's ID token carries only `sub`; the test OP's userinfo has the rest.
    app.mitid_login(&app.client, "ulla", "Ulla").await;
    let ulla = user_named(&app, "Ulla").await;
    assert_eq!(ulla.loa.as_deref(), Some("high"));
    assert_eq!(ulla.birth_year, Some(1960));
    assert_eq!(ulla.municipality_code.as_deref(), Some("0101"));
}

// ------------------------------------------------------------ metadata cache

/// A test OP of this test's own, so its request counts and restarts concern
/// no other test. A restart on the same port generates new signing keys.
struct OwnProvider {
    port: u16,
    child: std::process::Child,
}

impl OwnProvider {
    async fn start(port: u16) -> OwnProvider {
        let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc/server.mjs");
        let child = std::process::Command::new("node")
            .arg(server)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs the test OP");
        let op = OwnProvider { port, child };
        for _ in 0..100 {
            if op.counts().await.is_some() {
                return op;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the test OP on port {port} did not start");
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How often discovery and the JWKS were fetched since the start.
    async fn counts(&self) -> Option<(u64, u64)> {
        let res = reqwest::get(format!("{}/test/counts", self.issuer()))
            .await
            .ok()?;
        let counts: serde_json::Value = res.json().await.ok()?;
        Some((counts["discovery"].as_u64()?, counts["jwks"].as_u64()?))
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs on both databases with an app pointing at an OP of the test's own.
async fn with_own_provider(backend: Backend) -> Option<(OwnProvider, TestApp)> {
    // The shared OP's presence says tests/run installed the OP's packages.
    oidc_issuer("provider_metadata_is_fetched_once_and_again_for_new_keys")?;
    let op = OwnProvider::start(free_port()).await;
    let app = TestApp::spawn_configured(
        backend,
        BuildOptions::default(),
        with_test_oidc(&op.issuer()),
    )
    .await
    .unwrap();
    match app {
        Some(app) => Some((op, app)),
        None => {
            samskab_tests::report_postgres_skipped(
                "provider_metadata_is_fetched_once_and_again_for_new_keys",
            );
            None
        }
    }
}

async fn provider_metadata_is_fetched_once_and_again_for_new_keys(backend: Backend) {
    let Some((mut op, app)) = with_own_provider(backend).await else {
        return;
    };
    for (user, name) in [("anna", "Anna"), ("carl", "Carl")] {
        app.mitid_login(&client(), user, name).await;
    }
    assert_eq!(
        op.counts().await,
        Some((1, 1)),
        "fetched once for two logins"
    );

    // The OP restarts with new signing keys: the cached keys do not know the
    // new ID token's key, so they are fetched again, once.
    let port = op.port;
    op.stop();
    op = OwnProvider::start(port).await;
    app.mitid_login(&client(), "dorte", "Dorte").await;
    assert_eq!(user_named(&app, "Dorte").await.loa.as_deref(), Some("low"));
    assert_eq!(
        op.counts().await,
        Some((1, 1)),
        "fetched again after rotation"
    );
    app.mitid_login(&client(), "anna", "Anna").await;
    assert_eq!(op.counts().await, Some((1, 1)), "and cached again");

    // The OP goes down between the start of a login and the callback.
    let browser = client();
    let res = app.get_with(&browser, "/auth/oidc/mitid/start").await;
    let state = state_of(&location(&res));
    op.stop();
    let res = app
        .get_with(
            &browser,
            &format!("/auth/oidc/mitid/callback?code=abc&state={state}"),
        )
        .await;
    assert_eq!(res.status(), 502);
    assert!(res.text().await.unwrap().contains("svarer ikke lige nu"));
}

mod provider_metadata_is_fetched_once_and_again_for_new_keys {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::provider_metadata_is_fetched_once_and_again_for_new_keys(
            samskab_tests::Backend::Sqlite,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::provider_metadata_is_fetched_once_and_again_for_new_keys(
            samskab_tests::Backend::Postgres,
        )
        .await;
    }
}
