#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 16, the report a councillor reads in two minutes: the brief's numbers are the
//! database's, a statement with one vote is never listed as uniting, the group stability is
//! reproducible from the snapshot and its seed, and politicians land on their overview.
//! On both databases.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{participant, vote};
use samskab::opinion::VoteValue;
use samskab::opinion::stability::{self, RESAMPLES};
use samskab::services::consultations::Status;
use samskab_tests::{BuildOptions, TestApp, both_backends, client, location};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

const SLUG: &str = "parken-ved-aaen";
const CAMP: usize = 40;

fn no_worker() -> BuildOptions {
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

/// An open consultation where 40 participants split into two camps over eight statements,
/// all agree with a ninth, and one late participant agreed with a tenth written just now.
async fn conversation(app: &TestApp, me: &CurrentUser) -> samskab::entities::consultation::Model {
    let seeds: Vec<String> = (0..8)
        .map(|i| format!("Udsagn nummer {i} om parken ved åen"))
        .collect();
    app.consultation()
        .title("Parken ved åen")
        .slug(SLUG)
        .conversation()
        .seeds(&seeds)
        .by(me)
        .create()
        .await;
    let c = app.transition(me, SLUG, Status::Open).await;
    let ids = app.statement_ids(c.id).await;
    app.conversation_with_votes(&c, &ids, CAMP).await;
    let shared = app
        .seed_statement(me, SLUG, "Der skal være flere bænke i parken")
        .await;
    for i in 0..CAMP {
        app.vote(&c, &format!("camp-{i}"), shared.id, VoteValue::Agree)
            .await;
    }
    let fresh = app
        .seed_statement(me, SLUG, "Skøjtebanen skal flyttes til parken nu")
        .await;
    app.vote(&c, "camp-0", fresh.id, VoteValue::Agree).await;
    app.recompute_snapshot(c.id).await;
    c
}

async fn politician(app: &TestApp) -> reqwest::Client {
    app.user(Role::Politician)
        .email("byraad@example.org")
        .create()
        .await;
    let reader = client();
    let res = app.login_with(&reader, "byraad@example.org").await;
    // A politician lands on the overview of consultations, not on the account page.
    assert_eq!(location(&res), "/politician");
    reader
}

both_backends!(the_brief_comes_first_with_the_database_numbers, no_worker());
async fn the_brief_comes_first_with_the_database_numbers(app: TestApp) {
    let me = staff(&app).await;
    let c = conversation(&app, &me).await;
    let reader = politician(&app).await;
    let participants = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
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
    assert_eq!((participants, voters), (40, 40));

    let (status, page) = app
        .page_with(&reader, &format!("/consultations/{SLUG}/report"))
        .await;
    assert_eq!(status, 200);
    // The brief is the first section, before participation figures and charts.
    let headings = page.texts("article.report section.report-section > h2");
    assert_eq!(headings[0], "Kort fortalt", "{headings:?}");
    assert_eq!(
        page.text("#brief-took-part").unwrap(),
        format!(
            "{participants} personer deltog. {voters} af dem stemte om udsagn. Sådan deltog de: {participants} på nettet."
        )
    );
    let (_, snap) = app.latest_snapshot(c.id).await.unwrap();
    assert_eq!(snap.k, 2);
    let clustered: usize = snap.groups.iter().map(|g| g.members).sum();
    assert_eq!(
        page.text("#brief-groups").unwrap(),
        format!(
            "De {clustered} deltagere, der har stemt nok, falder i 2 grupper, der mener det samme."
        )
    );
    let groups = page.texts(".brief-group");
    assert_eq!(groups.len(), 2);
    for g in &snap.groups {
        let letter = char::from(b'A' + g.id as u8);
        let text = &groups[g.id];
        assert!(text.starts_with(&format!("Gruppe {letter}: ")), "{text}");
        assert!(
            text.contains(&format!(
                "{} personer, 50,0 % af dem i grupperne.",
                g.members
            )),
            "{text}"
        );
        // Two camps that never mix: every resample finds them again.
        assert!(
            text.contains(&format!("Gruppe {letter} er stabil: 100,0 %.")),
            "{text}"
        );
        // The group's sentence gives a percentage with its n.
        assert!(
            text.contains(&format!("100,0 % (n = {})", g.members)),
            "{text}"
        );
    }
    // What unites: only the statement everybody agreed with; the one with a single vote
    // never, although its lone agree passes the z-test on its own.
    assert_eq!(
        page.texts("#brief-uniting li"),
        vec!["Der skal være flere bænke i parken 100,0 % (n = 40) er enige".to_owned()]
    );
    assert!(!page.text("#brief").unwrap().contains("Skøjtebanen"));
    // What divides: the camp statements, 100 % against 0 %, each with its n.
    let dividing = page.texts("#brief-dividing li");
    assert_eq!(dividing.len(), 3);
    for d in &dividing {
        assert!(d.contains("100,0 % (n = 20) er enige"), "{d}");
        assert!(d.contains("0,0 % (n = 20) er enige"), "{d}");
    }
    assert!(
        page.text("#brief-rule")
            .unwrap()
            .contains("når mindst 5 har stemt om det")
    );
    assert!(
        page.text("#brief-representation")
            .unwrap()
            .contains("ikke tastet tal for befolkningen ind")
    );
    // The calculation receipt is at the end, closed.
    assert_eq!(headings.last().unwrap(), "Data");
    assert!(
        page.body
            .contains("<details class=\"receipt-details\" id=\"receipt\">")
    );
    assert_eq!(page.texts("#stability-table tbody tr").len(), 2);
    // No jargon where a councillor reads.
    for word in ["(warm)", "(final)", "seed)"] {
        assert!(!page.body.contains(word), "{word} on the page");
    }

    // The API carries the same brief.
    let api: serde_json::Value = app
        .get_with(&reader, &format!("/api/v1/consultations/{SLUG}/report"))
        .await
        .json()
        .await
        .unwrap();
    let brief = &api["brief"];
    assert_eq!(brief["participants"], participants);
    assert_eq!(brief["voters"], voters as u64);
    assert_eq!(brief["channels"][0]["channel"], "online");
    assert_eq!(brief["channels"][0]["participants"], participants);
    assert_eq!(brief["clustered"], clustered);
    assert_eq!(brief["uniting"].as_array().unwrap().len(), 1);
    // The older lists obey the same rule: the one-vote statement is in none of them.
    let fresh_number = snap
        .statements
        .iter()
        .find(|(_, s)| s.counts.ns == 1)
        .map(|(n, _)| *n)
        .expect("the fresh statement is in the snapshot");
    for list in ["consensus_agree", "group_informed_consensus", "divisive"] {
        assert!(
            api["opinion"][list]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["number"] != fresh_number),
            "{list}: {}",
            api["opinion"][list]
        );
    }
}

both_backends!(
    stability_is_reproducible_from_the_snapshot_and_seed,
    no_worker()
);
async fn stability_is_reproducible_from_the_snapshot_and_seed(app: TestApp) {
    let me = staff(&app).await;
    let c = conversation(&app, &me).await;
    let reader = politician(&app).await;
    let path = format!("/api/v1/consultations/{SLUG}/report");
    let first: serde_json::Value = app.get_with(&reader, &path).await.json().await.unwrap();
    let second: serde_json::Value = app.get_with(&reader, &path).await.json().await.unwrap();
    assert_eq!(first["brief"]["stability"], second["brief"]["stability"]);

    // Anyone holding the snapshot can recompute the figures with the receipt's seed.
    let (_, snap) = app.latest_snapshot(c.id).await.unwrap();
    let (points, groups): (Vec<[f64; 2]>, Vec<usize>) = snap
        .participants
        .values()
        .filter_map(|p| Some((p.projection, p.group?)))
        .unzip();
    let again = stability::stability(
        &points,
        &groups,
        snap.groups.len(),
        snap.receipt.seed,
        RESAMPLES,
    );
    let shown = &first["brief"]["stability"];
    assert_eq!(shown["seed"], snap.receipt.seed);
    assert_eq!(shown["resamples"], RESAMPLES);
    for (row, g) in shown["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&again.groups)
    {
        assert_eq!(row["drawn"], g.drawn);
        assert_eq!(row["same"], g.same);
        assert!(g.drawn > 0);
    }
    // And a different seed is a different draw.
    let other = stability::stability(
        &points,
        &groups,
        snap.groups.len(),
        snap.receipt.seed + 1,
        RESAMPLES,
    );
    assert_ne!(
        other.groups.iter().map(|g| g.drawn).collect::<Vec<_>>(),
        again.groups.iter().map(|g| g.drawn).collect::<Vec<_>>()
    );
}

both_backends!(politicians_land_on_their_overview, no_worker());
async fn politicians_land_on_their_overview(app: TestApp) {
    let me = staff(&app).await;
    app.consultation()
        .title("Parken ved åen")
        .slug(SLUG)
        .conversation()
        .by(&me)
        .create()
        .await;
    app.consultation()
        .title("Et udkast ingen må se")
        .slug("udkast")
        .by(&me)
        .create()
        .await;
    app.transition(&me, SLUG, Status::Open).await;
    let reader = politician(&app).await;
    let (status, page) = app.page_with(&reader, "/politician").await;
    assert_eq!(status, 200);
    let items = page.texts("#overview li");
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].contains("Parken ved åen"));
    assert!(items[0].contains("Vokser, mens folk deltager"));
    assert_eq!(
        page.attr("#overview a", "href").unwrap(),
        format!("/consultations/{SLUG}/report")
    );
    // An explicit target after login is kept.
    let other = client();
    let res = app
        .post_form_with(
            &other,
            "/login",
            &[
                ("email", "byraad@example.org"),
                ("password", samskab_tests::PASSWORD),
                ("next", "/consultations"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/consultations");

    // Citizens are refused, anonymous readers asked to log in.
    let (citizen, _) = app
        .user(Role::Citizen)
        .email("borger@example.org")
        .in_browser()
        .await;
    assert_eq!(app.get_with(&citizen, "/politician").await.status(), 403);
    let res = app.get("/politician").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));
}

/// The text of pages `first..=last` of a PDF, as `pdftotext` reads it, whitespace collapsed.
fn pdf_text(bytes: &[u8], first: usize, last: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([
            "-enc",
            "UTF-8",
            "-f",
            &first.to_string(),
            "-l",
            &last.to_string(),
        ])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; tests/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

both_backends!(
    the_pdf_has_the_brief_on_page_one_and_page_numbers,
    no_worker()
);
async fn the_pdf_has_the_brief_on_page_one_and_page_numbers(app: TestApp) {
    let me = staff(&app).await;
    let c = conversation(&app, &me).await;
    let path = format!("/consultations/{SLUG}/report.pdf");
    // Exactly who may read the report may get the PDF: not an anonymous visitor while the
    // consultation is open.
    let html = app.get(&format!("/consultations/{SLUG}/report")).await;
    let anonymous = app.get(&path).await;
    assert_eq!(anonymous.status(), html.status());
    assert_ne!(anonymous.status(), 200);
    assert_eq!(
        location(&anonymous),
        location(&html).replace("report", "report.pdf")
    );

    let reader = politician(&app).await;
    let (_, page) = app
        .page_with(&reader, &format!("/consultations/{SLUG}/report"))
        .await;
    assert_eq!(page.attr("#report-pdf", "href").unwrap(), path);
    let res = app.get_with(&reader, &path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    let (_, snap) = app.latest_snapshot(c.id).await.unwrap();
    let clustered: usize = snap.groups.iter().map(|g| g.members).sum();
    let first = pdf_text(&bytes, 1, 1);
    // The header: the title (with æøå, from the embedded font) and the date; the brief on page one.
    assert!(first.starts_with("Parken ved åen"), "{first}");
    assert!(first.contains("Kort fortalt"), "{first}");
    assert!(
        first.contains(
            "40 personer deltog. 40 af dem stemte om udsagn. Sådan deltog de: 40 på nettet."
        ),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "De {clustered} deltagere, der har stemt nok, falder i 2 grupper, der mener det samme."
        )),
        "{first}"
    );
    assert!(first.contains("Gruppe A er stabil: 100,0 %."), "{first}");
    assert!(
        first.contains("Der skal være flere bænke i parken — 100,0 % (n = 40) er enige"),
        "{first}"
    );
    assert!(!first.contains("Skøjtebanen"), "{first}");
    let all = pdf_text(&bytes, 1, 99);
    let pages = all.matches("Side ").count();
    assert!(pages >= 2, "{all}");
    assert!(first.contains(&format!("Side 1 af {pages}")), "{first}");
    let second = pdf_text(&bytes, 2, 2);
    assert!(second.starts_with("Parken ved åen"), "{second}");
    assert!(second.contains(&format!("Side 2 af {pages}")), "{second}");
    // The map's group labels and the figures are text too.
    assert!(all.contains("Meningskort"), "{all}");
    assert!(
        all.contains(&format!("A ({})", snap.groups[0].members)),
        "{all}"
    );

    // In English, the same PDF in English.
    let en = client();
    app.user(Role::Politician)
        .email("council@example.org")
        .create()
        .await;
    app.login_with(&en, "council@example.org").await;
    let res = app.get_with(&en, &format!("{path}?lang=en")).await;
    assert_eq!(res.status(), 200);
    let text = pdf_text(&res.bytes().await.unwrap(), 1, 1);
    assert!(text.contains("Page 1 of"), "{text}");
}

both_backends!(
    the_history_outlives_pruned_snapshots_and_keeps_the_stability,
    no_worker()
);
async fn the_history_outlives_pruned_snapshots_and_keeps_the_stability(app: TestApp) {
    use samskab::entities::{opinion_history, opinion_snapshot};
    let me = staff(&app).await;
    let c = conversation(&app, &me).await;
    let ids = app.statement_ids(c.id).await;
    // Two more rounds: newcomers join the first camp, a snapshot after each round.
    for round in 0..2 {
        for i in 0..5 {
            let token = format!("late-{round}-{i}");
            for (j, id) in ids.iter().take(8).enumerate() {
                let v = if j % 2 == 0 {
                    VoteValue::Agree
                } else {
                    VoteValue::Disagree
                };
                app.vote(&c, &token, *id, v).await;
            }
        }
        assert!(app.recompute_snapshot(c.id).await.is_some());
    }
    // Older warm snapshots are pruned, their summaries are not.
    let snapshots = opinion_snapshot::Entity::find()
        .filter(opinion_snapshot::Column::ConsultationId.eq(c.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(snapshots, 2);
    let history = opinion_history::Entity::find()
        .filter(opinion_history::Column::ConsultationId.eq(c.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().map(|h| h.participants).collect::<Vec<_>>(),
        vec![40, 45, 50]
    );

    let reader = politician(&app).await;
    let (status, page) = app
        .page_with(&reader, &format!("/consultations/{SLUG}/report"))
        .await;
    assert_eq!(status, 200);
    let rows = page.texts("#history-table tbody tr td:first-of-type");
    assert_eq!(rows, ["40", "45", "50"]);
    let headings = page.texts("#history-table thead th");
    assert_eq!(&headings[..2], ["Tidspunkt", "Deltagere"]);
    assert!(headings.contains(&"Gruppe A".to_owned()), "{headings:?}");
    assert_eq!(page.attrs(".history-chart polyline", "points").len(), 1 + 2);

    // The stability shown is the one stored with the snapshot, computed once with its seed.
    let (row, snap) = app.latest_snapshot(c.id).await.unwrap();
    let stored = history.iter().find(|h| h.snapshot_id == row.id).unwrap();
    let kept: stability::Stability =
        serde_json::from_str(stored.stability.as_deref().unwrap()).unwrap();
    assert_eq!(kept.seed, snap.receipt.seed);
    let api: serde_json::Value = app
        .get_with(&reader, &format!("/api/v1/consultations/{SLUG}/report"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["history"].as_array().unwrap().len(), 3);
    for (shown, g) in api["brief"]["stability"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&kept.groups)
    {
        assert_eq!(shown["drawn"], g.drawn);
        assert_eq!(shown["same"], g.same);
    }
}
