//! Duplicates: similar statements and ideas are shown before a citizen's own
//! is stored ("Er det det samme som …?", the page that works without
//! JavaScript), and moderators mark a duplicate of another: hidden from
//! voters and idea lists, its votes kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use samskab::auth::Role;
use samskab::domain::VotingEligibility;
use samskab::entities::{idea, moderation_action, statement, vote};
use samskab::services::statements;
use samskab_tests::{TestApp, both_backends, location};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const SEEDS: [&str; 2] = [
    "Der skal være flere cykelstier",
    "Busserne skal køre oftere om aftenen",
];

async fn statement_with(app: &TestApp, body: &str) -> Option<statement::Model> {
    statement::Entity::find()
        .filter(statement::Column::Body.eq(body))
        .one(&app.db)
        .await
        .unwrap()
}

both_backends!(a_similar_statement_is_shown_first_and_a_moderator_marks_the_duplicate);
async fn a_similar_statement_is_shown_first_and_a_moderator_marks_the_duplicate(app: TestApp) {
    let c = app
        .consultation()
        .slug("cykler")
        .conversation()
        .voting(VotingEligibility::Anyone)
        .seeds(&SEEDS)
        .open()
        .create()
        .await;
    let seed = app.statement_ids(c.id).await[0];
    let citizen = samskab_tests::client();

    // Something like an existing statement: asked first, nothing stored.
    let mine = "Vi skal have flere cykelstier i byen";
    let res = app
        .post_form_with(
            &citizen,
            "/consultations/cykler/statements",
            &[("body", mine)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(page.texts(".similar-item"), vec![SEEDS[0].to_owned()]);
    assert_eq!(page.attr("#similar-body", "name").as_deref(), Some("body"));
    assert!(statement_with(&app, mine).await.is_none());
    // Sent anyway.
    let res = app
        .post_form_with(
            &citizen,
            "/consultations/cykler/statements",
            &[("body", mine), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let written = statement_with(&app, mine).await.expect("stored");
    // Something new goes straight through.
    let res = app
        .post_form_with(
            &citizen,
            "/consultations/cykler/statements",
            &[("body", "Legepladsen mangler et toilet")],
        )
        .await;
    assert_eq!(res.status(), 303);

    // A vote on the duplicate before it is marked.
    let res = app
        .post_form_with(
            &citizen,
            &format!("/consultations/cykler/statements/{}/vote", written.id),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 303);

    app.user(Role::Moderator).logged_in().await;
    let history = format!("/staff/moderation/history/statement/{}", written.id);
    let (status, page) = app.page(&history).await;
    assert_eq!(status, 200);
    let offered = page.attrs("#duplicate-of option", "value");
    assert_eq!(offered.first(), Some(&seed.to_string()), "most alike first");
    assert!(!offered.contains(&written.id.to_string()), "not itself");
    let own = written.id.to_string();
    let res = app
        .post_form(&format!("{history}/duplicate"), &[("of", &own)])
        .await;
    assert_eq!(res.status(), 422, "not a duplicate of itself");
    let seed_id = seed.to_string();
    let res = app
        .post_form(&format!("{history}/duplicate"), &[("of", &seed_id)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), history);
    let marked = statement_with(&app, mine).await.unwrap();
    assert_eq!(marked.duplicate_of, Some(seed));
    let logged = moderation_action::Entity::find()
        .filter(moderation_action::Column::Action.eq("duplicate"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    let (_, page) = app.page(&history).await;
    assert!(page.text("#duplicate-current").is_some());

    // No longer offered to voters; its vote is kept.
    let offered: Vec<i64> = statements::list_accepted(&app.db, c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(!offered.contains(&written.id));
    assert!(offered.contains(&seed));
    let kept = vote::Entity::find()
        .filter(vote::Column::StatementId.eq(written.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
}

both_backends!(a_similar_idea_is_shown_first_and_a_marked_duplicate_leaves_the_list);
async fn a_similar_idea_is_shown_first_and_a_marked_duplicate_leaves_the_list(app: TestApp) {
    app.consultation()
        .slug("aaen")
        .with_ideas()
        .open()
        .create()
        .await;
    let first = app.user(Role::Citizen).actor().await;
    let original = app
        .idea(&first, "aaen")
        .title("Flere bænke langs åen")
        .body("Der mangler steder at sidde langs åen for ældre og børnefamilier.")
        .create()
        .await;
    app.user(Role::Citizen).logged_in().await;
    let title = "Bænke langs åen";
    let body = "Vi mangler bænke langs åen, så ældre kan sidde ned.";
    let res = app
        .post_form(
            "/consultations/aaen/ideas",
            &[("title", title), ("body", body)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(page.texts(".similar-item"), vec![original.title.clone()]);
    assert_eq!(
        page.attr("input[name=title]", "value").as_deref(),
        Some(title),
        "nothing typed is lost"
    );
    let res = app
        .post_form(
            "/consultations/aaen/ideas",
            &[("title", title), ("body", body), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let second = idea::Entity::find()
        .filter(idea::Column::Title.eq(title))
        .one(&app.db)
        .await
        .unwrap()
        .expect("stored");

    app.user(Role::Moderator).logged_in().await;
    let (_, list) = app.page("/consultations/aaen/ideas").await;
    assert!(list.body.contains(title));
    let of = original.id.to_string();
    let res = app
        .post_form(
            &format!("/staff/moderation/history/idea/{}/duplicate", second.id),
            &[("of", &of)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, list) = app.page("/consultations/aaen/ideas").await;
    assert!(!list.body.contains(title), "a duplicate leaves the list");
    assert!(list.body.contains(&original.title));
}
