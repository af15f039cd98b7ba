#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 18, operations: `/metrics` (not public by default), the request id
//! header, and SQLite backups under vote load that restore identically.
//! Two replicas, rolling restarts and PostgreSQL dumps need the released binary
//! and nginx: `tests/replicas/run` (part of `tests/run`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use samskab::auth::Role;
use samskab::backup;
use samskab::configuration::Settings;
use samskab::domain::SnapshotKind;
use samskab::entities::{opinion_snapshot, vote};
use samskab_tests::{Backend, BuildOptions, TestApp, both_backends, client};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Database, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set,
};

const TOKEN: &str = "metrics-test-token-0123456789";

both_backends!(metrics_are_off_without_configuration);
async fn metrics_are_off_without_configuration(app: TestApp) {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 404);
}

both_backends!(
    metrics_need_the_token_and_show_requests_votes_and_the_outbox,
    BuildOptions::default(),
    |s: &mut Settings| s.metrics.token = Some(TOKEN.to_owned().into())
);
async fn metrics_need_the_token_and_show_requests_votes_and_the_outbox(app: TestApp) {
    let url = app.url("/metrics");
    let plain = client();
    assert_eq!(plain.get(&url).send().await.unwrap().status(), 401);
    let wrong = plain
        .get(&url)
        .bearer_auth("metrics-test-token-0123456780")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // A vote through the web, then a scrape.
    let me = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .logged_in_actor()
        .await;
    let c = app
        .consultation()
        .slug("maalinger")
        .conversation()
        .seeds(&["Flere bænke ved åen", "Længere åbningstider"])
        .by(&me)
        .open()
        .create()
        .await;
    let first = app.statement_ids(c.id).await[0];
    let citizen = client();
    let res = app
        .post_form_with(
            &citizen,
            &format!("/consultations/maalinger/statements/{first}/vote"),
            &[("vote", "agree")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // Refused before it reaches its handler (no CSRF token): still counted
    // under its route. A path no route takes: under the catch-all. (Other
    // tests in this process count into the same series.)
    const REFUSED: &str = "samskab_http_requests_total{method=\"POST\",route=\"/consultations/{slug}/statements/{id}/vote\",status=\"4xx\"}";
    const MISSING: &str =
        "samskab_http_requests_total{method=\"GET\",route=\"/{tail:.*}\",status=\"4xx\"}";
    let scrape = || async {
        let res = plain.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        res.text().await.unwrap()
    };
    let before = scrape().await;
    let refused = plain
        .post(app.url(&format!("/consultations/maalinger/statements/{first}/vote")))
        .form(&[("vote", "agree")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let missing = plain.get(app.url("/ingen/side/her")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let after = scrape().await;
    for series in [REFUSED, MISSING] {
        assert!(
            series_value(&after, series) > series_value(&before, series),
            "{series} did not grow:\n{after}"
        );
    }
    samskab::jobs::recompute::run_once(&app.db).await;

    let res = plain.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for line in [
        "samskab_http_requests_total{method=\"POST\",route=\"/consultations/{slug}/statements/{id}/vote\",status=\"3xx\"}",
        "samskab_http_request_duration_seconds_bucket{method=\"GET\",route=\"/privacy\",status=\"2xx\",le=\"0.005\"}",
        "samskab_db_connections{state=\"in_use\"}",
        "samskab_db_connections{state=\"idle\"}",
        "samskab_db_connections_max ",
        "samskab_votes_total{changed=\"true\"}",
        "samskab_statements_total ",
        "samskab_recompute_duration_seconds_count{kind=\"warm\"}",
        &format!(
            "samskab_recompute_last_success_timestamp_seconds{{consultation=\"{}\"}}",
            c.id
        ),
        "samskab_recompute_failures_total ",
        "samskab_mail_outbox_pending ",
        "samskab_mail_outbox_oldest_due_seconds ",
        "samskab_mail_outbox_failed ",
        "samskab_mail_delivery_failures_total ",
        "samskab_draining 0",
        "samskab_build_info{",
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
    // Every series is one Samskab documents.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap();
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            samskab::metrics::NAMES.contains(&base),
            "{name} is not in metrics::NAMES"
        );
    }
    // Paths with ids never become series of their own.
    assert!(!text.contains(&format!("statements/{first}/vote")));
}

both_backends!(responses_carry_a_request_id);
async fn responses_carry_a_request_id(app: TestApp) {
    let a = app.get("/privacy").await;
    let b = app.get("/no-such-page").await;
    let id_a = a.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id_b = b.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(b.status(), 404);
    assert!(uuid::Uuid::parse_str(&id_a).is_ok(), "{id_a}");
    assert_ne!(id_a, id_b);
}

both_backends!(
    backup_under_vote_load_restores_every_row,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn backup_under_vote_load_restores_every_row(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    if app.backend == Backend::Postgres {
        // PostgreSQL is backed up with pg_dump (tests/replicas/run does it under load).
        let err = backup::sqlite(&app.db, &dir.path().join("x.db"))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("pg_dump"), "{err}");
        return;
    }
    let me = app
        .user(Role::Moderator)
        .email("mod@example.org")
        .logged_in_actor()
        .await;
    let seeds: Vec<String> = (1..=8)
        .map(|i| format!("Forslag nummer {i} til byen"))
        .collect();
    let c = app
        .consultation()
        .slug("sikkerhedskopi")
        .conversation()
        .seeds(&seeds)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let app = Arc::new(app);
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut voters = Vec::new();
    for n in 0..4 {
        let (app, ids, acknowledged) = (app.clone(), ids.clone(), acknowledged.clone());
        voters.push(tokio::spawn(async move {
            for round in 0..3 {
                let citizen = client();
                for id in &ids {
                    let value = if (n + round) % 2 == 0 {
                        "agree"
                    } else {
                        "disagree"
                    };
                    let res = app
                        .post_form_with(
                            &citizen,
                            &format!("/consultations/sikkerhedskopi/statements/{id}/vote"),
                            &[("vote", value)],
                        )
                        .await;
                    assert_eq!(res.status(), 303);
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    // Back up while the voters are busy.
    while acknowledged.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before_backup = acknowledged.load(Ordering::SeqCst);
    let busy = dir.path().join("busy.db");
    backup::sqlite(&app.db, &busy).await.unwrap();
    let during = acknowledged.load(Ordering::SeqCst);
    for v in voters {
        v.await.unwrap();
    }
    let total = acknowledged.load(Ordering::SeqCst);
    assert_eq!(total, 4 * 3 * ids.len());
    assert!(during < total, "the backup ran while votes came in");
    // A second backup to an existing file is refused, nothing overwritten.
    assert!(backup::sqlite(&app.db, &busy).await.is_err());

    // Restore = open the copy as the database: it is consistent and holds every
    // vote acknowledged before the backup began.
    let restored = Database::connect(format!("sqlite://{}?mode=rw", busy.display()))
        .await
        .unwrap();
    let check = backup::verify(&restored).await.unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let in_busy = vote::Entity::find().count(&restored).await.unwrap() as usize;
    assert!(
        in_busy >= before_backup && in_busy <= total,
        "{before_backup} ≤ {in_busy} ≤ {total}"
    );

    // Once the votes are in and the consultation is closed (its final opinion
    // snapshot made), a backup restores every table's rows and the history,
    // and the final snapshot reproduces from the restored votes.
    let open = samskab::entities::consultation::Entity::find_by_id(c.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    samskab::services::lifecycle::apply(
        &app.db,
        samskab::services::lifecycle::Actor::Staff(me.id),
        &open,
        samskab::services::consultations::Status::Closed,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .expect("closed");
    let quiet = dir.path().join("quiet.db");
    backup::sqlite(&app.db, &quiet).await.unwrap();
    let moved = dir.path().join("moved.db");
    std::fs::copy(&quiet, &moved).unwrap();
    let restored = Database::connect(format!("sqlite://{}?mode=rw", moved.display()))
        .await
        .unwrap();
    let live = backup::verify(&app.db).await.unwrap();
    let copy = backup::verify(&restored).await.unwrap();
    assert!(copy.problems.is_empty(), "{:?}", copy.problems);
    assert_eq!(copy.tables, live.tables);
    assert_eq!(copy.vote_history_digest, live.vote_history_digest);
    assert_eq!(copy.tables["votes"], total as i64);
    assert_eq!(copy.tables["vote_history"], total as i64);
    assert!(copy.tables.len() > 15, "{:?}", copy.tables.keys());
    assert_eq!(copy.final_snapshots_reproduced, 1);
    assert_eq!(copy.final_snapshots_not_comparable, 0);

    // A final snapshot that no longer matches its votes is found.
    let row = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
        .filter(opinion_snapshot::Column::Kind.eq(SnapshotKind::Final))
        .one(&restored)
        .await
        .unwrap()
        .expect("a final snapshot");
    let mut doc: serde_json::Value = serde_json::from_str(&row.snapshot).unwrap();
    doc["k"] = serde_json::json!(doc["k"].as_u64().unwrap() + 1);
    let mut changed = row.into_active_model();
    changed.snapshot = Set(doc.to_string());
    changed.update(&restored).await.unwrap();
    let check = backup::verify(&restored).await.unwrap();
    assert_eq!(check.final_snapshots_reproduced, 0);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.contains("does not reproduce")),
        "{:?}",
        check.problems
    );
}

/// `samskab migrate-data`: an SQLite installation with a conversation, votes,
/// ideas and comments moves to an empty PostgreSQL database; every table keeps
/// its rows, the vote history is the same, and the report reads the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_data_moves_sqlite_to_postgres() {
    let Some(old) = TestApp::spawn(Backend::Sqlite).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(pg_url) = samskab_tests::empty_database(Backend::Postgres, &dir)
        .await
        .unwrap()
    else {
        samskab_tests::report_postgres_skipped("operations::migrate_data_moves_sqlite_to_postgres");
        return;
    };
    let me = old
        .user(Role::Moderator)
        .email("mod@example.org")
        .logged_in_actor()
        .await;
    let seeds: Vec<String> = (1..=6)
        .map(|i| format!("Udsagn nummer {i} om havnen"))
        .collect();
    let c = old
        .consultation()
        .slug("flytning")
        .conversation()
        .with_ideas()
        .seeds(&seeds)
        .by(&me)
        .open()
        .create()
        .await;
    let ids = old.statement_ids(c.id).await;
    old.conversation_with_votes(&c, &ids, 12).await;
    // Changed votes: the history has more rows than the current votes.
    for id in &ids[..3] {
        old.vote(&c, "camp-0", *id, samskab::opinion::VoteValue::Pass)
            .await;
    }
    old.recompute_snapshot(c.id).await.expect("a snapshot");
    let citizen = old
        .user(Role::Citizen)
        .email("borger@example.org")
        .actor()
        .await;
    let idea = old.idea(&citizen, "flytning").create().await;
    let first = old.comment(&citizen, idea.id, None, "Godt forslag").await;
    old.comment(&me, idea.id, Some(first.id), "Tak for det")
        .await;
    let report_path = "/api/v1/consultations/flytning/report";
    let before = old.get(report_path).await;
    assert_eq!(before.status(), 200);
    let before: serde_json::Value = before.json().await.unwrap();

    let target = Database::connect(&pg_url).await.unwrap();
    let moved = samskab::migrate_data::run(&old.db, &target).await.unwrap();
    assert_eq!(moved.source.tables, moved.target.tables);
    assert_eq!(
        moved.source.vote_history_digest,
        moved.target.vote_history_digest
    );
    assert_eq!(moved.target.tables["vote_history"], 12 * 6 + 3);
    assert_eq!(moved.target.tables["votes"], 12 * 6);
    assert_eq!(moved.target.tables["comments"], 2);
    assert!(moved.target.tables["opinion_snapshots"] >= 1);
    // A second run refuses: the target is no longer empty.
    let again = samskab::migrate_data::run(&old.db, &target)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("not empty"), "{again}");

    // The app on PostgreSQL shows the same report, and new rows get new ids.
    let new = TestApp::spawn_configured(
        Backend::Sqlite,
        BuildOptions {
            no_background_jobs: true,
            ..Default::default()
        },
        |s: &mut Settings| s.database_url = Some(pg_url.clone().into()),
    )
    .await
    .unwrap()
    .unwrap();
    // The moderator logs in on the new database with the password carried over.
    let login = new
        .post_form(
            "/login",
            &[
                ("email", "mod@example.org"),
                ("password", samskab_tests::PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status(), 303);
    let after: serde_json::Value = new.get(report_path).await.json().await.unwrap();
    assert_eq!(after, before);
    let later = new
        .user(Role::Citizen)
        .email("ny@example.org")
        .create()
        .await;
    assert!(later.id > citizen.id);
    let third = new.comment(&me, idea.id, None, "Ny kommentar").await;
    assert!(third.id > first.id + 1);
}

/// The value of one series in a Prometheus text scrape (0 when it is absent).
fn series_value(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}
