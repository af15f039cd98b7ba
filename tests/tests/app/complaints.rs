//! "Klag / få hjælp": a citizen complains about a moderation decision on
//! their own statement; another staff member than the one who decided takes
//! and answers it; the answer is shown on "Mine data" and mailed.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{complaint, mail_outbox, moderation_action};
use samskab::services::complaints;
use samskab::services::statements::ModerationAction;

use samskab_tests::{Page, TestApp, both_backends, client, location, visitor};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// A citizen (logged in in the returned client) whose statement moderator
/// `decider` rejected; returns the decision's id too.
async fn rejected_statement(
    app: &TestApp,
    slug: &str,
) -> (reqwest::Client, CurrentUser, CurrentUser, i64) {
    let decider = app.user(Role::Moderator).actor().await;
    let c = app
        .consultation()
        .slug(slug)
        .conversation()
        .pre_moderated()
        .seeds(&["Flere bænke"])
        .by(&decider)
        .open()
        .create()
        .await;
    let (browser, citizen) = app.user(Role::Citizen).in_browser().await;
    let me = CurrentUser::from_model(&citizen);
    let s = app
        .participant_statement(&c, &visitor(&me), "Fjern alle biler fra midtbyen")
        .await;
    app.moderate_statement(
        &decider,
        slug,
        s.id,
        ModerationAction::Reject,
        "Udsagnet findes allerede",
    )
    .await;
    let decision = moderation_action::Entity::find()
        .filter(moderation_action::Column::SubjectType.eq("statement"))
        .filter(moderation_action::Column::SubjectId.eq(s.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the decision is recorded");
    (browser, me, decider, decision.id)
}

both_backends!(a_complaint_is_handled_by_another_staff_member_and_answered);
async fn a_complaint_is_handled_by_another_staff_member_and_answered(app: TestApp) {
    let (browser, me, decider, decision) = rejected_statement(&app, "midtbyen").await;

    // "Mine data" shows the decision with its reason and the way to complain.
    let (status, page) = app.page_with(&browser, "/account/data").await;
    assert_eq!(status, 200);
    let decisions = page.text("#my-decisions").unwrap();
    assert!(
        decisions.contains("Udsagnet findes allerede"),
        "{decisions}"
    );
    let href = format!("/complaints/new?decision={decision}");
    assert!(page.attrs("#my-decisions a", "href").contains(&href));
    let (status, page) = app.page_with(&browser, &href).await;
    assert_eq!(status, 200);
    assert!(
        page.text("#complaint-decision")
            .unwrap()
            .contains("Udsagnet findes allerede")
    );

    // Too short: refused next to the field, nothing stored.
    let res = app
        .post_form_with(
            &browser,
            "/complaints",
            &[("decision", &decision.to_string()), ("body", "nej")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = Page::parse(&res.text().await.unwrap());
    assert!(page.text("#body-error").is_some());
    assert_eq!(complaint::Entity::find().count(&app.db).await.unwrap(), 0);

    let res = app
        .post_form_with(
            &browser,
            "/complaints",
            &[
                ("decision", &decision.to_string()),
                (
                    "body",
                    "Mit udsagn handler om noget andet end det, der findes.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/data#complaints");
    let filed = complaint::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(filed.status, "received");
    assert_eq!(filed.user_id, me.id);
    assert_eq!(filed.decided_by, Some(decider.id));

    // The moderator who decided sees it, without the button, and why.
    let decider_browser = client();
    app.login_with(&decider_browser, decider.email.as_deref().unwrap())
        .await;
    let (status, page) = app.page_with(&decider_browser, "/staff/complaints").await;
    assert_eq!(status, 200);
    let item = page.text(&format!("#complaint-{}", filed.id)).unwrap();
    assert!(item.contains("Modtaget"), "{item}");
    assert!(item.contains("traf selv afgørelsen"), "{item}");
    assert!(
        page.attrs("form", "action")
            .iter()
            .all(|a| !a.contains(&format!("/staff/complaints/{}/take", filed.id)))
    );
    // And is refused when trying anyway.
    let path = format!("/staff/complaints/{}/take", filed.id);
    let res = app.post_form_with(&decider_browser, &path, &[]).await;
    assert_eq!(res.status(), 409);
    let still = complaint::Entity::find_by_id(filed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, "received");

    // Another moderator takes it and answers.
    let (other_browser, other) = app.user(Role::Moderator).in_browser().await;
    let (_, page) = app.page_with(&other_browser, "/staff/complaints").await;
    assert!(page.attrs("form", "action").contains(&path));
    let res = app.post_form_with(&other_browser, &path, &[]).await;
    assert_eq!(res.status(), 303);
    let taken = complaint::Entity::find_by_id(filed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.status.as_str(), taken.handler_id),
        ("handling", Some(other.id))
    );
    // Taking twice: refused, nothing changes.
    let res = app.post_form_with(&other_browser, &path, &[]).await;
    assert_eq!(res.status(), 409);
    let answer_path = format!("/staff/complaints/{}/answer", filed.id);
    let res = app
        .post_form_with(&other_browser, &answer_path, &[("answer", " ")])
        .await;
    assert_eq!(res.status(), 400);
    let res = app
        .post_form_with(
            &other_browser,
            &answer_path,
            &[("answer", "Du har ret. Udsagnet er nu godkendt.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let answered = complaint::Entity::find_by_id(filed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered.status, "answered");
    assert!(answered.answered_at.is_some());
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(me.id))
        .filter(mail_outbox::Column::Kind.eq(samskab::domain::MailKind::ComplaintAnswered))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(mails, 1, "the answer is mailed");

    // The answer on "Mine data".
    let (_, page) = app.page_with(&browser, "/account/data").await;
    let mine = page.text("#my-complaints").unwrap();
    assert!(mine.contains("Besvaret"), "{mine}");
    assert!(mine.contains("Udsagnet er nu godkendt"), "{mine}");
}

both_backends!(the_different_reviewer_rule);
async fn the_different_reviewer_rule(app: TestApp) {
    let (browser, me, decider, decision) = rejected_statement(&app, "reglen").await;
    let _ = browser;
    let filed = complaints::submit(&app.db, &me, Some(decision), "Det er en fejl, synes jeg.")
        .await
        .unwrap();
    let other = app.user(Role::Moderator).actor().await;
    let admin = app.user(Role::Admin).actor().await;
    assert_eq!(
        complaints::may_handle(&decider, &filed),
        Err("complaints.own_decision")
    );
    assert_eq!(complaints::may_handle(&other, &filed), Ok(()));
    assert_eq!(complaints::may_handle(&admin, &filed), Ok(()));
    assert_eq!(
        complaints::may_handle(&me, &filed),
        Err("complaints.not_staff")
    );
    // Two staff members at once: one takes it.
    let (a, b) = tokio::join!(
        complaints::take(&app.db, &other, filed.id),
        complaints::take(&app.db, &admin, filed.id)
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    let taken = complaint::Entity::find_by_id(filed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let handler = taken.handler_id.unwrap();
    let not_handler = if handler == other.id { &admin } else { &other };
    assert_eq!(
        complaints::may_answer(not_handler, &taken),
        Err("complaints.not_yours")
    );
    assert!(
        complaints::answer(&app.db, &decider, filed.id, "Nej.")
            .await
            .is_err()
    );
    // A general complaint has no decider: anyone on the staff may take it.
    let general = complaints::submit(&app.db, &me, None, "Jeg kan ikke finde mine data.")
        .await
        .unwrap();
    assert_eq!(complaints::may_handle(&decider, &general), Ok(()));
}

both_backends!(nobody_complains_about_someone_elses_decision);
async fn nobody_complains_about_someone_elses_decision(app: TestApp) {
    let (_, _, _, decision) = rejected_statement(&app, "andres").await;
    let (stranger, _) = app.user(Role::Citizen).in_browser().await;
    let (status, page) = app
        .page_with(&stranger, &format!("/complaints/new?decision={decision}"))
        .await;
    assert_eq!(status, 404);
    assert!(!page.body.contains("Udsagnet findes allerede"));
    let res = app
        .post_form_with(
            &stranger,
            "/complaints",
            &[
                ("decision", &decision.to_string()),
                ("body", "Jeg klager over en andens sag."),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(complaint::Entity::find().count(&app.db).await.unwrap(), 0);
    // The staff queue is for staff only.
    assert_eq!(
        app.get_with(&stranger, "/staff/complaints").await.status(),
        403
    );
    // Without login: to the login page.
    let res = client()
        .get(app.url("/complaints/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

both_backends!(notifications_tell_of_moderation_and_replies);
async fn notifications_tell_of_moderation_and_replies(app: TestApp) {
    let (browser, _, _, _) = rejected_statement(&app, "beskeder").await;
    let (status, page) = app.page_with(&browser, "/notifications").await;
    assert_eq!(status, 200);
    let text = page.text(".notifications").unwrap();
    assert!(
        text.contains("Dit udsagn er afvist. Begrundelse: Udsagnet findes allerede"),
        "{text}"
    );
    assert!(
        page.attrs(".notifications a", "href")
            .contains(&"/consultations/beskeder".to_owned())
    );

    // A reply to my comment (the builder's other citizen replies to it).
    let a = app
        .citizen_who_did_everything("svar", "svar@example.org", "Svend Svar")
        .await;
    let replies = samskab::entities::notification::Entity::find()
        .filter(samskab::entities::notification::Column::UserId.eq(a.user.id))
        .filter(
            samskab::entities::notification::Column::Kind
                .eq(samskab::domain::NotificationKind::CommentReply),
        )
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(replies, 1, "the other citizen's reply");
    let reader = client();
    app.login_with(&reader, "svar@example.org").await;
    let (_, page) = app.page_with(&reader, "/notifications").await;
    let text = page.text(".notifications").unwrap();
    assert!(text.contains("svaret på din kommentar"), "{text}");
    assert!(text.contains("Flere træer på torvet"), "{text}");
}
