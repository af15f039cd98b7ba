#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 7, open data: who may download a consultation's export, what the
//! files contain, and that the export reproduces the final opinion groups
//! when read back by the engine's Pol.is reader, on both databases.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{consultation, participant, statement, user, vote, vote_history};
use samskab::opinion_tools::synthetic::{self, SyntheticParams};
use samskab::services::consultations::{self, Status};
use samskab::services::statements::ModerationAction;
use samskab_tests::{
    BuildOptions, TestApp, anonymous, both_backends, client, location, partition, visitor,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

const FILES: [&str; 6] = [
    "comments.csv",
    "votes.csv",
    "participants-votes.csv",
    "summary.csv",
    "stats-history.csv",
    "export.json",
];

/// The moderator these tests act as (not logged in).
async fn moderator(app: &TestApp) -> CurrentUser {
    app.user(Role::Moderator)
        .email("mads.moderator@example.org")
        .actor()
        .await
}

both_backends!(
    downloads_follow_the_life_cycle_and_the_role,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn downloads_follow_the_life_cycle_and_the_role(app: TestApp) {
    let me = moderator(&app).await;
    for status in Status::ALL {
        app.consultation()
            .slug(status.as_str())
            .conversation()
            .seeds(&["Et udsagn"])
            .by(&me)
            .status(status)
            .create()
            .await;
    }
    let anonymous = client();
    let (citizen, _) = app
        .user(Role::Citizen)
        .email("borger@example.org")
        .in_browser()
        .await;
    let (politician, _) = app
        .user(Role::Politician)
        .email("politiker@example.org")
        .in_browser()
        .await;
    let moderator = client();
    app.login_with(&moderator, "mads.moderator@example.org")
        .await;
    let (admin, _) = app
        .user(Role::Admin)
        .email("admin@example.org")
        .in_browser()
        .await;
    let clients = [
        ("anonymous", &anonymous),
        ("citizen", &citizen),
        ("politician", &politician),
        ("moderator", &moderator),
        ("admin", &admin),
    ];
    for status in Status::ALL {
        let slug = status.as_str();
        for (who, c) in clients {
            let expected: u16 = match (status, who) {
                (_, "moderator" | "admin") => 200,
                (Status::Published | Status::Archived, _) => 200,
                // Drafts do not exist for the public, as on the consultation page.
                (Status::Draft, _) => 404,
                (_, "politician") => 200,
                (_, "anonymous") => 303,
                _ => 403,
            };
            for file in ["participants-votes.csv".to_owned(), format!("{slug}.zip")] {
                let path = format!("/consultations/{slug}/export/{file}");
                let res = app.get_with(c, &path).await;
                assert_eq!(res.status().as_u16(), expected, "{who} on {path}");
                match expected {
                    200 => {
                        let disposition = res.headers()["content-disposition"].to_str().unwrap();
                        assert_eq!(disposition, format!("attachment; filename=\"{file}\""));
                        let kind = res.headers()["content-type"].to_str().unwrap();
                        if file.ends_with(".zip") {
                            assert_eq!(kind, "application/zip");
                        } else {
                            assert_eq!(kind, "text/csv; charset=utf-8");
                        }
                    }
                    303 => assert!(location(&res).starts_with("/login"), "{who} on {path}"),
                    403 => {
                        let body = res.text().await.unwrap();
                        assert!(body.contains("lang=\"da\""), "a translated page");
                    }
                    _ => {}
                }
            }
            // The JSON API answers the same question without redirects.
            let res = app
                .get_with(c, &format!("/api/v1/consultations/{slug}/export"))
                .await;
            let api_expected = if expected == 303 { 403 } else { expected };
            assert_eq!(res.status().as_u16(), api_expected, "{who} on the API");
        }
    }
    // Unknown file names and consultations are 404, not 500.
    for path in [
        "/consultations/published/export/passwords.csv",
        "/consultations/published/export/draft.zip",
        "/consultations/nope/export/comments.csv",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let headers = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (headers, rows)
}

/// A conversation from the seeded generator, voted through the services:
/// 60 people in 3 latent groups on 10 seed statements, one of them later
/// rejected and one marked meta, plus a statement written by a participant
/// and one still waiting for moderation.
async fn voted_conversation(app: &TestApp, me: &CurrentUser, slug: &str) -> consultation::Model {
    let seeds: Vec<String> = (0..10).map(|i| format!("Forslag nummer {i}")).collect();
    let c = app
        .consultation()
        .slug(slug)
        .conversation()
        .seeds(&seeds)
        .by(me)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let conversation = synthetic::generate(
        &SyntheticParams {
            participants: 60,
            statements: ids.len(),
            votes: 60 * 8,
            groups: 3,
            pass_rate: 0.1,
            polarisation: 0.9,
            moderated_fraction: 0.0,
        },
        7,
    );
    let visitor = |p: i64| anonymous(&format!("{slug}-person-{p}"));
    for v in &conversation.input.votes {
        let id = ids[usize::try_from(v.statement).unwrap()];
        app.vote_as(&c, &visitor(v.participant), id, v.value).await;
    }
    // Someone changes their mind: votes.csv has both, the matrix the last.
    let first = conversation.input.votes[0];
    let id = ids[usize::try_from(first.statement).unwrap()];
    let other = if first.value == samskab::opinion::VoteValue::Agree {
        samskab::opinion::VoteValue::Disagree
    } else {
        samskab::opinion::VoteValue::Agree
    };
    app.vote_as(&c, &visitor(first.participant), id, other)
        .await;
    let written = app
        .participant_statement(&c, &visitor(3), "Flere bænke ved stien")
        .await;
    app.moderate_statement(
        me,
        slug,
        ids[1],
        ModerationAction::Reject,
        "Personlige oplysninger",
    )
    .await;
    app.moderate_statement(me, slug, ids[2], ModerationAction::MarkMeta, "")
        .await;
    assert_eq!(written.status, samskab::domain::StatementStatus::Accepted);
    c
}

both_backends!(
    csv_files_match_the_database_and_name_nobody,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn csv_files_match_the_database_and_name_nobody(app: TestApp) {
    let me = moderator(&app).await;
    let slug = "aabne-data";
    let c = voted_conversation(&app, &me, slug).await;
    // A statement written by a logged-in citizen, still awaiting moderation
    // in pre-moderation: it is not in the export.
    let citizen = app
        .user(Role::Citizen)
        .email("karen.jensen@example.org")
        .actor()
        .await;
    let mut pre = c.clone();
    pre.moderation_mode = samskab::domain::ModerationMode::Pre;
    let pending = app
        .participant_statement(&pre, &visitor(&citizen), "Et udsagn, der venter")
        .await;
    assert_eq!(pending.status, samskab::domain::StatementStatus::Pending);
    app.transition(&me, slug, Status::Closed).await;
    app.transition(&me, slug, Status::Published).await;

    let mut files = BTreeMap::new();
    for f in FILES {
        let res = app.get(&format!("/consultations/{slug}/export/{f}")).await;
        assert_eq!(res.status(), 200, "{f}");
        files.insert(f, res.bytes().await.unwrap().to_vec());
    }
    // No names or email addresses anywhere.
    let people = user::Entity::find().all(&app.db).await.unwrap();
    for (name, bytes) in &files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains('@'), "{name} has an email address");
        for u in &people {
            assert!(
                !text.contains(&u.display_name),
                "{name} names {}",
                u.display_name
            );
        }
    }

    let accepted_or_rejected = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .filter(statement::Column::Status.ne("pending"))
        .count(&app.db)
        .await
        .unwrap();
    let (headers, comments) = csv_rows(&files["comments.csv"]);
    assert_eq!(
        headers,
        [
            "timestamp",
            "comment-id",
            "author-id",
            "agrees",
            "disagrees",
            "moderated",
            "is-meta",
            "is-seed",
            "group-informed-consensus",
            "comment-body"
        ]
    );
    assert_eq!(comments.len() as u64, accepted_or_rejected);
    assert!(!files["comments.csv"].windows(6).any(|w| w == b"venter"));
    let rejected = comments.iter().find(|r| r[1] == "1").unwrap();
    assert_eq!((rejected[5].as_str(), rejected[9].as_str()), ("-1", ""));
    let meta = comments.iter().find(|r| r[1] == "2").unwrap();
    assert_eq!(meta[6], "true");
    let written = comments
        .iter()
        .find(|r| r[9] == "Flere bænke ved stien")
        .unwrap();
    assert_eq!(written[7], "false");
    assert!(
        !written[2].is_empty(),
        "a participant's statement has an author id"
    );

    let history = vote_history::Entity::find()
        .filter(vote_history::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let (headers, votes_rows) = csv_rows(&files["votes.csv"]);
    assert_eq!(
        headers,
        ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
    );
    assert_eq!(votes_rows.len() as u64, history);

    let current = vote::Entity::find()
        .filter(vote::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let voters = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let (headers, rows) = csv_rows(&files["participants-votes.csv"]);
    assert_eq!(
        headers[..7],
        [
            "participant",
            "xid",
            "group-id",
            "n-comments",
            "n-votes",
            "n-agree",
            "n-disagree"
        ]
    );
    assert_eq!(headers.len() as u64, 7 + accepted_or_rejected);
    // The pending statement's author only wrote that: not a participant here.
    assert_eq!(rows.len() as u64, voters - 1);
    let ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let scoped: Vec<String> = (0..rows.len()).map(|i| i.to_string()).collect();
    assert_eq!(ids, scoped, "participant ids are 0..n in this consultation");
    let n_votes: u64 = rows.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    assert_eq!(n_votes, current);
    let cells = rows
        .iter()
        .flat_map(|r| r[7..].iter())
        .filter(|v| !v.is_empty())
        .count();
    assert_eq!(cells as u64, current);

    let (headers, summary) = csv_rows(&files["summary.csv"]);
    let mut keys = vec![headers[0].clone()];
    keys.extend(summary.iter().map(|r| r[0].clone()));
    assert_eq!(
        keys,
        [
            "topic",
            "url",
            "views",
            "voters",
            "voters-in-conv",
            "commenters",
            "comments",
            "groups",
            "conversation-description"
        ]
    );
    assert_eq!(headers[1], "Høring aabne-data");
    let (headers, stats) = csv_rows(&files["stats-history.csv"]);
    assert_eq!(
        headers,
        [
            "n-votes",
            "n-comments",
            "n-visitors",
            "n-voters",
            "n-commenters"
        ]
    );
    let last = stats.last().unwrap();
    assert_eq!(last[0], history.to_string());
    assert_eq!(last[1], accepted_or_rejected.to_string());

    let json: serde_json::Value = serde_json::from_slice(&files["export.json"]).unwrap();
    assert_eq!(json["license"]["name"], "CC BY 4.0");
    assert_eq!(json["participants"].as_array().unwrap().len(), rows.len());
    assert_eq!(json["votes"].as_array().unwrap().len() as u64, history);
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{slug}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api, json, "the API serves the same document");
    let openapi = app.get("/api/v1/openapi.json").await.text().await.unwrap();
    assert!(openapi.contains("/api/v1/consultations/{slug}/export"));
    assert!(openapi.contains("ExportDocument"));

    // The zip holds every file, byte for byte, and the licence.
    let res = app
        .get(&format!("/consultations/{slug}/export/{slug}.zip"))
        .await;
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: HashSet<String> = zip.file_names().map(str::to_owned).collect();
    for f in FILES {
        let mut inner = Vec::new();
        zip.by_name(f).unwrap().read_to_end(&mut inner).unwrap();
        assert_eq!(&inner, &files[f], "{f} in the zip");
    }
    assert!(names.contains("LICENSE.txt"));
    let mut license = String::new();
    zip.by_name("LICENSE.txt")
        .unwrap()
        .read_to_string(&mut license)
        .unwrap();
    assert!(license.contains("CC BY 4.0") && license.contains("creativecommons.org"));
}

// Without the background worker the only snapshot is the final one of closing.
both_backends!(
    analyzing_the_export_reproduces_the_final_groups,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn analyzing_the_export_reproduces_the_final_groups(app: TestApp) {
    let me = moderator(&app).await;
    let slug = "rundtur";
    let c = voted_conversation(&app, &me, slug).await;
    app.transition(&me, slug, Status::Closed).await;
    let (row, snapshot) = app
        .latest_snapshot(c.id)
        .await
        .expect("final snapshot stored at closing");
    assert_eq!(row.kind, samskab::domain::SnapshotKind::Final);
    assert!(
        snapshot.k >= 2,
        "the conversation has groups: {}",
        snapshot.k
    );

    // Staff download the closed consultation's files over HTTP.
    let staff = client();
    app.login_with(&staff, "mads.moderator@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    for f in FILES {
        let res = app
            .get_with(&staff, &format!("/consultations/{slug}/export/{f}"))
            .await;
        assert_eq!(res.status(), 200, "{f}");
        std::fs::write(dir.path().join(f), res.bytes().await.unwrap()).unwrap();
    }
    // What `samskab opinion analyze --polis-export DIR` runs and prints.
    let report = samskab::opinion_tools::polis::analyze_export(
        dir.path(),
        false,
        &samskab::opinion::Params::default(),
    )
    .unwrap();

    // The stored snapshot, in consultation-scoped ids: participants who took
    // part, numbered in the order they joined.
    let joined: Vec<i64> = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .order_by_asc(participant::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let stored: BTreeMap<i64, Option<usize>> = joined
        .iter()
        .zip(0_i64..)
        .map(|(db_id, scoped)| {
            (
                scoped,
                snapshot.participants.get(db_id).and_then(|r| r.group),
            )
        })
        .collect();
    assert_eq!(report.k, snapshot.k);
    assert_eq!(
        report.participants, stored,
        "the same group for every participant"
    );
    assert!(partition(&stored).len() >= 2);
    assert_eq!(
        report.receipt.counts, snapshot.receipt.counts,
        "the engine saw the same votes"
    );
    // And the group-id column is the stored snapshot's.
    let (_, rows) = csv_rows(&std::fs::read(dir.path().join("participants-votes.csv")).unwrap());
    for r in rows {
        let scoped: i64 = r[0].parse().unwrap();
        let group = stored[&scoped].map(|g| g.to_string()).unwrap_or_default();
        assert_eq!(r[2], group, "group-id of participant {scoped}");
    }
}

both_backends!(
    demo_report_has_groups_and_downloads_for_everyone,
    BuildOptions {
        demo: true,
        no_background_jobs: true,
        ..Default::default()
    }
);
async fn demo_report_has_groups_and_downloads_for_everyone(app: TestApp) {
    let slug = "aeldres-hverdag-mad-faellesskab-og-hjaelp";
    let c = consultations::find_by_slug(&app.db, slug)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, samskab::domain::ConsultationStatus::Published);
    let (row, snapshot) = app
        .latest_snapshot(c.id)
        .await
        .expect("the demo report has a snapshot");
    assert_eq!(row.kind, samskab::domain::SnapshotKind::Final);
    assert!(snapshot.k >= 2, "k = {}", snapshot.k);

    // About 60 % of its participants have pseudonymous MitID accounts.
    let participants = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap();
    assert!((120..=200).contains(&participants.len()));
    let linked: Vec<i64> = participants.iter().filter_map(|p| p.user_id).collect();
    let share = linked.len() as f64 / participants.len() as f64;
    assert!((0.55..=0.65).contains(&share), "{share}");
    let accounts = user::Entity::find()
        .filter(user::Column::Id.is_in(linked.clone()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(accounts.len(), linked.len());
    let year = chrono::Datelike::year(&chrono::Utc::now());
    for u in &accounts {
        assert_eq!(u.identity_provider.as_deref(), Some("mitid"));
        assert!(u.email.is_none() && u.password_hash.is_none());
        let age = year - u.birth_year.unwrap();
        assert!((18..=90).contains(&age), "{age}");
    }
    let aarhus = accounts
        .iter()
        .filter(|u| u.municipality_code.as_deref() == Some("0751"))
        .count();
    assert!(aarhus * 2 > accounts.len() && aarhus < accounts.len());
    // Restarting with the demo adds nobody.
    let users_before = user::Entity::find().count(&app.db).await.unwrap();
    samskab::services::demo::load(&app.db).await.unwrap();
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );
    assert_eq!(
        participant::Entity::find()
            .filter(participant::Column::ConsultationId.eq(c.id))
            .count(&app.db)
            .await
            .unwrap() as usize,
        participants.len()
    );

    // Anyone may download, and the open data page lists it.
    for f in ["participants-votes.csv", &format!("{slug}.zip")] {
        let res = app.get(&format!("/consultations/{slug}/export/{f}")).await;
        assert_eq!(res.status(), 200, "{f}");
    }
    let (status, page) = app.page("/open-data").await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Åbne data");
    let links = page.attrs("a", "href");
    assert!(links.contains(&format!("/consultations/{slug}/report")));
    assert!(links.contains(&format!("/consultations/{slug}/export/{slug}.zip")));
    assert!(page.body.contains("CC BY 4.0"));
    // Open consultations are not listed.
    assert!(
        !page
            .body
            .contains("sikre-cykelruter-til-skole-i-aarhus-vest")
    );
    // The consultation page offers the downloads with the licence.
    let (_, page) = app.page(&format!("/consultations/{slug}")).await;
    assert!(
        page.attrs("a", "href")
            .contains(&format!("/consultations/{slug}/export/comments.csv"))
    );
    assert!(page.text(".license-notice").unwrap().contains("CC BY 4.0"));
    let (_, page) = app
        .page("/consultations/sikre-cykelruter-til-skole-i-aarhus-vest")
        .await;
    assert!(
        page.text(".downloads").is_none(),
        "not for the public while open"
    );
}
