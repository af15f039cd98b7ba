//! The staff workbench: one moderation queue across consultations, its
//! filters, single and bulk decisions with the optimistic check, the
//! moderation log with CSV export, item history and the staff landing page.

use samskab::auth::Role;
use samskab::domain::{CommentStatus, IdeaStatus, StatementStatus, VotingEligibility};
use samskab::entities::{comment, idea, moderation_action, statement};
use samskab_tests::{TestApp, anonymous, both_backends, location};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

struct Setup {
    old_statement: statement::Model,
    new_statement: statement::Model,
    idea: idea::Model,
    comment: comment::Model,
}

/// Two consultations: "samtale" (pre-moderated conversation, two pending
/// statements, one of them five days old) and "ideer" (pre-moderated ideas:
/// one submitted idea, and a published one with a comment held for an
/// address).
async fn setup(app: &TestApp) -> Setup {
    let staff = app.user(Role::Moderator).actor().await;
    let talk = app
        .consultation()
        .slug("samtale")
        .title("Samtale om parken")
        .conversation()
        .voting(VotingEligibility::Anyone)
        .pre_moderated()
        .by(&staff)
        .open()
        .create()
        .await;
    app.consultation()
        .slug("ideer")
        .title("Idéer til byen")
        .with_ideas()
        .pre_moderated()
        .by(&staff)
        .open()
        .create()
        .await;
    let old_statement = app
        .participant_statement(&talk, &anonymous("a"), "Parken skal have flere træer")
        .await;
    let new_statement = app
        .participant_statement(&talk, &anonymous("b"), "Parken skal have en legeplads")
        .await;
    // Five days in the queue already.
    statement::Entity::update_many()
        .col_expr(
            statement::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(5)),
        )
        .filter(statement::Column::Id.eq(old_statement.id))
        .exec(&app.db)
        .await
        .unwrap();
    let author = app.user(Role::Citizen).name("Bente Borger").actor().await;
    let submitted = app
        .idea(&author, "ideer")
        .title("Bænke ved åen")
        .create()
        .await;
    let published = app
        .idea(&author, "ideer")
        .title("Lys på stien")
        .create()
        .await;
    app.change_idea_status(&staff, published.id, IdeaStatus::Published, "Fint")
        .await;
    let held = app
        .comment(&author, published.id, None, "Kom forbi Bogensevej 12")
        .await;
    assert_eq!(held.status, CommentStatus::Hidden);
    Setup {
        old_statement,
        new_statement,
        idea: submitted,
        comment: held,
    }
}

fn items(page: &samskab_tests::Page) -> Vec<String> {
    page.attrs(".queue-item", "id")
}

both_backends!(the_queue_lists_everything_waiting_oldest_first_with_filters);
async fn the_queue_lists_everything_waiting_oldest_first_with_filters(app: TestApp) {
    let s = setup(&app).await;
    app.user(Role::Moderator).logged_in().await;
    let (status, page) = app.page("/staff/moderation").await;
    assert_eq!(status, 200);
    let ids = items(&page);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(
        ids[0],
        format!("item-statement-{}", s.old_statement.id),
        "oldest first: {ids:?}"
    );
    for want in [
        format!("item-statement-{}", s.new_statement.id),
        format!("item-idea-{}", s.idea.id),
        format!("item-comment-{}", s.comment.id),
    ] {
        assert!(ids.contains(&want), "{want} in {ids:?}");
    }
    // The count in the staff navigation.
    let nav = page
        .text(".site-nav a[href='/staff/moderation'] .count")
        .unwrap();
    assert!(nav.starts_with('4'), "{nav}");
    // Context: consultation, author, votes so far.
    let text = page.text(&format!("#item-idea-{}", s.idea.id)).unwrap();
    assert!(text.contains("Idéer til byen"), "{text}");
    assert!(text.contains("Bente Borger"), "{text}");
    assert!(text.contains("Støtter: 0"), "{text}");
    let text = page
        .text(&format!("#item-statement-{}", s.old_statement.id))
        .unwrap();
    assert!(text.contains("Deltager nr."), "{text}");
    assert!(text.contains("Enig: 0"), "{text}");

    let (_, page) = app.page("/staff/moderation?kind=idea").await;
    assert_eq!(items(&page), vec![format!("item-idea-{}", s.idea.id)]);
    let (_, page) = app.page("/staff/moderation?consultation=samtale").await;
    assert_eq!(items(&page).len(), 2);
    let (_, page) = app.page("/staff/moderation?age=3").await;
    assert_eq!(
        items(&page),
        vec![format!("item-statement-{}", s.old_statement.id)]
    );
    let (_, page) = app
        .page("/staff/moderation?consultation=ideer&kind=comment")
        .await;
    assert_eq!(items(&page), vec![format!("item-comment-{}", s.comment.id)]);
    // Unknown filter values are ignored, an unknown consultation is not found.
    let (status, page) = app.page("/staff/moderation?kind=complaint&age=99").await;
    assert_eq!(status, 200);
    assert_eq!(items(&page).len(), 4);
    let (status, _) = app.page("/staff/moderation?consultation=findes-ikke").await;
    assert_eq!(status, 404);
}

both_backends!(citizens_cannot_see_or_use_the_workbench);
async fn citizens_cannot_see_or_use_the_workbench(app: TestApp) {
    let s = setup(&app).await;
    app.user(Role::Citizen).logged_in().await;
    for path in [
        "/staff",
        "/staff/moderation",
        "/staff/moderation/log",
        "/staff/moderation/log.csv",
        &format!("/staff/moderation/history/statement/{}", s.old_statement.id),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 403, "{path}");
    }
    let res = app
        .post_form(
            "/staff/moderation/decide",
            &[
                ("item", &format!("statement-{}", s.old_statement.id)),
                ("verdict", "approve"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    let still = statement::Entity::find_by_id(s.old_statement.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, StatementStatus::Pending);
}

both_backends!(bulk_decisions_take_one_reason_and_refuse_what_others_decided);
async fn bulk_decisions_take_one_reason_and_refuse_what_others_decided(app: TestApp) {
    let s = setup(&app).await;
    let (first, _) = app
        .user(Role::Moderator)
        .name("Mette Moderator")
        .in_browser()
        .await;
    let (second, _) = app
        .user(Role::Moderator)
        .name("Ole Moderator")
        .in_browser()
        .await;
    let a = format!("statement-{}", s.old_statement.id);
    let b = format!("statement-{}", s.new_statement.id);
    let c = format!("idea-{}", s.idea.id);

    // Ole approves one statement on his own.
    let res = app
        .post_form_with(
            &second,
            "/staff/moderation/decide",
            &[("item", &a), ("verdict", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);

    // Mette, from the queue she loaded before, rejects both with a template.
    let template = "Handler ikke om høringens emne.";
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[
                ("item", &a),
                ("item", &b),
                ("verdict", "reject"),
                ("reason_template", template),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(body.contains("En anden har allerede afgjort"), "{body}");
    let get = |id| {
        let db = app.db.clone();
        async move {
            statement::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        get(s.old_statement.id).await.status,
        StatementStatus::Accepted
    );
    assert_eq!(
        get(s.new_statement.id).await.status,
        StatementStatus::Pending
    );

    // Rejecting without a reason is refused, as is a reason not among the templates.
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[("item", &b), ("item", &c), ("verdict", "reject")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[
                ("item", &b),
                ("verdict", "reject"),
                ("reason_template", "Opdigtet"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Nothing selected.
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[("verdict", "approve")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        get(s.new_statement.id).await.status,
        StatementStatus::Pending
    );

    // The bulk decision on what still waits: a statement and an idea.
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[
                ("item", &b),
                ("item", &c),
                ("verdict", "reject"),
                ("reason_template", template),
                ("back_kind", "statement"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/staff/moderation?consultation=&kind=statement&age="
    );
    let rejected = get(s.new_statement.id).await;
    assert_eq!(rejected.status, StatementStatus::Rejected);
    assert_eq!(rejected.moderation_reason.as_deref(), Some(template));
    let i = idea::Entity::find_by_id(s.idea.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(i.status, IdeaStatus::Rejected);
    let logged = moderation_action::Entity::find()
        .filter(moderation_action::Column::Reason.eq(template))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(logged, 2);

    // The comment is approved: shown again, and the queue is empty.
    let res = app
        .post_form_with(
            &first,
            "/staff/moderation/decide",
            &[
                ("item", &format!("comment-{}", s.comment.id)),
                ("verdict", "approve"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let cm = comment::Entity::find_by_id(s.comment.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cm.status, CommentStatus::Visible);
    assert!(cm.moderated);
    let (_, page) = app.page_with(&first, "/staff/moderation").await;
    assert!(items(&page).is_empty());
    assert!(page.text("#queue-empty").is_some());
}

both_backends!(the_moderation_log_exports_csv_and_shows_an_items_history);
async fn the_moderation_log_exports_csv_and_shows_an_items_history(app: TestApp) {
    let s = setup(&app).await;
    let (staff, _) = app
        .user(Role::Moderator)
        .name("Mette Moderator")
        .in_browser()
        .await;
    let b = format!("statement-{}", s.new_statement.id);
    let res = app
        .post_form_with(
            &staff,
            "/staff/moderation/decide",
            &[
                ("item", &b),
                ("verdict", "reject"),
                ("reason", "=HYPERLINK(\"x\") gentager et andet udsagn"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    let (status, page) = app.page_with(&staff, "/staff/moderation/log").await;
    assert_eq!(status, 200);
    let rows = page.texts("tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("Mette Moderator") && r.contains("Afvist")),
        "{rows:?}"
    );

    let res = app.get_with(&staff, "/staff/moderation/log.csv").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,time,moderator,item_kind,item_id,action,reason,channel"
    );
    let row = csv
        .lines()
        .find(|l| l.contains(&format!(",\"statement\",{},", s.new_statement.id)))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains("Mette Moderator"), "{row}");
    assert!(row.contains("\"statement.rejected\""), "{row}");
    // The reason cannot become a spreadsheet formula.
    assert!(!row.contains("\"=HYPERLINK"), "{row}");
    assert!(row.contains("\"'=HYPERLINK"), "{row}");

    let (status, page) = app
        .page_with(
            &staff,
            &format!("/staff/moderation/history/statement/{}", s.new_statement.id),
        )
        .await;
    assert_eq!(status, 200);
    let rows = page.texts("tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("gentager et andet udsagn"));
    let (status, _) = app
        .page_with(&staff, "/staff/moderation/history/complaint/1")
        .await;
    assert_eq!(status, 404);
}

both_backends!(the_staff_landing_page_shows_my_consultations_and_what_waits);
async fn the_staff_landing_page_shows_my_consultations_and_what_waits(app: TestApp) {
    setup(&app).await;
    let me = app.user(Role::Moderator).logged_in_actor().await;
    app.consultation()
        .slug("min-hoering")
        .title("Min egen høring")
        .with_ideas()
        .by(&me)
        .open()
        .create()
        .await;
    let (status, page) = app.page("/staff").await;
    assert_eq!(status, 200);
    let mine = page.texts("table tbody tr");
    assert_eq!(mine.len(), 1, "only my own consultations: {mine:?}");
    assert!(mine[0].contains("Min egen høring"));
    assert!(
        page.text("#waiting-total").unwrap().contains('4'),
        "{:?}",
        page.text("#waiting-total")
    );
    let waiting = page.texts(".link-list li");
    assert!(
        waiting
            .iter()
            .any(|w| w.contains("Samtale om parken") && w.contains('2')),
        "{waiting:?}"
    );
}
