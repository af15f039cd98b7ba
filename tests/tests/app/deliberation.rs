#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 5, deliberation: statements, votes, moderation, routing, opinion
//! groups, the Pol.is import and the JSON API, on both databases.

use std::collections::{BTreeMap, HashMap, HashSet};

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{
    consultation, opinion_snapshot, participant, statement, vote, vote_history,
};
use samskab::opinion::{self, VoteValue};
use samskab::opinion_tools;
use samskab::services::consultations::Status;
use samskab::services::{polis_import, statements};
use samskab_tests::{TestApp, VotePattern, both_backends, client, location, partition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

const SLUG: &str = "cykelstier-i-hasle";

/// The moderator these tests act as, with `app.client` logged in.
async fn staff(app: &TestApp) -> CurrentUser {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .logged_in_actor()
        .await
}

async fn count_votes(app: &TestApp) -> (u64, u64) {
    (
        vote::Entity::find().count(&app.db).await.unwrap(),
        vote_history::Entity::find().count(&app.db).await.unwrap(),
    )
}

/// The statement id in the voting form of the page, if any.
fn current_statement(page: &samskab_tests::Page) -> Option<i64> {
    let action = page.attr("form.vote-buttons", "action")?;
    action
        .trim_end_matches("/vote")
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

const SEEDS: [&str; 4] = [
    "Der skal være flere cykelstier ved skolerne",
    "Biler bør køre 30 km/t ved alle skoler",
    "Krydset ved Hasle Torv er farligt",
    "Forældre bør følge børnene i skole",
];

both_backends!(anonymous_participant_votes_one_statement_at_a_time);
async fn anonymous_participant_votes_one_statement_at_a_time(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let citizen = client();
    let path = format!("/consultations/{SLUG}/statements");

    let (status, page) = app.page_with(&citizen, &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        page.text(".progress").unwrap(),
        "Du har stemt om 0 af 4 udsagn."
    );
    let first = current_statement(&page).expect("a statement to vote on");

    let vote_path = format!("/consultations/{SLUG}/statements/{first}/vote");
    let res = app
        .post_form_with(&citizen, &vote_path, &[("vote", "agree")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path);
    assert_eq!(count_votes(&app).await, (1, 1));

    // A double-submitted form changes nothing.
    let res = app
        .post_form_with(&citizen, &vote_path, &[("vote", "agree")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count_votes(&app).await, (1, 1));

    // Changing the vote replaces the current one and is kept in the history.
    app.post_form_with(&citizen, &vote_path, &[("vote", "disagree")])
        .await;
    assert_eq!(count_votes(&app).await, (1, 2));
    let v = vote::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(v.value, -1);
    assert_eq!(v.statement_id, first);

    // The participant is a consultation-scoped pseudonym without an account.
    let p = participant::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].consultation_id, c.id);
    assert!(p[0].user_id.is_none());
    assert_eq!(p[0].anon_token_hash.as_ref().map(String::len), Some(64));

    let (_, page) = app.page_with(&citizen, &path).await;
    assert_eq!(
        page.text(".progress").unwrap(),
        "Du har stemt om 1 af 4 udsagn."
    );
    let second = current_statement(&page).unwrap();
    assert_ne!(second, first, "a voted statement is not shown again");

    // Vote through the rest; then the page says everything is voted.
    let mut seen = HashSet::from([first]);
    while let Some(id) = current_statement(&app.page_with(&citizen, &path).await.1) {
        assert!(seen.insert(id), "statement {id} shown twice");
        app.post_form_with(
            &citizen,
            &format!("/consultations/{SLUG}/statements/{id}/vote"),
            &[("vote", "pass")],
        )
        .await;
    }
    let (_, page) = app.page_with(&citizen, &path).await;
    assert_eq!(seen.len(), 4);
    assert!(page.text("#all-voted").is_some());
    assert_eq!(
        page.text(".progress").unwrap(),
        "Du har stemt om 4 af 4 udsagn."
    );

    // The list view shows every statement with the current vote and lets it change.
    let (status, list) = app.page_with(&citizen, &format!("{path}/all")).await;
    assert_eq!(status, 200);
    assert_eq!(list.texts(".statement-item").len(), 4);
    assert_eq!(list.texts("[aria-pressed=true]").len(), 4);
    let res = app
        .post_form_with(&citizen, &vote_path, &[("vote", "agree"), ("back", "all")])
        .await;
    assert_eq!(location(&res), format!("{path}/all#s{first}"));
    let v = vote::Entity::find_by_id(v.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.value, 1);
}

// Without the worker: the test predicts the order from one stored snapshot.
both_backends!(
    routing_follows_the_snapshot_priorities,
    samskab_tests::BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn routing_follows_the_snapshot_priorities(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    // Earlier voters make the statements differ in priority.
    app.votes(&c)
        .statements(&ids)
        .participants(12)
        .prefix("voter")
        .pattern(VotePattern::Rule(|i, j| {
            ((i + j) % 3 != 0).then_some(if (i * j) % 2 == 0 {
                VoteValue::Agree
            } else {
                VoteValue::Disagree
            })
        }))
        .cast()
        .await;
    // A meta statement is routed with its fixed high priority.
    let meta = app
        .seed_statement(&me, SLUG, "Debatten her er for kort")
        .await;
    app.moderate_statement(
        &me,
        SLUG,
        meta.id,
        statements::ModerationAction::MarkMeta,
        "",
    )
    .await;
    app.recompute_snapshot(c.id)
        .await
        .expect("a snapshot is stored");
    let (_, snapshot) = app.latest_snapshot(c.id).await.unwrap();
    assert!(snapshot.priorities.len() >= 5);

    let citizen = client();
    let path = format!("/consultations/{SLUG}/statements");
    // Vote once so the participant exists, then follow the predicted order.
    let first = current_statement(&app.page_with(&citizen, &path).await.1).unwrap();
    app.post_form_with(
        &citizen,
        &format!("{path}/{first}/vote"),
        &[("vote", "pass")],
    )
    .await;
    let me_p = participant::Entity::find()
        .filter(participant::Column::AnonTokenHash.is_not_null())
        .order_by_desc(participant::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let all = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap();
    let number_of: HashMap<i64, i64> = all.iter().map(|s| (s.id, s.number)).collect();
    let id_of: HashMap<i64, i64> = all.iter().map(|s| (s.number, s.id)).collect();
    let mut voted: HashSet<i64> = HashSet::from([number_of[&first]]);
    let mut steps = 0;
    loop {
        let shown = current_statement(&app.page_with(&citizen, &path).await.1);
        let predicted = opinion::next_statement(
            &snapshot.priorities,
            |n| voted.contains(&n),
            me_p.id,
            voted.len() as u64,
        );
        assert_eq!(shown, predicted.map(|n| id_of[&n]), "step {steps}");
        let Some(id) = shown else { break };
        app.post_form_with(&citizen, &format!("{path}/{id}/vote"), &[("vote", "agree")])
            .await;
        voted.insert(number_of[&id]);
        steps += 1;
    }
    assert_eq!(voted.len(), 5);
}

both_backends!(pre_moderation_queue_accept_reject_and_meta);
async fn pre_moderation_queue_accept_reject_and_meta(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .pre_moderated()
        .conversation()
        .seeds(&SEEDS[..1])
        .by(&me)
        .open()
        .create()
        .await;
    let citizen = client();
    let path = format!("/consultations/{SLUG}/statements");
    let res = app
        .post_form_with(
            &citizen,
            &path,
            &[("body", "Vi mangler lys på stien ved Gellerup")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form_with(&citizen, &path, &[("body", "Alle bør cykle med hjelm")])
        .await;
    assert_eq!(res.status(), 303);
    let all = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .order_by_asc(statement::Column::Number)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].status, samskab::domain::StatementStatus::Pending);
    assert_eq!(all[1].number, 1);
    assert_eq!(all[2].number, 2);

    // Waiting statements are not shown to others and cannot be voted on.
    let other = client();
    let (_, list) = app.page_with(&other, &format!("{path}/all")).await;
    assert_eq!(list.texts(".statement-item").len(), 1);
    let res = app
        .post_form_with(
            &other,
            &format!("{path}/{}/vote", all[1].id),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("venter på moderation"));

    // The author sees their statements waiting.
    let (_, page) = app.page_with(&citizen, &path).await;
    assert_eq!(page.texts(".my-statements li").len(), 2);
    assert!(
        page.text(".my-statements")
            .unwrap()
            .contains("Venter på moderation")
    );

    // Staff see the queue first; rejecting needs a reason.
    let (status, queue) = app
        .page(&format!("/staff/consultations/{SLUG}/statements"))
        .await;
    assert_eq!(status, 200);
    assert!(queue.texts(".statement-text")[0].contains("lys på stien"));
    let moderate = |id: i64| format!("/staff/consultations/{SLUG}/statements/{id}/moderate");
    let res = app
        .post_form(
            &moderate(all[2].id),
            &[("action", "reject"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(
        page.text(&format!("#reason-{}-error", all[2].id)).unwrap(),
        "Skriv en begrundelse for afvisningen."
    );
    let res = app
        .post_form(
            &moderate(all[2].id),
            &[
                ("action", "reject"),
                ("reason", "Handler ikke om skoleveje"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(&moderate(all[1].id), &[("action", "accept")])
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(&moderate(all[0].id), &[("action", "meta")])
        .await;
    assert_eq!(res.status(), 303);
    let seed = statement::Entity::find_by_id(all[0].id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(seed.is_meta);
    let logged = samskab::entities::moderation_action::Entity::find()
        .filter(samskab::entities::moderation_action::Column::SubjectType.eq("statement"))
        .filter(samskab::entities::moderation_action::Column::SubjectId.eq(all[2].id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the rejection is in the moderation log");
    assert_eq!(logged.reason, "Handler ikke om skoleveje");

    // Accepted is now shown; the author sees the outcome and the reason.
    let (_, list) = app.page_with(&other, &format!("{path}/all")).await;
    assert_eq!(list.texts(".statement-item").len(), 2);
    let (_, page) = app.page_with(&citizen, &path).await;
    let mine = page.text(".my-statements").unwrap();
    assert!(mine.contains("Godkendt"));
    assert!(mine.contains("Afvist"));
    assert!(mine.contains("Handler ikke om skoleveje"));

    // Rejected statements refuse votes with a clear message.
    let res = app
        .post_form_with(
            &other,
            &format!("{path}/{}/vote", all[2].id),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("afvist af en moderator"));

    // Citizens cannot moderate.
    let res = app
        .post_form_with(
            &other,
            &moderate(all[1].id),
            &[("action", "reject"), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), 303, "anonymous visitors are sent to log in");
    let st = statement::Entity::find_by_id(all[1].id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.status, samskab::domain::StatementStatus::Accepted);
}

both_backends!(bad_input_is_refused_clearly_and_nothing_is_stored);
async fn bad_input_is_refused_clearly_and_nothing_is_stored(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let other = app
        .consultation()
        .slug("anden-hoering")
        .conversation()
        .seeds(&["Et andet udsagn"])
        .by(&me)
        .open()
        .create()
        .await;
    let foreign = app.statement_ids(other.id).await[0];
    let mine = app.statement_ids(c.id).await[0];
    let citizen = client();
    let path = format!("/consultations/{SLUG}/statements");

    let res = app
        .post_form_with(&citizen, &format!("{path}/{mine}/vote"), &[("vote", "2")])
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Vælg Enig, Uenig eller Spring over.")
    );
    let res = app
        .post_form_with(
            &citizen,
            &format!("{path}/{foreign}/vote"),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("hører ikke til denne høring")
    );
    assert_eq!(count_votes(&app).await, (0, 0));

    let before = statement::Entity::find().count(&app.db).await.unwrap();
    let too_long = "a".repeat(201);
    for (body, message) in [
        ("   ", "Udfyld feltet."),
        (too_long.as_str(), "Teksten er for lang."),
        (
            "  der skal være FLERE cykelstier ved skolerne!! ",
            "Der findes allerede et udsagn",
        ),
        ("?!?", "Skriv et udsagn med ord"),
    ] {
        let res = app.post_form_with(&citizen, &path, &[("body", body)]).await;
        assert_eq!(res.status(), 422, "{body:?}");
        let page = samskab_tests::Page::parse(&res.text().await.unwrap());
        assert!(
            page.text("#body-error").unwrap().contains(message),
            "{body:?}"
        );
        assert_eq!(
            page.attr("#body", "aria-describedby").unwrap(),
            "body-hint body-error"
        );
        assert_eq!(page.attr("#body", "maxlength").unwrap(), "200");
    }
    assert_eq!(
        statement::Entity::find().count(&app.db).await.unwrap(),
        before
    );

    // Flooding: the sixth statement in ten minutes is refused. (They are alike,
    // so each is sent anyway from the "is it the same as …?" page.)
    for i in 0..5 {
        let res = app
            .post_form_with(
                &citizen,
                &path,
                &[
                    ("body", &format!("Forslag nummer {i} om stier")),
                    ("confirm", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let res = app
        .post_form_with(
            &citizen,
            &path,
            &[("body", "Endnu et forslag om stier"), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Vent 10 minutter"));
    assert_eq!(
        statement::Entity::find().count(&app.db).await.unwrap(),
        before + 5
    );

    // Closed consultations take no votes.
    app.transition(&me, SLUG, Status::Closed).await;
    let res = app
        .post_form_with(
            &citizen,
            &format!("{path}/{mine}/vote"),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Høringen er ikke åben"));
    assert_eq!(count_votes(&app).await, (0, 0));
}

both_backends!(concurrent_votes_are_each_counted_exactly_once);
async fn concurrent_votes_are_each_counted_exactly_once(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let app = app.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let citizen = client();
            // The voting page hands out the participant cookie and the forms.
            let token = {
                let (_, page) = app
                    .page_with(&citizen, &format!("/consultations/{SLUG}/statements"))
                    .await;
                page.attr("meta[name=csrf-token]", "content").unwrap()
            };
            let mut sends = Vec::new();
            for id in &ids[..3] {
                // Every vote is sent twice at the same time (a double click).
                for _ in 0..2 {
                    let req = citizen
                        .post(app.url(&format!("/consultations/{SLUG}/statements/{id}/vote")))
                        .form(&[
                            ("vote", if i % 2 == 0 { "agree" } else { "disagree" }),
                            ("csrf_token", token.as_str()),
                        ])
                        .send();
                    sends.push(req);
                }
            }
            for r in futures::future::join_all(sends).await {
                assert_eq!(r.unwrap().status(), 303);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        participant::Entity::find().count(&app.db).await.unwrap(),
        12
    );
    assert_eq!(count_votes(&app).await, (36, 36));
}

/// An anonymous visitor with a participant token of their own (`name`, `i`).
fn anonymous_visitor(name: &str, i: usize) -> samskab::services::participants::Visitor {
    samskab_tests::anonymous(&format!("{name}-{i:02}-{}", "x".repeat(20)))
}

both_backends!(votes_arriving_together_keep_their_order_and_history);
/// Votes that arrive at the same time are written together (one
/// transaction on SQLite, one statement on PostgreSQL, for many requests):
/// changes by one participant on one statement still apply in order, each
/// change gets exactly its own history row, repeats and votes that may not
/// be written change nothing.
async fn votes_arriving_together_keep_their_order_and_history(app: TestApp) {
    use samskab::services::participants::Visitor;
    use samskab::services::votes;

    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let visitors: Vec<Visitor> = (0..6)
        .map(|i| anonymous_visitor("samtidige-stemmer", i))
        .collect();
    // Each becomes a participant with a first vote.
    let mut participant_of = Vec::new();
    for v in &visitors {
        let first = votes::cast_in(&app.db, SLUG, v, ids[0], VoteValue::Pass)
            .await
            .unwrap();
        participant_of.push(first.participant_id);
    }
    let pattern = [
        VoteValue::Agree,
        VoteValue::Disagree,
        VoteValue::Disagree,
        VoteValue::Agree,
        VoteValue::Pass,
        VoteValue::Pass,
        VoteValue::Agree,
    ];
    let mut changes = 0;
    // The current vote per (visitor, statement) as the votes apply in order:
    // which of them change it, and which repeat it.
    let mut expected: BTreeMap<(usize, i64), VoteValue> = BTreeMap::new();
    for i in 0..visitors.len() {
        expected.insert((i, ids[0]), VoteValue::Pass);
    }
    for round in 0..3 {
        let mut casts = Vec::new();
        let mut whose = Vec::new();
        let mut expected_changes = Vec::new();
        for (i, v) in visitors.iter().enumerate() {
            for (k, &value) in pattern.iter().enumerate() {
                let statement = ids[1 + (i + k + round) % 3];
                casts.push(votes::cast_in(&app.db, SLUG, v, statement, value));
                whose.push(participant_of[i]);
                expected_changes.push(expected.insert((i, statement), value) != Some(value));
            }
            // Not a statement of this consultation: refused, nothing stored.
            casts.push(votes::cast_in(
                &app.db,
                SLUG,
                v,
                i64::MAX - 7,
                VoteValue::Agree,
            ));
            whose.push(participant_of[i]);
        }
        let outcomes = futures::future::join_all(casts).await;
        for (o, p) in outcomes.iter().zip(&whose) {
            if let Ok(o) = o {
                assert_eq!(o.participant_id, *p, "round {round}");
            }
        }
        let refused = outcomes.iter().filter(|o| o.is_err()).count();
        assert_eq!(refused, visitors.len(), "round {round}: {outcomes:?}");
        // Each vote is answered as a change exactly when it changes the
        // current vote, and a repeat as a repeat.
        let answered: Vec<bool> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|o| o.changed))
            .collect();
        assert_eq!(answered, expected_changes, "round {round}");
        changes += outcomes
            .iter()
            .filter(|o| o.as_ref().is_ok_and(|o| o.changed))
            .count();
    }
    let rows = vote_history::Entity::find()
        .order_by_asc(vote_history::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let mut by_pair: BTreeMap<(i64, i64), Vec<i16>> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r.consultation_id, c.id);
        by_pair
            .entry((r.participant_id, r.statement_id))
            .or_default()
            .push(r.value);
    }
    let current: BTreeMap<(i64, i64), i16> = vote::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| ((v.participant_id, v.statement_id), v.value))
        .collect();
    assert_eq!(
        current.keys().collect::<Vec<_>>(),
        by_pair.keys().collect::<Vec<_>>()
    );
    // 6 first votes, then per visitor three statements voted on.
    assert_eq!(current.len(), 6 + 6 * 3);
    for (pair, values) in &by_pair {
        // A change is only recorded when the value changes, so no two
        // consecutive history rows repeat a value, and the latest is the
        // current vote.
        assert!(
            values.windows(2).all(|w| w[0] != w[1]),
            "{pair:?}: {values:?}"
        );
        assert_eq!(values.last(), current.get(pair), "{pair:?}: {values:?}");
    }
    // Every vote reported as a change has its history row, and no other.
    assert_eq!(rows.len(), 6 + changes);
}

both_backends!(votes_of_every_kind_written_together_keep_their_rules);

/// On SQLite a commit goes to the write-ahead log (WAL); the database file
/// itself gets the pages at a checkpoint, which also syncs them to disk.
/// Votes reach the file within seconds of being cast, not only once the WAL
/// holds 1,000 pages: a copy of `samskab.db` alone (no `-wal` beside it)
/// soon holds every vote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_votes_reach_the_database_file_within_seconds() {
    use samskab::services::votes;

    let app = TestApp::spawn(samskab_tests::Backend::Sqlite)
        .await
        .expect("spawning the app on SQLite")
        .expect("SQLite is always available");
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    // An empty WAL to begin with, so the votes' pages stay far below the
    // 1,000 at which a committing connection checkpoints by itself.
    app.db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let casts = (0..8).map(|i| {
        let visitor = anonymous_visitor("stemmer-paa-disken", i);
        let (ids, db) = (ids.clone(), app.db.clone());
        async move {
            for (k, id) in ids.iter().enumerate() {
                let value = [VoteValue::Agree, VoteValue::Disagree, VoteValue::Pass][(i + k) % 3];
                votes::cast_in(&db, SLUG, &visitor, *id, value)
                    .await
                    .unwrap();
            }
        }
    });
    futures::future::join_all(casts).await;
    let (_, cast) = count_votes(&app).await;
    assert_eq!(cast, 8 * ids.len() as u64);

    let file = app.settings.data_dir.join("samskab.db");
    let copies = tempfile::tempdir().unwrap();
    let mut in_file = 0;
    for attempt in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let copy = copies.path().join(format!("kopi-{attempt}.db"));
        std::fs::copy(&file, &copy).unwrap();
        // A copy taken while a checkpoint writes may be torn: try again.
        let Ok(db) = sea_orm::Database::connect(format!("sqlite://{}", copy.display())).await
        else {
            continue;
        };
        let counted = vote_history::Entity::find().count(&db).await;
        let _ = db.close().await;
        if let Ok(n) = counted {
            in_file = n;
            if n == cast {
                break;
            }
        }
    }
    assert_eq!(
        in_file, cast,
        "the database file holds {in_file} of the {cast} votes 10 s after they were cast"
    );
}

/// One batch of votes may hold every kind the fast path writes: anonymous
/// voters and logged-in ones found by the consultation's slug, a MitID voter
/// and an anonymous one in a consultation already checked, two changes of one
/// vote, and a vote on another consultation's statement. Each is written by
/// its own rules and answered with its own participant.
async fn votes_of_every_kind_written_together_keep_their_rules(app: TestApp) {
    use samskab::services::participants::Visitor;
    use samskab::services::votes;

    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let other = app
        .consultation()
        .slug("en-anden-samtale")
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let elsewhere = app.statement_ids(other.id).await[0];
    let anonymous = |i: usize| anonymous_visitor("alle-slags-stemmer", i);
    let citizen = app
        .user(Role::Citizen)
        .email("borger-sammen@example.org")
        .create()
        .await;
    let mitid = app
        .user(Role::Citizen)
        .email("mitid-sammen@example.org")
        .create()
        .await;
    let mut with_identity = CurrentUser::from_model(&mitid);
    with_identity.has_identity = true;
    let visitors = vec![
        anonymous(0),
        anonymous(1),
        anonymous(2),
        Visitor {
            user: Some(CurrentUser::from_model(&citizen)),
            anon_token: None,
            client: None,
        },
        Visitor {
            user: Some(with_identity),
            anon_token: None,
            client: None,
        },
    ];
    let mut participant_of = Vec::new();
    for v in &visitors {
        let first = votes::cast_in(&app.db, SLUG, v, ids[0], VoteValue::Pass)
            .await
            .unwrap();
        participant_of.push(first.participant_id);
    }

    // All at once: the first poll of each reaches the writer.
    let mut casts = Vec::new();
    let mut whose = Vec::new();
    for (i, v) in visitors.iter().enumerate() {
        for (statement, value) in [(ids[1], VoteValue::Agree), (ids[2], VoteValue::Disagree)] {
            // Anonymous voter 2 and the MitID voter vote in the consultation
            // already read; the others by its slug.
            let cast = if i >= 2 && i != 3 {
                futures::future::Either::Left(votes::cast(&app.db, &c, v, statement, value))
            } else {
                futures::future::Either::Right(votes::cast_in(&app.db, SLUG, v, statement, value))
            };
            casts.push(cast);
            whose.push(Some(participant_of[i]));
        }
    }
    // The MitID voter changes their mind at once.
    casts.push(futures::future::Either::Left(votes::cast(
        &app.db,
        &c,
        &visitors[4],
        ids[1],
        VoteValue::Disagree,
    )));
    whose.push(Some(participant_of[4]));
    // Another consultation's statement is refused.
    casts.push(futures::future::Either::Right(votes::cast_in(
        &app.db,
        SLUG,
        &visitors[0],
        elsewhere,
        VoteValue::Agree,
    )));
    whose.push(None);
    let outcomes = futures::future::join_all(casts).await;
    for (o, p) in outcomes.iter().zip(&whose) {
        match p {
            Some(p) => {
                let o = o.as_ref().expect("the vote is taken");
                assert_eq!(o.participant_id, *p);
                assert!(o.changed);
            }
            None => assert!(o.is_err(), "{o:?}"),
        }
    }

    let current: BTreeMap<(i64, i64), i16> = vote::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| ((v.participant_id, v.statement_id), v.value))
        .collect();
    let mut expected = BTreeMap::new();
    for (i, p) in participant_of.iter().enumerate() {
        expected.insert((*p, ids[0]), VoteValue::Pass as i16);
        let on_first = if i == 4 {
            VoteValue::Disagree
        } else {
            VoteValue::Agree
        };
        expected.insert((*p, ids[1]), on_first as i16);
        expected.insert((*p, ids[2]), VoteValue::Disagree as i16);
    }
    assert_eq!(current, expected);
    // Five first votes, two per voter, and the MitID voter's change.
    assert_eq!(count_votes(&app).await, (15, 5 + 10 + 1));
}

both_backends!(who_may_vote_is_a_consultation_setting);
async fn who_may_vote_is_a_consultation_setting(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let id = app.statement_ids(c.id).await[0];
    // Staff choose the rule (and the statement limit) in the consultation form.
    let edit = format!("/staff/consultations/{SLUG}/edit");
    let fields = |rule: &'static str, limit: &'static str| {
        vec![
            ("title", "Høring om cykelstier"),
            ("summary", "Hvad mener du?"),
            ("moderation_mode", "post"),
            ("has_conversation", "on"),
            ("voting_eligibility", rule),
            ("statement_max_chars", limit),
        ]
    };
    let res = app.post_form(&edit, &fields("sometimes", "20")).await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert!(page.text("#voting_eligibility-error").is_some());
    assert!(page.text("#statement_max_chars-error").is_some());
    let res = app.post_form(&edit, &fields("logged_in", "150")).await;
    assert_eq!(res.status(), 303);
    let stored = consultation::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.voting_eligibility,
        samskab::domain::VotingEligibility::LoggedIn
    );
    assert_eq!(stored.statement_max_chars, 150);
    let path = format!("/consultations/{SLUG}/statements/{id}/vote");

    let anonymous = client();
    let res = app
        .post_form_with(&anonymous, &path, &[("vote", "agree")])
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("logge ind"));
    let (_, page) = app
        .page_with(&anonymous, &format!("/consultations/{SLUG}/statements"))
        .await;
    assert!(page.text(".notice").unwrap().contains("logge ind"));
    assert!(page.attr("form.vote-buttons", "action").is_none());

    // Logged in: the vote counts under a pseudonym linked to the account.
    let res = app.post_form(&path, &[("vote", "agree")]).await;
    assert_eq!(res.status(), 303);
    let p = participant::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.user_id, Some(me.id));
    assert!(p.anon_token_hash.is_none());

    let mut active = consultation::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    active.voting_eligibility = Set(samskab::domain::VotingEligibility::Verified);
    active.update(&app.db).await.unwrap();
    let res = app.post_form(&path, &[("vote", "disagree")]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("MitID"));
    assert_eq!(count_votes(&app).await, (1, 1));
}

// Without the background worker: its warm updates in the middle of the voting
// make the snapshot depend on timing, and this test is about what the page shows.
both_backends!(
    participant_sees_their_opinion_group_in_words,
    samskab_tests::BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn participant_sees_their_opinion_group_in_words(app: TestApp) {
    let me = staff(&app).await;
    let seeds: Vec<String> = (0..8)
        .map(|i| format!("Udsagn nummer {i} om skolevejen"))
        .collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&seeds)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, 40).await;

    let citizen = client();
    let path = format!("/consultations/{SLUG}/statements");
    for (j, id) in ids.iter().enumerate() {
        let value = if j % 2 == 0 { "agree" } else { "disagree" };
        app.post_form_with(&citizen, &format!("{path}/{id}/vote"), &[("vote", value)])
            .await;
    }
    // Stored now, unless the background worker was quicker.
    app.recompute_snapshot(c.id).await;
    let (row, _) = app.latest_snapshot(c.id).await.unwrap();
    let hwm = samskab::services::snapshots::vote_high_water_mark(&app.db, c.id)
        .await
        .unwrap();
    assert_eq!(row.vote_high_water_mark, hwm, "the snapshot saw every vote");
    let (_, page) = app.page_with(&citizen, &path).await;
    let heading = page.text("#group-heading").expect("the group is shown");
    assert!(heading.starts_with("Du er i meningsgruppe"), "{heading}");
    let group = page.text(".my-group").unwrap();
    assert!(group.contains("Der er 2 grupper i alt"), "{group}");
    assert!(
        group.contains("Udsagn nummer 0 om skolevejen")
            || group.contains("Udsagn nummer 1 om skolevejen"),
        "{group}"
    );

    // The JSON API tells the same.
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{SLUG}/opinion"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["k"], 2);
    assert_eq!(api["kind"], "warm");
    assert_eq!(api["groups"].as_array().unwrap().len(), 2);
    let sizes: u64 = api["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["members"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, 41);
    assert!(api["receipt"]["input_sha256"].as_str().unwrap().len() == 64);
    let list: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{SLUG}/statements"))
        .await
        .json()
        .await
        .unwrap();
    let list = list["statements"].as_array().unwrap();
    assert_eq!(list.len(), 8);
    assert_eq!(
        list[0]["agree"].as_u64().unwrap() + list[0]["disagree"].as_u64().unwrap(),
        41
    );
    let res = app.get("/api/v1/consultations/findes-ikke/opinion").await;
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], 404);
}

// Without the background worker, so the test decides when an analysis runs.
both_backends!(
    statement_api_counts_come_from_the_latest_analysis,
    samskab_tests::BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
/// The public statement list gives each statement's votes as the latest
/// analysis counted them, and says when that was, instead of counting every
/// vote of the consultation on every request.
async fn statement_api_counts_come_from_the_latest_analysis(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let api = format!("/api/v1/consultations/{SLUG}/statements");
    let list = |body: serde_json::Value| -> BTreeMap<i64, (u64, u64, u64)> {
        body["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let n = |k: &str| s[k].as_u64().unwrap();
                (
                    s["id"].as_i64().unwrap(),
                    (n("agree"), n("disagree"), n("pass")),
                )
            })
            .collect()
    };
    let body: serde_json::Value = app.get(&api).await.json().await.unwrap();
    assert!(body["counted_at"].is_null(), "{body}");
    assert_eq!(body["vote_high_water_mark"], 0);
    assert!(list(body).values().all(|&n| n == (0, 0, 0)));

    // Three citizens: statement 0 agree, agree, disagree; statement 1 pass.
    app.vote(&c, "a", ids[0], VoteValue::Agree).await;
    app.vote(&c, "b", ids[0], VoteValue::Agree).await;
    app.vote(&c, "c", ids[0], VoteValue::Disagree).await;
    app.vote(&c, "c", ids[1], VoteValue::Pass).await;
    app.recompute_snapshot(c.id).await;
    let hwm = samskab::services::snapshots::vote_high_water_mark(&app.db, c.id)
        .await
        .unwrap();
    let body: serde_json::Value = app.get(&api).await.json().await.unwrap();
    assert!(body["counted_at"].is_string(), "{body}");
    assert_eq!(body["vote_high_water_mark"], hwm);
    let counted = list(body);
    assert_eq!(counted[&ids[0]], (2, 1, 0));
    assert_eq!(counted[&ids[1]], (0, 0, 1));
    assert_eq!(counted[&ids[2]], (0, 0, 0));

    // A vote after the analysis counts once the next one has run.
    app.vote(&c, "d", ids[2], VoteValue::Disagree).await;
    let body: serde_json::Value = app.get(&api).await.json().await.unwrap();
    assert_eq!(body["vote_high_water_mark"], hwm);
    assert_eq!(list(body)[&ids[2]], (0, 0, 0));
    app.recompute_snapshot(c.id).await;
    let body: serde_json::Value = app.get(&api).await.json().await.unwrap();
    assert_eq!(body["vote_high_water_mark"], hwm + 1);
    assert_eq!(list(body)[&ids[2]], (0, 1, 0));
}

both_backends!(background_worker_recomputes_after_new_votes);
async fn background_worker_recomputes_after_new_votes(app: TestApp) {
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug(SLUG)
        .conversation()
        .seeds(&SEEDS)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let citizen = client();
    app.post_form_with(
        &citizen,
        &format!("/consultations/{SLUG}/statements/{}/vote", ids[0]),
        &[("vote", "agree")],
    )
    .await;
    // The worker runs every 300 ms in tests; wait for its snapshot.
    let mut stored = None;
    for _ in 0..100 {
        stored = opinion_snapshot::Entity::find()
            .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
            .one(&app.db)
            .await
            .unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stored = stored.expect("the worker stored a snapshot");
    assert_eq!(stored.kind, samskab::domain::SnapshotKind::Warm);
    let hwm = vote_history::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(stored.vote_high_water_mark, hwm);
    // Nothing new: a warm recompute is skipped.
    let again = app.recompute_snapshot(c.id).await;
    assert!(again.is_none());
    // A moderation decision changes the math: the snapshot is recomputed.
    app.moderate_statement(
        &me,
        SLUG,
        ids[0],
        statements::ModerationAction::Reject,
        "Uden for emnet",
    )
    .await;
    let mut rejected_out = false;
    for _ in 0..100 {
        let (_, snap) = app.latest_snapshot(c.id).await.unwrap();
        if snap.statements.get(&0).is_some_and(|s| s.excluded) {
            rejected_out = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(rejected_out, "the worker recomputed after the rejection");
}

both_backends!(imported_polis_export_gives_the_same_groups_as_the_cli);
async fn imported_polis_export_gives_the_same_groups_as_the_cli(app: TestApp) {
    let Some(data) =
        samskab_tests::polis_data("imported_polis_export_gives_the_same_groups_as_the_cli")
    else {
        return;
    };
    let dir = data.export("bg2050-volunteers");
    let me = staff(&app).await;
    let c = app
        .consultation()
        .slug("bg2050")
        .conversation()
        .by(&me)
        .open()
        .create()
        .await;
    let summary = polis_import::import(&app.db, "bg2050", &dir).await.unwrap();
    assert_eq!(summary.history, 14_341, "every row of votes.csv");
    assert!(summary.votes > 0 && summary.votes < summary.history);
    assert_eq!(summary.statements, 371);
    // Importing twice is refused.
    assert!(polis_import::import(&app.db, "bg2050", &dir).await.is_err());

    // Closing stores the final cold snapshot.
    app.transition(&me, "bg2050", Status::Closed).await;
    let (row, snapshot) = app
        .latest_snapshot(c.id)
        .await
        .expect("final snapshot stored at closing");
    assert_eq!(row.kind, samskab::domain::SnapshotKind::Final);
    assert!(!snapshot.receipt.warm_start);

    let report =
        opinion_tools::polis::analyze_export(&dir, false, &opinion::Params::default()).unwrap();
    let pid_of: HashMap<i64, i64> = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.external_id.unwrap()))
        .collect();
    let ours: BTreeMap<i64, Option<usize>> = snapshot
        .participants
        .iter()
        .map(|(id, r)| (pid_of[id], r.group))
        .collect();
    let cli: BTreeMap<i64, Option<usize>> = report
        .participants
        .iter()
        .filter(|(p, _)| ours.contains_key(p))
        .map(|(p, g)| (*p, *g))
        .collect();
    assert_eq!(snapshot.k, report.k);
    assert!(report.k >= 2);
    assert_eq!(partition(&ours), partition(&cli));
    assert_eq!(
        snapshot.receipt.counts.in_conv,
        report.receipt.counts.in_conv
    );
}

both_backends!(
    demo_conversation_has_groups_before_serving,
    samskab_tests::BuildOptions {
        demo: true,
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn demo_conversation_has_groups_before_serving(app: TestApp) {
    let slug = "sikre-cykelruter-til-skole-i-aarhus-vest";
    let c = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(slug))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let counts = || async {
        (
            statement::Entity::find()
                .filter(statement::Column::ConsultationId.eq(c.id))
                .count(&app.db)
                .await
                .unwrap(),
            participant::Entity::find()
                .filter(participant::Column::ConsultationId.eq(c.id))
                .count(&app.db)
                .await
                .unwrap(),
            count_votes(&app).await,
            opinion_snapshot::Entity::find()
                .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
                .count(&app.db)
                .await
                .unwrap(),
        )
    };
    let before = counts().await;
    assert_eq!(before.0, 20);
    assert!((140..=150).contains(&before.1), "{before:?}");
    assert!(before.2.0 > 1000);
    assert_eq!(before.3, 1, "the snapshot exists before serving");
    let (_, snapshot) = app.latest_snapshot(c.id).await.unwrap();
    assert!(snapshot.k >= 2, "the demo shows groups");

    // Loading the demo again changes nothing.
    samskab::services::demo::load(&app.db).await.unwrap();
    assert_eq!(counts().await, before);

    let (status, page) = app
        .page_with(&client(), &format!("/consultations/{slug}/statements"))
        .await;
    assert_eq!(status, 200);
    assert!(current_statement(&page).is_some());
    assert_eq!(
        page.text(".progress").unwrap(),
        "Du har stemt om 0 af 20 udsagn."
    );
}
