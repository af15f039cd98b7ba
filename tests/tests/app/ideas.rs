use futures::future::join_all;
use samskab::auth::Role;
use samskab::entities::{
    comment, idea, idea_follow, idea_status_change, idea_support, moderation_action, notification,
};
use samskab::services::consultations::Status;
use samskab_tests::{ConsultationBuilder, Page, TestApp, both_backends, location};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const SLUG: &str = "cykelstier-i-hasle";

/// The consultation these tests use: ideas with a support threshold of 3
/// and two categories, post-moderated, made by a fresh moderator.
fn hasle(app: &TestApp) -> ConsultationBuilder<'_> {
    app.consultation()
        .title("Cykelstier i Hasle")
        .summary("Hvor skal der cykelstier?")
        .body("Fortæl os det.")
        .with_ideas()
        .support_threshold(3)
        .categories(&["Kryds", "Belysning"])
}

async fn propose_with(
    app: &TestApp,
    client: &reqwest::Client,
    title: &str,
    body: &str,
) -> reqwest::Response {
    app.post_form_with(
        client,
        &format!("/consultations/{SLUG}/ideas"),
        &[
            ("title", title),
            ("body", body),
            ("category", "Kryds"),
            ("place", "Hasle Ringvej"),
        ],
    )
    .await
}

/// Propose as `app.client`; returns the new idea.
async fn propose(app: &TestApp, title: &str) -> idea::Model {
    let res = propose_with(app, &app.client, title, "Der mangler **lys**.").await;
    assert_eq!(res.status(), 303, "proposing {title}");
    let id: i64 = location(&res)
        .trim_start_matches("/ideas/")
        .parse()
        .unwrap();
    idea::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn citizen(app: &TestApp, email: &str) -> reqwest::Client {
    app.user(Role::Citizen).email(email).in_browser().await.0
}

async fn staff(app: &TestApp, email: &str) -> reqwest::Client {
    app.user(Role::Moderator).email(email).in_browser().await.0
}

async fn reload(app: &TestApp, id: i64) -> idea::Model {
    idea::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn ideas_count(app: &TestApp) -> u64 {
    idea::Entity::find().count(&app.db).await.unwrap()
}

async fn body_of(res: reqwest::Response) -> Page {
    Page::parse(&res.text().await.unwrap())
}

both_backends!(citizen_proposes_an_idea_that_is_published_at_once);
async fn citizen_proposes_an_idea_that_is_published_at_once(app: TestApp) {
    hasle(&app).open().create().await;
    let me = app
        .user(Role::Citizen)
        .email("borger@example.org")
        .logged_in()
        .await;
    let res = propose_with(
        &app,
        &app.client,
        "Lys på stien ved Hasle Ringvej",
        "Stien er **mørk** om vinteren.<script>alert(1)</script>",
    )
    .await;
    assert_eq!(res.status(), 303);
    let path = location(&res);
    let (status, page) = app.page(&path).await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Lys på stien ved Hasle Ringvej");
    assert!(page.body.contains("Tak! Din idé er offentliggjort."));
    assert_eq!(page.text(".idea .prose strong").unwrap(), "mørk");
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("Hasle Ringvej"));

    let stored = idea::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.status, samskab::domain::IdeaStatus::Published);
    assert_eq!(stored.author_id, Some(me.id));
    assert_eq!(stored.category.as_deref(), Some("Kryds"));
    assert!(stored.published_at.is_some());
    let follows = idea_follow::Entity::find()
        .filter(idea_follow::Column::UserId.eq(me.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(follows, 1, "authors follow their idea");

    let public = samskab_tests::client();
    let (_, list) = app
        .page_with(&public, &format!("/consultations/{SLUG}/ideas"))
        .await;
    assert_eq!(
        list.texts(".idea-card .card-title"),
        vec!["Lys på stien ved Hasle Ringvej"]
    );
    let (_, consultation) = app
        .page_with(&public, &format!("/consultations/{SLUG}"))
        .await;
    assert!(
        consultation
            .attrs("a", "href")
            .contains(&format!("/consultations/{SLUG}/ideas"))
    );
}

both_backends!(bad_idea_input_is_refused_with_messages_and_nothing_stored);
async fn bad_idea_input_is_refused_with_messages_and_nothing_stored(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("borger@example.org")
        .logged_in()
        .await;
    let long_body = "x".repeat(5_001);
    let res = app
        .post_form(
            &format!("/consultations/{SLUG}/ideas"),
            &[
                ("title", ""),
                ("body", &long_body),
                ("category", "Findes ikke"),
                ("place", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = body_of(res).await;
    assert_eq!(page.attr("#title", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(page.text("#title-error").unwrap(), "Udfyld feltet.");
    assert_eq!(page.text("#body-error").unwrap(), "Teksten er for lang.");
    assert_eq!(
        page.text("#category-error").unwrap(),
        "Vælg en af mulighederne."
    );
    assert!(
        page.attr("#body", "aria-describedby")
            .unwrap()
            .contains("body-error")
    );
    assert_eq!(page.attr("#title", "maxlength").as_deref(), Some("120"));
    let too_long_title = "t".repeat(121);
    let res = app
        .post_form(
            &format!("/consultations/{SLUG}/ideas"),
            &[("title", &too_long_title), ("body", "ok")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(ideas_count(&app).await, 0);
}

both_backends!(acting_without_eligibility_is_refused);
async fn acting_without_eligibility_is_refused(app: TestApp) {
    hasle(&app).open().create().await;
    // Not logged in: sent to the login page, nothing stored.
    let res = app
        .post_form(
            &format!("/consultations/{SLUG}/ideas"),
            &[("title", "Noget"), ("body", "Tekst")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));
    assert_eq!(ideas_count(&app).await, 0);

    app.user(Role::Citizen)
        .email("borger@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Før lukning").await;
    let other = citizen(&app, "anden@example.org").await;

    // Close the consultation: nothing may be done any more.
    let admin = app.user(Role::Admin).email("a@example.org").actor().await;
    app.transition(&admin, SLUG, Status::Closed).await;
    let res = propose_with(&app, &app.client, "Efter lukning", "Tekst").await;
    assert_eq!(res.status(), 409);
    assert!(body_of(res).await.body.contains("Høringen er ikke åben"));
    let (status, _) = app.page(&format!("/consultations/{SLUG}/ideas/new")).await;
    assert_eq!(status, 409);
    let res = app
        .post_form_with(&other, &format!("/ideas/{}/support", i.id), &[])
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form_with(
            &other,
            &format!("/ideas/{}/comments", i.id),
            &[("body", "Hej")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(ideas_count(&app).await, 1);
    assert_eq!(reload(&app, i.id).await.support_count, 0);
    assert_eq!(comment::Entity::find().count(&app.db).await.unwrap(), 0);
}

both_backends!(supports_are_one_per_person_and_can_be_withdrawn);
async fn supports_are_one_per_person_and_can_be_withdrawn(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Flere cykelparkeringer").await;
    let supporter = citizen(&app, "stoette@example.org").await;
    let path = format!("/ideas/{}/support", i.id);

    let res = app.post_form_with(&supporter, &path, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(reload(&app, i.id).await.support_count, 1);
    let (_, page) = app.page_with(&supporter, &format!("/ideas/{}", i.id)).await;
    assert!(page.body.contains("Du støtter denne idé."));

    let res = app.post_form_with(&supporter, &path, &[]).await;
    assert_eq!(res.status(), 409, "supporting twice");
    assert!(
        body_of(res)
            .await
            .body
            .contains("Du støtter allerede denne idé.")
    );
    assert_eq!(reload(&app, i.id).await.support_count, 1);

    let res = app.post_form(&path, &[]).await;
    assert_eq!(res.status(), 409, "own idea");
    assert!(body_of(res).await.body.contains("egen idé"));

    // Editing is over once someone supports it.
    let res = app
        .post_form(
            &format!("/ideas/{}/edit", i.id),
            &[("title", "Ny titel"), ("body", "Ny tekst")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(reload(&app, i.id).await.title, "Flere cykelparkeringer");

    let res = app
        .post_form_with(&supporter, &format!("/ideas/{}/unsupport", i.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(reload(&app, i.id).await.support_count, 0);
    assert_eq!(
        idea_support::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    let res = app
        .post_form_with(&supporter, &format!("/ideas/{}/unsupport", i.id), &[])
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(reload(&app, i.id).await.support_count, 0);
}

both_backends!(authors_may_support_their_own_idea_when_the_consultation_allows_it);
async fn authors_may_support_their_own_idea_when_the_consultation_allows_it(app: TestApp) {
    hasle(&app).allow_self_support().open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Egen støtte").await;
    let res = app
        .post_form(&format!("/ideas/{}/support", i.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(reload(&app, i.id).await.support_count, 1);
}

both_backends!(authors_edit_unsupported_ideas_and_nobody_edits_others);
async fn authors_edit_unsupported_ideas_and_nobody_edits_others(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Første titel").await;
    let res = app
        .post_form(
            &format!("/ideas/{}/edit", i.id),
            &[
                ("title", "Bedre titel"),
                ("body", "Bedre tekst"),
                ("category", "Belysning"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = reload(&app, i.id).await;
    assert_eq!(stored.title, "Bedre titel");
    assert_eq!(stored.category.as_deref(), Some("Belysning"));
    assert_eq!(stored.place, None);

    let other = citizen(&app, "anden@example.org").await;
    let res = app
        .post_form_with(
            &other,
            &format!("/ideas/{}/edit", i.id),
            &[("title", "Kapret"), ("body", "Kapret")],
        )
        .await;
    assert_eq!(res.status(), 403, "forged id of someone else's idea");
    let res = app
        .post_form_with(&other, &format!("/ideas/{}/withdraw", i.id), &[])
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post_form_with(&other, "/ideas/999999/support", &[])
        .await;
    assert_eq!(res.status(), 404);
    let stored = reload(&app, i.id).await;
    assert_eq!(stored.title, "Bedre titel");
    assert_eq!(stored.status, samskab::domain::IdeaStatus::Published);

    let res = app
        .post_form(&format!("/ideas/{}/withdraw", i.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        reload(&app, i.id).await.status,
        samskab::domain::IdeaStatus::Withdrawn
    );
    let (_, list) = app.page(&format!("/consultations/{SLUG}/ideas")).await;
    assert!(
        list.texts(".idea-card .card-title").is_empty(),
        "withdrawn ideas leave the list"
    );
}

both_backends!(reaching_the_threshold_awaits_the_council_and_reaches_the_dashboard);
async fn reaching_the_threshold_awaits_the_council_and_reaches_the_dashboard(app: TestApp) {
    hasle(&app).open().create().await; // threshold 3
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Sikker krydsning ved skolen").await;
    for n in 0..3 {
        let c = citizen(&app, &format!("s{n}@example.org")).await;
        let res = app
            .post_form_with(&c, &format!("/ideas/{}/support", i.id), &[])
            .await;
        assert_eq!(res.status(), 303);
        let expected = if n < 2 {
            samskab::domain::IdeaStatus::Published
        } else {
            samskab::domain::IdeaStatus::AwaitingAnswer
        };
        assert_eq!(reload(&app, i.id).await.status, expected);
    }
    let history: Vec<String> = idea_status_change::Entity::find()
        .filter(idea_status_change::Column::IdeaId.eq(i.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.to_status.as_str().to_owned())
        .collect();
    assert_eq!(history, vec!["published", "awaiting_answer"]);

    let s = staff(&app, "mod@example.org").await;
    let (status, page) = app.page_with(&s, "/staff/ideas").await;
    assert_eq!(status, 200);
    assert!(
        page.texts("#awaiting-heading + ul a")
            .contains(&"Sikker krydsning ved skolen".to_string())
    );
    let (status, _) = app.page("/staff/ideas").await;
    assert_eq!(status, 403, "citizens have no dashboard");
}

both_backends!(parallel_supports_never_lose_or_double_a_count);
async fn parallel_supports_never_lose_or_double_a_count(app: TestApp) {
    hasle(&app).support_threshold(1000).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Populær idé").await;
    let mut clients = Vec::new();
    for n in 0..20 {
        clients.push(citizen(&app, &format!("p{n}@example.org")).await);
    }
    let path = format!("/ideas/{}/support", i.id);
    // Every person supports twice at once: a double submit changes nothing.
    let results = join_all(
        clients
            .iter()
            .chain(clients.iter())
            .map(|c| app.post_form_with(c, &path, &[])),
    )
    .await;
    let ok = results.iter().filter(|r| r.status() == 303).count();
    let dup = results.iter().filter(|r| r.status() == 409).count();
    assert_eq!((ok, dup), (20, 20), "each person counted exactly once");
    let rows = idea_support::Entity::find()
        .filter(idea_support::Column::IdeaId.eq(i.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 20);
    assert_eq!(reload(&app, i.id).await.support_count, 20);
}

both_backends!(pre_moderated_ideas_stay_hidden_until_published);
async fn pre_moderated_ideas_stay_hidden_until_published(app: TestApp) {
    hasle(&app).pre_moderated().open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let res = propose_with(&app, &app.client, "Skjult til godkendt", "Tekst").await;
    assert_eq!(res.status(), 303);
    let path = location(&res);
    let i = idea::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(i.status, samskab::domain::IdeaStatus::Submitted);
    let (status, page) = app.page(&path).await;
    assert_eq!(status, 200, "the author sees it");
    assert!(page.body.contains("moderator"));

    let public = samskab_tests::client();
    assert_eq!(app.page_with(&public, &path).await.0, 404);
    let other = citizen(&app, "anden@example.org").await;
    assert_eq!(app.page_with(&other, &path).await.0, 404);
    let res = app
        .post_form_with(&other, &format!("{path}/comments"), &[("body", "Hej")])
        .await;
    assert_eq!(res.status(), 404, "a hidden idea does not exist for others");
    let res = app
        .post_form(&format!("{path}/comments"), &[("body", "Hej")])
        .await;
    assert_eq!(res.status(), 409, "commenting on a hidden idea");
    assert!(body_of(res).await.body.contains("ikke offentliggjort"));
    let (_, list) = app
        .page_with(&public, &format!("/consultations/{SLUG}/ideas"))
        .await;
    assert!(list.texts(".idea-card").is_empty());
    let api = app.get(&format!("/api/v1/ideas/{}", i.id)).await;
    assert_eq!(api.status(), 404);

    let s = staff(&app, "mod@example.org").await;
    let (_, dash) = app.page_with(&s, "/staff/ideas").await;
    assert!(
        dash.texts("#submitted-heading + ul a")
            .contains(&"Skjult til godkendt".to_string())
    );
    let res = app
        .post_form_with(
            &s,
            &format!("{path}/status"),
            &[("to", "rejected"), ("response", "")],
        )
        .await;
    assert_eq!(
        res.status(),
        422,
        "a rejection needs an official response (approval does not: see deadlines::)"
    );
    let page = body_of(res).await;
    assert_eq!(page.text("#response-error").unwrap(), "Udfyld feltet.");
    assert_eq!(
        reload(&app, i.id).await.status,
        samskab::domain::IdeaStatus::Submitted
    );

    let res = app
        .post_form_with(
            &s,
            &format!("{path}/status"),
            &[("to", "published"), ("response", "Godkendt.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.page_with(&public, &path).await.0, 200);
    let actions = moderation_action::Entity::find()
        .filter(moderation_action::Column::SubjectType.eq("idea"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].action, "publish");
    assert_eq!(actions[0].reason, "Godkendt.");
    assert!(actions[0].actor_id.is_some());
}

both_backends!(staff_answer_through_the_workflow_and_followers_are_notified);
async fn staff_answer_through_the_workflow_and_followers_are_notified(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Bænke langs åen").await;
    let path = format!("/ideas/{}", i.id);
    let supporter = citizen(&app, "stoette@example.org").await;
    app.post_form_with(&supporter, &format!("{path}/support"), &[])
        .await;

    // Citizens cannot change the status.
    let res = app
        .post_form(
            &format!("{path}/status"),
            &[("to", "under_review"), ("response", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);

    let s = staff(&app, "mod@example.org").await;
    let res = app
        .post_form_with(
            &s,
            &format!("{path}/status"),
            &[("to", "implemented"), ("response", "Spring over")],
        )
        .await;
    assert_eq!(res.status(), 409, "steps cannot be skipped");
    for (to, response) in [
        ("under_review", "Vi ser på sagen."),
        ("accepted", "Byrådet har vedtaget **tre nye bænke**."),
    ] {
        let res = app
            .post_form_with(
                &s,
                &format!("{path}/status"),
                &[("to", to), ("response", response)],
            )
            .await;
        assert_eq!(res.status(), 303, "to {to}");
    }
    assert_eq!(
        reload(&app, i.id).await.status,
        samskab::domain::IdeaStatus::Accepted
    );

    let (_, page) = app.page(&path).await;
    assert_eq!(page.text(".answer .prose strong").unwrap(), "tre nye bænke");
    assert_eq!(
        page.texts(".history-status"),
        vec!["Offentliggjort", "Under behandling", "Vedtaget"]
    );
    // Both the author and the supporter follow automatically.
    for client in [&app.client, &supporter] {
        let (_, page) = app.page_with(client, "/").await;
        assert_eq!(page.text(".site-nav .count").unwrap(), "2 ulæste");
        let (status, list) = app.page_with(client, "/notifications").await;
        assert_eq!(status, 200);
        let items = list.texts(".notifications li");
        assert_eq!(items.len(), 2);
        assert!(items[0].contains("Vedtaget"));
    }
    let res = app.post_form("/notifications/read", &[]).await;
    assert_eq!(res.status(), 303);
    let unread = notification::Entity::find()
        .filter(notification::Column::ReadAt.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(unread, 2, "only the author's were marked read");
    let (_, page) = app.page("/").await;
    assert!(page.text(".site-nav .count").is_none());

    // Someone who unfollows hears nothing more.
    app.post_form_with(&supporter, &format!("{path}/unfollow"), &[])
        .await;
    app.post_form_with(
        &s,
        &format!("{path}/status"),
        &[("to", "implemented"), ("response", "Bænkene står der nu.")],
    )
    .await;
    let supporter_notes = notification::Entity::find()
        .filter(notification::Column::UserId.ne(i.author_id.unwrap()))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(supporter_notes, 2);
}

both_backends!(comments_thread_three_deep_edit_for_a_while_and_delete_in_place);
async fn comments_thread_three_deep_edit_for_a_while_and_delete_in_place(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Træer på torvet").await;
    let path = format!("/ideas/{}/comments", i.id);
    let other = citizen(&app, "anden@example.org").await;

    let res = app.post_form_with(&other, &path, &[("body", "")]).await;
    assert_eq!(res.status(), 422);
    let page = body_of(res).await;
    assert_eq!(page.text("#comment-body-error").unwrap(), "Udfyld feltet.");
    assert_eq!(comment::Entity::find().count(&app.db).await.unwrap(), 0);

    let mut parent: Option<i64> = None;
    for n in 1..=3 {
        let pid = parent.map(|p| p.to_string()).unwrap_or_default();
        let res = app
            .post_form_with(
                &other,
                &path,
                &[("body", &format!("Niveau {n}")), ("parent_id", &pid)],
            )
            .await;
        assert_eq!(res.status(), 303, "level {n}");
        let c = comment::Entity::find()
            .filter(comment::Column::Body.eq(format!("Niveau {n}")))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.depth, n);
        parent = Some(c.id);
    }
    let deepest = parent.unwrap().to_string();
    let res = app
        .post_form_with(
            &other,
            &path,
            &[("body", "Niveau 4"), ("parent_id", &deepest)],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(body_of(res).await.body.contains("tre niveauer"));
    assert_eq!(reload(&app, i.id).await.comment_count, 3);

    let (_, page) = app.page(&format!("/ideas/{}", i.id)).await;
    assert_eq!(
        page.texts(".comment-body"),
        vec!["Niveau 1", "Niveau 2", "Niveau 3"]
    );
    assert_eq!(page.texts("li.depth-3 .comment-body"), vec!["Niveau 3"]);

    let first = comment::Entity::find()
        .filter(comment::Column::Body.eq("Niveau 1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let res = app
        .post_form_with(
            &other,
            &format!("/comments/{}/edit", first.id),
            &[("body", "Rettet")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &format!("/comments/{}/edit", first.id),
            &[("body", "Kapret")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post_form(&format!("/comments/{}/delete", first.id), &[])
        .await;
    assert_eq!(res.status(), 403);

    // After 15 minutes the text stays as it is.
    comment::Entity::update_many()
        .col_expr(
            comment::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(16)),
        )
        .filter(comment::Column::Id.eq(first.id))
        .exec(&app.db)
        .await
        .unwrap();
    let res = app
        .post_form_with(
            &other,
            &format!("/comments/{}/edit", first.id),
            &[("body", "For sent")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let stored = comment::Entity::find_by_id(first.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.body, "Rettet");
    assert!(stored.edited_at.is_some());

    let res = app
        .post_form_with(&other, &format!("/comments/{}/delete", first.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let stored = comment::Entity::find_by_id(first.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.body.as_str()),
        ("deleted", "")
    );
    let (_, page) = app.page(&format!("/ideas/{}", i.id)).await;
    assert_eq!(page.texts(".comment-body"), vec!["Niveau 2", "Niveau 3"]);
    assert!(page.body.contains("Kommentaren er slettet af forfatteren."));
    assert_eq!(
        page.texts("li.comment").len(),
        3,
        "the place in the thread stays"
    );
}

both_backends!(flags_hide_a_comment_until_a_moderator_decides);
async fn flags_hide_a_comment_until_a_moderator_decides(app: TestApp) {
    hasle(&app).comment_flag_threshold(2).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Hundeskov").await;
    app.post_form(
        &format!("/ideas/{}/comments", i.id),
        &[("body", "Grim kommentar")],
    )
    .await;
    let c = comment::Entity::find().one(&app.db).await.unwrap().unwrap();
    let flag = format!("/comments/{}/flag", c.id);

    let res = app.post_form(&flag, &[("reason", "Min egen")]).await;
    assert_eq!(res.status(), 409, "own comment");
    let a = citizen(&app, "a@example.org").await;
    let b = citizen(&app, "b@example.org").await;
    let res = app.post_form_with(&a, &flag, &[("reason", "")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        body_of(res).await.text("#reason-error").unwrap(),
        "Udfyld feltet."
    );
    assert_eq!(
        app.post_form_with(&a, &flag, &[("reason", "Personangreb")])
            .await
            .status(),
        303
    );
    let res = app.post_form_with(&a, &flag, &[("reason", "Igen")]).await;
    assert_eq!(res.status(), 409, "one flag per person");
    let stored = comment::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.status.as_str(), stored.flag_count), ("visible", 1));

    assert_eq!(
        app.post_form_with(&b, &flag, &[("reason", "Chikane")])
            .await
            .status(),
        303
    );
    let stored = comment::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, samskab::domain::CommentStatus::Hidden);
    let public = samskab_tests::client();
    let (_, page) = app.page_with(&public, &format!("/ideas/{}", i.id)).await;
    assert!(!page.body.contains("Grim kommentar"));
    assert!(page.body.contains("Kommentaren er skjult af moderering."));
    let api: serde_json::Value = app
        .get(&format!("/api/v1/ideas/{}", i.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["comments"][0]["status"], "hidden");
    assert!(api["comments"][0]["body"].is_null());
    assert!(!api.to_string().contains("Grim kommentar"));

    let s = staff(&app, "mod@example.org").await;
    let (_, dash) = app.page_with(&s, "/staff/ideas").await;
    assert!(dash.body.contains("Grim kommentar"));
    let moderate = format!("/comments/{}/moderate", c.id);
    let res = app
        .post_form_with(&s, &moderate, &[("decision", "restore"), ("reason", "")])
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_form(&moderate, &[("decision", "restore"), ("reason", "Ok")])
        .await;
    assert_eq!(res.status(), 403, "citizens cannot moderate");
    let res = app
        .post_form_with(
            &s,
            &moderate,
            &[("decision", "restore"), ("reason", "Skarp, men saglig.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = comment::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, samskab::domain::CommentStatus::Visible);
    // A third flag after the decision does not hide it again.
    let c3 = citizen(&app, "c@example.org").await;
    app.post_form_with(&c3, &flag, &[("reason", "Stadig grim")])
        .await;
    let stored = comment::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, samskab::domain::CommentStatus::Visible);
    let res = app
        .post_form_with(
            &s,
            &moderate,
            &[("decision", "hide"), ("reason", "Alligevel for groft.")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let actions: Vec<(Option<i64>, String, String)> = moderation_action::Entity::find()
        .filter(moderation_action::Column::SubjectId.eq(c.id))
        .filter(moderation_action::Column::SubjectType.eq("comment"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor_id, a.action, a.reason))
        .collect();
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0].0, None);
    assert_eq!(actions[0].1, "auto_hide");
    assert_eq!(actions[1].1, "restore");
    assert_eq!(actions[1].2, "Skarp, men saglig.");
    assert!(actions[1].0.is_some());
    assert_eq!(actions[2].1, "hide");
}

both_backends!(lists_sort_filter_search_and_paginate);
async fn lists_sort_filter_search_and_paginate(app: TestApp) {
    let c = hasle(&app).open().create().await;
    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let a = propose(&app, "Bedre CYKELSTI på Viborgvej").await;
    let b = propose(&app, "Flere bænke").await;
    let supporter = citizen(&app, "s@example.org").await;
    app.post_form_with(&supporter, &format!("/ideas/{}/support", b.id), &[])
        .await;
    app.post_form_with(
        &supporter,
        &format!("/ideas/{}/comments", a.id),
        &[("body", "Enig")],
    )
    .await;
    idea::Entity::update_many()
        .col_expr(idea::Column::Category, Expr::value("Belysning"))
        .filter(idea::Column::Id.eq(b.id))
        .exec(&app.db)
        .await
        .unwrap();
    let base = format!("/consultations/{SLUG}/ideas");
    let titles = |page: Page| page.texts(".idea-card .card-title");

    let (_, p) = app.page(&base).await;
    assert_eq!(
        titles(p),
        vec!["Flere bænke", "Bedre CYKELSTI på Viborgvej"]
    );
    let (_, p) = app.page(&format!("{base}?sort=most_supported")).await;
    assert_eq!(titles(p)[0], "Flere bænke");
    let (_, p) = app.page(&format!("{base}?sort=most_commented")).await;
    assert_eq!(titles(p)[0], "Bedre CYKELSTI på Viborgvej");
    let (_, p) = app.page(&format!("{base}?q=cykelsti")).await;
    assert_eq!(titles(p), vec!["Bedre CYKELSTI på Viborgvej"]);
    let (_, p) = app.page(&format!("{base}?q=mangler+%2Alys")).await;
    assert!(titles(p).is_empty(), "search text is literal");
    let (_, p) = app.page(&format!("{base}?q=LYS")).await;
    assert_eq!(titles(p).len(), 2, "body text is searched too");
    let (_, p) = app.page(&format!("{base}?category=Belysning")).await;
    assert_eq!(titles(p), vec!["Flere bænke"]);
    let (_, p) = app.page(&format!("{base}?status=awaiting_answer")).await;
    assert!(titles(p).is_empty());
    assert_eq!(app.page(&format!("{base}?sort=random")).await.0, 400);
    assert_eq!(app.page(&format!("{base}?status=submitted")).await.0, 400);
    assert_eq!(app.page(&format!("{base}?category=Nope")).await.0, 400);

    // 25 more ideas straight into the database: two pages.
    let now = chrono::Utc::now();
    for n in 0..25 {
        idea::ActiveModel {
            consultation_id: Set(c.id),
            author_id: Set(a.author_id),
            title: Set(format!("Idé nummer {n:02}")),
            body: Set("Tekst".into()),
            status: Set(samskab::domain::IdeaStatus::Published),
            support_count: Set(0),
            comment_count: Set(0),
            published_at: Set(Some(now)),
            created_at: Set(now + chrono::Duration::seconds(n)),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let (_, p1) = app.page(&base).await;
    assert_eq!(p1.texts(".idea-card").len(), 20);
    let next = p1.attr("a[rel=next]", "href").unwrap();
    let (_, p2) = app.page(&next).await;
    assert_eq!(p2.texts(".idea-card").len(), 7);
    assert!(p2.attr("a[rel=next]", "href").is_none());
    assert!(p2.attr("a[rel=prev]", "href").is_some());
}

both_backends!(json_api_lists_public_data_only);
async fn json_api_lists_public_data_only(app: TestApp) {
    hasle(&app).open().create().await;
    let admin = app.user(Role::Admin).email("a@example.org").actor().await;
    app.consultation()
        .title("Hemmelig kladde")
        .summary("Kladde")
        .by(&admin)
        .create()
        .await;
    let closed = app
        .consultation()
        .title("Lukket høring")
        .summary("Lukket")
        .by(&admin)
        .closed()
        .create()
        .await;
    assert_eq!(closed.slug, "lukket-hoering");

    app.user(Role::Citizen)
        .email("forfatter@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "API-idé").await;
    app.post_form(
        &format!("/ideas/{}/comments", i.id),
        &[("body", "Første kommentar")],
    )
    .await;

    let public = samskab_tests::client();
    let get = |path: String| {
        let public = public.clone();
        let url = app.url(&path);
        async move {
            let res = public.get(url).send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert!(
                !text.contains("@example.org"),
                "no email addresses in {path}"
            );
            (
                status,
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            )
        }
    };
    let (status, list) = get("/api/v1/consultations".into()).await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert!(slugs.contains(&SLUG) && slugs.contains(&"lukket-hoering"));
    assert!(!slugs.contains(&"hemmelig-kladde"));
    assert!(list["next"].is_null());
    let (_, open) = get("/api/v1/consultations?status=open".into()).await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let (status, err) = get("/api/v1/consultations?status=draft".into()).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["status"], 400);

    let (status, detail) = get(format!("/api/v1/consultations/{SLUG}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["slug"], SLUG);
    assert_eq!(detail["categories"][0], "Kryds");
    assert_eq!(
        get("/api/v1/consultations/hemmelig-kladde".into()).await.0,
        404
    );

    let (status, ideas) = get(format!("/api/v1/consultations/{SLUG}/ideas")).await;
    assert_eq!(status, 200);
    assert_eq!(ideas["items"][0]["title"], "API-idé");
    assert_eq!(ideas["items"][0]["author"], "forfatter");
    assert!(ideas["next"].is_null());
    let (status, one) = get(format!("/api/v1/ideas/{}", i.id)).await;
    assert_eq!(status, 200);
    assert_eq!(one["comments"][0]["body"], "Første kommentar");
    assert_eq!(one["history"][0]["status"], "published");
    let (status, err) = get("/api/v1/ideas/424242".into()).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["status"], 404);

    let (status, doc) = get("/api/v1/openapi.json".into()).await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/consultations",
        "/api/v1/consultations/{slug}",
        "/api/v1/consultations/{slug}/ideas",
        "/api/v1/ideas/{id}",
        "/api/v1/consultations/{slug}/statements",
        "/api/v1/consultations/{slug}/opinion",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["IdeaDetail"].is_object());
    assert!(doc["components"]["schemas"]["ApiOpinion"].is_object());
}

both_backends!(api_pages_with_a_cursor);
async fn api_pages_with_a_cursor(app: TestApp) {
    let c = hasle(&app).open().create().await;
    let now = chrono::Utc::now();
    for n in 0..23 {
        idea::ActiveModel {
            consultation_id: Set(c.id),
            author_id: Set(None),
            title: Set(format!("Idé {n}")),
            body: Set("Tekst".into()),
            status: Set(samskab::domain::IdeaStatus::Published),
            support_count: Set(0),
            comment_count: Set(0),
            published_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let first: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{SLUG}/ideas"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let cursor = first["next"].as_str().unwrap().to_owned();
    let second: serde_json::Value = app
        .get(&format!(
            "/api/v1/consultations/{SLUG}/ideas?cursor={cursor}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 3);
    assert!(second["next"].is_null());
    let res = app
        .get(&format!("/api/v1/consultations/{SLUG}/ideas?cursor=abc"))
        .await;
    assert_eq!(res.status(), 400);
}

both_backends!(new_pages_render_in_both_languages);
async fn new_pages_render_in_both_languages(app: TestApp) {
    hasle(&app).open().create().await;
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in()
        .await;
    let i = propose(&app, "Sprogtest").await;
    app.post_form(&format!("/ideas/{}/comments", i.id), &[("body", "Hej")])
        .await;
    let c = comment::Entity::find().one(&app.db).await.unwrap().unwrap();
    for lang in ["da", "en"] {
        for path in [
            format!("/consultations/{SLUG}/ideas"),
            format!("/consultations/{SLUG}/ideas/new"),
            format!("/ideas/{}", i.id),
            format!("/ideas/{}/edit", i.id),
            format!("/comments/{}/edit", c.id),
            format!("/comments/{}/moderate", c.id),
            "/staff/ideas".to_string(),
            "/notifications".to_string(),
            "/staff/consultations/cykelstier-i-hasle/edit".to_string(),
        ] {
            let (status, page) = app.page(&format!("{path}?lang={lang}")).await;
            assert_eq!(status, 200, "{path} in {lang}");
            assert_eq!(page.lang(), lang);
            assert_eq!(page.texts("h1").len(), 1, "one h1 on {path}");
            assert_eq!(
                page.texts("form[method=post]").len(),
                page.attrs("form[method=post] input[name=csrf_token]", "value")
                    .len(),
                "every form on {path} carries the CSRF token"
            );
        }
    }
}
