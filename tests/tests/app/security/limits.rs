//! Limits that hold across replicas: registration, anonymous participants, login throttle.
//!
//! Every request of the test harness comes from 127.0.0.1, which is a trusted
//! proxy by default (`SAMSKAB_LIMITS__TRUSTED_PROXIES`), so "different
//! clients" are told apart by the `X-Forwarded-For` header each one sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::StatusCode;
use samskab::auth::Role;
use samskab::configuration::Settings;
use samskab::domain::{MailKind, MailStatus, VotingEligibility as Eligibility};
use samskab::entities::{mail_outbox, participant, rate_limit, user};
use samskab::i18n::Locale;
use samskab::services::rate_limits::{self, Limit};
use samskab_tests::{BuildOptions, PASSWORD, Page, TestApp, both_backends, location};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, JsonValue, PaginatorTrait, QueryFilter,
    Statement,
};

/// A browser at the client address `ip` (behind the trusted proxy).
fn client_at(ip: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn register(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.post_form_with(
        browser,
        "/register",
        &[
            ("display_name", "Ny Borger"),
            ("email", email),
            ("password", password),
            ("password_confirm", password),
        ],
    )
    .await
}

async fn users(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

async fn outbox(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find().all(&app.db).await.unwrap()
}

async fn login(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.post_form_with(
        browser,
        "/login",
        &[("email", email), ("password", password)],
    )
    .await
}

// ------------------------------------------------------------ registration

both_backends!(
    registration_beyond_the_per_client_limit_is_refused_and_stores_nothing,
    BuildOptions::default(),
    |s: &mut Settings| s.limits.registrations_per_client = 3
);
async fn registration_beyond_the_per_client_limit_is_refused_and_stores_nothing(app: TestApp) {
    let a = client_at("198.51.100.10");
    for n in 0..3 {
        let res = register(&app, &a, &format!("a{n}@example.org"), "et langt kodeord").await;
        assert_eq!(location(&res), "/register/sent", "registration {n}");
    }
    let (accounts, mails) = (users(&app).await, outbox(&app).await.len());
    assert_eq!(
        (accounts, mails),
        (3, 3),
        "three accounts, three verification mails"
    );

    let res = register(&app, &a, "a3@example.org", "et langt kodeord").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!(wait > 0 && wait <= 2 * 3600, "Retry-After {wait}");
    let page = Page::parse(&res.text().await.unwrap());
    assert!(page.body.contains("for mange forsøg"), "{}", page.body);
    assert!(page.body.contains("ikke gået tabt"));
    assert_eq!(
        page.attr("main", "id").as_deref(),
        Some("main"),
        "in the layout"
    );
    assert_eq!(users(&app).await, 3, "no account created");
    assert_eq!(outbox(&app).await.len(), 3, "no mail queued");

    // In English too.
    app.get_with(&a, "/?lang=en").await;
    let res = register(&app, &a, "a4@example.org", "et langt kodeord").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = Page::parse(&res.text().await.unwrap());
    assert_eq!(page.lang(), "en");
    assert!(page.body.contains("Too many attempts"), "{}", page.body);

    // Another client is not affected.
    let b = client_at("198.51.100.11");
    let res = register(&app, &b, "b@example.org", "et langt kodeord").await;
    assert_eq!(location(&res), "/register/sent");
    assert_eq!(users(&app).await, 4);
}

both_backends!(
    registrations_from_everyone_together_are_limited_too,
    BuildOptions::default(),
    |s: &mut Settings| s.limits.registrations_total = 2
);
async fn registrations_from_everyone_together_are_limited_too(app: TestApp) {
    for (n, ip) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let res = register(
            &app,
            &client_at(ip),
            &format!("g{n}@example.org"),
            "langt kodeord",
        )
        .await;
        assert_eq!(location(&res), "/register/sent");
    }
    let res = register(
        &app,
        &client_at("198.51.100.3"),
        "g2@example.org",
        "langt kodeord",
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(users(&app).await, 2);
}

/// A page's body without its CSRF tokens (per session).
fn without_csrf(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(at) = rest.find("csrf") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        // Skip to the end of the attribute value or meta content.
        let end = tail.find('>').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

both_backends!(
    a_taken_address_answers_like_a_new_one_and_mails_the_owner,
    BuildOptions::default(),
    |s: &mut Settings| s.mail.poll_seconds = 1
);
async fn a_taken_address_answers_like_a_new_one_and_mails_the_owner(app: TestApp) {
    let owner = app
        .user(Role::Citizen)
        .email("ejer@example.org")
        .create()
        .await;
    let english = app
        .user(Role::Citizen)
        .email("owner@example.org")
        .locale(Locale::En)
        .create()
        .await;
    let fresh = client_at("198.51.100.20");
    let probe = client_at("198.51.100.21");

    let new = register(&app, &fresh, "ny@example.org", "et langt kodeord").await;
    let taken = register(&app, &probe, " EJER@example.org", "et andet kodeord").await;
    assert_eq!(new.status(), taken.status());
    assert_eq!(location(&new), location(&taken));
    assert_eq!(
        new.headers().get("set-cookie").is_some(),
        taken.headers().get("set-cookie").is_some()
    );
    let (new_body, taken_body) = (new.text().await.unwrap(), taken.text().await.unwrap());
    assert_eq!(new_body, taken_body);
    let (s1, p1) = app.page_with(&fresh, "/register/sent").await;
    let (s2, p2) = app.page_with(&probe, "/register/sent").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(without_csrf(&p1.body), without_csrf(&p2.body));
    // Neither is logged in.
    assert_eq!(app.get_with(&fresh, "/account").await.status(), 303);
    assert_eq!(app.get_with(&probe, "/account").await.status(), 303);

    // No second account; the owner gets a mail instead of a verification link.
    assert_eq!(users(&app).await, 3);
    let to_owner: Vec<_> = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m.user_id == owner.id)
        .collect();
    assert_eq!(to_owner.len(), 1);
    assert_eq!(to_owner[0].kind, MailKind::RegistrationAttempt);
    let owner_now = user::Entity::find_by_id(owner.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        owner_now.password_hash, owner.password_hash,
        "password unchanged"
    );

    // Asking again at once does not flood the owner's inbox.
    let again = register(&app, &probe, "ejer@example.org", "et andet kodeord").await;
    assert_eq!(location(&again), "/register/sent");
    register(&app, &probe, "owner@example.org", "et andet kodeord").await;
    let kinds =
        |uid: i64, all: &[mail_outbox::Model]| all.iter().filter(|m| m.user_id == uid).count();
    let all = outbox(&app).await;
    assert_eq!(kinds(owner.id, &all), 1);
    assert_eq!(kinds(english.id, &all), 1);

    // The mails are sent, in the owner's language.
    let dir = app.settings.data_dir.join("mail");
    let expect = [
        (owner.id, "Nogen prøvede at oprette en konto"),
        (english.id, "Someone tried to create an account"),
    ];
    for (uid, subject) in expect {
        let row = all
            .iter()
            .find(|m| m.user_id == uid && m.kind == MailKind::RegistrationAttempt)
            .unwrap();
        let mut found = None;
        for _ in 0..100 {
            let status = mail_outbox::Entity::find_by_id(row.id)
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
                .status;
            if status != MailStatus::Pending {
                found = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(found, Some(MailStatus::Sent));
        let raw = std::fs::read_to_string(dir.join(format!("{:08}.eml", row.id))).unwrap();
        let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
        use mailparse::MailHeaderMap;
        let got = mail.headers.get_first_value("Subject").unwrap();
        assert!(got.contains(subject), "{got}");
        let text = mail.subparts[0].get_body().unwrap();
        assert!(text.contains("/forgot-password"), "{text}");
        assert!(text.contains("/login"), "{text}");
    }
}

both_backends!(
    password_reset_requests_are_limited_per_client_whatever_the_address,
    BuildOptions::default(),
    |s: &mut Settings| s.limits.password_resets_per_client = 2
);
async fn password_reset_requests_are_limited_per_client_whatever_the_address(app: TestApp) {
    app.user(Role::Citizen)
        .email("known@example.org")
        .create()
        .await;
    let a = client_at("198.51.100.30");
    for email in ["known@example.org", "unknown@example.org"] {
        let res = app
            .post_form_with(&a, "/forgot-password", &[("email", email)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // The same answer for a known and an unknown address once refused.
    for email in ["known@example.org", "unknown@example.org"] {
        let res = app
            .post_form_with(&a, "/forgot-password", &[("email", email)])
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let b = client_at("198.51.100.31");
    let res = app
        .post_form_with(&b, "/forgot-password", &[("email", "known@example.org")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// ------------------------------------------------------------ anonymous participants

async fn participants_in(app: &TestApp, consultation_id: i64) -> u64 {
    participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(consultation_id))
        .count(&app.db)
        .await
        .unwrap()
}

both_backends!(anonymous_participants_beyond_the_limit_are_refused_per_client_and_consultation);
async fn anonymous_participants_beyond_the_limit_are_refused_per_client_and_consultation(
    app: TestApp,
) {
    let staff = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .actor()
        .await;
    let c = app
        .consultation()
        .slug("bybaner")
        .conversation()
        .voting(Eligibility::Anyone)
        .seeds(&["Flere busser.", "Flere cykelstier."])
        .form(|f| f.new_participants_per_hour = "3".into())
        .by(&staff)
        .open()
        .create()
        .await;
    let other = app
        .consultation()
        .slug("parker")
        .conversation()
        .voting(Eligibility::Anyone)
        .seeds(&["Flere træer."])
        .by(&staff)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let vote = async |browser: &reqwest::Client, slug: &str, id: i64| {
        app.post_form_with(
            browser,
            &format!("/consultations/{slug}/statements/{id}/vote"),
            &[("vote", "agree")],
        )
        .await
    };

    // 200 fresh cookies from one client: only the limit's worth get in.
    let ip = "198.51.100.40";
    let mut first = None;
    let mut refused = 0;
    for n in 0..6 {
        let browser = client_at(ip);
        let res = vote(&browser, "bybaner", ids[0]).await;
        if n < 3 {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "participant {n}");
            first.get_or_insert(browser);
        } else {
            assert_eq!(
                res.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "participant {n}"
            );
            assert!(retry_after(&res) > 0);
            let page = Page::parse(&res.text().await.unwrap());
            assert!(page.body.contains("for mange forsøg"));
            refused += 1;
        }
    }
    assert_eq!(participants_in(&app, c.id).await, 3);

    // Those already in go on voting; another client and another consultation
    // are not affected.
    let first = first.unwrap();
    assert_eq!(
        vote(&first, "bybaner", ids[1]).await.status(),
        StatusCode::SEE_OTHER
    );
    let elsewhere = client_at("198.51.100.41");
    assert_eq!(
        vote(&elsewhere, "bybaner", ids[0]).await.status(),
        StatusCode::SEE_OTHER
    );
    let other_ids = app.statement_ids(other.id).await;
    assert_eq!(
        vote(&client_at(ip), "parker", other_ids[0]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(participants_in(&app, c.id).await, 4);
    assert_eq!(participants_in(&app, other.id).await, 1);

    // Staff see the burst on the consultation's page, in plain words.
    let desk = client_at("192.0.2.1");
    app.login_with(&desk, "mod@example.org").await;
    let (status, page) = app
        .page_with(&desk, "/staff/consultations/bybaner/edit")
        .await;
    assert_eq!(status, 200);
    let panel = page.text("#participation").unwrap();
    assert!(
        panel.contains("Den seneste time er der kommet 4 nye deltagere til"),
        "{panel}"
    );
    let warning = page.text("#participation-refused").unwrap();
    assert!(warning.contains(&format!("{refused} forsøg")), "{warning}");
    let (_, page) = app
        .page_with(&desk, "/staff/consultations/parker/edit")
        .await;
    assert!(page.text("#participation-refused").is_none());
    assert!(page.body.contains("ingen nye deltagere blevet afvist"));
}

both_backends!(double_clicks_of_new_participants_count_once);
async fn double_clicks_of_new_participants_count_once(app: TestApp) {
    let staff = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("dobbelt")
        .conversation()
        .voting(Eligibility::Anyone)
        .seeds(&["Et udsagn.", "Et andet udsagn."])
        .form(|f| f.new_participants_per_hour = "2".into())
        .by(&staff)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let ip = "198.51.100.45";
    for _ in 0..2 {
        let browser = client_at(ip);
        // The voting page hands out the participant cookie and the forms.
        let (_, page) = app
            .page_with(&browser, "/consultations/dobbelt/statements")
            .await;
        let token = page.attr("meta[name=csrf-token]", "content").unwrap();
        // The first votes of a newcomer, all sent at once (double clicks).
        let sends = ids.iter().flat_map(|id| [*id, *id]).map(|id| {
            browser
                .post(app.url(&format!("/consultations/dobbelt/statements/{id}/vote")))
                .form(&[("vote", "agree"), ("csrf_token", token.as_str())])
                .send()
        });
        for res in futures::future::join_all(sends).await {
            assert_eq!(res.unwrap().status(), StatusCode::SEE_OTHER);
        }
    }
    assert_eq!(participants_in(&app, c.id).await, 2);
    let res = app
        .post_form_with(
            &client_at(ip),
            &format!("/consultations/dobbelt/statements/{}/vote", ids[0]),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the limit is exact"
    );
}

both_backends!(the_participant_limit_is_a_validated_consultation_setting);
async fn the_participant_limit_is_a_validated_consultation_setting(app: TestApp) {
    let staff = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .create()
        .await;
    let desk = client_at("192.0.2.2");
    app.login_with(&desk, staff.email.as_deref().unwrap()).await;
    let c = app
        .consultation()
        .slug("havnen")
        .conversation()
        .by(&samskab::auth::session::CurrentUser::from_model(&staff))
        .create()
        .await;
    assert_eq!(c.new_participants_per_hour, None, "the server default");
    let (_, page) = app
        .page_with(&desk, "/staff/consultations/havnen/edit")
        .await;
    assert_eq!(
        page.attr("#new_participants_per_hour", "value").as_deref(),
        Some("")
    );
    assert_eq!(
        page.attr("#new_participants_per_hour", "placeholder")
            .as_deref(),
        Some("30")
    );
    let fields = |value: &'static str| {
        vec![
            ("title", "Høring havnen"),
            ("summary", "Hvad mener du?"),
            ("has_conversation", "on"),
            ("new_participants_per_hour", value),
        ]
    };
    for bad in ["0", "-3", "many", "100001"] {
        let res = app
            .post_form_with(&desk, "/staff/consultations/havnen/edit", &fields(bad))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let page = Page::parse(&res.text().await.unwrap());
        let error = page.text("#new_participants_per_hour-error").unwrap();
        assert!(error.contains("helt tal fra 1 til 100000"), "{error}");
    }
    let res = app
        .post_form_with(&desk, "/staff/consultations/havnen/edit", &fields("120"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let saved = samskab::entities::consultation::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.new_participants_per_hour, Some(120));
}

// ------------------------------------------------------------ login throttle

both_backends!(a_stranger_cannot_lock_the_owner_out_of_password_login);
async fn a_stranger_cannot_lock_the_owner_out_of_password_login(app: TestApp) {
    app.user(Role::Citizen)
        .email("ejer@example.org")
        .create()
        .await;
    let max = app.settings.limits.login_failures_per_address_and_client;
    let stranger = client_at("203.0.113.66");
    for _ in 0..max {
        let res = login(&app, &stranger, "ejer@example.org", "gæt").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The stranger is refused, even with the right password.
    let res = login(&app, &stranger, "ejer@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!(wait > 0 && wait <= 30 * 60, "Retry-After {wait}");
    let page = Page::parse(&res.text().await.unwrap());
    assert!(
        page.text("[role=alert]")
            .unwrap()
            .contains("for mange gange")
    );
    assert_eq!(app.get_with(&stranger, "/account").await.status(), 303);

    // The owner, elsewhere, logs in.
    let owner = client_at("198.51.100.50");
    let res = login(&app, &owner, "ejer@example.org", PASSWORD).await;
    assert_eq!(location(&res), "/account");
    assert_eq!(app.get_with(&owner, "/account").await.status(), 200);
}

both_backends!(
    a_successful_login_clears_that_clients_failures,
    BuildOptions::default(),
    |s: &mut Settings| s.limits.login_failures_per_address_and_client = 3
);
async fn a_successful_login_clears_that_clients_failures(app: TestApp) {
    app.user(Role::Citizen)
        .email("glemsom@example.org")
        .create()
        .await;
    let me = client_at("198.51.100.51");
    for _ in 0..2 {
        assert_eq!(
            login(&app, &me, "glemsom@example.org", "forkert")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login(&app, &me, "glemsom@example.org", PASSWORD)
            .await
            .status(),
        303
    );
    app.post_form_with(&me, "/logout", &[]).await;
    // Two more mistakes do not add up with the earlier ones.
    for _ in 0..2 {
        assert_eq!(
            login(&app, &me, "glemsom@example.org", "forkert")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login(&app, &me, "glemsom@example.org", PASSWORD)
            .await
            .status(),
        303
    );
}

both_backends!(
    failures_from_many_places_pause_password_login_until_a_reset,
    BuildOptions::default(),
    |s: &mut Settings| {
        s.limits.login_failures_per_address = 6;
        s.limits.login_failures_per_address_and_client = 3;
    }
);
async fn failures_from_many_places_pause_password_login_until_a_reset(app: TestApp) {
    let owner = app
        .user(Role::Citizen)
        .email("maal@example.org")
        .create()
        .await;
    for n in 0..3 {
        let guesser = client_at(&format!("203.0.113.{n}"));
        for _ in 0..2 {
            let res = login(&app, &guesser, "maal@example.org", "gæt").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }
    // Spread over many machines, guessing pauses the address's password login,
    // with a way out that a guesser cannot use.
    let me = client_at("198.51.100.60");
    let res = login(&app, &me, "maal@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) > 0);
    let page = Page::parse(&res.text().await.unwrap());
    let alert = page.text("#login-paused").unwrap();
    assert!(alert.contains("forskellige steder"), "{alert}");
    assert!(alert.contains("MitID"), "{alert}");
    assert_eq!(
        page.attr("#login-paused a", "href").as_deref(),
        Some("/forgot-password")
    );
    // Other addresses are not affected.
    app.user(Role::Citizen)
        .email("anden@example.org")
        .create()
        .await;
    assert_eq!(
        login(&app, &me, "anden@example.org", PASSWORD)
            .await
            .status(),
        303
    );

    // A new password by mail ends the pause.
    let token = samskab::services::tokens::issue(
        &app.db,
        owner.id,
        samskab::services::tokens::PURPOSE_RESET,
        "maal@example.org",
    )
    .await
    .unwrap();
    let res = app
        .post_form_with(
            &me,
            "/reset-password",
            &[
                ("token", &token),
                ("password", "en helt ny adgangskode"),
                ("password_confirm", "en helt ny adgangskode"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/login");
    let res = login(&app, &me, "maal@example.org", "en helt ny adgangskode").await;
    assert_eq!(location(&res), "/account");
}

both_backends!(
    one_client_guessing_many_addresses_is_stopped,
    BuildOptions::default(),
    |s: &mut Settings| s.limits.login_failures_per_client = 4
);
async fn one_client_guessing_many_addresses_is_stopped(app: TestApp) {
    app.user(Role::Citizen)
        .email("ofre@example.org")
        .create()
        .await;
    let stuffer = client_at("203.0.113.99");
    for n in 0..4 {
        let res = login(
            &app,
            &stuffer,
            &format!("person{n}@example.org"),
            "Sommer2026",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login(&app, &stuffer, "ofre@example.org", "Sommer2026").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = login(
        &app,
        &client_at("198.51.100.70"),
        "ofre@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(location(&res), "/account");
}

both_backends!(the_login_throttle_is_shared_by_replicas_and_survives_a_restart);
async fn the_login_throttle_is_shared_by_replicas_and_survives_a_restart(app: TestApp) {
    app.user(Role::Citizen)
        .email("delt@example.org")
        .create()
        .await;
    // A second replica on the same database (and, as it starts after the
    // first, as good as the first one restarted).
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".into();
    let replica = samskab::startup::Application::build(settings, BuildOptions::default())
        .await
        .unwrap();
    let replica_url = format!("http://127.0.0.1:{}", replica.port());
    tokio::spawn(replica.run_until_stopped());

    let max = app.settings.limits.login_failures_per_address_and_client;
    let guesser = client_at("203.0.113.7");
    for _ in 0..max {
        let res = login(&app, &guesser, "delt@example.org", "gæt").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let on_replica = client_at("203.0.113.7");
    let page = on_replica
        .get(format!("{replica_url}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = Page::parse(&page)
        .attr("meta[name=csrf-token]", "content")
        .unwrap();
    let res = on_replica
        .post(format!("{replica_url}/login"))
        .form(&[
            ("email", "delt@example.org"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the replica knows"
    );
}

// ------------------------------------------------------------ client identity

both_backends!(
    forwarded_for_is_ignored_from_an_untrusted_peer,
    BuildOptions::default(),
    |s: &mut Settings| {
        s.limits.trusted_proxies = String::new();
        s.limits.registrations_per_client = 2;
    }
);
async fn forwarded_for_is_ignored_from_an_untrusted_peer(app: TestApp) {
    // Nobody is trusted: each request is its TCP peer, 127.0.0.1, whatever
    // it claims. (Honoured from a trusted peer: the tests above.)
    for n in 0..2 {
        let res = register(
            &app,
            &client_at(&format!("198.51.100.{n}")),
            &format!("u{n}@example.org"),
            "et langt kodeord",
        )
        .await;
        assert_eq!(location(&res), "/register/sent");
    }
    let res = register(
        &app,
        &client_at("198.51.100.99"),
        "u2@example.org",
        "et langt kodeord",
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Every row of every table, as JSON text.
async fn whole_database(app: &TestApp) -> String {
    let backend = app.db.get_database_backend();
    let list = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables = JsonValue::find_by_statement(Statement::from_string(backend, list))
        .all(&app.db)
        .await
        .unwrap();
    let mut all = String::new();
    for table in tables {
        let name = table["name"].as_str().unwrap().to_owned();
        let rows = JsonValue::find_by_statement(Statement::from_string(
            backend,
            format!("SELECT * FROM \"{name}\""),
        ))
        .all(&app.db)
        .await
        .unwrap();
        all.push_str(&serde_json::to_string(&rows).unwrap());
    }
    all
}

both_backends!(no_raw_client_or_email_address_is_stored_by_the_limits);
async fn no_raw_client_or_email_address_is_stored_by_the_limits(app: TestApp) {
    let staff = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug("skjult")
        .conversation()
        .voting(Eligibility::Anyone)
        .seeds(&["Et udsagn."])
        .by(&staff)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let v4 = client_at("198.51.100.123");
    let v6 = client_at("2001:db8:abcd:12::77");
    for browser in [&v4, &v6] {
        register(&app, browser, "someone@example.org", "et langt kodeord").await;
        login(&app, browser, "stranger@example.net", "gæt").await;
        app.post_form_with(
            browser,
            "/forgot-password",
            &[("email", "other@example.net")],
        )
        .await;
        let res = app
            .post_form_with(
                browser,
                &format!("/consultations/skjult/statements/{}/vote", ids[0]),
                &[("vote", "agree")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let counters = rate_limit::Entity::find().all(&app.db).await.unwrap();
    assert!(counters.len() >= 8, "{counters:?}");
    assert!(
        counters.iter().all(
            |r| r.key.len() == 64 && r.key.bytes().all(|b| b.is_ascii_hexdigit())
                || r.key.bytes().all(|b| b.is_ascii_digit())
        ),
        "keys are hashes (or consultation ids): {counters:?}"
    );
    let everything = whole_database(&app).await;
    for raw in [
        "198.51.100.123",
        "2001:db8",
        "stranger@example.net",
        "other@example.net",
    ] {
        assert!(!everything.contains(raw), "{raw} is stored somewhere");
    }
}

// ------------------------------------------------------------ the counters themselves

both_backends!(concurrent_requests_never_exceed_a_limit);
async fn concurrent_requests_never_exceed_a_limit(app: TestApp) {
    let limit = Limit {
        bucket: "test.concurrent",
        max: 5,
        window_secs: 3600,
    };
    let attempts = (0..20).map(|_| rate_limits::take(&app.db, limit, "k"));
    let results = futures::future::join_all(attempts).await;
    let allowed = results
        .into_iter()
        .map(|r| r.expect("no database error"))
        .filter(Result::is_ok)
        .count();
    assert_eq!(allowed, 5);
}

both_backends!(expired_counters_are_deleted_by_the_cleanup_job);
async fn expired_counters_are_deleted_by_the_cleanup_job(app: TestApp) {
    let limit = Limit {
        bucket: "test.cleanup",
        max: 5,
        window_secs: 60,
    };
    let now = chrono::Utc::now().timestamp_millis();
    rate_limits::take_at(&app.db, limit, "old", now - 3 * 60 * 1000)
        .await
        .unwrap()
        .unwrap();
    rate_limits::take_at(&app.db, limit, "new", now)
        .await
        .unwrap()
        .unwrap();
    use samskab::jobs::housekeeping::Task;
    let n = Task::RateLimits
        .run(&app.db, &app.settings.retention, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let left: Vec<String> = rate_limit::Entity::find()
        .filter(rate_limit::Column::Bucket.eq("test.cleanup"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(left, vec!["new".to_owned()]);
}
