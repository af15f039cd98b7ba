//! Eligibility rules per consultation (MitID, level of assurance, age,
//! municipality), enforced on every protected action, on both databases.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{comment, consultation, idea, idea_support, user};
use samskab::services::consultations::{self, ConsultationForm, Status};
use samskab_tests::{Page, TestApp, both_backends, client, location};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};

const SLUG: &str = "ungdomsby-aarhus";

async fn strict_consultation(app: &TestApp) {
    let staff = app.create_user("staff@example.org", Role::Moderator).await;
    let staff = CurrentUser::from_model(&staff);
    let form = ConsultationForm {
        title: "Ungdomsby Aarhus".into(),
        summary: "Hvad skal byen have?".into(),
        body: "Fortæl os det.".into(),
        moderation_mode: "post".into(),
        accepts_ideas: Some("on".into()),
        eligibility: "mitid".into(),
        min_loa: "substantial".into(),
        min_age: "18".into(),
        municipality_code: "751".into(),
        ..Default::default()
    };
    let c = consultations::create(&app.db, &staff, &form).await.unwrap();
    assert_eq!(c.municipality_code.as_deref(), Some("0751"));
    samskab::services::lifecycle::transition(&app.db, &staff, SLUG, Status::Open)
        .await
        .unwrap();
}

/// Level of assurance, birth year, municipality code.
type Identity<'a> = (&'a str, i32, &'a str);

/// A citizen as a MitID login would leave them (no OP needed here).
async fn citizen(
    app: &TestApp,
    name: &str,
    identity: Option<Identity<'_>>,
) -> (reqwest::Client, user::Model) {
    let email = format!("{name}@example.org");
    let u = app.create_user(&email, Role::Citizen).await;
    let mut active = u.into_active_model();
    if let Some((loa, born, code)) = identity {
        active.oidc_subject_hash = Set(Some(format!("{name:0>64}")));
        active.identity_provider = Set(Some("mitid".into()));
        active.loa = Set(Some(loa.into()));
        active.birth_year = Set(Some(born));
        active.municipality_code = Set(Some(code.into()));
    }
    let u = active.update(&app.db).await.unwrap();
    let browser = client();
    app.login_with(&browser, &email).await;
    (browser, u)
}

async fn reason(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let page = Page::parse(&res.text().await.unwrap());
    (status, page.body)
}

both_backends!(every_protected_action_checks_the_consultation_rules);
async fn every_protected_action_checks_the_consultation_rules(app: TestApp) {
    strict_consultation(&app).await;
    let year = chrono::Datelike::year(&chrono::Utc::now());

    let (anna, _) = citizen(&app, "anna", Some(("substantial", year - 30, "0751"))).await;
    let res = app
        .post_form_with(
            &anna,
            &format!("/consultations/{SLUG}/ideas"),
            &[("title", "Flere bænke"), ("body", "Ved åen.")],
        )
        .await;
    assert_eq!(res.status(), 303, "an eligible citizen proposes an idea");
    let i = idea::Entity::find().one(&app.db).await.unwrap().unwrap();

    let cases: [(&str, Option<Identity>, &str); 4] = [
        ("lokal", None, "kræver, at du logger ind med MitID"),
        (
            "lav",
            Some(("low", year - 30, "0751")),
            "højere MitID-sikringsniveau",
        ),
        ("ung", Some(("high", year - 17, "0751")), "aldersgrænse"),
        (
            "kbh",
            Some(("high", year - 40, "0101")),
            "bor du i en anden kommune",
        ),
    ];
    for (name, identity, why) in cases {
        let (browser, _) = citizen(&app, name, identity).await;
        let (status, body) = reason(
            app.post_form_with(
                &browser,
                &format!("/consultations/{SLUG}/ideas"),
                &[("title", "Min idé"), ("body", "Tekst")],
            )
            .await,
        )
        .await;
        assert_eq!(status, 409, "{name} may not propose");
        assert!(body.contains(why), "{name}: the page says why: {body}");
        let (status, _) = reason(
            app.post_form_with(&browser, &format!("/ideas/{}/support", i.id), &[])
                .await,
        )
        .await;
        assert_eq!(status, 409, "{name} may not support");
        let (status, _) = reason(
            app.post_form_with(
                &browser,
                &format!("/ideas/{}/comments", i.id),
                &[("body", "En kommentar")],
            )
            .await,
        )
        .await;
        assert_eq!(status, 409, "{name} may not comment");
        // The consultation page explains it before they try.
        let (_, page) = app
            .page_with(&browser, &format!("/consultations/{SLUG}"))
            .await;
        assert!(page.body.contains("Hvem kan deltage"));
        assert!(page.body.contains(why), "{name}: explained on the page");
    }
    assert_eq!(idea::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        idea_support::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    assert_eq!(comment::Entity::find().count(&app.db).await.unwrap(), 0);

    // Turning 18 this year is enough; another eligible citizen takes part.
    let (bent, _) = citizen(&app, "bent", Some(("high", year - 18, "0751"))).await;
    let res = app
        .post_form_with(&bent, &format!("/ideas/{}/support", i.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form_with(
            &bent,
            &format!("/ideas/{}/comments", i.id),
            &[("body", "God idé")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with(&format!("/ideas/{}", i.id)));
    assert_eq!(
        idea_support::Entity::find()
            .filter(idea_support::Column::IdeaId.eq(i.id))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let (_, page) = app
        .page_with(&bent, &format!("/consultations/{SLUG}"))
        .await;
    assert!(page.body.contains("Du opfylder betingelserne"));
}

both_backends!(staff_set_the_rules_in_the_consultation_form);
async fn staff_set_the_rules_in_the_consultation_form(app: TestApp) {
    app.logged_in_as("mod@example.org", Role::Moderator).await;
    let (status, form) = app.page("/staff/consultations/new").await;
    assert_eq!(status, 200);
    assert!(form.attr("input#eligibility-mitid", "value").is_some());
    assert!(form.attr("select#min_loa", "name").is_some());

    let base = [
        ("title", "Bypark i Gellerup"),
        ("summary", "Hvad skal parken kunne?"),
        ("body", "Fortæl os det."),
        ("moderation_mode", "post"),
        ("support_threshold", "50"),
        ("comment_flag_threshold", "3"),
    ];
    // An age limit without MitID cannot be checked: refused with a reason.
    let mut fields = base.to_vec();
    fields.extend([("eligibility", "account"), ("min_age", "15")]);
    let res = app.post_form("/staff/consultations", &fields).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("kendes kun fra MitID"));

    let mut fields = base.to_vec();
    fields.extend([
        ("eligibility", "mitid"),
        ("min_loa", "high"),
        ("min_age", "15"),
        ("municipality_code", "0751"),
    ]);
    let res = app.post_form("/staff/consultations", &fields).await;
    assert_eq!(res.status(), 303);
    let c = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq("bypark-i-gellerup"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(c.eligibility, samskab::domain::Participation::Mitid);
    assert_eq!(c.min_loa.as_deref(), Some("high"));
    assert_eq!(c.min_age, Some(15));
    assert_eq!(c.municipality_code.as_deref(), Some("0751"));
}

both_backends!(verified_conversation_admits_mitid_logins_that_meet_the_rules);
async fn verified_conversation_admits_mitid_logins_that_meet_the_rules(app: TestApp) {
    use samskab::entities::{statement, vote};
    let staff = app.create_user("staff@example.org", Role::Moderator).await;
    let staff = CurrentUser::from_model(&staff);
    let form = ConsultationForm {
        title: "Ungdomsby Aarhus".into(),
        summary: "Hvad skal byen have?".into(),
        has_conversation: Some("on".into()),
        voting_eligibility: "verified".into(),
        eligibility: "mitid".into(),
        municipality_code: "0751".into(),
        ..Default::default()
    };
    consultations::create(&app.db, &staff, &form).await.unwrap();
    samskab::services::lifecycle::transition(&app.db, &staff, SLUG, Status::Open)
        .await
        .unwrap();
    samskab::services::statements::add_seed(&app.db, &staff, SLUG, "Flere bænke ved åen")
        .await
        .unwrap();
    let st = statement::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let vote_path = format!("/consultations/{SLUG}/statements/{}/vote", st.id);
    let year = chrono::Datelike::year(&chrono::Utc::now());

    let (resident, _) = citizen(&app, "anna", Some(("substantial", year - 30, "0751"))).await;
    let res = app
        .post_form_with(&resident, &vote_path, &[("vote", "agree")])
        .await;
    assert_eq!(res.status(), 303, "a resident with MitID may vote");

    let (visitor, _) = citizen(&app, "bo", Some(("substantial", year - 30, "0101"))).await;
    let (status, body) = reason(
        app.post_form_with(&visitor, &vote_path, &[("vote", "agree")])
            .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("kommune"), "explains the municipality rule");

    let (local, _) = citizen(&app, "carl", None).await;
    let (status, body) = reason(
        app.post_form_with(&local, &vote_path, &[("vote", "agree")])
            .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("MitID"));

    let anonymous = client();
    let res = app
        .post_form_with(&anonymous, &vote_path, &[("vote", "agree")])
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(vote::Entity::find().count(&app.db).await.unwrap(), 1);
}
