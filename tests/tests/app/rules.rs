//! One rule, one place: every action a page offers is shown exactly when the
//! action succeeds. For a matrix of viewers (anonymous, unverified address,
//! verified local account, MitID, the author, staff) and consultation states
//! (open to any account, open to MitID only, closed), each action is tried in
//! turn: first the page is read (is the button or link there?), then the action
//! is posted (did it succeed?), and the two answers must agree.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{comment, consultation, idea, user};
use samskab::services::consultations::{self, ConsultationForm, Status};
use samskab::services::{comments, ideas, lifecycle, statements};
use samskab_tests::{TestApp, both_backends, client, location};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

#[derive(Debug, Clone, Copy)]
enum Viewer {
    Anonymous,
    Unverified,
    Verified,
    Mitid,
    Author,
    Staff,
}

#[derive(Debug, Clone, Copy)]
enum State {
    OpenToAccounts,
    OpenToMitid,
    Closed,
}

/// What is tried: its name, the page that offers it, the CSS selector of the
/// button or link there, the URL it posts to, and the form fields.
type Action = (
    &'static str,
    String,
    String,
    String,
    Vec<(&'static str, &'static str)>,
);

struct Setup {
    slug: String,
    idea_id: i64,
    comment_id: i64,
}

async fn setup(
    app: &TestApp,
    n: usize,
    state: State,
    staff: &CurrentUser,
    author: &CurrentUser,
) -> Setup {
    let slug = format!("regel-{n}");
    let form = ConsultationForm {
        title: format!("Regler {n}"),
        slug: slug.clone(),
        summary: "Hvem må hvad?".into(),
        body: "Tekst.".into(),
        moderation_mode: "post".into(),
        accepts_ideas: Some("on".into()),
        has_conversation: Some("on".into()),
        voting_eligibility: match state {
            State::OpenToMitid => "verified".into(),
            _ => "logged_in".into(),
        },
        eligibility: match state {
            State::OpenToMitid => "mitid".into(),
            _ => "account".into(),
        },
        ..Default::default()
    };
    consultations::create(&app.db, staff, &form)
        .await
        .expect("consultation");
    lifecycle::transition(&app.db, staff, &slug, Status::Open)
        .await
        .expect("open");
    // The author takes part while it is open (a MitID login, so every state admits them).
    let i = ideas::create(
        &app.db,
        author,
        &slug,
        &ideas::IdeaForm {
            title: format!("Bænke ved åen {n}"),
            body: "Flere bænke, tak.".into(),
            ..Default::default()
        },
    )
    .await
    .expect("idea");
    let cm = comments::create(&app.db, author, i.id, None, "Godt forslag.")
        .await
        .expect("comment");
    statements::add_seed(&app.db, staff, &slug, "Der skal være flere bænke.")
        .await
        .expect("seed statement");
    if matches!(state, State::Closed) {
        lifecycle::transition(&app.db, staff, &slug, Status::Closed)
            .await
            .expect("close");
    }
    Setup {
        slug,
        idea_id: i.id,
        comment_id: cm.id,
    }
}

/// A citizen with a MitID identity as a MitID login leaves it.
async fn with_mitid(app: &TestApp, u: user::Model) -> user::Model {
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let mut active = u.clone().into_active_model();
    active.oidc_subject_hash = Set(Some(format!("{:0>64}", u.id)));
    active.identity_provider = Set(Some("mitid".into()));
    active.loa = Set(Some("substantial".into()));
    active.birth_year = Set(Some(year - 40));
    active.municipality_code = Set(Some("0751".into()));
    active.update(&app.db).await.expect("identity")
}

/// Did the action go through? A redirect to the login page, a 4xx page or an
/// error-flash redirect back count as refused.
fn succeeded(status: u16, location: &str) -> bool {
    status == 303 && !location.starts_with("/login")
}

both_backends!(every_action_is_shown_exactly_when_it_succeeds);
async fn every_action_is_shown_exactly_when_it_succeeds(app: TestApp) {
    let staff_model = app.create_user("staff@example.org", Role::Moderator).await;
    let staff = CurrentUser::from_model(&staff_model);
    let author_model = with_mitid(
        &app,
        app.create_user("author@example.org", Role::Citizen).await,
    )
    .await;
    let author = CurrentUser::from_model(&author_model);
    let unverified = app
        .create_user("unverified@example.org", Role::Citizen)
        .await;
    let mut active = unverified.into_active_model();
    active.email_verified = Set(false);
    active.update(&app.db).await.expect("unverified");
    app.create_user("verified@example.org", Role::Citizen).await;
    with_mitid(
        &app,
        app.create_user("mitid@example.org", Role::Citizen).await,
    )
    .await;

    let viewers = [
        Viewer::Anonymous,
        Viewer::Unverified,
        Viewer::Verified,
        Viewer::Mitid,
        Viewer::Author,
        Viewer::Staff,
    ];
    let states = [State::OpenToAccounts, State::OpenToMitid, State::Closed];
    let mut cells = 0;
    let mut allowed = 0;
    let mut n = 0;
    for state in states {
        for viewer in viewers {
            n += 1;
            let s = setup(&app, n, state, &staff, &author).await;
            let browser = client();
            let email = match viewer {
                Viewer::Anonymous => None,
                Viewer::Unverified => Some("unverified@example.org"),
                Viewer::Verified => Some("verified@example.org"),
                Viewer::Mitid => Some("mitid@example.org"),
                Viewer::Author => Some("author@example.org"),
                Viewer::Staff => Some("staff@example.org"),
            };
            if let Some(email) = email {
                app.login_with(&browser, email).await;
            }
            let idea_page = format!("/ideas/{}", s.idea_id);
            let id = s.idea_id;
            let cid = s.comment_id;
            // (what, page, selector of the button or link, action, fields)
            let actions: Vec<Action> = vec![
                (
                    "follow",
                    idea_page.clone(),
                    format!(
                        "form[action='/ideas/{id}/follow'], form[action='/ideas/{id}/unfollow']"
                    ),
                    format!("/ideas/{id}/follow"),
                    vec![],
                ),
                (
                    "flag",
                    idea_page.clone(),
                    format!("a[href='/comments/{cid}/flag']"),
                    format!("/comments/{cid}/flag"),
                    vec![("reason", "Upassende.")],
                ),
                (
                    "reply",
                    idea_page.clone(),
                    format!("input[name='parent_id'][value='{cid}']"),
                    format!("/ideas/{id}/comments"),
                    vec![("body", "Enig."), ("parent_id", "")],
                ),
                (
                    "comment",
                    idea_page.clone(),
                    format!("form[action='/ideas/{id}/comments'] textarea#comment-body"),
                    format!("/ideas/{id}/comments"),
                    vec![("body", "En kommentar.")],
                ),
                (
                    "edit",
                    idea_page.clone(),
                    format!("a[href='/ideas/{id}/edit']"),
                    format!("/ideas/{id}/edit"),
                    vec![("title", "Bænke ved åen, rettet"), ("body", "Flere bænke.")],
                ),
                (
                    "support",
                    idea_page.clone(),
                    format!("form[action='/ideas/{id}/support']"),
                    format!("/ideas/{id}/support"),
                    vec![],
                ),
                (
                    "unsupport",
                    idea_page.clone(),
                    format!("form[action='/ideas/{id}/unsupport']"),
                    format!("/ideas/{id}/unsupport"),
                    vec![],
                ),
                (
                    "withdraw",
                    idea_page.clone(),
                    format!("form[action='/ideas/{id}/withdraw']"),
                    format!("/ideas/{id}/withdraw"),
                    vec![],
                ),
                (
                    "vote",
                    format!("/consultations/{}/statements", s.slug),
                    "form.vote-buttons".to_owned(),
                    String::new(),
                    vec![("vote", "agree")],
                ),
                (
                    "statement",
                    format!("/consultations/{}/statements", s.slug),
                    format!("form[action='/consultations/{}/statements']", s.slug),
                    format!("/consultations/{}/statements", s.slug),
                    vec![("body", "Bænkene skal have ryglæn.")],
                ),
            ];
            for (what, page_path, selector, mut action, fields) in actions {
                let (status, page) = app.page_with(&browser, &page_path).await;
                assert_eq!(status, 200, "{page_path} for {viewer:?} in {state:?}");
                let shown = page
                    .html
                    .select(&samskab_tests::scraper::Selector::parse(&selector).expect("selector"))
                    .next()
                    .is_some();
                if what == "vote" {
                    action = page.attr("form.vote-buttons", "action").unwrap_or_else(|| {
                        // No buttons: vote on the first statement anyway.
                        format!("/consultations/{}/statements/0/vote", s.slug)
                    });
                    if !shown {
                        let c = consultations::find_by_slug(&app.db, &s.slug)
                            .await
                            .expect("reading")
                            .expect("found");
                        let first = app.statement_ids(c.id).await[0];
                        action = format!("/consultations/{}/statements/{first}/vote", s.slug);
                    }
                }
                let fields: Vec<(&str, String)> = fields
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            if k == "parent_id" {
                                cid.to_string()
                            } else {
                                v.to_owned()
                            },
                        )
                    })
                    .collect();
                let borrowed: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let res = app.post_form_with(&browser, &action, &borrowed).await;
                let status = res.status().as_u16();
                let loc = location(&res);
                let ok = succeeded(status, &loc);
                assert_eq!(
                    shown, ok,
                    "{what} for {viewer:?} in {state:?}: shown on the page = {shown}, but the action answered {status} {loc}"
                );
                cells += 1;
                allowed += usize::from(ok);
            }
        }
    }
    // The matrix is not vacuous: some cells allow, some refuse.
    assert_eq!(cells, 3 * 6 * 10);
    assert!(
        allowed > 20 && allowed < cells - 20,
        "{allowed} of {cells} allowed"
    );
    // And the states really were as intended.
    let all = consultation::Entity::find()
        .all(&app.db)
        .await
        .expect("reading");
    assert_eq!(all.iter().filter(|c| c.status == Status::Closed).count(), 6);
    assert!(
        idea::Entity::find()
            .all(&app.db)
            .await
            .expect("reading")
            .len()
            >= 18
    );
    assert!(
        !comment::Entity::find()
            .all(&app.db)
            .await
            .expect("reading")
            .is_empty()
    );
    eprintln!("page/action matrix: {cells} cells, {allowed} allowed");
}
