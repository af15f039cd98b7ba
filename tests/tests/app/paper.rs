//! Paper input: the printable voting sheet, and returned sheets entered by
//! staff, each one participant with the channel "paper" whose answers count
//! in the tallies and the opinion snapshot. Bad sheets store nothing.

use samskab::auth::Role;
use samskab::domain::VotingEligibility;
use samskab::domain::channel::Channel;
use samskab::entities::{paper_sheet, participant, vote, vote_history};
use samskab::services::statements;
use samskab_tests::{TestApp, both_backends};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const SEEDS: [&str; 3] = [
    "Der skal være flere cykelstier",
    "Busserne skal køre oftere om aftenen",
    "Parkering i midtbyen skal være dyrere",
];

async fn stored(app: &TestApp) -> (u64, u64, u64, u64) {
    (
        paper_sheet::Entity::find().count(&app.db).await.unwrap(),
        participant::Entity::find()
            .filter(participant::Column::Channel.eq(Channel::Paper))
            .count(&app.db)
            .await
            .unwrap(),
        vote::Entity::find().count(&app.db).await.unwrap(),
        vote_history::Entity::find().count(&app.db).await.unwrap(),
    )
}

both_backends!(paper_sheets_are_printed_entered_and_counted);
async fn paper_sheets_are_printed_entered_and_counted(app: TestApp) {
    let c = app
        .consultation()
        .slug("papir")
        .title("Trafik i byen")
        .conversation()
        .voting(VotingEligibility::Anyone)
        .seeds(&SEEDS)
        .open()
        .create()
        .await;
    let ids = app.statement_ids(c.id).await;
    assert_eq!(ids.len(), 3);
    // Staff only.
    let (status, _) = app.page("/staff/consultations/papir/paper").await;
    assert_ne!(status, 200);
    app.user(Role::Moderator).logged_in().await;

    let (status, page) = app.page("/staff/consultations/papir/paper").await;
    assert_eq!(status, 200);
    assert_eq!(page.texts(".paper-statement").len(), 3);
    assert!(page.text(".paper-large").is_none());
    let (_, page) = app.page("/staff/consultations/papir/paper?large=1").await;
    assert!(page.text(".paper-large").is_some(), "large print");

    let (status, page) = app.page("/staff/consultations/papir/paper/sheets").await;
    assert_eq!(status, 200);
    assert_eq!(page.texts("fieldset.paper-answer").len(), 3);

    let s = |i: usize| format!("s{}", ids[i]);
    let (s0, s1, s2) = (s(0), s(1), s(2));
    let res = app
        .post_form(
            "/staff/consultations/papir/paper/sheets",
            &[
                ("number", "17"),
                ("age_band", "65-79"),
                ("district", "Hasle"),
                (&s0, "agree"),
                (&s1, "disagree"),
                (&s2, ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(stored(&app).await, (1, 1, 2, 2));
    let sheet = paper_sheet::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sheet.number, 17);
    assert_eq!(sheet.age_band.as_deref(), Some("65-79"));
    assert_eq!(sheet.district.as_deref(), Some("Hasle"));
    let p = participant::Entity::find_by_id(sheet.participant_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.channel, Channel::Paper);
    assert_eq!(p.user_id, None);

    // Bad sheets: each refused with a message, nothing stored.
    for (fields, message) in [
        (
            vec![("number", "17"), (s0.as_str(), "agree")],
            "allerede indtastet",
        ),
        (
            vec![("number", "18"), ("s999999", "agree")],
            "ikke findes i denne høring",
        ),
        (
            vec![("number", "19"), (s0.as_str(), "måske")],
            "hverken enig",
        ),
        (vec![("number", "20"), (s0.as_str(), "")], "ingen svar"),
        (vec![("number", "nul"), (s0.as_str(), "agree")], "helt tal"),
        (
            vec![
                ("number", "21"),
                ("age_band", "7-9"),
                (s0.as_str(), "agree"),
            ],
            "aldersgrupperne",
        ),
    ] {
        let res = app
            .post_form("/staff/consultations/papir/paper/sheets", &fields)
            .await;
        assert_eq!(res.status(), 422, "{fields:?}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "{message} for {fields:?}");
        assert_eq!(stored(&app).await, (1, 1, 2, 2), "{fields:?}");
    }

    // A second sheet, then online votes: the paper votes count in the tallies…
    let res = app
        .post_form(
            "/staff/consultations/papir/paper/sheets",
            &[
                ("number", "18"),
                (&s0, "agree"),
                (&s1, "agree"),
                (&s2, "pass"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    for token in ["a", "b", "c", "d"] {
        for (i, id) in ids.iter().enumerate() {
            let value = if i == 0 {
                samskab::opinion::VoteValue::Disagree
            } else {
                samskab::opinion::VoteValue::Agree
            };
            app.vote(&c, token, *id, value).await;
        }
    }
    let counts = statements::vote_counts(&app.db, &ids).await.unwrap();
    assert_eq!(
        counts[&ids[0]],
        (2, 4, 0),
        "2 paper agree, 4 online disagree"
    );
    assert_eq!(counts[&ids[1]], (5, 1, 0));

    // … and in the opinion snapshot, as participants of their own.
    app.recompute_snapshot(c.id).await;
    let (_, snapshot) = app.latest_snapshot(c.id).await.unwrap();
    let paper_ids: Vec<i64> = participant::Entity::find()
        .filter(participant::Column::Channel.eq(Channel::Paper))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(paper_ids.len(), 2);
    assert_eq!(snapshot.participants.len(), 6);
    for id in paper_ids {
        let found = snapshot
            .participants
            .iter()
            .find(|(pid, _)| **pid == id)
            .unwrap_or_else(|| panic!("paper participant {id} in the snapshot"));
        assert!(found.1.votes >= 2);
    }

    // The report's brief shows the channel mix from the participants' channel.
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{}/report", c.slug))
        .await
        .json()
        .await
        .unwrap();
    let mix: std::collections::BTreeMap<String, u64> = api["brief"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["channel"].as_str().unwrap().to_owned(),
                c["participants"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(mix.get("paper"), Some(&2), "{mix:?}");
    assert_eq!(mix.get("online"), Some(&4), "{mix:?}");
}
