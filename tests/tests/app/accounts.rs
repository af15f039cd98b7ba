use samskab::auth::Role;
use samskab::entities::{audit_log, user};
use samskab_tests::{PASSWORD, TestApp, both_backends, client, location};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

async fn user_count(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

both_backends!(register_asks_to_check_the_inbox_and_the_account_logs_in);
async fn register_asks_to_check_the_inbox_and_the_account_logs_in(app: TestApp) {
    let res = app
        .post_form(
            "/register",
            &[
                ("display_name", "Karen Aarhus"),
                ("email", "Karen@Example.org"),
                ("password", "et langt kodeord"),
                ("password_confirm", "et langt kodeord"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/register/sent");
    let (status, page) = app.page("/register/sent").await;
    assert_eq!(status, 200);
    assert!(
        page.text("#register-sent")
            .unwrap()
            .contains("sendt en mail")
    );
    // Not logged in by registering: a taken address must look the same.
    assert_eq!(app.get("/account").await.status(), 303);

    let res = app
        .post_form(
            "/login",
            &[
                ("email", "karen@example.org"),
                ("password", "et langt kodeord"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account");
    let (status, page) = app.page("/account").await;
    assert_eq!(status, 200);
    assert!(page.body.contains("Karen Aarhus"));
    assert!(
        page.body.contains("karen@example.org"),
        "email is stored lower-cased"
    );

    let stored = user::Entity::find()
        .filter(user::Column::Email.eq("karen@example.org"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("user row");
    assert_eq!(stored.role, Role::Citizen);
    let hash = stored.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "argon2id, got {hash}");
    assert!(!hash.contains("et langt kodeord"));
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.created"))
        .filter(audit_log::Column::SubjectId.eq(stored.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audit, 1);
}

both_backends!(registration_errors_are_shown_next_to_fields_and_keep_input);
async fn registration_errors_are_shown_next_to_fields_and_keep_input(app: TestApp) {
    let res = app
        .post_form(
            "/register",
            &[
                ("display_name", "K"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(
        page.text("#display_name-error").unwrap(),
        "Visningsnavnet skal have mindst 2 tegn."
    );
    assert!(
        page.text("#email-error")
            .unwrap()
            .contains("gyldig e-mailadresse")
    );
    assert!(
        page.text("#password-error")
            .unwrap()
            .contains("mindst 10 tegn")
    );
    assert_eq!(page.attr("#email", "value").unwrap(), "not-an-email");
    assert_eq!(page.attr("#email", "aria-invalid").unwrap(), "true");
    assert_eq!(user_count(&app).await, 0, "nothing stored");
}

both_backends!(registration_refuses_mismatched_passwords_without_naming_a_taken_email);
async fn registration_refuses_mismatched_passwords_without_naming_a_taken_email(app: TestApp) {
    app.user(Role::Citizen)
        .email("taken@example.org")
        .create()
        .await;
    let res = app
        .post_form(
            "/register",
            &[
                ("display_name", "Someone"),
                ("email", "TAKEN@example.org"),
                ("password", "long enough one"),
                ("password_confirm", "long enough two"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(
        page.text("#email-error").is_none(),
        "the form does not tell who has an account"
    );
    assert!(
        page.text("#password_confirm-error")
            .unwrap()
            .contains("ikke ens")
    );
    assert_eq!(user_count(&app).await, 1);
}

both_backends!(over_long_registration_fields_are_refused_in_english_too);
async fn over_long_registration_fields_are_refused_in_english_too(app: TestApp) {
    app.get("/?lang=en").await;
    let long_name = "n".repeat(81);
    let res = app
        .post_form(
            "/register",
            &[
                ("display_name", &long_name),
                ("email", "long@example.org"),
                ("password", "long enough one"),
                ("password_confirm", "long enough one"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(page.lang(), "en");
    assert_eq!(
        page.text("#display_name-error").unwrap(),
        "The text is too long."
    );
    assert_eq!(user_count(&app).await, 0);
}

both_backends!(login_redirects_and_logout_ends_the_session);
async fn login_redirects_and_logout_ends_the_session(app: TestApp) {
    app.user(Role::Citizen)
        .email("borger@example.org")
        .create()
        .await;
    let res = app
        .post_form(
            "/login",
            &[
                ("email", "borger@example.org"),
                ("password", PASSWORD),
                ("next", "/consultations"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/consultations");
    let (_, page) = app.page("/account").await;
    assert!(page.body.contains("borger@example.org"));

    let res = app.post_form("/logout", &[]).await;
    assert_eq!(res.status(), 303);
    let res = app.get("/account").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=/account");
}

both_backends!(login_failure_does_not_reveal_whether_the_email_exists);
async fn login_failure_does_not_reveal_whether_the_email_exists(app: TestApp) {
    app.user(Role::Citizen)
        .email("known@example.org")
        .create()
        .await;
    let wrong_password = app
        .post_form(
            "/login",
            &[
                ("email", "known@example.org"),
                ("password", "wrong password"),
            ],
        )
        .await;
    let unknown_email = app
        .post_form(
            "/login",
            &[
                ("email", "nobody@example.org"),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let a = samskab_tests::Page::parse(&wrong_password.text().await.unwrap());
    let b = samskab_tests::Page::parse(&unknown_email.text().await.unwrap());
    assert_eq!(a.text("[role=alert]"), b.text("[role=alert]"));
    assert!(a.text("[role=alert]").unwrap().contains("forkert"));
    assert_eq!(app.get("/account").await.status(), 303, "still logged out");
}

both_backends!(repeated_wrong_passwords_throttle_that_address_only);
async fn repeated_wrong_passwords_throttle_that_address_only(app: TestApp) {
    let max_failures = app.settings.limits.login_failures_per_address_and_client;
    app.user(Role::Citizen)
        .email("target@example.org")
        .create()
        .await;
    app.user(Role::Citizen)
        .email("bystander@example.org")
        .create()
        .await;
    for _ in 0..max_failures {
        let res = app
            .post_form(
                "/login",
                &[("email", "Target@example.org"), ("password", "guess")],
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    // Now even the right password is refused for a while, with a clear answer.
    let res = app
        .post_form(
            "/login",
            &[
                ("email", "target@example.org"),
                ("password", samskab_tests::PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Failures weigh less as the 15-minute window slides on; at most a
    // window and a half until the next attempt.
    assert!(retry > 0 && retry <= 23 * 60, "Retry-After {retry}");
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    let alert = page.text("[role=alert]").unwrap();
    assert!(alert.contains("for mange gange"), "{alert}");
    // The wait shown is the Retry-After, in whole minutes.
    assert!(
        alert.contains(&format!("{} minutter", retry.div_ceil(60))),
        "{alert} (Retry-After {retry})"
    );
    assert_eq!(app.get("/account").await.status(), 303, "not logged in");

    // Another address from the same client is not affected.
    let res = app.login_with(&app.client, "bystander@example.org").await;
    assert_eq!(location(&res), "/account");
}

both_backends!(login_next_parameter_cannot_leave_the_site);
async fn login_next_parameter_cannot_leave_the_site(app: TestApp) {
    app.user(Role::Citizen)
        .email("borger@example.org")
        .create()
        .await;
    let res = app
        .post_form(
            "/login",
            &[
                ("email", "borger@example.org"),
                ("password", PASSWORD),
                ("next", "//evil.example/phish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
}

both_backends!(post_without_csrf_token_is_refused_and_changes_nothing);
async fn post_without_csrf_token_is_refused_and_changes_nothing(app: TestApp) {
    app.get("/register").await;
    let fields = [
        ("display_name", "Forged"),
        ("email", "forged@example.org"),
        ("password", "long enough one"),
        ("password_confirm", "long enough one"),
    ];
    let res = app.post_raw("/register", &fields).await;
    assert_eq!(res.status(), 403);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(page.body.contains("Formularen er udløbet"));
    assert_eq!(
        page.attr("main", "id").as_deref(),
        Some("main"),
        "error page uses the layout"
    );

    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "not-the-token"));
    assert_eq!(app.post_raw("/register", &with_wrong).await.status(), 403);

    // A token from another session is worthless too.
    let other = client();
    let foreign = app.csrf_token_for(&other).await;
    let mut with_foreign = fields.to_vec();
    with_foreign.push(("csrf_token", &foreign));
    assert_eq!(app.post_raw("/register", &with_foreign).await.status(), 403);

    assert_eq!(user_count(&app).await, 0);
}

both_backends!(session_cookie_is_http_only_lax_and_named_samskab);
async fn session_cookie_is_http_only_lax_and_named_samskab(app: TestApp) {
    let res = app.get("/login").await;
    let cookies: Vec<String> = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!cookies.is_empty());
    for c in cookies {
        assert!(c.starts_with("samskab_"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
    }
}

both_backends!(account_changes_are_saved_and_validated);
async fn account_changes_are_saved_and_validated(app: TestApp) {
    let me = app
        .user(Role::Citizen)
        .email("me@example.org")
        .logged_in()
        .await;
    let res = app
        .post_form(
            "/account",
            &[("display_name", "Nyt Navn"), ("locale", "en")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = user::Entity::find_by_id(me.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.display_name, "Nyt Navn");
    assert_eq!(stored.locale, "en");

    let res = app
        .post_form("/account", &[("display_name", " "), ("locale", "da")])
        .await;
    assert_eq!(res.status(), 422);
    let stored = user::Entity::find_by_id(me.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.display_name, "Nyt Navn",
        "invalid input changes nothing"
    );
}

both_backends!(deleted_account_loses_its_session);
async fn deleted_account_loses_its_session(app: TestApp) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let me = app
        .user(Role::Citizen)
        .email("gone@example.org")
        .logged_in()
        .await;
    assert_eq!(app.get("/account").await.status(), 200);
    let mut active = me.into_active_model();
    active.deleted_at = Set(Some(chrono_now()));
    active.update(&app.db).await.unwrap();
    assert_eq!(app.get("/account").await.status(), 303);
}

fn chrono_now() -> sea_orm::prelude::DateTimeUtc {
    sea_orm::prelude::DateTimeUtc::from(std::time::SystemTime::now())
}
