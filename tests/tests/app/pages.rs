use samskab::auth::Role;
use samskab::entities::{consultation, user};
use samskab::services::demo;
use samskab_tests::{BuildOptions, TestApp, both_backends};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

both_backends!(pages_are_danish_by_default_and_english_on_request);
async fn pages_are_danish_by_default_and_english_on_request(app: TestApp) {
    let (status, page) = app.page("/").await;
    assert_eq!(status, 200);
    assert_eq!(page.lang(), "da");
    assert_eq!(page.h1(), "Vær med til at forme Aarhus");
    assert_eq!(
        page.attr("a.lang-switch", "href").as_deref(),
        Some("/?lang=en")
    );

    let (_, page) = app.page("/privacy?lang=en").await;
    assert_eq!(page.lang(), "en");
    assert_eq!(page.h1(), "Privacy and your data");
    // Remembered without the parameter.
    let (_, page) = app.page("/consultations").await;
    assert_eq!(page.lang(), "en");
    assert_eq!(page.h1(), "All consultations");
    let (_, page) = app.page("/?lang=da").await;
    assert_eq!(page.lang(), "da");
    let (_, page) = app.page("/login").await;
    assert_eq!(page.lang(), "da");
    // Unknown language codes are ignored, not an error.
    let (status, page) = app.page("/?lang=xx").await;
    assert_eq!(status, 200);
    assert_eq!(page.lang(), "da");
}

both_backends!(every_page_has_skip_link_landmarks_and_one_h1);
async fn every_page_has_skip_link_landmarks_and_one_h1(app: TestApp) {
    app.logged_in_as("admin@example.org", Role::Admin).await;
    for path in [
        "/",
        "/consultations",
        "/privacy",
        "/account",
        "/staff/consultations",
        "/staff/consultations/new",
        "/admin/users",
        "/missing-page",
    ] {
        let (_, page) = app.page(path).await;
        assert_eq!(
            page.attr("body > a", "href").as_deref(),
            Some("#main"),
            "{path}"
        );
        assert_eq!(page.attrs("main#main", "id").len(), 1, "{path}");
        assert_eq!(page.texts("h1").len(), 1, "{path}");
        assert_eq!(page.texts("header nav").len(), 1, "{path}");
        assert_eq!(page.texts("footer").len(), 1, "{path}");
    }
}

both_backends!(pages_load_nothing_from_other_origins);
async fn pages_load_nothing_from_other_origins(app: TestApp) {
    let res = app.get("/").await;
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"));
    assert!(!csp.contains("http"), "no other origin allowed: {csp}");
    assert_eq!(
        res.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(res.headers().get("referrer-policy").is_some());
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    for url in page
        .attrs("[src]", "src")
        .into_iter()
        .chain(page.attrs("link[href]", "href"))
    {
        assert!(url.starts_with('/'), "external resource {url}");
    }
    let css = app.get("/static/css/samskab.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}

both_backends!(error_pages_are_translated_and_in_the_layout);
async fn error_pages_are_translated_and_in_the_layout(app: TestApp) {
    let (status, page) = app.page("/no/such/page").await;
    assert_eq!(status, 404);
    assert_eq!(page.h1(), "Siden findes ikke");
    assert!(page.text("footer").is_some());
    let (status, page) = app.page("/no/such/page?lang=en").await;
    assert_eq!(status, 404);
    assert_eq!(page.h1(), "Page not found");

    // A malformed form body is a translated 400, not a 500.
    app.logged_in_as("admin@example.org", Role::Admin).await;
    let token = app.csrf_token_for(&app.client).await;
    let res = app
        .client
        .post(app.url("/admin/users/not-a-number/role"))
        .form(&[("csrf_token", token.as_str()), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A body that is not a form is a translated 4xx page, not a 500.
    let res = app
        .client
        .post(app.url("/account"))
        .header("x-csrf-token", &token)
        .header("content-type", "application/json")
        .body(r#"{"display_name": "JSON"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(
        page.h1(),
        "The request could not be handled",
        "still in the chosen language"
    );
}

both_backends!(
    demo_mode_loads_users_and_consultations_before_serving,
    BuildOptions {
        demo: true,
        ..Default::default()
    }
);
async fn demo_mode_loads_users_and_consultations_before_serving(app: TestApp) {
    for (email, _, role) in demo::DEMO_USERS {
        let u = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&app.db)
            .await
            .unwrap()
            .expect(email);
        assert_eq!(u.role, role);
    }
    let mut states = Vec::new();
    for s in ["draft", "open", "closed", "published"] {
        let n = consultation::Entity::find()
            .filter(consultation::Column::Status.eq(s))
            .count(&app.db)
            .await
            .unwrap();
        assert!(n >= 1, "a demo consultation in state {s}");
        states.push(n);
    }
    let res = app
        .post_form(
            "/login",
            &[
                ("email", "borger@example.org"),
                ("password", demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, home) = app.page("/").await;
    assert!(
        home.texts(".card-title").len() >= 2,
        "open consultations and reports on the home page"
    );
    // Loading twice changes nothing.
    demo::load(&app.db).await.unwrap();
    assert_eq!(
        consultation::Entity::find().count(&app.db).await.unwrap(),
        5
    );
    // Accounts with a password; the report's pseudonymous MitID participants have none.
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Email.is_not_null())
            .count(&app.db)
            .await
            .unwrap() as usize,
        demo::DEMO_USERS.len() + demo::DEMO_CITIZENS.len()
    );
    // Demo ideas, with supports, comments and official answers, loaded once.
    let ideas = samskab::entities::idea::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(ideas.len(), 4);
    assert!(
        ideas
            .iter()
            .any(|i| i.status == samskab::domain::IdeaStatus::Accepted && i.support_count == 3)
    );
    assert!(
        samskab::entities::comment::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
            >= 3
    );
}

both_backends!(head_requests_answer_like_get_without_a_body);
async fn head_requests_answer_like_get_without_a_body(app: TestApp) {
    for path in ["/", "/consultations", "/api/v1/openapi.json"] {
        let get = app.get(path).await;
        let head = app
            .client
            .head(format!("{}{path}", app.address))
            .send()
            .await
            .expect("HEAD request");
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(
            head.headers().contains_key("content-security-policy"),
            "HEAD {path} has the security headers"
        );
        let body = head.bytes().await.expect("HEAD body");
        assert!(body.is_empty(), "HEAD {path} sent {} bytes", body.len());
    }
    let missing = app
        .client
        .head(format!("{}/no/such/page", app.address))
        .send()
        .await
        .expect("HEAD request");
    assert_eq!(missing.status(), 404);
}
