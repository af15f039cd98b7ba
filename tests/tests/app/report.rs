#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 7, the consultation report: who may read it in which state, that its
//! numbers are the database's, that small groups are withheld, that a closed
//! consultation's report uses the final snapshot, and the administrators'
//! population figures. On both databases.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{
    comment, consultation, idea, opinion_snapshot, participant, population_figure, statement, user,
    vote,
};
use samskab::opinion::VoteValue;
use samskab::services::consultations::Status;
use samskab::services::ideas::IdeaStatus;
use samskab::services::votes;
use samskab_tests::{BuildOptions, TestApp, anonymous, both_backends, client, location, visitor};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

const SLUG: &str = "skolevejen-i-hasle";

fn no_worker() -> BuildOptions {
    // Without the background worker the snapshot depends only on the votes.
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    }
}

async fn staff(app: &TestApp) -> CurrentUser {
    app.user(Role::Moderator)
        .email("mod@example.org")
        .actor()
        .await
}

/// A consultation with a conversation of eight seed statements and ideas,
/// still a draft.
async fn draft(app: &TestApp, me: &CurrentUser) -> consultation::Model {
    let seeds: Vec<String> = (0..8)
        .map(|i| format!("Udsagn nummer {i} om skolevejen"))
        .collect();
    app.consultation()
        .title("Skolevejen i Hasle")
        .slug(SLUG)
        .conversation()
        .with_ideas()
        .seeds(&seeds)
        .by(me)
        .create()
        .await
}

/// A logged-in client per role (the anonymous one first).
async fn clients(app: &TestApp) -> Vec<(&'static str, reqwest::Client)> {
    let mut out = vec![("anonymous", client())];
    for (name, role) in [
        ("citizen", Role::Citizen),
        ("politician", Role::Politician),
        ("moderator", Role::Moderator),
        ("admin", Role::Admin),
    ] {
        let (c, _) = app
            .user(role)
            .email(&format!("{name}-reader@example.org"))
            .in_browser()
            .await;
        out.push((name, c));
    }
    out
}

both_backends!(who_may_read_the_report_per_role_and_status);
async fn who_may_read_the_report_per_role_and_status(app: TestApp) {
    let me = staff(&app).await;
    draft(&app, &me).await;
    let readers = clients(&app).await;
    let page = format!("/consultations/{SLUG}/report");
    let api = format!("/api/v1/consultations/{SLUG}/report");
    // (status, anonymous, citizen, politician, moderator, admin): page status.
    let steps: [(Option<Status>, [u16; 5]); 4] = [
        (None, [404, 404, 404, 200, 200]),
        (Some(Status::Open), [303, 403, 200, 200, 200]),
        (Some(Status::Closed), [303, 403, 200, 200, 200]),
        (Some(Status::Published), [200, 200, 200, 200, 200]),
    ];
    for (to, expected) in steps {
        if let Some(to) = to {
            app.transition(&me, SLUG, to).await;
        }
        for ((who, c), want) in readers.iter().zip(expected) {
            let res = app.get_with(c, &page).await;
            assert_eq!(res.status(), want, "{who} reading the page in {to:?}");
            if want == 303 {
                assert_eq!(location(&res), format!("/login?next={page}"));
            }
            let body = res.text().await.unwrap();
            if want == 403 {
                // A translated error page, not a blank one.
                assert!(body.contains("Du har ikke adgang"), "{body}");
            }
            if want == 200 {
                assert!(body.contains("Skolevejen i Hasle"));
            }
            // The API answers the same, except that nobody is redirected.
            let res = app.get_with(c, &api).await;
            let want_api = if want == 303 { 403 } else { want };
            assert_eq!(res.status(), want_api, "{who} reading the API in {to:?}");
            let json: serde_json::Value = res.json().await.unwrap();
            if want_api == 200 {
                assert_eq!(json["consultation"]["slug"], SLUG);
            } else {
                assert_eq!(json["error"]["status"], want_api);
            }
        }
    }
    let (status, _) = app.page("/consultations/findes-ikke/report").await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get("/api/v1/consultations/findes-ikke/report")
            .await
            .status(),
        404
    );
    // The consultation page links the public report.
    let (_, page) = app.page(&format!("/consultations/{SLUG}")).await;
    assert_eq!(
        page.attr("a[href$='/report']", "href").unwrap(),
        format!("/consultations/{SLUG}/report")
    );
    // The OpenAPI document describes the report.
    let doc: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/v1/consultations/{slug}/report"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Report"].is_object());
}

both_backends!(report_numbers_are_the_database_numbers, no_worker());
async fn report_numbers_are_the_database_numbers(app: TestApp) {
    let me = staff(&app).await;
    draft(&app, &me).await;
    let c = app.transition(&me, SLUG, Status::Open).await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, 40).await;
    // Six MitID participants aged 36 in Aarhus, two aged 76 elsewhere.
    let year = chrono::Datelike::year(&c.opens_at.unwrap());
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(
            app.user(Role::Citizen)
                .email(&format!("aarhus{i}@example.org"))
                .mitid_attributes(year - 36, "0751")
                .actor()
                .await,
        );
    }
    for i in 0..2 {
        people.push(
            app.user(Role::Citizen)
                .email(&format!("kbh{i}@example.org"))
                .mitid_attributes(year - 76, "0101")
                .actor()
                .await,
        );
    }
    for (k, person) in people.iter().enumerate() {
        let v = visitor(person);
        for id in ids.iter().take(3 + k % 3) {
            app.vote_as(&c, &v, *id, VoteValue::Pass).await;
        }
    }
    let idea = app
        .idea(&people[0], SLUG)
        .title("Flere cykelstier ved skolen")
        .body("Børnene skal kunne cykle trygt.")
        .supported_by(&people[1..2])
        .create()
        .await;
    app.comment(&people[2], idea.id, None, "God idé!").await;
    app.change_idea_status(
        &me,
        idea.id,
        IdeaStatus::UnderReview,
        "Forvaltningen ser på forslaget.",
    )
    .await;
    app.recompute_snapshot(c.id).await;

    // Population figures for Aarhus, through the admin page.
    let (admin, _) = app
        .user(Role::Admin)
        .email("chef@example.org")
        .in_browser()
        .await;
    let res = app
        .post_form_with(
            &admin,
            "/admin/population",
            &[
                ("municipality_code", "0751"),
                ("band_15_24", "60000"),
                ("band_25_34", "70000"),
                ("band_35_49", "60000"),
                ("band_50_64", "50000"),
                ("band_65_79", "40000"),
                ("band_80", "20000"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    let participants = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let votes_n = vote::Entity::find()
        .filter(vote::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let voters = vote::Entity::find()
        .select_only()
        .column(vote::Column::ParticipantId)
        .distinct()
        .filter(vote::Column::ConsultationId.eq(c.id))
        .into_tuple::<i64>()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    let accepted = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .filter(statement::Column::Status.eq("accepted"))
        .count(&app.db)
        .await
        .unwrap();
    let ideas_n = idea::Entity::find()
        .filter(idea::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    let comments_n = comment::Entity::find().count(&app.db).await.unwrap();
    // 40 × 8 camp votes, and 3, 4 or 5 passes from each of the eight.
    assert_eq!((participants, voters, votes_n), (48, 48, 320 + 31));
    assert_eq!((accepted, ideas_n, comments_n), (8, 1, 1));

    let reader = client();
    app.user(Role::Politician)
        .email("byraad@example.org")
        .create()
        .await;
    app.login_with(&reader, "byraad@example.org").await;
    let path = format!("/consultations/{SLUG}/report");
    let (status, page) = app.page_with(&reader, &path).await;
    assert_eq!(status, 200);
    let figure = |id: &str| page.text(&format!("#fig-{id}")).unwrap();
    assert_eq!(figure("participants"), participants.to_string());
    assert_eq!(figure("voters"), voters.to_string());
    assert_eq!(figure("votes"), votes_n.to_string());
    assert_eq!(figure("statements"), accepted.to_string());
    assert_eq!(figure("ideas"), ideas_n.to_string());
    assert_eq!(figure("comments"), comments_n.to_string());
    // Every vote was cast today: one bar, one table row.
    let rows = page.texts("#votes-per-day tbody tr");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].ends_with(&votes_n.to_string()), "{rows:?}");

    // The groups are the stored snapshot's.
    let (row, snap) = app.latest_snapshot(c.id).await.unwrap();
    assert_eq!(row.kind, samskab::domain::SnapshotKind::Warm);
    assert_eq!(snap.k, 2);
    let group_rows = page.texts("#groups-table tbody tr");
    assert_eq!(group_rows.len(), 2);
    for g in &snap.groups {
        let letter = char::from(b'A' + g.id as u8);
        let row = &group_rows[g.id];
        assert!(row.starts_with(&format!("Gruppe {letter}")), "{row}");
        assert!(row.contains(&g.members.to_string()), "{row}");
    }
    assert_eq!(
        page.texts("svg.opinion-map circle").len(),
        snap.groups.iter().map(|g| g.members).sum::<usize>()
    );
    // Representative statements in plain words.
    let sentences = page.texts(".rep-sentence");
    assert!(!sentences.is_empty());
    assert!(
        sentences
            .iter()
            .all(|s| s.contains("af gruppe") && s.contains("af alle andre")),
        "{sentences:?}"
    );
    // What divides: the camps disagree completely on every statement.
    let divisive = page.texts("#divisive-table tbody tr");
    assert!(!divisive.is_empty());
    assert!(divisive[0].contains("100 procentpoint"), "{divisive:?}");

    // The idea with its supporter and the council's answer.
    let idea_row = page.text("#ideas-table tbody tr").unwrap();
    assert!(idea_row.contains("Flere cykelstier ved skolen"));
    assert!(idea_row.contains("Forvaltningen ser på forslaget."));
    assert!(idea_row.contains("Under behandling"));

    // Who took part: 8 of 48 verified, so 40 (83,3 %) unknown.
    assert_eq!(
        page.text("#unknown-share").unwrap(),
        "Vi ved intet om 40 deltagere (83,3 %): de deltog anonymt eller med en almindelig konto."
    );
    let ages = page.texts("#age-table tbody tr");
    assert_eq!(ages.len(), 7);
    // 35–49: six people, all with a known band but two withheld → 6 of 8 = 75 %;
    // the population share is 60,000 of 300,000 = 20 %.
    assert_eq!(ages[2], "35–49 6 75 % 20 %");
    // 65–79: two people, fewer than five: withheld.
    assert_eq!(ages[4], "65–79 Ikke vist (for få personer) 13 %");
    let places = page.texts("#municipality-table tbody tr");
    assert_eq!(places[0], "Kommune 0751 6");
    assert_eq!(places[1], "Anden kommune Ikke vist (for få personer)");
    // No name or email of a participant anywhere on the page.
    for u in user::Entity::find().all(&app.db).await.unwrap() {
        if u.role == samskab::domain::Role::Citizen {
            assert!(!page.body.contains(u.email.as_deref().unwrap()));
            assert!(!page.body.contains(&format!(">{}<", u.display_name)));
        }
    }
    // The receipt: the snapshot's input hash and the command to repeat it.
    assert!(page.body.contains(&snap.receipt.input_sha256));
    assert!(page.body.contains("samskab opinion analyze --polis-export"));

    // The JSON API says the same.
    let api: serde_json::Value = app
        .get_with(&reader, &format!("/api/v1/consultations/{SLUG}/report"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["participation"]["participants"], participants);
    assert_eq!(api["participation"]["votes"], votes_n);
    assert_eq!(api["participation"]["voters"], voters);
    assert_eq!(api["opinion"]["kind"], "warm");
    assert_eq!(api["opinion"]["k"], 2);
    assert_eq!(
        api["opinion"]["receipt"]["input_sha256"],
        snap.receipt.input_sha256
    );
    assert_eq!(api["who_took_part"]["verified"], 8);
    assert_eq!(api["who_took_part"]["age_bands"][2]["participants"], 6);
    assert!(api["who_took_part"]["age_bands"][4]["participants"].is_null());
    assert!(!api.to_string().contains("@example.org"));
}

both_backends!(
    groups_below_the_minimum_are_withheld,
    BuildOptions {
        no_background_jobs: true,
        ..Default::default()
    },
    |s: &mut samskab::configuration::Settings| s.report.min_group_size = 30
);
async fn groups_below_the_minimum_are_withheld(app: TestApp) {
    let me = staff(&app).await;
    draft(&app, &me).await;
    let c = app.transition(&me, SLUG, Status::Open).await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, 40).await;
    app.recompute_snapshot(c.id).await;
    app.user(Role::Politician)
        .email("byraad@example.org")
        .logged_in()
        .await;
    let (status, page) = app.page(&format!("/consultations/{SLUG}/report")).await;
    assert_eq!(status, 200);
    // Two groups of about 20, both under 30.
    let rows = page.texts("#groups-table tbody tr");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(row.contains("Ikke vist (for få personer)"), "{row}");
    }
    assert!(page.texts(".rep-sentence").is_empty());
    assert!(page.texts("svg.opinion-map circle").is_empty());
    assert_eq!(page.texts(".group-card .withheld").len(), 2);
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{SLUG}/report"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["min_group_size"], 30);
    for g in api["opinion"]["groups"].as_array().unwrap() {
        assert_eq!(g["withheld"], true);
        assert!(g["members"].is_null());
        assert!(g["representative"].as_array().unwrap().is_empty());
    }
    assert!(api["opinion"]["map"].as_array().unwrap().is_empty());
    assert!(api["opinion"]["divisive"].as_array().unwrap().is_empty());
}

both_backends!(closed_report_uses_the_final_snapshot, no_worker());
async fn closed_report_uses_the_final_snapshot(app: TestApp) {
    let me = staff(&app).await;
    draft(&app, &me).await;
    let c = app.transition(&me, SLUG, Status::Open).await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, 30).await;
    app.recompute_snapshot(c.id).await;
    app.user(Role::Politician)
        .email("byraad@example.org")
        .logged_in()
        .await;
    let api_path = format!("/api/v1/consultations/{SLUG}/report");
    let api: serde_json::Value = app.get(&api_path).await.json().await.unwrap();
    assert_eq!(api["opinion"]["kind"], "warm");

    app.transition(&me, SLUG, Status::Closed).await;
    // A warm snapshot stored after the final one must not replace it.
    let _ = votes::cast(&app.db, &c, &anonymous("late"), ids[0], VoteValue::Agree).await;
    let final_row = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
        .filter(opinion_snapshot::Column::Kind.eq("final"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("closing stored a final snapshot");
    let api: serde_json::Value = app.get(&api_path).await.json().await.unwrap();
    assert_eq!(api["opinion"]["kind"], "final");
    let stored: samskab::opinion::Snapshot = serde_json::from_str(&final_row.snapshot).unwrap();
    assert_eq!(
        api["opinion"]["receipt"]["input_sha256"],
        stored.receipt.input_sha256
    );
    let (_, page) = app.page(&format!("/consultations/{SLUG}/report")).await;
    assert!(
        page.body
            .contains("den endelige beregning fra da høringen lukkede")
    );
    assert!(page.body.contains(&stored.receipt.input_sha256));
}

both_backends!(population_figures_are_for_admins_and_validated);
async fn population_figures_are_for_admins_and_validated(app: TestApp) {
    let path = "/admin/population";
    let res = app.get(path).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=/admin/population");

    let citizen = client();
    app.user(Role::Citizen)
        .email("borger@example.org")
        .create()
        .await;
    app.login_with(&citizen, "borger@example.org").await;
    assert_eq!(app.get_with(&citizen, path).await.status(), 403);
    let res = app
        .post_form_with(
            &citizen,
            path,
            &[("municipality_code", "0751"), ("band_80", "5")],
        )
        .await;
    assert_eq!(res.status(), 403);

    app.user(Role::Admin)
        .email("chef@example.org")
        .logged_in()
        .await;
    let (status, page) = app.page(path).await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Befolkningstal");

    // Bad input: a 422 with translated messages next to the fields, nothing stored.
    let res = app
        .post_form(
            path,
            &[
                ("municipality_code", "75"),
                ("band_15_24", "-4"),
                ("band_25_34", "mange"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = samskab_tests::Page::parse(&res.text().await.unwrap());
    assert_eq!(
        page.text("#municipality_code-error").unwrap(),
        "Skriv en kommunekode på fire cifre, fx 0751."
    );
    assert_eq!(
        page.text("#band_15_24-error").unwrap(),
        "Skriv et helt tal mellem 0 og 10.000.000."
    );
    assert!(page.text("#band_25_34-error").is_some());
    assert_eq!(page.attr("#band_25_34", "value").unwrap(), "mange");
    let res = app.post_form(path, &[("municipality_code", "0751")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        population_figure::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    // Without the CSRF token: refused.
    let res = app
        .post_raw(path, &[("municipality_code", "0751"), ("band_80", "5")])
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        population_figure::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    let res = app
        .post_form(
            path,
            &[
                ("municipality_code", "0751"),
                ("band_15_24", "61234"),
                ("band_80", "15000"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored = population_figure::Entity::find()
        .order_by_asc(population_figure::Column::AgeBand)
        .all(&app.db)
        .await
        .unwrap();
    let pairs: Vec<(String, i64)> = stored
        .iter()
        .map(|f| (f.age_band.clone(), f.residents))
        .collect();
    assert_eq!(
        pairs,
        [("15-24".to_owned(), 61234), ("80+".to_owned(), 15000)]
    );
    // Saving again replaces the municipality's figures.
    app.post_form(path, &[("municipality_code", "0751"), ("band_80", "16000")])
        .await;
    let stored = population_figure::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].residents, 16000);
    let (_, page) = app.page(path).await;
    assert_eq!(page.attr("#band_80", "value").unwrap(), "16000");
    assert!(
        page.text(".population-table caption")
            .unwrap()
            .contains("0751")
    );
}
