//! Assisted participation at the citizen service desk: a staff member helps
//! a citizen who is present (MitID through the test OpenID Provider, an
//! existing account, or anonymously). What they enter is the citizen's; the
//! staff member stays logged in as themselves and appears only in the audit
//! log; the assisted identity ends with the session or its timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use samskab::auth::Role;
use samskab::domain::VotingEligibility;
use samskab::domain::channel::Channel;
use samskab::entities::{audit_log, idea, participant, session, statement, user, vote};
use samskab_tests::{PASSWORD, TestApp, both_backends, location};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

const SEEDS: [&str; 2] = [
    "Der skal være flere bænke langs åen",
    "Biblioteket skal have åbent om søndagen",
];

/// `desk_oidc_test!(name)`: on both databases with the `mitid` provider at the test OP.
macro_rules! desk_oidc_test {
    ($name:ident) => {
        mod $name {
            async fn run(backend: samskab_tests::Backend) {
                let Some(issuer) = samskab_tests::oidc_issuer(stringify!($name)) else {
                    return;
                };
                match samskab_tests::TestApp::spawn_configured(
                    backend,
                    samskab_tests::BuildOptions::default(),
                    samskab_tests::with_test_oidc(&issuer),
                )
                .await
                .expect("spawning the app")
                {
                    Some(app) => super::$name(app).await,
                    None => samskab_tests::report_postgres_skipped(stringify!($name)),
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(samskab_tests::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(samskab_tests::Backend::Postgres).await;
            }
        }
    };
}

async fn participants_of(app: &TestApp, consultation_id: i64) -> Vec<participant::Model> {
    participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(consultation_id))
        .all(&app.db)
        .await
        .unwrap()
}

async fn desk_audit(app: &TestApp, staff_id: i64) -> Vec<String> {
    audit_log::Entity::find()
        .filter(audit_log::Column::ActorId.eq(staff_id))
        .filter(audit_log::Column::Action.starts_with("assisted."))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

desk_oidc_test!(a_citizen_takes_part_at_the_desk_with_mitid_and_gets_a_receipt);
async fn a_citizen_takes_part_at_the_desk_with_mitid_and_gets_a_receipt(app: TestApp) {
    let c = app
        .consultation()
        .slug("byliv")
        .title("Byliv ved åen")
        .with_ideas()
        .conversation()
        .voting(VotingEligibility::LoggedIn)
        .seeds(&SEEDS)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let staff = app
        .user(Role::Moderator)
        .name("Susanne Skranke")
        .logged_in()
        .await;

    let (status, page) = app.page("/staff/desk").await;
    assert_eq!(status, 200);
    assert!(page.text("#mitid-heading").is_some());

    // The citizen logs in with MitID on the desk device: a fresh login is asked for.
    let res = app
        .post_form("/staff/desk/mitid", &[("provider", "mitid")])
        .await;
    assert_eq!(res.status(), 303);
    let authorize = location(&res);
    assert!(authorize.contains("prompt=login"), "{authorize}");
    let (_, res) = app.oidc_from_url(&app.client, &authorize, "bodil").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/desk/name", "first time: a name");
    let res = app
        .post_form("/staff/desk/name", &[("display_name", "Bodil B")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/desk/session");
    let bodil = user::Entity::find()
        .filter(user::Column::DisplayName.eq("Bodil B"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the citizen's account");
    assert!(bodil.oidc_subject_hash.is_some());

    let (status, page) = app.page("/staff/desk/session").await;
    assert_eq!(status, 200);
    assert!(page.text("#desk-citizen").unwrap().contains("Bodil B"));
    // The staff member is still logged in as themselves.
    assert_eq!(app.page("/staff").await.0, 200);
    let (_, account) = app.page("/account").await;
    assert!(account.body.contains("Susanne Skranke"));
    // Every other page reminds the staff member that a citizen is being helped.
    assert!(account.text("#assisting-notice").is_some());

    let (status, page) = app.page("/staff/desk/c/byliv").await;
    assert_eq!(status, 200);
    assert_eq!(page.texts("fieldset.desk-statement").len(), 2);
    let (s0, s1) = (format!("s{}", ids[0]), format!("s{}", ids[1]));
    let res = app
        .post_form(
            "/staff/desk/c/byliv/votes",
            &[(&s0, "agree"), (&s1, "disagree")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            "/staff/desk/c/byliv/statements",
            &[("body", "Der mangler toiletter ved legepladsen")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            "/staff/desk/c/byliv/ideas",
            &[
                ("title", "Bænke med ryglæn"),
                (
                    "body",
                    "Ældre har brug for bænke med ryglæn og armlæn langs stien.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    // Everything is Bodil's, with the channel "assisted"; nothing is the staff member's.
    let rows = participants_of(&app, c.id).await;
    assert_eq!(rows.len(), 1, "one assisted session is one participant");
    assert_eq!(rows[0].user_id, Some(bodil.id));
    assert_eq!(rows[0].channel, Channel::Assisted);
    let votes = vote::Entity::find()
        .filter(vote::Column::ParticipantId.eq(rows[0].id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(votes.len(), 2);
    let written = statement::Entity::find()
        .filter(statement::Column::Body.eq("Der mangler toiletter ved legepladsen"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written.participant_id, Some(rows[0].id));
    assert_eq!(written.created_by, Some(bodil.id));
    let proposed = idea::Entity::find()
        .filter(idea::Column::Title.eq("Bænke med ryglæn"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(proposed.author_id, Some(bodil.id));
    // The staff member is in the audit log only.
    let actions = desk_audit(&app, staff.id).await;
    for action in [
        "assisted.started",
        "assisted.vote",
        "assisted.statement",
        "assisted.idea",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let (_, public) = app
        .page_with(&samskab_tests::client(), "/consultations/byliv/ideas")
        .await;
    assert!(!public.body.contains("Susanne Skranke"));

    // The end: a receipt of what was sent, and the assisted identity is gone.
    let res = app.post_form("/staff/desk/end", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/desk/receipt");
    let (status, receipt) = app.page("/staff/desk/receipt").await;
    assert_eq!(status, 200);
    assert_eq!(
        receipt.texts(".desk-line").len(),
        4,
        "two votes, a statement, an idea"
    );
    assert!(receipt.text("#receipt-who").unwrap().contains("Bodil B"));
    assert!(receipt.text("#assisting-notice").is_none());
    let res = app
        .post_form("/staff/desk/c/byliv/votes", &[(&s0, "disagree")])
        .await;
    assert_eq!(location(&res), "/staff/desk");
    let after: Vec<i16> = vote::Entity::find()
        .filter(vote::Column::ParticipantId.eq(rows[0].id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(after.len(), 2);
    assert!(
        desk_audit(&app, staff.id)
            .await
            .iter()
            .any(|a| a == "assisted.ended")
    );

    // Next time Bodil is known: straight to the session, same participant.
    let res = app
        .post_form("/staff/desk/mitid", &[("provider", "mitid")])
        .await;
    let (_, res) = app
        .oidc_from_url(&app.client, &location(&res), "bodil")
        .await;
    assert_eq!(location(&res), "/staff/desk/session");
    assert_eq!(participants_of(&app, c.id).await.len(), 1);
}

/// Move the staff member's running desk session `minutes` into the past.
async fn age_desk_session(app: &TestApp, staff_id: i64, minutes: i64) {
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(staff_id))
        .all(&app.db)
        .await
        .unwrap();
    let mut aged = 0;
    for row in rows {
        let mut state: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.state).unwrap();
        let Some(serde_json::Value::String(raw)) = state.get("assist").cloned() else {
            continue;
        };
        let mut assist: serde_json::Value = serde_json::from_str(&raw).unwrap();
        for key in ["started_at", "last_seen_at"] {
            let t = assist[key].as_i64().unwrap();
            assist[key] = serde_json::json!(t - minutes * 60);
        }
        state.insert(
            "assist".into(),
            serde_json::Value::String(assist.to_string()),
        );
        let mut active = row.into_active_model();
        active.state = Set(serde_json::Value::Object(state).to_string());
        active.update(&app.db).await.unwrap();
        aged += 1;
    }
    assert_eq!(aged, 1, "one running desk session");
}

both_backends!(anonymous_desk_participants_are_one_each_and_end_with_the_timeout);
async fn anonymous_desk_participants_are_one_each_and_end_with_the_timeout(app: TestApp) {
    let c = app
        .consultation()
        .slug("alle")
        .with_ideas()
        .conversation()
        .voting(VotingEligibility::Anyone)
        .seeds(&SEEDS)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let s0 = format!("s{}", ids[0]);

    // Citizens and politicians are not desk staff.
    app.user(Role::Citizen).logged_in().await;
    assert_eq!(app.page("/staff/desk").await.0, 403);
    let res = app
        .post_form("/staff/desk/anonymous", &[("consultation", "alle")])
        .await;
    assert_eq!(res.status(), 403);
    assert!(participants_of(&app, c.id).await.is_empty());

    let staff = app.user(Role::Moderator).logged_in().await;
    for round in 1..=2 {
        let res = app
            .post_form("/staff/desk/anonymous", &[("consultation", "alle")])
            .await;
        assert_eq!(location(&res), "/staff/desk/session");
        let res = app
            .post_form("/staff/desk/c/alle/votes", &[(&s0, "agree")])
            .await;
        assert_eq!(res.status(), 303);
        // An anonymous participant proposes no ideas.
        let (_, page) = app.page("/staff/desk/c/alle").await;
        assert!(page.text("#desk-idea-title").is_none());
        let res = app
            .post_form(
                "/staff/desk/c/alle/ideas",
                &[
                    ("title", "En idé til byen"),
                    ("body", "Lang nok beskrivelse af idéen her."),
                ],
            )
            .await;
        assert_ne!(res.status(), 303);
        let rows = participants_of(&app, c.id).await;
        assert_eq!(rows.len(), round, "each session is one new participant");
        assert!(
            rows.iter()
                .all(|p| p.user_id.is_none() && p.channel == Channel::Assisted)
        );
        app.post_form("/staff/desk/end", &[]).await;
    }
    assert_eq!(vote::Entity::find().all(&app.db).await.unwrap().len(), 2);
    assert!(idea::Entity::find().all(&app.db).await.unwrap().is_empty());

    // A session left alone ends by itself.
    app.post_form("/staff/desk/anonymous", &[("consultation", "alle")])
        .await;
    age_desk_session(&app, staff.id, 16).await;
    let res = app
        .post_form("/staff/desk/c/alle/votes", &[(&s0, "agree")])
        .await;
    assert_eq!(location(&res), "/staff/desk");
    assert_eq!(
        participants_of(&app, c.id).await.len(),
        2,
        "nothing recorded"
    );
    let (status, page) = app.page("/staff/desk/receipt").await;
    assert_eq!(status, 200);
    assert!(page.body.contains("receipt") || page.text(".notice").is_some());
    assert!(
        desk_audit(&app, staff.id)
            .await
            .iter()
            .any(|a| a == "assisted.timed_out")
    );
}

both_backends!(a_citizen_with_an_account_types_the_password_and_staff_cannot_assist_themselves);
async fn a_citizen_with_an_account_types_the_password_and_staff_cannot_assist_themselves(
    app: TestApp,
) {
    let c = app
        .consultation()
        .slug("konto")
        .conversation()
        .voting(VotingEligibility::LoggedIn)
        .seeds(&SEEDS)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    let citizen = app
        .user(Role::Citizen)
        .email("karl@example.org")
        .name("Karl K")
        .create()
        .await;
    let staff = app
        .user(Role::Moderator)
        .email("skranke@example.org")
        .logged_in()
        .await;

    let res = app
        .post_form(
            "/staff/desk/account",
            &[
                ("email", "karl@example.org"),
                ("password", "forkert-kode-123"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "a wrong password starts nothing");
    let res = app
        .post_form(
            "/staff/desk/account",
            &[("email", "skranke@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 409, "staff cannot vote again as themselves");
    let res = app
        .post_form(
            "/staff/desk/account",
            &[("email", "karl@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/staff/desk/session");
    let s0 = format!("s{}", ids[0]);
    app.post_form("/staff/desk/c/konto/votes", &[(&s0, "pass")])
        .await;
    let rows = participants_of(&app, c.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user_id, Some(citizen.id));
    // The staff member's own login was never replaced.
    let (_, account) = app.page("/account").await;
    assert!(!account.body.contains("Karl K"));
    assert!(rows.iter().all(|p| p.user_id != Some(staff.id)));
}

both_backends!(the_moderation_log_shows_the_channel_in_danish_time_and_the_queue_counts_complaints);
async fn the_moderation_log_shows_the_channel_in_danish_time_and_the_queue_counts_complaints(
    app: TestApp,
) {
    app.consultation()
        .slug("kanal")
        .conversation()
        .voting(VotingEligibility::Anyone)
        .seeds(&SEEDS)
        .pre_moderated()
        .open()
        .create()
        .await;
    let complainer = app.user(Role::Citizen).actor().await;
    samskab::services::complaints::submit(
        &app.db,
        &complainer,
        None,
        "Min stemme blev ikke talt med",
    )
    .await
    .unwrap();
    app.user(Role::Moderator).logged_in().await;
    app.post_form("/staff/desk/anonymous", &[("consultation", "kanal")])
        .await;
    let res = app
        .post_form(
            "/staff/desk/c/kanal/statements",
            &[("body", "Stierne skal ryddes for sne om morgenen")],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.post_form("/staff/desk/end", &[]).await;
    let written = statement::Entity::find()
        .filter(statement::Column::Body.eq("Stierne skal ryddes for sne om morgenen"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the assisted statement");

    let (_, queue) = app.page("/staff/moderation").await;
    assert!(
        queue.text("#queue-complaints").unwrap().contains('1'),
        "one complaint waits"
    );
    assert_eq!(
        queue.attr("#queue-complaints a", "href").as_deref(),
        Some("/staff/complaints")
    );
    let item = format!("statement-{}", written.id);
    let res = app
        .post_form(
            "/staff/moderation/decide",
            &[("item", &item), ("verdict", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let (_, log) = app.page("/staff/moderation/log?lang=da").await;
    assert_eq!(
        log.texts(".log-channel"),
        vec!["Hjulpet ved borgerservice".to_owned()]
    );
    // The time is the Copenhagen one, in Danish, not UTC.
    let decided = samskab::entities::moderation_action::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let shown = log.texts("tbody td").first().cloned().unwrap();
    assert_eq!(
        shown,
        samskab::dates::format_datetime(decided.created_at, samskab::i18n::Locale::Da)
    );
    assert!(shown.contains(" kl. "), "{shown}");
    let csv = app
        .get("/staff/moderation/log.csv")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",channel"));
    assert!(lines.next().unwrap().contains("assisted"));

    // The staff consultation page links to the paper sheet pages.
    let (_, edit) = app.page("/staff/consultations/kanal/edit").await;
    let links = edit.attrs("#paper-links a", "href");
    assert!(links.contains(&"/staff/consultations/kanal/paper".to_owned()));
    assert!(links.contains(&"/staff/consultations/kanal/paper/sheets".to_owned()));
}
