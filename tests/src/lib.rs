//! Test harness: every database test runs twice, on SQLite and on PostgreSQL,
//! each time against a freshly migrated database of its own and a real
//! Samskab server bound to a free port.
//!
//! PostgreSQL comes from `SAMSKAB_TEST_POSTGRES_URL` (an admin URL into the
//! throwaway cluster that `tests/run` starts); each test creates its own
//! database there. Without the variable the PostgreSQL half is skipped loudly,
//! unless `SAMSKAB_TEST_REQUIRE_POSTGRES=1` makes it a failure.

use anyhow::Context;
use reqwest::StatusCode;
use samskab::auth::password;
use samskab::configuration::Settings;
use samskab::startup::Application;
pub use samskab::startup::BuildOptions;
use scraper::{Html, Selector};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use std::sync::LazyLock;
use tempfile::TempDir;

pub use reqwest;
pub use scraper;

mod builders;
mod polis_data;
pub use builders::{
    ActiveCitizen, ConsultationBuilder, IdeaBuilder, UserBuilder, VotePattern, VotesBuilder,
    anonymous, visitor,
};
pub use polis_data::{
    POLIS_DATA_DEFAULT, POLIS_DATA_VAR, PolisData, polis_data, polis_data_location,
};

pub const PASSWORD: &str = "test-password-123";

/// Password hashing is the slowest step of creating users; tests share one.
pub(crate) static PASSWORD_HASH: LazyLock<String> =
    LazyLock::new(|| password::hash(PASSWORD).expect("hashing the test password"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub settings: Settings,
    /// The SQL statements the app sent, when `BuildOptions::statement_log` was given.
    pub statement_log: Option<&'static samskab::db::StatementLog>,
    /// Numbers for the builders' default names.
    seq: std::sync::atomic::AtomicU64,
    _dir: TempDir,
}

/// Define a test that runs once per database backend:
/// `both_backends!(name);` next to `async fn name(app: TestApp) { … }`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        $crate::both_backends!($name, $crate::BuildOptions::default());
    };
    ($name:ident, $options:expr) => {
        $crate::both_backends!(
            $name,
            $options,
            |_: &mut ::samskab::configuration::Settings| {}
        );
    };
    // With the settings adjusted first, e.g. `|s: &mut Settings| s.report.min_group_size = 30`.
    ($name:ident, $options:expr, $adjust:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    $crate::TestApp::spawn_configured($crate::Backend::Sqlite, $options, $adjust)
                        .await
                        .expect("spawning the app on SQLite")
                        .expect("SQLite is always available");
                super::$name(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::TestApp::spawn_configured(
                    $crate::Backend::Postgres,
                    $options,
                    $adjust,
                )
                .await
                .expect("spawning the app on PostgreSQL")
                {
                    Some(app) => super::$name(app).await,
                    None => $crate::report_postgres_skipped(stringify!($name)),
                }
            }
        }
    };
}

pub fn report_postgres_skipped(test: &str) {
    eprintln!(
        "\n!!! PostgreSQL half of `{test}` SKIPPED: SAMSKAB_TEST_POSTGRES_URL is not set. \
         Run tests/run to test both databases. !!!\n"
    );
}

fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("SAMSKAB_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("SAMSKAB_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("SAMSKAB_TEST_REQUIRE_POSTGRES=1 but SAMSKAB_TEST_POSTGRES_URL is not set");
    }
    url
}

/// A fresh, empty PostgreSQL database; returns its URL.
async fn fresh_postgres_database(admin_url: &str) -> anyhow::Result<String> {
    let admin = Database::connect(admin_url)
        .await
        .context("connecting to the test PostgreSQL cluster")?;
    let name = format!("samskab_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .context("PostgreSQL URL has no database part")?;
    Ok(format!("{base}/{name}"))
}

/// The URL of a new, empty database: an SQLite file in `dir`, or a fresh
/// PostgreSQL database; `None` when PostgreSQL is not available (the caller
/// skips its PostgreSQL half, as `both_backends!` does). For tests that must
/// prepare the database before the app starts on it (upgrades).
pub async fn empty_database(backend: Backend, dir: &TempDir) -> anyhow::Result<Option<String>> {
    match backend {
        Backend::Sqlite => Ok(Some(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("samskab.db").display()
        ))),
        Backend::Postgres => match postgres_admin_url() {
            Some(admin) => Ok(Some(fresh_postgres_database(&admin).await?)),
            None => Ok(None),
        },
    }
}

/// The test OpenID Provider's issuer (`tests/oidc`, started by `tests/run`).
/// Without `SAMSKAB_TEST_OIDC_ISSUER` the calling test is skipped loudly, or
/// fails under `SAMSKAB_TEST_REQUIRE_POSTGRES=1` (tests/run).
pub fn oidc_issuer(test: &str) -> Option<String> {
    let issuer = std::env::var("SAMSKAB_TEST_OIDC_ISSUER")
        .ok()
        .filter(|u| !u.is_empty());
    if issuer.is_none() {
        if std::env::var("SAMSKAB_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("SAMSKAB_TEST_REQUIRE_POSTGRES=1 but SAMSKAB_TEST_OIDC_ISSUER is not set");
        }
        eprintln!(
            "\n!!! `{test}` SKIPPED: SAMSKAB_TEST_OIDC_ISSUER is not set. \
             Run tests/run to start the test OpenID Provider. !!!\n"
        );
    }
    issuer
}

pub fn test_settings(dir: &TempDir, database_url: Option<String>) -> Settings {
    let mut key = vec![0u8; 64];
    for (i, b) in key.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    use base64::Engine as _;
    Settings {
        database_url: database_url.map(SecretString::from),
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        public_url: None,
        session_key: Some(SecretString::from(
            base64::engine::general_purpose::STANDARD.encode(&key),
        )),
        cookie_secure: false,
        hsts_max_age: 0,
        log: "warn".into(),
        database_max_connections: 5,
        workers: Some(1),
        opinion_recompute_interval_ms: 300,
        oidc: Default::default(),
        mail: Default::default(),
        report: Default::default(),
        limits: Default::default(),
        security_txt: Default::default(),
        privacy: Default::default(),
        retention: Default::default(),
        session: Default::default(),
        consultations: Default::default(),
        moderation: Default::default(),
        environment: "development".into(),
        log_format: "text".into(),
        shutdown: Default::default(),
        metrics: Default::default(),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("building the HTTP client")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> anyhow::Result<Option<TestApp>> {
        Self::spawn_with(backend, BuildOptions::default()).await
    }

    pub async fn spawn_with(
        backend: Backend,
        options: BuildOptions,
    ) -> anyhow::Result<Option<TestApp>> {
        Self::spawn_configured(backend, options, |_| {}).await
    }

    /// Like `spawn_with`, with the settings adjusted first. The app listens on
    /// a port chosen beforehand and `public_url` points at it, so redirect URIs
    /// (OIDC) and links (mail) are right.
    pub async fn spawn_configured(
        backend: Backend,
        options: BuildOptions,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Option<TestApp>> {
        let dir = tempfile::tempdir()?;
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match postgres_admin_url() {
                Some(admin) => Some(fresh_postgres_database(&admin).await?),
                None => return Ok(None),
            },
        };
        let mut settings = test_settings(&dir, database_url);
        let mut port = free_port()?;
        settings.bind = format!("127.0.0.1:{port}");
        settings.public_url = Some(format!("http://127.0.0.1:{port}"));
        adjust(&mut settings);
        // The port is free when chosen but only bound after the migrations, so
        // another test process can take it in between: choose again then.
        let mut attempts = 0;
        let app = loop {
            match Application::build(settings.clone(), options).await {
                Ok(app) => break app,
                Err(e) if attempts < 5 && is_address_in_use(&e) => {
                    attempts += 1;
                    let old = format!("http://127.0.0.1:{port}");
                    port = free_port()?;
                    settings.bind = format!("127.0.0.1:{port}");
                    if settings.public_url.as_deref() == Some(old.as_str()) {
                        settings.public_url = Some(format!("http://127.0.0.1:{port}"));
                    }
                }
                Err(e) => return Err(e),
            }
        };
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.db().clone();
        tokio::spawn(app.run_until_stopped());
        Ok(Some(TestApp {
            address,
            client: client(),
            db,
            backend,
            settings,
            statement_log: options.statement_log,
            seq: Default::default(),
            _dir: dir,
        }))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("GET request failed")
    }

    /// GET a page and return its status and parsed HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, Page) {
        self.page_with(&self.client, path).await
    }

    pub async fn page_with(&self, client: &reqwest::Client, path: &str) -> (StatusCode, Page) {
        let res = self.get_with(client, path).await;
        let status = res.status();
        let body = res.text().await.expect("reading the body");
        (status, Page::parse(&body))
    }

    /// The CSRF token of this client's session (from the page's meta tag).
    pub async fn csrf_token_for(&self, client: &reqwest::Client) -> String {
        let (_, page) = self.page_with(client, "/privacy").await;
        page.attr("meta[name=csrf-token]", "content")
            .expect("page has a csrf-token meta tag")
    }

    /// POST a form with this client's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.client, path, fields).await
    }

    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token_for(client).await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST request failed")
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST request failed")
    }

    /// A consultation's statement ids, in statement-number order.
    pub async fn statement_ids(&self, consultation_id: i64) -> Vec<i64> {
        use samskab::entities::statement;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        statement::Entity::find()
            .filter(statement::Column::ConsultationId.eq(consultation_id))
            .order_by_asc(statement::Column::Number)
            .all(&self.db)
            .await
            .expect("reading statements")
            .into_iter()
            .map(|s| s.id)
            .collect()
    }

    pub async fn login_with(&self, client: &reqwest::Client, email: &str) -> reqwest::Response {
        let res = self
            .post_form_with(
                client,
                "/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "login of {email} failed"
        );
        res
    }
}

/// Parsed HTML with a few convenience look-ups.
pub struct Page {
    pub html: Html,
    pub body: String,
}

impl Page {
    pub fn parse(body: &str) -> Page {
        Page {
            html: Html::parse_document(body),
            body: body.to_owned(),
        }
    }

    fn selector(css: &str) -> Selector {
        Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"))
    }

    /// Text of every element matching `css`, whitespace-normalised.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.html
            .select(&Self::selector(css))
            .map(|e| {
                e.text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    pub fn text(&self, css: &str) -> Option<String> {
        self.texts(css).into_iter().next()
    }

    pub fn attr(&self, css: &str, attr: &str) -> Option<String> {
        self.html
            .select(&Self::selector(css))
            .next()
            .and_then(|e| e.value().attr(attr).map(str::to_owned))
    }

    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        self.html
            .select(&Self::selector(css))
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }

    pub fn h1(&self) -> String {
        self.text("h1").unwrap_or_default()
    }

    pub fn lang(&self) -> String {
        self.attr("html", "lang").unwrap_or_default()
    }
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Settings for a `mitid` citizen provider at the test OpenID Provider.
pub fn with_test_oidc(issuer: &str) -> impl FnOnce(&mut Settings) + use<> {
    let issuer = issuer.to_owned();
    move |settings: &mut Settings| {
        let provider: samskab::configuration::OidcProvider =
            serde_json::from_value(serde_json::json!({
                "issuer_url": issuer,
                "client_id": "samskab",
                "client_secret": "samskab-test-secret",
                "scopes": "openid mitid",
            }))
            .expect("test OIDC provider settings");
        settings.oidc.insert("mitid".into(), provider);
    }
}

/// Settings for an `aarhus` staff directory provider at the test OpenID
/// Provider (its second client), mapping groups to staff roles.
pub fn with_test_staff_oidc(issuer: &str) -> impl FnOnce(&mut Settings) + use<> {
    let issuer = issuer.to_owned();
    move |settings: &mut Settings| {
        let provider: samskab::configuration::OidcProvider =
            serde_json::from_value(serde_json::json!({
                "issuer_url": issuer,
                "client_id": "samskab-staff",
                "client_secret": "samskab-staff-secret",
                "scopes": "openid groups",
                "kind": "staff",
                "group_claim": "groups",
                "group_roles": "samskab-moderatorer=moderator samskab-admins=admin byraadet=politician",
            }))
            .expect("test staff OIDC provider settings");
        settings.oidc.insert("aarhus".into(), provider);
    }
}

/// Every URL visited while following redirects, and the last response.
pub struct Followed {
    pub urls: Vec<String>,
    pub response: reqwest::Response,
}

/// GET `url` and follow redirects (across hosts) with `client`'s cookies.
pub async fn follow(client: &reqwest::Client, url: &str) -> Followed {
    let mut urls = vec![url.to_owned()];
    let mut current = reqwest::Url::parse(url).expect("absolute URL");
    loop {
        let res = client
            .get(current.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {current}: {e}"));
        if !res.status().is_redirection() {
            return Followed {
                urls,
                response: res,
            };
        }
        assert!(urls.len() < 20, "redirect loop: {urls:?}");
        current = current.join(&location(&res)).expect("valid Location");
        urls.push(current.to_string());
    }
}

impl TestApp {
    /// Log in as `user` at the test OpenID Provider, starting from the app's
    /// MitID link, up to the app's callback. Returns the callback URL (for
    /// replays) and the app's answer to it.
    pub async fn mitid_to_callback(
        &self,
        client: &reqwest::Client,
        user: &str,
    ) -> (String, reqwest::Response) {
        self.oidc_to_callback(client, "mitid", user).await
    }

    /// Like `mitid_to_callback`, through the configured provider `provider`.
    pub async fn oidc_to_callback(
        &self,
        client: &reqwest::Client,
        provider: &str,
        user: &str,
    ) -> (String, reqwest::Response) {
        let start = format!("/auth/oidc/{provider}/start");
        self.oidc_to_callback_from(client, &start, user).await
    }

    /// Like `oidc_to_callback`, from the start URL `start` (a path with its query).
    pub async fn oidc_to_callback_from(
        &self,
        client: &reqwest::Client,
        start: &str,
        user: &str,
    ) -> (String, reqwest::Response) {
        self.oidc_from_url(client, &self.url(start), user).await
    }

    /// Like `oidc_to_callback_from`, from an absolute URL (e.g. the provider's
    /// authorization URL a POST answered with).
    pub async fn oidc_from_url(
        &self,
        client: &reqwest::Client,
        url: &str,
        user: &str,
    ) -> (String, reqwest::Response) {
        let at_op = follow(client, url).await;
        assert_eq!(
            at_op.response.status(),
            200,
            "the OP shows its login form: {:?}",
            at_op.urls
        );
        let interaction = at_op.urls.last().cloned().expect("an interaction URL");
        assert!(
            interaction.contains("/interaction/"),
            "{interaction} is the OP's login form"
        );
        let res = client
            .post(&interaction)
            .form(&[("prompt", "login"), ("login", user), ("password", "x")])
            .send()
            .await
            .expect("POST to the OP");
        assert!(res.status().is_redirection(), "OP accepted the login");
        let mut current = reqwest::Url::parse(&interaction)
            .and_then(|u| u.join(&location(&res)))
            .expect("OP redirect");
        // Through the OP's redirects until it sends the browser back to us.
        loop {
            if current.as_str().starts_with(&self.address) {
                let callback = current.to_string();
                let res = client.get(&callback).send().await.expect("callback");
                return (callback, res);
            }
            let res = client.get(current.clone()).send().await.expect("OP");
            assert!(
                res.status().is_redirection(),
                "OP at {current} answered {} instead of redirecting back",
                res.status()
            );
            current = current.join(&location(&res)).expect("OP redirect");
        }
    }

    /// A complete MitID login of `user` with `client`, choosing `display_name`
    /// on the first login.
    pub async fn mitid_login(&self, client: &reqwest::Client, user: &str, display_name: &str) {
        self.oidc_login(client, "mitid", user, display_name).await;
    }

    /// Like `mitid_login`, through the configured provider `provider`.
    pub async fn oidc_login(
        &self,
        client: &reqwest::Client,
        provider: &str,
        user: &str,
        display_name: &str,
    ) {
        let (_, res) = self.oidc_to_callback(client, provider, user).await;
        assert_eq!(res.status(), 303, "callback logs in or asks for a name");
        if location(&res) == "/auth/oidc/welcome" {
            let res = self
                .post_form_with(
                    client,
                    "/auth/oidc/welcome",
                    &[("display_name", display_name)],
                )
                .await;
            assert_eq!(res.status(), 303, "display name accepted");
        }
    }
}

/// The SMTP sink's port and Maildir; skips loudly without them, fails under tests/run.
pub fn smtp_sink(test: &str) -> Option<(u16, std::path::PathBuf)> {
    let port = std::env::var("SAMSKAB_TEST_SMTP_PORT").ok();
    let dir = std::env::var("SAMSKAB_TEST_MAILDIR").ok();
    match (port.and_then(|p| p.parse().ok()), dir) {
        (Some(port), Some(dir)) => Some((port, std::path::PathBuf::from(dir))),
        _ => {
            if std::env::var("SAMSKAB_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("SAMSKAB_TEST_REQUIRE_POSTGRES=1 but the SMTP sink is not configured");
            }
            eprintln!(
                "\n!!! `{test}` SKIPPED: SAMSKAB_TEST_SMTP_PORT/SAMSKAB_TEST_MAILDIR not set. Run tests/run. !!!\n"
            );
            None
        }
    }
}

/// Canonical form of a partition: groups as sorted member lists, sorted, so
/// two group assignments compare equal whatever their group numbers.
pub fn partition(map: &std::collections::BTreeMap<i64, Option<usize>>) -> Vec<Vec<i64>> {
    let mut groups: std::collections::BTreeMap<usize, Vec<i64>> = Default::default();
    for (p, g) in map {
        if let Some(g) = g {
            groups.entry(*g).or_default().push(*p);
        }
    }
    let mut out: Vec<Vec<i64>> = groups.into_values().collect();
    out.sort();
    out
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn is_address_in_use(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    })
}
