#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 17, big conversations: the code paths that keep a 33,000-participant
//! conversation fast (the parsed snapshot kept per consultation, counts and
//! votes per day computed by the database, pruned snapshots) give the same
//! content as reading everything did, on a small conversation. On both databases.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{opinion_snapshot, statement, vote, vote_history};
use samskab::opinion::{Params, VoteValue};
use samskab::services::consultations::Status;
use samskab::services::report;
use samskab::services::statements::ModerationAction;
use samskab_tests::{BuildOptions, TestApp, both_backends};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

const SLUG: &str = "havnebadet";

fn no_worker() -> BuildOptions {
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
}

async fn open_conversation(app: &TestApp) -> (samskab::entities::consultation::Model, Vec<i64>) {
    let me = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .actor()
        .await;
    let seeds: Vec<String> = (0..8)
        .map(|i| format!("Havnebadet bør have udsagn nummer {i}"))
        .collect();
    open_with_seeds(app, &me, &seeds).await
}

/// The consultation `SLUG`, open, with a conversation of `seeds` made by `me`, and its
/// statement ids.
async fn open_with_seeds(
    app: &TestApp,
    me: &CurrentUser,
    seeds: &[String],
) -> (samskab::entities::consultation::Model, Vec<i64>) {
    app.consultation()
        .title("Havnebadet")
        .slug(SLUG)
        .conversation()
        .seeds(seeds)
        .by(me)
        .create()
        .await;
    let c = app.transition(me, SLUG, Status::Open).await;
    let ids = app.statement_ids(c.id).await;
    (c, ids)
}

/// The opinion part as the report made it before: the newest stored row's
/// JSON parsed afresh, every participant on the map.
async fn opinion_from_the_stored_row(
    app: &TestApp,
    consultation_id: i64,
    min_group_size: usize,
) -> serde_json::Value {
    let row = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(consultation_id))
        .order_by_desc(opinion_snapshot::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("a stored snapshot");
    let parsed: samskab::opinion::Snapshot = serde_json::from_str(&row.snapshot).unwrap();
    let statements = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(consultation_id))
        .all(&app.db)
        .await
        .unwrap();
    serde_json::to_value(report::opinion_report(
        row.kind.as_str().to_owned(),
        row.computed_at,
        parsed,
        &statements,
        min_group_size,
    ))
    .unwrap()
}

/// The report's vote figures are the ones counting loaded rows gives; returns
/// the number of current votes.
async fn counts_as_loaded(app: &TestApp, consultation_id: i64, built: &report::Report) -> u64 {
    // The counts the database makes are the ones counting loaded rows gave.
    let votes: Vec<(i64,)> = vote::Entity::find()
        .select_only()
        .column(vote::Column::ParticipantId)
        .filter(vote::Column::ConsultationId.eq(consultation_id))
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    let voters: HashSet<i64> = votes.iter().map(|v| v.0).collect();
    assert_eq!(built.participation.votes, votes.len() as u64);
    assert_eq!(built.participation.voters, voters.len() as u64);
    let cast: Vec<DateTime<Utc>> = vote_history::Entity::find()
        .select_only()
        .column(vote_history::Column::CastAt)
        .filter(vote_history::Column::ConsultationId.eq(consultation_id))
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for at in &cast {
        *per_day
            .entry(at.format("%Y-%m-%d").to_string())
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> = built
        .participation
        .votes_per_day
        .iter()
        .map(|d| (d.date.clone(), d.votes))
        .collect();
    assert_eq!(got, per_day);
    votes.len() as u64
}

both_backends!(
    the_report_from_the_kept_snapshot_and_sql_counts_is_the_same,
    no_worker()
);
async fn the_report_from_the_kept_snapshot_and_sql_counts_is_the_same(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    app.conversation_with_votes(&c, &ids, 24).await;
    // One participant changes a vote: the history has one row more than the votes.
    app.vote(&c, "camp-0", ids[0], VoteValue::Pass).await;
    app.recompute_snapshot(c.id).await.expect("a new snapshot");
    let min = app.settings.report.min_group_size;

    let expected = opinion_from_the_stored_row(&app, c.id, min).await;
    // First build parses the row; the second is served from the kept copy.
    for _ in 0..2 {
        let built = report::build(&app.db, &c, min).await.unwrap();
        let opinion = serde_json::to_value(built.opinion.as_ref().unwrap()).unwrap();
        assert_eq!(opinion, expected);
        let map = opinion["map"].as_array().unwrap();
        assert!(
            !map.is_empty(),
            "a small conversation draws every participant"
        );
        assert_eq!(opinion["map_participants"], map.len());

        let votes = counts_as_loaded(&app, c.id, &built).await;
        assert_eq!(built.participation.voters, 24);
        assert_eq!(
            built
                .participation
                .votes_per_day
                .iter()
                .map(|d| d.votes)
                .sum::<u64>(),
            votes + 1
        );
    }

    // Votes after the counts were kept: new voters, new votes of known voters,
    // a changed vote and a repeated one are added to what was counted.
    app.vote(&c, "late-voter", ids[1], VoteValue::Agree).await;
    app.vote(&c, "late-voter", ids[2], VoteValue::Disagree)
        .await;
    app.vote(&c, "camp-1", ids[3], VoteValue::Pass).await;
    app.vote(&c, "camp-2", ids[0], VoteValue::Disagree).await;
    app.vote(&c, "camp-2", ids[0], VoteValue::Disagree).await;
    for _ in 0..2 {
        let built = report::build(&app.db, &c, min).await.unwrap();
        counts_as_loaded(&app, c.id, &built).await;
        assert_eq!(built.participation.voters, 25);
    }

    // The report page draws every participant of a small conversation and
    // says nothing about a sample.
    let staff = samskab_tests::client();
    app.login_with(&staff, "mod@example.org").await;
    let (status, page) = app
        .page_with(&staff, &format!("/consultations/{SLUG}/report"))
        .await;
    assert_eq!(status, 200);
    let dots = page.attrs("svg.opinion-map circle", "cx");
    assert_eq!(dots.len(), expected["map"].as_array().unwrap().len());
    assert_eq!(dots.len(), 24);
    assert!(page.text("#map-sample").is_none());
}

both_backends!(
    a_new_snapshot_replaces_the_kept_one_and_old_warm_ones_go,
    no_worker()
);
async fn a_new_snapshot_replaces_the_kept_one_and_old_warm_ones_go(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    app.conversation_with_votes(&c, &ids, 10).await;
    let first = app.recompute_snapshot(c.id).await.expect("a snapshot");
    let (row, snap) = app.latest_snapshot(c.id).await.unwrap();
    assert_eq!(row.id, first.id);
    let mut votes_seen = snap.receipt.counts.votes;
    for (round, &statement_id) in ids.iter().take(4).enumerate() {
        let who = format!("late-{round}");
        app.vote(&c, &who, statement_id, VoteValue::Agree).await;
        let stored = app.recompute_snapshot(c.id).await.expect("votes arrived");
        let (row, snap) = app.latest_snapshot(c.id).await.unwrap();
        assert_eq!(row.id, stored.id, "the pages see the new snapshot at once");
        assert_eq!(snap.receipt.counts.votes, votes_seen + 1);
        votes_seen = snap.receipt.counts.votes;
        // The API serves the same new snapshot.
        let api: serde_json::Value = app
            .get(&format!("/api/v1/consultations/{SLUG}/opinion"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(api["vote_high_water_mark"], stored.vote_high_water_mark);
    }
    let warm = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(warm, 2, "older warm snapshots are pruned");

    // Closing stores the final snapshot; a later warm one never hides it.
    let me = app
        .user(Role::Moderator)
        .email("mod2@example.org")
        .actor()
        .await;
    app.transition(&me, SLUG, Status::Closed).await;
    let (row, _) = app.latest_snapshot(c.id).await.unwrap();
    assert_eq!(row.kind.as_str(), "final");
    let kinds: Vec<String> = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.kind.as_str().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "final"));
}

both_backends!(
    a_kept_engine_gives_the_snapshot_reading_every_vote_gives,
    no_worker()
);
/// The background recompute keeps each conversation's engine between rounds
/// and reads only the vote history since the last one: the snapshot it stores
/// is the one reading every current vote gives, warm-started from the same
/// previous snapshot, whatever happened in between (new voters, changed and
/// repeated votes, a rejected statement, a new one).
async fn a_kept_engine_gives_the_snapshot_reading_every_vote_gives(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    app.conversation_with_votes(&c, &ids, 12).await;
    app.recompute_snapshot(c.id).await.expect("a snapshot");
    let (_, first) = app.latest_snapshot(c.id).await.unwrap();
    let current_votes = async || {
        vote::Entity::find()
            .filter(vote::Column::ConsultationId.eq(c.id))
            .count(&app.db)
            .await
            .unwrap() as usize
    };
    let history_mark = samskab::services::snapshots::vote_high_water_mark(&app.db, c.id)
        .await
        .unwrap();
    let votes_read_first = current_votes().await;
    assert_eq!(first.receipt.counts.vote_rows, votes_read_first);

    let me = app
        .user(Role::Moderator)
        .email("mod-kept@example.org")
        .actor()
        .await;
    app.vote(&c, "late-0", ids[0], VoteValue::Agree).await;
    app.vote(&c, "late-0", ids[1], VoteValue::Disagree).await;
    // camp-0 agreed with the even statements and camp-1 disagreed: both change.
    assert!(
        app.vote(&c, "camp-0", ids[0], VoteValue::Pass)
            .await
            .changed
    );
    assert!(
        !app.vote(&c, "camp-0", ids[0], VoteValue::Pass)
            .await
            .changed
    );
    assert!(
        app.vote(&c, "camp-1", ids[2], VoteValue::Agree)
            .await
            .changed
    );
    app.moderate_statement(&me, SLUG, ids[3], ModerationAction::Reject, "Udenfor emnet")
        .await;
    let added = app
        .seed_statement(&me, SLUG, "Havnebadet bør have en sauna")
        .await;
    app.vote(&c, "late-0", added.id, VoteValue::Agree).await;
    app.vote(&c, "camp-2", added.id, VoteValue::Disagree).await;

    app.recompute_snapshot(c.id).await.expect("votes arrived");
    let (_, kept) = app.latest_snapshot(c.id).await.unwrap();
    let input = samskab::services::snapshots::engine_input(&app.db, c.id)
        .await
        .unwrap();
    let fresh = samskab::opinion::update(&input, &first.state, &Params::default());
    // Only the rows since the first round were read: the receipt counts them on
    // top of the votes read then (the fresh run counts the current votes).
    let new_rows = vote_history::Entity::find()
        .filter(vote_history::Column::ConsultationId.eq(c.id))
        .filter(vote_history::Column::Id.gt(history_mark))
        .count(&app.db)
        .await
        .unwrap() as usize;
    assert_eq!(new_rows, 6);
    assert_eq!(kept.receipt.counts.vote_rows, votes_read_first + new_rows);
    assert_eq!(fresh.receipt.counts.vote_rows, current_votes().await);
    let mut kept = serde_json::to_value(&kept).unwrap();
    kept["receipt"]["counts"]["vote_rows"] = fresh.receipt.counts.vote_rows.into();
    assert_eq!(kept, serde_json::to_value(&fresh).unwrap());
    assert_eq!(fresh.receipt.counts.excluded_statements, 1);
    assert_eq!(fresh.receipt.counts.statements, ids.len() + 1);
}

/// The SQL statements of one vote POST by `client` (its CSRF token fetched
/// first, so only the vote's own statements are counted).
async fn statements_of_a_vote(
    app: &TestApp,
    client: &reqwest::Client,
    statement_id: i64,
    value: &str,
) -> Vec<String> {
    let log = app.statement_log.expect("the app logs its statements");
    let token = app.csrf_token_for(client).await;
    log.take();
    let res = client
        .post(app.url(&format!(
            "/consultations/{SLUG}/statements/{statement_id}/vote"
        )))
        .form(&[("vote", value), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the vote is taken");
    log.take()
}

both_backends!(
    a_vote_post_sends_the_fewest_statements,
    BuildOptions {
        no_background_jobs: true,
        statement_log: Some(samskab::db::StatementLog::leaked()),
        ..Default::default()
    }
);
/// The vote path of a known participant in a conversation anyone may vote
/// in: one upsert that checks the consultation (by its slug) and the
/// statement and finds the participant and, with the history row, is one
/// statement on PostgreSQL and two in one IMMEDIATE transaction on SQLite
/// (BEGIN/COMMIT are not counted). A logged-in voter adds the session row
/// and the user. If this grows, the vote path got slower for every vote of
/// a big conversation.
async fn a_vote_post_sends_the_fewest_statements(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    let vote_path_statements = match app.backend {
        samskab_tests::Backend::Sqlite => 2,
        samskab_tests::Backend::Postgres => 1,
    };
    let history = || async {
        vote_history::Entity::find()
            .filter(vote_history::Column::ConsultationId.eq(c.id))
            .count(&app.db)
            .await
            .unwrap()
    };

    let anonymous = samskab_tests::client();
    // The first vote makes the participant (the slow path).
    statements_of_a_vote(&app, &anonymous, ids[0], "agree").await;
    assert_eq!(history().await, 1);
    // A new vote and a changed vote: the fast path.
    for (id, value, total) in [(ids[1], "agree", 2), (ids[0], "disagree", 3)] {
        let sent = statements_of_a_vote(&app, &anonymous, id, value).await;
        assert_eq!(
            sent.len(),
            vote_path_statements,
            "an anonymous vote sent: {sent:#?}"
        );
        assert_eq!(history().await, total);
    }
    // The same vote again changes nothing and is still answered as taken.
    statements_of_a_vote(&app, &anonymous, ids[0], "disagree").await;
    assert_eq!(history().await, 3);
    let current: Vec<(i64, i16)> = vote::Entity::find()
        .select_only()
        .column(vote::Column::StatementId)
        .column(vote::Column::Value)
        .filter(vote::Column::ConsultationId.eq(c.id))
        .order_by_asc(vote::Column::StatementId)
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(current, vec![(ids[0], -1), (ids[1], 1)]);

    let citizen = samskab_tests::client();
    app.user(Role::Citizen)
        .email("borger@example.org")
        .create()
        .await;
    app.login_with(&citizen, "borger@example.org").await;
    statements_of_a_vote(&app, &citizen, ids[2], "pass").await;
    let sent = statements_of_a_vote(&app, &citizen, ids[3], "agree").await;
    assert_eq!(
        sent.len(),
        2 + vote_path_statements,
        "a logged-in vote sent: {sent:#?}"
    );
    assert_eq!(history().await, 5);

    // The upsert checks the consultation itself: once it is closed, a known
    // participant's changed vote is refused and writes nothing.
    let me = app
        .user(Role::Moderator)
        .email("mod2@example.org")
        .actor()
        .await;
    app.transition(&me, SLUG, Status::Closed).await;
    let token = app.csrf_token_for(&anonymous).await;
    let res = anonymous
        .post(app.url(&format!("/consultations/{SLUG}/statements/{}/vote", ids[1])))
        .form(&[("vote", "pass"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(history().await, 5);
}

/// The texts of the statement list's page `page` (`None`: no page asked) as
/// `client` sees it.
async fn listed(
    app: &TestApp,
    client: &reqwest::Client,
    page: Option<usize>,
) -> samskab_tests::Page {
    let path = match page {
        Some(p) => format!("/consultations/{SLUG}/statements/all?page={p}"),
        None => format!("/consultations/{SLUG}/statements/all"),
    };
    let (status, page) = app.page_with(client, &path).await;
    assert_eq!(status, 200, "{}", page.body);
    page
}

both_backends!(a_statement_change_shows_on_the_next_view, no_worker());
/// The pages keep a consultation's statements in memory between views; a
/// change to them, by this server, by another server on the same database or
/// by SQL no server sent, shows on the next view of the voting page, the
/// statement list and the opinion API.
async fn a_statement_change_shows_on_the_next_view(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    app.conversation_with_votes(&c, &ids, 24).await;
    app.recompute_snapshot(c.id).await.expect("a snapshot");
    let me = app
        .user(Role::Moderator)
        .email("mod-change@example.org")
        .actor()
        .await;
    let reader = samskab_tests::client();
    let texts = async || listed(&app, &reader, None).await.texts(".statement-text");
    let progress = async || {
        let (status, page) = app
            .page_with(&reader, &format!("/consultations/{SLUG}/statements"))
            .await;
        assert_eq!(status, 200);
        page.text("#progress").unwrap()
    };
    let first = texts().await;
    assert_eq!(first.len(), 8);
    assert_eq!(progress().await, "Du har stemt om 0 af 8 udsagn.");

    // Through the services of this server: a new seed, a rejection, meta.
    app.seed_statement(&me, SLUG, "Havnebadet bør have en sauna")
        .await;
    let now = texts().await;
    assert_eq!(now.len(), 9);
    assert!(now.contains(&"Havnebadet bør have en sauna".to_owned()));
    assert_eq!(progress().await, "Du har stemt om 0 af 9 udsagn.");
    app.moderate_statement(&me, SLUG, ids[0], ModerationAction::Reject, "Udenfor emnet")
        .await;
    let now = texts().await;
    assert!(!now.contains(&first[0]), "a rejected statement is gone");
    assert_eq!(progress().await, "Du har stemt om 0 af 8 udsagn.");

    // Through another server process on the same database (a replica): a
    // staff member adds a statement there.
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".into();
    let second = samskab::startup::Application::build(settings, no_worker())
        .await
        .expect("a second server on the same database");
    let second_url = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let staff = samskab_tests::client();
    let csrf = async || {
        let body = staff
            .get(format!("{second_url}/privacy"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        samskab_tests::Page::parse(&body)
            .attr("meta[name=csrf-token]", "content")
            .unwrap()
    };
    let token = csrf().await;
    let res = staff
        .post(format!("{second_url}/login"))
        .form(&[
            ("email", "mod-change@example.org"),
            ("password", samskab_tests::PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "logged in on the second server");
    let token = csrf().await;
    let res = staff
        .post(format!(
            "{second_url}/staff/consultations/{SLUG}/statements"
        ))
        .form(&[
            ("body", "Havnebadet bør have en livredder hele sommeren"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the second server took the statement");
    assert!(
        texts()
            .await
            .contains(&"Havnebadet bør have en livredder hele sommeren".to_owned())
    );

    // By SQL that no server sent (an operator, a data move): the database
    // itself moves the marker.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE statements SET body = body || ' (rettet)' WHERE consultation_id = {}",
            c.id
        ))
        .await
        .unwrap();
    let now = texts().await;
    assert!(!now.is_empty());
    assert!(now.iter().all(|t| t.ends_with(" (rettet)")), "{now:?}");
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{SLUG}/opinion"))
        .await
        .json()
        .await
        .unwrap();
    let mut told = Vec::new();
    for g in api["groups"].as_array().unwrap() {
        for r in g["representative"].as_array().unwrap() {
            told.push(r["text"].as_str().unwrap().to_owned());
        }
    }
    for side in ["agree", "disagree"] {
        for s in api["consensus"][side].as_array().unwrap() {
            told.push(s["text"].as_str().unwrap().to_owned());
        }
    }
    assert!(!told.is_empty(), "the snapshot names statements: {api}");
    assert!(told.iter().all(|t| t.ends_with(" (rettet)")), "{told:?}");
}

both_backends!(
    the_voting_page_from_kept_statements_is_the_same,
    no_worker()
);
/// The voting page made from the statements kept in memory offers the
/// statement that reading everything afresh chooses, with the same progress.
async fn the_voting_page_from_kept_statements_is_the_same(app: TestApp) {
    let (c, ids) = open_conversation(&app).await;
    app.conversation_with_votes(&c, &ids, 24).await;
    app.recompute_snapshot(c.id).await.expect("a snapshot");
    let voter = samskab_tests::client();
    let page_of = async || {
        let (status, page) = app
            .page_with(&voter, &format!("/consultations/{SLUG}/statements"))
            .await;
        assert_eq!(status, 200);
        page
    };
    for round in 0..4 {
        let page = page_of().await;
        let action = page
            .attr("form.vote-buttons", "action")
            .expect("a statement to vote on");
        let shown: i64 = action
            .trim_end_matches("/vote")
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // What reading everything from the database gives.
        let accepted = samskab::services::statements::list_accepted(&app.db, c.id)
            .await
            .unwrap();
        let (_, snap) = samskab::services::snapshots::latest(&app.db, c.id)
            .await
            .unwrap()
            .unwrap();
        let (participant, voted) = if round == 0 {
            (0, Default::default())
        } else {
            let p = vote::Entity::find()
                .filter(vote::Column::ConsultationId.eq(c.id))
                .order_by_desc(vote::Column::Id)
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
                .participant_id;
            (
                p,
                samskab::services::votes::of_participant(&app.db, p)
                    .await
                    .unwrap(),
            )
        };
        let expected = samskab::services::snapshots::next_statement(
            &accepted,
            Some(&snap),
            participant,
            &voted,
        )
        .unwrap();
        assert_eq!(shown, expected.id, "round {round}");
        assert_eq!(
            page.text("#current-statement").unwrap(),
            expected.body,
            "round {round}"
        );
        assert_eq!(
            page.text("#progress").unwrap(),
            format!("Du har stemt om {round} af {} udsagn.", accepted.len())
        );
        let res = app
            .post_form_with(&voter, &action, &[("vote", "agree")])
            .await;
        assert_eq!(res.status(), 303);
    }
}

both_backends!(
    the_statement_list_shows_every_statement_once_in_pages,
    no_worker()
);
/// A conversation of more statements than a page holds: the list's pages
/// together show every accepted statement once, in order, each with its vote
/// form; a vote from a later page comes back to that page (the redirect's
/// `#s{id}` is on it); "is it the same as …?" links to the right page.
async fn the_statement_list_shows_every_statement_once_in_pages(app: TestApp) {
    use samskab::services::shown_statements::LIST_PAGE_SIZE;
    let me = app
        .user(Role::Moderator)
        .email("mod-pages@example.org")
        .actor()
        .await;
    let words = [
        "bænke",
        "træer",
        "skraldespande",
        "lamper",
        "cykelstativer",
        "toiletter",
    ];
    let seeds: Vec<String> = (0..LIST_PAGE_SIZE * 2 + 20)
        .map(|i| {
            format!(
                "Havnebadet bør have {} {} nummer {i}",
                i + 2,
                words[i % words.len()]
            )
        })
        .collect();
    let (_, ids) = open_with_seeds(&app, &me, &seeds).await;
    app.moderate_statement(&me, SLUG, ids[3], ModerationAction::Reject, "Udenfor emnet")
        .await;
    let accepted: Vec<i64> = ids.iter().copied().filter(|&id| id != ids[3]).collect();
    let total = accepted.len();
    let pages = total.div_ceil(LIST_PAGE_SIZE);
    assert_eq!(pages, 3);

    let reader = samskab_tests::client();
    let mut seen = Vec::new();
    for p in 1..=pages {
        let page = listed(&app, &reader, Some(p)).await;
        let items: Vec<i64> = page
            .attrs("li.statement-item", "id")
            .iter()
            .map(|id| id.trim_start_matches('s').parse().unwrap())
            .collect();
        assert_eq!(
            page.attrs("li.statement-item form.vote-buttons", "action")
                .len(),
            items.len(),
            "every statement has its vote form"
        );
        let from = (p - 1) * LIST_PAGE_SIZE + 1;
        let to = (p * LIST_PAGE_SIZE).min(total);
        assert_eq!(
            page.text("#list-range").unwrap(),
            format!("Udsagn {from}–{to} af {total}")
        );
        assert_eq!(page.texts("nav.pagination .page-numbers a").len(), pages);
        assert_eq!(
            page.text("nav.pagination a[aria-current=page]").unwrap(),
            p.to_string()
        );
        assert_eq!(
            page.attr("ol.statement-list", "start"),
            (p > 1).then(|| from.to_string())
        );
        seen.extend(items);
    }
    assert_eq!(seen, accepted, "every accepted statement once, in order");
    // Beyond the end: the last page.
    let last = listed(&app, &reader, Some(99)).await;
    assert_eq!(
        last.text("nav.pagination a[aria-current=page]").unwrap(),
        pages.to_string()
    );
    let res = app
        .get(&format!("/consultations/{SLUG}/statements/all?page=abc"))
        .await;
    assert_eq!(res.status(), 400);

    // A vote from the last page comes back to it.
    let voter = samskab_tests::client();
    let target = *accepted.last().unwrap();
    listed(&app, &voter, Some(pages)).await;
    let res = app
        .post_form_with(
            &voter,
            &format!("/consultations/{SLUG}/statements/{target}/vote"),
            &[("vote", "disagree"), ("back", "all")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = samskab_tests::location(&res);
    assert!(to.ends_with(&format!("/statements/all#s{target}")), "{to}");
    let path = to.split('#').next().unwrap();
    let (_, back) = app
        .page_with(&voter, path.trim_start_matches(&app.address))
        .await;
    let item = format!("li#s{target}");
    assert!(
        back.text(&item).is_some(),
        "the voted statement is on the page"
    );
    assert_eq!(
        back.attr(&format!("{item} button[aria-pressed=true]"), "value")
            .as_deref(),
        Some("disagree")
    );
    // The first page when no page was shown before.
    let fresh = listed(&app, &samskab_tests::client(), None).await;
    assert_eq!(
        fresh.text("nav.pagination a[aria-current=page]").unwrap(),
        "1"
    );

    // "Is it the same as …?" links to the page of each similar statement.
    let writer = samskab_tests::client();
    let res = app
        .post_form_with(
            &writer,
            &format!("/consultations/{SLUG}/statements"),
            &[("body", &format!("{} også", seeds[LIST_PAGE_SIZE * 2 + 5]))],
        )
        .await;
    let body = res.text().await.unwrap();
    let similar = samskab_tests::Page::parse(&body);
    let links = similar.attrs(".similar-item a", "href");
    assert!(!links.is_empty(), "similar statements are offered: {body}");
    for href in links {
        let id: i64 = href.rsplit("#s").next().unwrap().parse().unwrap();
        let at = accepted.iter().position(|&a| a == id).unwrap();
        assert!(
            href.contains(&format!("?page={}#", at / LIST_PAGE_SIZE + 1)),
            "{href}"
        );
    }
}
