//! Sessions that really end: server-side records, revocation, timeouts, rotation.
//!
//! The probe copied a `samskab_session` cookie, logged out, and the copy still
//! worked. Each test here replays that kind of request and asserts that the
//! session is dead where it must be, and alive where it must be.

use std::sync::Arc;

use actix_web::cookie::{Cookie, CookieJar, Key};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use samskab::auth::Role;
use samskab::configuration::Settings;
use samskab::entities::{participant, session, user};
use samskab::services::sessions;
use samskab::startup::{Application, SESSION_COOKIE};
use samskab_tests::{BuildOptions, Page, TestApp, both_backends, location};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};

/// A client whose cookies the test can read and copy.
struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

fn browser() -> Browser {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Browser { client, jar }
}

impl Browser {
    /// The value of the session cookie, as an attacker would copy it.
    fn session_cookie(&self, app: &TestApp) -> Option<String> {
        let header = self.jar.cookies(&app.address.parse().unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
    }
}

/// Another browser holding a copy of `value` as its session cookie.
fn with_cookie(app: &TestApp, value: &str) -> Browser {
    let b = browser();
    b.jar.add_cookie_str(
        &format!("{SESSION_COOKIE}={value}; Path=/"),
        &app.address.parse().unwrap(),
    );
    b
}

fn cookie_key(app: &TestApp) -> Key {
    Key::from(&app.settings.session_key_bytes().unwrap())
}

/// What the encrypted cookie carries: the session key.
fn decrypt(app: &TestApp, value: &str) -> String {
    // The header value is percent-encoded, as the server sent it.
    let cookie = Cookie::parse_encoded(format!("{SESSION_COOKIE}={value}")).unwrap();
    let mut jar = CookieJar::new();
    jar.add_original(cookie.into_owned());
    jar.private(&cookie_key(app))
        .get(SESSION_COOKIE)
        .expect("the cookie decrypts with the server key")
        .value()
        .to_owned()
}

fn encrypt(app: &TestApp, key: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(&cookie_key(app))
        .add(Cookie::new(SESSION_COOKIE, key.to_owned()));
    jar.get(SESSION_COOKIE).unwrap().value().to_owned()
}

async fn csrf_of(app: &TestApp, b: &Browser, path: &str) -> String {
    let (_, page) = app.page_with(&b.client, path).await;
    page.attr("meta[name=csrf-token]", "content").unwrap()
}

async fn post(
    app: &TestApp,
    b: &Browser,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = fields.to_vec();
    all.push(("csrf_token", token));
    b.client
        .post(app.url(path))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// A new person of `role`, logged in with a browser of their own.
async fn logged_in(app: &TestApp, role: Role, email: &str) -> (Browser, user::Model) {
    let u = app.user(role).email(email).create().await;
    let b = browser();
    app.login_with(&b.client, email).await;
    (b, u)
}

/// A second browser of the same person.
async fn another_device(app: &TestApp, email: &str) -> Browser {
    let b = browser();
    app.login_with(&b.client, email).await;
    b
}

async fn account_status(app: &TestApp, b: &Browser) -> (StatusCode, String) {
    let res = app.get_with(&b.client, "/account").await;
    (res.status(), location(&res))
}

async fn assert_logged_out(app: &TestApp, b: &Browser, why: &str) {
    let (status, to) = account_status(app, b).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{why}");
    assert!(to.starts_with("/login"), "{why}: sent to {to}");
}

async fn assert_logged_in(app: &TestApp, b: &Browser, why: &str) {
    let (status, to) = account_status(app, b).await;
    assert_eq!(status, StatusCode::OK, "{why} (sent to {to})");
}

async fn rows_of(app: &TestApp, user_id: i64) -> Vec<session::Model> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
}

async fn display_name(app: &TestApp, id: i64) -> String {
    user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .display_name
}

both_backends!(a_copied_cookie_is_dead_after_logout);
async fn a_copied_cookie_is_dead_after_logout(app: TestApp) {
    let (me, u) = logged_in(&app, Role::Citizen, "kopi@example.org").await;
    let copied = me.session_cookie(&app).expect("a session cookie");
    let thief = with_cookie(&app, &copied);
    assert_logged_in(&app, &thief, "the copy works while the session lives").await;
    let thief_token = csrf_of(&app, &thief, "/account").await;

    let token = csrf_of(&app, &me, "/account").await;
    let res = post(&app, &me, "/logout", &token, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(rows_of(&app, u.id).await.is_empty(), "the record is gone");

    assert_logged_out(&app, &thief, "the copied cookie after logout").await;
    let res = post(
        &app,
        &thief,
        "/account",
        &thief_token,
        &[("display_name", "Overtaget"), ("locale", "da")],
    )
    .await;
    assert!(
        res.status() == StatusCode::FORBIDDEN || location(&res).starts_with("/login"),
        "POST /account with the copied cookie is refused, got {} {}",
        res.status(),
        location(&res)
    );
    assert_eq!(display_name(&app, u.id).await, "kopi");
}

both_backends!(the_database_holds_no_raw_session_key);
async fn the_database_holds_no_raw_session_key(app: TestApp) {
    let (me, u) = logged_in(&app, Role::Citizen, "hash@example.org").await;
    let cookie = me.session_cookie(&app).unwrap();
    assert!(
        cookie.len() < 200,
        "the cookie carries a key, not the state: {} characters",
        cookie.len()
    );
    let key = decrypt(&app, &cookie);
    assert!(key.len() >= 43, "a long random key");
    let rows = session::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.user_id, Some(u.id));
    assert_eq!(row.key_hash, sessions::hash_key(&key));
    for row in &rows {
        assert!(!row.key_hash.contains(&key));
        assert!(!row.state.contains(&key));
    }
}

both_backends!(
    a_session_ends_after_the_idle_timeout,
    BuildOptions::default(),
    |s: &mut Settings| s.session.idle_minutes = 30
);
async fn a_session_ends_after_the_idle_timeout(app: TestApp) {
    let (me, u) = logged_in(&app, Role::Citizen, "idle@example.org").await;
    let row = rows_of(&app, u.id).await.remove(0);
    let idle = row.idle_expires_at - row.last_seen_at;
    assert_eq!(idle, Duration::minutes(30), "the setting decides");

    // A request more than a minute after the last one moves the deadline…
    session::Entity::update_many()
        .col_expr(
            session::Column::LastSeenAt,
            Expr::value(Utc::now() - Duration::minutes(2)),
        )
        .col_expr(
            session::Column::IdleExpiresAt,
            Expr::value(Utc::now() + Duration::minutes(1)),
        )
        .filter(session::Column::UserId.eq(u.id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_logged_in(&app, &me, "before the deadline").await;
    let touched = rows_of(&app, u.id).await.remove(0);
    assert!(touched.idle_expires_at > Utc::now() + Duration::minutes(29));
    assert!(touched.last_seen_at > Utc::now() - Duration::seconds(30));
    // …and one within the minute writes nothing.
    assert_logged_in(&app, &me, "again").await;
    assert_eq!(rows_of(&app, u.id).await.remove(0), touched);

    // Past the deadline the session is over, and its record goes.
    session::Entity::update_many()
        .col_expr(
            session::Column::IdleExpiresAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(session::Column::UserId.eq(u.id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_logged_out(&app, &me, "after the idle timeout").await;
    assert!(rows_of(&app, u.id).await.is_empty());
}

both_backends!(
    a_busy_session_ends_after_the_absolute_lifetime,
    BuildOptions::default(),
    |s: &mut Settings| s.session.absolute_hours = 1
);
async fn a_busy_session_ends_after_the_absolute_lifetime(app: TestApp) {
    let (me, u) = logged_in(&app, Role::Citizen, "absolut@example.org").await;
    let row = rows_of(&app, u.id).await.remove(0);
    assert_eq!(row.absolute_expires_at - row.created_at, Duration::hours(1));
    assert_eq!(
        row.idle_expires_at, row.absolute_expires_at,
        "the idle deadline (2 h) never passes the absolute one"
    );
    // Used a moment ago, but the lifetime is over.
    session::Entity::update_many()
        .col_expr(
            session::Column::IdleExpiresAt,
            Expr::value(Utc::now() + Duration::minutes(30)),
        )
        .col_expr(
            session::Column::AbsoluteExpiresAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(session::Column::UserId.eq(u.id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_logged_out(&app, &me, "after the absolute lifetime").await;
}

both_backends!(log_out_on_all_devices_ends_every_session);
async fn log_out_on_all_devices_ends_every_session(app: TestApp) {
    let email = "alle@example.org";
    let (laptop, u) = logged_in(&app, Role::Citizen, email).await;
    let phone = another_device(&app, email).await;
    let library = another_device(&app, email).await;
    let (someone_else, _) = logged_in(&app, Role::Citizen, "andre@example.org").await;

    let (status, page) = app.page_with(&laptop.client, "/account").await;
    assert_eq!(status, 200);
    assert!(
        page.body.contains("Du er logget ind 3 steder"),
        "the account page counts the sessions"
    );
    let action = "form[action='/account/log-out-everywhere']";
    assert_eq!(page.attr(action, "method").as_deref(), Some("post"));
    let token = page
        .attr(&format!("{action} input[name=csrf_token]"), "value")
        .unwrap();
    let button = page.text(&format!("{action} button")).unwrap();
    assert_eq!(button, "Log ud på alle enheder");

    let res = post(&app, &laptop, "/account/log-out-everywhere", &token, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    let (_, login) = app.page_with(&laptop.client, "/login").await;
    assert!(
        login
            .texts(".flash")
            .iter()
            .any(|t| t.contains("logget ud på alle enheder")),
        "the login page says so in words: {:?}",
        login.texts(".flash")
    );

    for (b, which) in [
        (&laptop, "laptop"),
        (&phone, "phone"),
        (&library, "library"),
    ] {
        assert_logged_out(&app, b, which).await;
    }
    assert!(rows_of(&app, u.id).await.is_empty());
    assert_logged_in(&app, &someone_else, "another person's session").await;
}

both_backends!(a_password_reset_ends_every_session);
async fn a_password_reset_ends_every_session(app: TestApp) {
    let email = "nulstil@example.org";
    let (old_device, u) = logged_in(&app, Role::Citizen, email).await;
    let token = samskab::services::tokens::issue(
        &app.db,
        u.id,
        samskab::services::tokens::PURPOSE_RESET,
        email,
    )
    .await
    .unwrap();
    let fresh = browser();
    let csrf = csrf_of(&app, &fresh, &format!("/reset-password?token={token}")).await;
    let password = "et helt nyt og langt kodeord";
    let res = post(
        &app,
        &fresh,
        "/reset-password",
        &csrf,
        &[
            ("token", &token),
            ("password", password),
            ("password_confirm", password),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    assert_logged_out(&app, &old_device, "the session from before the reset").await;
    assert!(rows_of(&app, u.id).await.is_empty());
}

both_backends!(a_role_change_ends_the_persons_sessions);
async fn a_role_change_ends_the_persons_sessions(app: TestApp) {
    let (citizen, c) = logged_in(&app, Role::Citizen, "forfremmet@example.org").await;
    let (admin, a) = logged_in(&app, Role::Admin, "chef@example.org").await;
    let (second_admin, s) = logged_in(&app, Role::Admin, "souschef@example.org").await;

    let token = csrf_of(&app, &admin, "/admin/users").await;
    let res = post(
        &app,
        &admin,
        &format!("/admin/users/{}/role", c.id),
        &token,
        &[("role", "moderator")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_logged_out(&app, &citizen, "the person whose role changed").await;
    assert!(rows_of(&app, c.id).await.is_empty());
    assert_logged_in(&app, &admin, "the administrator who changed it").await;
    assert_eq!(rows_of(&app, a.id).await.len(), 1);

    // An administrator who changes their own role goes on under a new key.
    let before = second_admin.session_cookie(&app).unwrap();
    let token = csrf_of(&app, &second_admin, "/admin/users").await;
    let res = post(
        &app,
        &second_admin,
        &format!("/admin/users/{}/role", s.id),
        &token,
        &[("role", "citizen")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_ne!(second_admin.session_cookie(&app).unwrap(), before);
    assert_logged_in(&app, &second_admin, "their own new session").await;
    let res = app.get_with(&second_admin.client, "/admin/users").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "with the new role");
    assert_logged_out(&app, &with_cookie(&app, &before), "their old cookie").await;
}

both_backends!(login_gives_a_new_session_key_and_csrf_token);
async fn login_gives_a_new_session_key_and_csrf_token(app: TestApp) {
    let u = app
        .user(Role::Citizen)
        .email("roteret@example.org")
        .create()
        .await;
    let b = browser();
    let before_login = csrf_of(&app, &b, "/login").await;
    let planted = b.session_cookie(&app).expect("a cookie before login");
    let res = post(
        &app,
        &b,
        "/login",
        &before_login,
        &[
            ("email", "roteret@example.org"),
            ("password", samskab_tests::PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_ne!(
        b.session_cookie(&app).unwrap(),
        planted,
        "a new session key"
    );
    assert_logged_out(
        &app,
        &with_cookie(&app, &planted),
        "the cookie from before login",
    )
    .await;

    // The token read before login no longer works…
    let res = post(
        &app,
        &b,
        "/account",
        &before_login,
        &[("display_name", "Med gammel nøgle"), ("locale", "da")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(display_name(&app, u.id).await, "roteret");
    // …the new one does.
    let after_login = csrf_of(&app, &b, "/account").await;
    assert_ne!(after_login, before_login);
    let res = post(
        &app,
        &b,
        "/account",
        &after_login,
        &[("display_name", "Med ny nøgle"), ("locale", "da")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(display_name(&app, u.id).await, "Med ny nøgle");
}

both_backends!(many_messages_without_a_page_view_stay_bounded);
async fn many_messages_without_a_page_view_stay_bounded(app: TestApp) {
    let c = app.consultation().open().create().await;
    let (me, _) = logged_in(&app, Role::Citizen, "travl@example.org").await;
    let token = csrf_of(&app, &me, "/account").await;
    let follow = format!("/consultations/{}/follow", c.slug);
    // Four actions with four different messages, 100 POSTs, no page between.
    let actions: [(&str, &[(&str, &str)]); 4] = [
        ("/account", &[("display_name", "Travl"), ("locale", "da")]),
        (
            "/account/preferences",
            &[("idea_updates", "on"), ("locale", "da")],
        ),
        ("/notifications/read", &[]),
        (&follow, &[]),
    ];
    for i in 0..100 {
        let (path, fields) = actions[i % actions.len()];
        let res = post(&app, &me, path, &token, fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "POST {i} to {path}");
    }
    let cookie = me.session_cookie(&app).unwrap();
    assert!(cookie.len() < 200, "cookie of {} characters", cookie.len());
    let (_, page) = app.page_with(&me.client, "/account").await;
    let shown = page.texts(".flash");
    assert_eq!(shown.len(), 3, "the last three messages: {shown:?}");
    let mut distinct = shown.clone();
    distinct.dedup();
    assert_eq!(distinct, shown, "no message twice");
    let (_, again) = app.page_with(&me.client, "/account").await;
    assert!(again.texts(".flash").is_empty(), "shown once");
}

both_backends!(a_session_that_cannot_be_saved_does_not_fail_a_committed_change);
async fn a_session_that_cannot_be_saved_does_not_fail_a_committed_change(app: TestApp) {
    let (me, u) = logged_in(&app, Role::Citizen, "frossen@example.org").await;
    let token = csrf_of(&app, &me, "/account").await;
    // From now on the session table refuses every change of state.
    let freeze: &[&str] = match app.db.get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION sessions_frozen() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'frozen'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER sessions_frozen BEFORE UPDATE ON sessions \
             FOR EACH ROW EXECUTE FUNCTION sessions_frozen()",
        ],
        _ => &["CREATE TRIGGER sessions_frozen BEFORE UPDATE ON sessions \
                BEGIN SELECT RAISE(ABORT, 'frozen'); END"],
    };
    for sql in freeze {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    // The change is committed before the session (with its message) is saved.
    let res = post(
        &app,
        &me,
        "/account",
        &token,
        &[("display_name", "Gemt alligevel"), ("locale", "da")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(display_name(&app, u.id).await, "Gemt alligevel");
    assert_logged_in(&app, &me, "the session itself goes on").await;
}

both_backends!(personal_pages_are_not_cached_public_ones_are);
async fn personal_pages_are_not_cached_public_ones_are(app: TestApp) {
    fn cache_control(res: &reqwest::Response) -> String {
        res.headers()
            .get(reqwest::header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
    let visitor = browser();
    for path in ["/", "/consultations", "/privacy"] {
        let res = app.get_with(&visitor.client, path).await;
        assert_eq!(res.status(), 200);
        assert!(
            !cache_control(&res).contains("no-store"),
            "{path} stays cacheable"
        );
    }
    for path in ["/login", "/register", "/forgot-password"] {
        let res = app.get_with(&visitor.client, path).await;
        assert_eq!(cache_control(&res), "no-store", "{path}");
    }
    let (me, _) = logged_in(&app, Role::Admin, "privat@example.org").await;
    for path in [
        "/account",
        "/account/preferences",
        "/notifications",
        "/staff/consultations",
        "/admin/users",
        "/",
    ] {
        let res = app.get_with(&me.client, path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            cache_control(&res),
            "no-store",
            "{path} for a logged-in person"
        );
    }
    let res = app.get_with(&me.client, "/static/css/samskab.css").await;
    assert!(
        cache_control(&res).starts_with("public"),
        "static files stay cacheable"
    );
}

both_backends!(logging_out_on_one_replica_ends_the_session_on_another);
async fn logging_out_on_one_replica_ends_the_session_on_another(app: TestApp) {
    // A second server on the same database and key, as behind a load balancer.
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".into();
    let options = BuildOptions {
        no_background_jobs: true,
        ..BuildOptions::default()
    };
    let second = Application::build(settings, options).await.unwrap();
    let other = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());

    let (me, _) = logged_in(&app, Role::Citizen, "replika@example.org").await;
    // Cookies are per host, not per port: the same browser talks to both.
    let res = me
        .client
        .get(format!("{other}/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the session works on the other replica");
    let page = Page::parse(&res.text().await.unwrap());
    let token = page.attr("meta[name=csrf-token]", "content").unwrap();
    let res = me
        .client
        .post(format!("{other}/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let copy = with_cookie(&app, &me.session_cookie(&app).unwrap_or_default());
    assert_logged_out(&app, &me, "logged out on the other replica").await;
    assert_logged_out(&app, &copy, "and a copy of the cookie").await;
}

both_backends!(expired_sessions_are_deleted_by_the_cleanup);
async fn expired_sessions_are_deleted_by_the_cleanup(app: TestApp) {
    let (_, gone) = logged_in(&app, Role::Citizen, "udloebet@example.org").await;
    let (live, kept) = logged_in(&app, Role::Citizen, "aktiv@example.org").await;
    session::Entity::update_many()
        .col_expr(
            session::Column::IdleExpiresAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(session::Column::UserId.eq(gone.id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions::delete_expired(&app.db).await.unwrap(), 1);
    assert_eq!(
        sessions::delete_expired(&app.db).await.unwrap(),
        0,
        "idempotent"
    );
    assert!(rows_of(&app, gone.id).await.is_empty());
    assert_eq!(rows_of(&app, kept.id).await.len(), 1);
    assert_logged_in(&app, &live, "the live session").await;
}

both_backends!(anonymous_visitors_and_voters_write_no_session_rows);
async fn anonymous_visitors_and_voters_write_no_session_rows(app: TestApp) {
    let c = app
        .consultation()
        .conversation()
        .seeds(&["Flere cykelstier", "Færre parkeringspladser"])
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let voter = browser();
    let voting = format!("/consultations/{}/statements", c.slug);
    for path in ["/", "/consultations", voting.as_str()] {
        assert_eq!(app.get_with(&voter.client, path).await.status(), 200);
    }
    let token = csrf_of(&app, &voter, &voting).await;
    for id in &ids {
        let res = post(
            &app,
            &voter,
            &format!("{voting}/{id}/vote"),
            &token,
            &[("vote", "agree")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        participant::Entity::find().count(&app.db).await.unwrap(),
        1,
        "the anonymous voter stays one participant"
    );
    assert_eq!(session::Entity::find().count(&app.db).await.unwrap(), 0);
}

both_backends!(an_anonymous_session_ends_after_its_lifetime);
async fn an_anonymous_session_ends_after_its_lifetime(app: TestApp) {
    // An anonymous session carries its state and the moment it began (in
    // the encrypted cookie): `a.{unix seconds}.{state}`.
    let planted = |days_ago: i64| {
        let began = (Utc::now() - Duration::days(days_ago)).timestamp();
        let key = format!(r#"a.{began}.{{"csrf":"\"ein-alter-token\""}}"#);
        with_cookie(&app, &encrypt(&app, &key))
    };
    let recent = planted(29);
    assert_eq!(csrf_of(&app, &recent, "/privacy").await, "ein-alter-token");
    let old = planted(31);
    assert_ne!(
        csrf_of(&app, &old, "/privacy").await,
        "ein-alter-token",
        "after 30 days (the default) the session starts afresh"
    );
}
