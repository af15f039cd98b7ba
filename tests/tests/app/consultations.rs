use samskab::auth::Role;
use samskab::entities::{audit_log, consultation};
use samskab_tests::{Page, TestApp, both_backends, location};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const NEW: &[(&str, &str)] = &[
    ("title", "Ny bypark ved Godsbanen"),
    ("summary", "Hvad skal parken kunne?"),
    (
        "body",
        "## Baggrund\n\nParken skal være *for alle*.<script>alert(1)</script>",
    ),
    ("moderation_mode", "pre"),
    ("accepts_ideas", "on"),
    ("support_threshold", "25"),
    ("categories", "Natur\nLeg"),
];

async fn create(app: &TestApp) -> consultation::Model {
    let res = app.post_form("/staff/consultations", NEW).await;
    assert_eq!(res.status(), 303, "creating a consultation");
    assert_eq!(
        location(&res),
        "/staff/consultations/ny-bypark-ved-godsbanen/edit"
    );
    find(app, "ny-bypark-ved-godsbanen").await.expect("stored")
}

async fn find(app: &TestApp, slug: &str) -> Option<consultation::Model> {
    consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(slug))
        .one(&app.db)
        .await
        .unwrap()
}

async fn transition(app: &TestApp, slug: &str, to: &str) -> reqwest::Response {
    app.post_form(
        &format!("/staff/consultations/{slug}/status"),
        &[("to", to), ("confirm", "yes")],
    )
    .await
}

both_backends!(staff_create_a_draft_that_the_public_cannot_see);
async fn staff_create_a_draft_that_the_public_cannot_see(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    let c = create(&app).await;
    assert_eq!(c.status, samskab::domain::ConsultationStatus::Draft);
    assert_eq!(c.moderation_mode, samskab::domain::ModerationMode::Pre);
    assert!(c.accepts_ideas);
    assert!(!c.has_conversation);
    assert_eq!(c.support_threshold, 25);
    assert_eq!(c.categories, r#"["Natur","Leg"]"#);

    let (status, page) = app.page("/consultations/ny-bypark-ved-godsbanen").await;
    assert_eq!(status, 200, "staff see drafts");
    assert!(page.body.contains("Kladde"));

    let public = samskab_tests::client();
    let (status, _) = app
        .page_with(&public, "/consultations/ny-bypark-ved-godsbanen")
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.page_with(&public, "/consultations").await;
    assert!(!list.body.contains("Ny bypark"));

    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("consultation.created"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audit, 1);
}

both_backends!(consultation_life_cycle_moves_forward_only);
async fn consultation_life_cycle_moves_forward_only(app: TestApp) {
    app.user(Role::Admin)
        .email("admin@example.org")
        .logged_in()
        .await;
    create(&app).await;
    let slug = "ny-bypark-ved-godsbanen";

    // Skipping a step is refused and changes nothing.
    assert_eq!(transition(&app, slug, "published").await.status(), 409);
    assert_eq!(
        find(&app, slug).await.unwrap().status,
        samskab::domain::ConsultationStatus::Draft
    );

    for (to, label) in [
        ("open", "Høringen er nu åben."),
        ("closed", "Høringen er nu lukket."),
        ("published", "Rapporten er nu offentliggjort."),
        ("archived", "Høringen er nu arkiveret."),
    ] {
        let res = transition(&app, slug, to).await;
        assert_eq!(res.status(), 303, "to {to}");
        let (_, page) = app.page(&location(&res)).await;
        assert!(page.body.contains(label), "flash for {to}");
        let c = find(&app, slug).await.unwrap();
        assert_eq!(c.status.as_str(), to);
    }
    let c = find(&app, slug).await.unwrap();
    assert!(c.opens_at.is_some() && c.closes_at.is_some() && c.published_at.is_some());
    assert!(c.opens_at <= c.closes_at);

    assert_eq!(transition(&app, slug, "open").await.status(), 409);
    assert_eq!(transition(&app, slug, "nonsense").await.status(), 400);
    let res = app
        .post_form(&format!("/staff/consultations/{slug}/edit"), NEW)
        .await;
    assert_eq!(res.status(), 409, "archived consultations are read-only");
    let history = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("consultation.status_changed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(history, 4);
}

both_backends!(open_consultation_is_public_with_safe_markdown);
async fn open_consultation_is_public_with_safe_markdown(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    create(&app).await;
    transition(&app, "ny-bypark-ved-godsbanen", "open").await;

    let public = samskab_tests::client();
    let (status, page) = app
        .page_with(&public, "/consultations/ny-bypark-ved-godsbanen")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Ny bypark ved Godsbanen");
    assert_eq!(page.text(".prose h2").unwrap(), "Baggrund");
    assert_eq!(page.text(".prose em").unwrap(), "for alle");
    assert!(!page.body.contains("<script>alert"));
    assert_eq!(page.texts(".tags li"), vec!["Natur", "Leg"]);

    let (_, home) = app.page_with(&public, "/").await;
    assert!(
        home.texts(".card-title")
            .contains(&"Ny bypark ved Godsbanen".to_string())
    );
    let (_, open_only) = app.page_with(&public, "/consultations?status=open").await;
    assert_eq!(
        open_only.texts(".card-title"),
        vec!["Ny bypark ved Godsbanen"]
    );
    let (_, closed_only) = app.page_with(&public, "/consultations?status=closed").await;
    assert!(closed_only.texts(".card-title").is_empty());
    let (status, _) = app.page_with(&public, "/consultations?status=draft").await;
    assert_eq!(status, 400, "drafts cannot be listed by the public");
}

both_backends!(invalid_consultation_form_keeps_input_and_stores_nothing);
async fn invalid_consultation_form_keeps_input_and_stores_nothing(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    let long_summary = "s".repeat(501);
    let res = app
        .post_form(
            "/staff/consultations",
            &[
                ("title", ""),
                ("summary", &long_summary),
                ("body", "Tekst der skal bevares"),
                ("support_threshold", "mange"),
                ("moderation_mode", "post"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::parse(&res.text().await.unwrap());
    assert_eq!(page.text("#title-error").unwrap(), "Udfyld feltet.");
    assert_eq!(page.text("#summary-error").unwrap(), "Teksten er for lang.");
    assert!(
        page.text("#support_threshold-error")
            .unwrap()
            .contains("helt tal")
    );
    assert_eq!(page.text("#body").unwrap(), "Tekst der skal bevares");
    assert_eq!(
        consultation::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

both_backends!(duplicate_slug_is_refused);
async fn duplicate_slug_is_refused(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    create(&app).await;
    let res = app.post_form("/staff/consultations", NEW).await;
    assert_eq!(res.status(), 422);
    let page = Page::parse(&res.text().await.unwrap());
    assert!(
        page.text("#slug-error")
            .unwrap()
            .contains("bruger allerede")
    );
    assert_eq!(
        consultation::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}

both_backends!(editing_a_public_consultation_keeps_its_address);
async fn editing_a_public_consultation_keeps_its_address(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    create(&app).await;
    transition(&app, "ny-bypark-ved-godsbanen", "open").await;
    let mut changed: Vec<(&str, &str)> = NEW.to_vec();
    changed[0] = ("title", "Ny bypark – opdateret");
    changed.push(("slug", "helt-ny-adresse"));
    let res = app
        .post_form(
            "/staff/consultations/ny-bypark-ved-godsbanen/edit",
            &changed,
        )
        .await;
    assert_eq!(res.status(), 303);
    let c = find(&app, "ny-bypark-ved-godsbanen")
        .await
        .expect("same slug");
    assert_eq!(c.title, "Ny bypark – opdateret");
    assert!(find(&app, "helt-ny-adresse").await.is_none());
}

both_backends!(citizens_and_politicians_cannot_run_consultations);
async fn citizens_and_politicians_cannot_run_consultations(app: TestApp) {
    // Anonymous: sent to log in.
    let res = app.get("/staff/consultations").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=/staff/consultations");

    let (staff, _) = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .in_browser()
        .await;
    let res = app
        .post_form_with(&staff, "/staff/consultations", NEW)
        .await;
    assert_eq!(res.status(), 303);

    for (email, role) in [
        ("c@example.org", Role::Citizen),
        ("p@example.org", Role::Politician),
    ] {
        let (who, _) = app.user(role).email(email).in_browser().await;
        let (status, page) = app.page_with(&who, "/staff/consultations").await;
        assert_eq!(status, 403, "{email}");
        assert!(page.body.contains("Du har ikke adgang"));
        assert_eq!(app.page_with(&who, "/staff/consultations/new").await.0, 403);
        let res = app.post_form_with(&who, "/staff/consultations", NEW).await;
        assert_eq!(res.status(), 403);
        let res = app
            .post_form_with(
                &who,
                "/staff/consultations/ny-bypark-ved-godsbanen/status",
                &[("to", "open")],
            )
            .await;
        assert_eq!(res.status(), 403);
        let (status, _) = app
            .page_with(&who, "/consultations/ny-bypark-ved-godsbanen")
            .await;
        assert_eq!(status, 404, "drafts stay hidden from {email}");
    }
    assert_eq!(
        find(&app, "ny-bypark-ved-godsbanen").await.unwrap().status,
        samskab::domain::ConsultationStatus::Draft
    );
    assert_eq!(
        consultation::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}

both_backends!(unknown_consultation_is_a_translated_404);
async fn unknown_consultation_is_a_translated_404(app: TestApp) {
    let (status, page) = app.page("/consultations/findes-ikke?lang=en").await;
    assert_eq!(status, 404);
    assert_eq!(page.lang(), "en");
    assert_eq!(page.h1(), "Page not found");
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    let res = transition(&app, "findes-ikke", "open").await;
    assert_eq!(res.status(), 404);
}

both_backends!(the_edit_form_gives_back_a_multi_line_body_unchanged);
async fn the_edit_form_gives_back_a_multi_line_body_unchanged(app: TestApp) {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    let c = create(&app).await;
    let (status, page) = app
        .page("/staff/consultations/ny-bypark-ved-godsbanen/edit")
        .await;
    assert_eq!(status, 200);
    let selector = samskab_tests::scraper::Selector::parse("textarea#body").unwrap();
    let shown: String = page
        .html
        .select(&selector)
        .next()
        .expect("the body field")
        .text()
        .collect();
    // Exactly, whitespace included: saving the form again must not change it.
    assert_eq!(shown, c.body);
    assert!(c.body.contains('\n'), "the test needs a multi-line body");
}
