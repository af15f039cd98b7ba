//! Consultations with a deadline, a timeline and an outcome: planned opening
//! and closing by the scheduler (with a chosen clock, exactly once with two
//! servers on one database, catching up after downtime), reminders, date
//! validation, the confirmation step, closed pages without participation
//! forms, the outcome, and attached material.

use chrono::{DateTime, Duration, Utc};
use samskab::auth::Role;
use samskab::dates;
use samskab::domain::{ConsultationStatus, ModerationMode};
use samskab::entities::{
    audit_log, consultation, consultation_attachment, consultation_follow, mail_outbox,
};
use samskab::jobs::scheduler;
use samskab::startup::Application;
use samskab_tests::{BuildOptions, Page, TestApp, both_backends, location};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

fn no_jobs() -> BuildOptions {
    BuildOptions {
        no_background_jobs: true,
        ..BuildOptions::default()
    }
}

const REMIND: i64 = 48;

/// Whole minutes in the future, as staff would type it (local time).
fn local_input(at: DateTime<Utc>) -> String {
    dates::to_local_input(at)
}

fn minute(at: DateTime<Utc>) -> DateTime<Utc> {
    dates::parse_local(&local_input(at)).unwrap()
}

async fn reload(app: &TestApp, id: i64) -> consultation::Model {
    consultation::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn follow(app: &TestApp, consultation_id: i64, user_id: i64) {
    consultation_follow::ActiveModel {
        consultation_id: Set(consultation_id),
        user_id: Set(user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

/// The consultation mails queued for `user_id`, as their `status` field.
async fn mails(app: &TestApp, user_id: i64, slug: &str) -> Vec<String> {
    let mut out: Vec<String> = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| {
            let data: serde_json::Value = serde_json::from_str(&m.data).ok()?;
            (data["slug"] == slug).then(|| data["status"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    out.sort();
    out
}

/// The plain-text parts of every mail the app has written as a file.
fn delivered_texts(app: &TestApp) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.settings.data_dir.join("mail")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|f| std::fs::read(f.path()).ok())
        .filter_map(|raw| {
            let parsed = mailparse::parse_mail(&raw).ok()?;
            let text = parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == "text/plain")
                .and_then(|p| p.get_body().ok())
                .unwrap_or_default();
            Some(text)
        })
        .collect()
}

async fn status_changes(app: &TestApp, id: i64) -> Vec<String> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("consultation.status_changed"))
        .filter(audit_log::Column::SubjectId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.detail)
        .collect()
}

both_backends!(a_consultation_opens_closes_and_reminds_by_itself, no_jobs());
async fn a_consultation_opens_closes_and_reminds_by_itself(app: TestApp) {
    let start = minute(Utc::now() + Duration::hours(2));
    let deadline = minute(start + Duration::days(5));
    let c = app
        .consultation()
        .with_ideas()
        .form(|f| {
            f.opens_at = local_input(start);
            f.closes_at = local_input(deadline);
        })
        .create()
        .await;
    assert_eq!(c.status, ConsultationStatus::Draft);
    assert_eq!(c.opens_at, Some(start));
    assert_eq!(c.closes_at, Some(deadline));
    let follower = app.user(Role::Citizen).create().await;
    follow(&app, c.id, follower.id).await;
    let remind = Duration::hours(REMIND);

    let r = scheduler::run_once(&app.db, start - Duration::minutes(1), remind)
        .await
        .unwrap();
    assert_eq!(r, scheduler::Round::default(), "nothing before the opening");
    assert_eq!(reload(&app, c.id).await.status, ConsultationStatus::Draft);

    let r = scheduler::run_once(&app.db, start, remind).await.unwrap();
    assert_eq!(r.opened, 1);
    assert_eq!(r.lag_seconds, 0, "opened on time");
    let opened = reload(&app, c.id).await;
    assert_eq!(opened.status, ConsultationStatus::Open);
    assert_eq!(opened.opens_at, Some(start), "the planned time is kept");
    assert_eq!(mails(&app, follower.id, &c.slug).await, ["open"]);

    // Reminder: only within 48 hours of the deadline, and once.
    let early = deadline - remind - Duration::minutes(1);
    assert_eq!(
        scheduler::run_once(&app.db, early, remind)
            .await
            .unwrap()
            .reminded,
        0
    );
    let near = deadline - remind + Duration::minutes(1);
    assert_eq!(
        scheduler::run_once(&app.db, near, remind)
            .await
            .unwrap()
            .reminded,
        1
    );
    assert_eq!(
        scheduler::run_once(&app.db, near, remind)
            .await
            .unwrap()
            .reminded,
        0
    );
    assert_eq!(
        mails(&app, follower.id, &c.slug).await,
        ["open", "reminder"]
    );
    // The reminder as delivered (without SMTP the outbox writes .eml files)
    // names the deadline in Danish time.
    let expected = format!(
        "Husk at der er høringsfrist {} i høringen",
        dates::format_datetime(deadline, samskab::i18n::Locale::Da)
    );
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = delivered_texts(&app);
        if delivered.iter().any(|m| m.contains(&expected)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        delivered.iter().any(|m| m.contains(&expected)),
        "{expected} in {delivered:?}"
    );

    // A round 90 seconds after the deadline (the job was busy or down)
    // closes it at the planned time and reports how late it was.
    let r = scheduler::run_once(&app.db, deadline + Duration::seconds(90), remind)
        .await
        .unwrap();
    assert_eq!(r.closed, 1);
    assert_eq!(r.lag_seconds, 90, "the lag the metric shows");
    let closed = reload(&app, c.id).await;
    assert_eq!(closed.status, ConsultationStatus::Closed);
    assert_eq!(closed.closes_at, Some(deadline));
    assert_eq!(
        scheduler::run_once(&app.db, deadline + Duration::hours(1), remind)
            .await
            .unwrap(),
        scheduler::Round::default(),
        "nothing twice"
    );
    assert_eq!(
        mails(&app, follower.id, &c.slug).await,
        ["closed", "open", "reminder"]
    );
    assert_eq!(
        status_changes(&app, c.id).await,
        ["draft -> open (scheduled)", "open -> closed (scheduled)"]
    );
    // The closed page says so and no longer invites to take part.
    let (status, page) = app.page(&format!("/consultations/{}", c.slug)).await;
    assert_eq!(status, 200);
    assert!(
        page.text("#status-banner")
            .unwrap()
            .contains("Høringen er lukket")
    );
}

both_backends!(
    two_servers_take_each_step_exactly_once_after_downtime,
    no_jobs()
);
async fn two_servers_take_each_step_exactly_once_after_downtime(app: TestApp) {
    // A second server process on the same database, as another replica.
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".into();
    let second = Application::build(settings, no_jobs()).await.unwrap();
    let other_db = second.db().clone();
    tokio::spawn(second.run_until_stopped());

    let start = minute(Utc::now() + Duration::hours(1));
    let follower = app.user(Role::Citizen).create().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let c = app
            .consultation()
            .conversation()
            .form(|f| {
                f.opens_at = local_input(start + Duration::minutes(i));
                f.closes_at = local_input(start + Duration::days(3));
            })
            .create()
            .await;
        follow(&app, c.id, follower.id).await;
        ids.push((c.id, c.slug));
    }
    // Both servers were down for a week and start at the same moment.
    let now = start + Duration::days(10);
    let remind = Duration::hours(REMIND);
    let (a, b) = (app.db.clone(), other_db.clone());
    let one = tokio::spawn(async move { scheduler::run_once(&a, now, remind).await.unwrap() });
    let two = tokio::spawn(async move { scheduler::run_once(&b, now, remind).await.unwrap() });
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    assert_eq!(one.opened + two.opened, 6, "{one:?} {two:?}");
    assert_eq!(one.closed + two.closed, 6, "{one:?} {two:?}");
    assert_eq!(
        one.reminded + two.reminded,
        0,
        "no reminder after the deadline"
    );
    for (id, slug) in &ids {
        let c = reload(&app, *id).await;
        assert_eq!(c.status, ConsultationStatus::Closed);
        assert_eq!(
            status_changes(&app, *id).await.len(),
            2,
            "one opening and one closing of {slug}"
        );
        assert_eq!(mails(&app, follower.id, slug).await, ["closed", "open"]);
    }
    // A third round on either server finds nothing left.
    assert_eq!(
        scheduler::run_once(&other_db, now, remind).await.unwrap(),
        scheduler::Round::default()
    );
}

both_backends!(
    staff_plan_dates_and_bad_dates_are_refused_in_words,
    no_jobs()
);
async fn staff_plan_dates_and_bad_dates_are_refused_in_words(app: TestApp) {
    app.user(Role::Moderator).logged_in().await;
    let future = Utc::now() + Duration::days(30);
    let base = |opens: &str, closes: &str| -> Vec<(String, String)> {
        vec![
            ("title".into(), "Ny bypark".into()),
            ("summary".into(), "Hvad skal parken kunne?".into()),
            ("opens_at".into(), opens.into()),
            ("closes_at".into(), closes.into()),
        ]
    };
    let post = async |fields: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        app.post_form("/staff/consultations", &refs).await
    };
    let cases = [
        (
            base("15.01.2027 12:00", ""),
            "#opens_at-error",
            "Skriv dato og klokkeslæt som 2027-01-15 12:00",
        ),
        (
            base(
                &local_input(future),
                &local_input(future - Duration::days(1)),
            ),
            "#closes_at-error",
            "Høringsfristen skal ligge efter åbningen",
        ),
        (
            base(&local_input(Utc::now() - Duration::days(1)), ""),
            "#opens_at-error",
            "Åbningen kan ikke ligge i fortiden",
        ),
        (
            base("", &local_input(Utc::now() - Duration::hours(1))),
            "#closes_at-error",
            "Høringsfristen kan ikke ligge i fortiden",
        ),
        (
            base("2027-03-28T02:30", ""),
            "#opens_at-error",
            "Tidspunktet skal findes i dansk tid",
        ),
    ];
    for (fields, selector, message) in cases {
        let res = post(fields).await;
        assert_eq!(res.status(), 422, "{selector}");
        let page = Page::parse(&res.text().await.unwrap());
        assert!(
            page.text(selector).unwrap_or_default().contains(message),
            "{selector}: {:?}",
            page.text(selector)
        );
    }
    assert_eq!(
        consultation::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing stored"
    );

    let opens = minute(future);
    let closes = minute(future + Duration::days(14));
    let mut fields = base(&local_input(opens), &local_input(closes));
    fields.push(("decision_expected_on".into(), "2027-03-01".into()));
    fields.push(("contact_name".into(), "Mette Jensen".into()));
    fields.push(("contact_department".into(), "Teknik og Miljø".into()));
    fields.push(("contact_email".into(), "mette@aarhus.dk".into()));
    let res = post(fields).await;
    assert_eq!(res.status(), 303);
    let c = consultation::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.opens_at, c.closes_at), (Some(opens), Some(closes)));
    assert_eq!(
        c.decision_expected_on.map(|d| d.to_string()).as_deref(),
        Some("2027-03-01")
    );
    // The edit form shows the times back in Danish local time.
    let (_, page) = app
        .page(&format!("/staff/consultations/{}/edit", c.slug))
        .await;
    assert_eq!(page.attr("#closes_at", "value"), Some(local_input(closes)));
}

both_backends!(an_open_consultation_shows_its_deadline_and_timeline);
async fn an_open_consultation_shows_its_deadline_and_timeline(app: TestApp) {
    let c = app.consultation().with_ideas().open().create().await;
    // Plan a deadline three days ahead, at noon local time.
    let day = dates::local_date(Utc::now() + Duration::days(3));
    let deadline = dates::parse_local(&format!("{}T12:00", day.format("%Y-%m-%d"))).unwrap();
    let mut active: consultation::ActiveModel = c.clone().into();
    active.closes_at = Set(Some(deadline));
    active.contact_name = Set(Some("Mette Jensen".into()));
    active.contact_email = Set(Some("mette@aarhus.dk".into()));
    active.update(&app.db).await.unwrap();

    let (status, page) = app.page(&format!("/consultations/{}", c.slug)).await;
    assert_eq!(status, 200);
    let line = page.text("#deadline").unwrap();
    assert!(
        line.contains(&dates::format_datetime(deadline, samskab::i18n::Locale::Da)),
        "{line}"
    );
    assert!(line.contains("kl. 12.00"), "{line}");
    assert!(line.contains("3 dage tilbage"), "{line}");
    let steps = page.texts("#timeline li");
    assert_eq!(steps.len(), 5, "{steps:?}");
    assert_eq!(
        page.text("#timeline li[aria-current=step]").unwrap(),
        page.texts("#timeline li")[1]
    );
    assert!(
        steps[1].contains("Åbner for deltagelse") && steps[1].contains("(nu)"),
        "{steps:?}"
    );
    assert!(steps[2].contains("kl. 12.00"), "{steps:?}");
    assert!(page.text("#contact").unwrap().contains("Mette Jensen"));
    assert!(page.text("#status-banner").is_none());
    // The list card and English page say it too.
    let (_, list) = app.page("/consultations").await;
    assert!(list.body.contains("3 dage tilbage"));
    let (_, en) = app
        .page(&format!("/consultations/{}?lang=en", c.slug))
        .await;
    assert!(en.text("#deadline").unwrap().contains("3 days left"));
    assert!(en.text("#deadline").unwrap().contains("at 12:00"));
}

both_backends!(closed_pages_show_no_participation_forms);
async fn closed_pages_show_no_participation_forms(app: TestApp) {
    let c = app
        .consultation()
        .with_ideas()
        .conversation()
        .seeds(&["Mere grønt"])
        .closed()
        .create()
        .await;
    let (citizen, _) = app.user(Role::Citizen).in_browser().await;
    for path in [
        format!("/consultations/{}", c.slug),
        format!("/consultations/{}/statements", c.slug),
        format!("/consultations/{}/ideas", c.slug),
    ] {
        let (status, page) = app.page_with(&citizen, &path).await;
        assert_eq!(status, 200, "{path}");
        let actions = page.attrs("form[method=post]", "action");
        assert!(
            actions
                .iter()
                .all(|a| a.ends_with("/follow") || a.ends_with("/unfollow") || a == "/logout"),
            "{path}: {actions:?}"
        );
        assert!(
            !page
                .attrs("a", "href")
                .iter()
                .any(|h| h.ends_with("/ideas/new")),
            "{path}: no call to propose"
        );
    }
    let (_, page) = app
        .page_with(&citizen, &format!("/consultations/{}", c.slug))
        .await;
    assert!(
        page.text("#status-banner")
            .unwrap()
            .contains("Der kan ikke længere deltages")
    );
    assert!(page.text("#deadline").is_none());
    assert!(
        page.texts("a.button").is_empty(),
        "{:?}",
        page.texts("a.button")
    );
}

both_backends!(closing_publishing_and_archiving_ask_for_confirmation);
async fn closing_publishing_and_archiving_ask_for_confirmation(app: TestApp) {
    let staff = app.user(Role::Moderator).logged_in_actor().await;
    let c = app
        .consultation()
        .with_ideas()
        .moderation(ModerationMode::Pre)
        .by(&staff)
        .open()
        .create()
        .await;
    let author = app.user(Role::Citizen).actor().await;
    app.idea(&author, &c.slug).title("Bænke").create().await;
    let path = format!("/staff/consultations/{}/status", c.slug);

    let res = app.post_form(&path, &[("to", "closed")]).await;
    assert_eq!(res.status(), 303);
    let confirm = location(&res);
    assert_eq!(
        confirm,
        format!("/staff/consultations/{}/confirm?to=closed", c.slug)
    );
    assert_eq!(
        reload(&app, c.id).await.status,
        ConsultationStatus::Open,
        "not yet"
    );

    let (status, page) = app.page(&confirm).await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Vil du lukke høringen?");
    assert!(
        page.text("#consequences")
            .unwrap()
            .contains("Det kan ikke fortrydes")
    );
    assert!(
        page.text("#warnings")
            .unwrap()
            .contains("1 idé venter på moderation")
    );
    assert_eq!(
        page.attr("form input[name=confirm]", "value").as_deref(),
        Some("yes")
    );

    let res = app
        .post_form(&path, &[("to", "closed"), ("confirm", "yes")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(reload(&app, c.id).await.status, ConsultationStatus::Closed);
    // A step the life cycle does not allow is refused before any confirmation.
    assert_eq!(app.post_form(&path, &[("to", "open")]).await.status(), 409);
    let (status, page) = app
        .page(&format!(
            "/staff/consultations/{}/confirm?to=published&lang=en",
            c.slug
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.h1(), "Publish the report?");
    // Citizens get no confirmation page.
    let (citizen, _) = app.user(Role::Citizen).in_browser().await;
    assert_eq!(app.page_with(&citizen, &confirm).await.0, 403);
}

both_backends!(the_outcome_is_published_once_mailed_and_shown);
async fn the_outcome_is_published_once_mailed_and_shown(app: TestApp) {
    let staff = app.user(Role::Moderator).logged_in_actor().await;
    let c = app
        .consultation()
        .with_ideas()
        .by(&staff)
        .closed()
        .create()
        .await;
    let follower = app.user(Role::Citizen).create().await;
    follow(&app, c.id, follower.id).await;
    let path = format!("/staff/consultations/{}/outcome", c.slug);
    let text = "Byrådet vedtog parken med **flere bænke**.";
    let fields = [
        ("outcome_text", text),
        ("outcome_url", "https://aarhus.dk/byraadet/referat-1"),
        ("decided_on", "2027-03-01"),
        ("publish", "1"),
    ];
    // Before the report: refused in words, nothing published.
    let res = app.post_form(&path, &fields).await;
    assert_eq!(res.status(), 422);
    let page = Page::parse(&res.text().await.unwrap());
    assert!(
        page.text("#outcome_text-error")
            .unwrap()
            .contains("Offentliggør rapporten først")
    );
    let res = app
        .post_form(
            &path,
            &[
                ("outcome_text", text),
                ("outcome_url", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        reload(&app, c.id).await.outcome_text.is_none(),
        "nothing stored half-way"
    );

    app.transition(
        &staff,
        &c.slug,
        samskab::services::consultations::Status::Published,
    )
    .await;
    let res = app.post_form(&path, &fields).await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&path, &fields).await;
    assert_eq!(res.status(), 303, "publishing twice is harmless");
    assert_eq!(
        mails(&app, follower.id, &c.slug).await,
        ["outcome", "published"]
    );

    let (_, page) = app.page(&format!("/consultations/{}", c.slug)).await;
    let outcome = page.text("#outcome").unwrap();
    assert!(outcome.contains("Det kom der ud af"), "{outcome}");
    assert!(outcome.contains("flere bænke"), "{outcome}");
    assert!(outcome.contains("1. marts 2027"), "{outcome}");
    assert_eq!(
        page.attr("#outcome a", "href").as_deref(),
        Some("https://aarhus.dk/byraadet/referat-1")
    );
    let steps = page.texts("#timeline li");
    assert!(
        steps[4].contains("Politisk beslutning") && steps[4].contains("1. marts 2027"),
        "{steps:?}"
    );
    let (_, report) = app.page(&format!("/consultations/{}/report", c.slug)).await;
    assert!(report.text("#outcome").unwrap().contains("flere bænke"));
    let api: serde_json::Value = app
        .get(&format!("/api/v1/consultations/{}", c.slug))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["outcome"]["url"],
        "https://aarhus.dk/byraadet/referat-1"
    );
    assert!(
        api["outcome"]["text"]
            .as_str()
            .unwrap()
            .contains("flere bænke")
    );
    // (This consultation has no conversation, so no open-data export to check.)
    for path in [format!("/api/v1/consultations/{}/report", c.slug)] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        let doc: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            doc["consultation"]["outcome"]["url"], "https://aarhus.dk/byraadet/referat-1",
            "{path}"
        );
        assert_eq!(
            doc["consultation"]["outcome"]["decided_on"], "2027-03-01",
            "{path}"
        );
    }
    assert_eq!(api["timeline"][4]["step"], "decision");
    assert_eq!(api["timeline"][4]["at"], "2027-03-01");
    assert_eq!(api["timeline"][4]["current"], true);
    let doc: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for schema in ["Outcome", "TimelineStep", "Attachment", "Contact"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} in OpenAPI"
        );
    }
}

/// One part of a multipart body: (name, file name, content type, bytes).
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart body by hand.
fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "----samskab-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, ct, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        if let Some(ct) = ct {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

const PDF: &[u8] =
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

both_backends!(
    attachments_round_trip_and_bad_files_are_refused,
    BuildOptions::default(),
    |s: &mut samskab::configuration::Settings| s.consultations.attachment_max_bytes = 4096
);
async fn attachments_round_trip_and_bad_files_are_refused(app: TestApp) {
    app.user(Role::Moderator).logged_in().await;
    let c = app.consultation().open().create().await;
    let url = app.url(&format!("/staff/consultations/{}/material", c.slug));
    let token = app.csrf_token_for(&app.client).await;
    let send = async |parts: &[Part], with_token: bool| {
        let mut all: Vec<Part> = Vec::new();
        if with_token {
            all.push(("csrf_token", None, None, token.as_bytes()));
        }
        all.extend_from_slice(parts);
        let (ct, body) = multipart(&all);
        app.client
            .post(&url)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
    };
    let count = async || {
        consultation_attachment::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    // Without the CSRF token: refused, nothing stored.
    let res = send(
        &[
            ("title", None, None, b"Lokalplan"),
            ("file", Some("plan.pdf"), Some("application/pdf"), PDF),
        ],
        false,
    )
    .await;
    assert_eq!(res.status(), 403);
    let big = [PDF, &vec![b' '; 5000]].concat();
    let refused: [(&[Part], &str, &str); 5] = [
        (
            &[
                ("title", None, None, b"Falsk"),
                (
                    "file",
                    Some("plan.pdf"),
                    Some("application/pdf"),
                    b"<html><script>alert(1)</script>",
                ),
            ],
            "#file-error",
            "Filtypen er ikke tilladt",
        ),
        (
            &[
                ("title", None, None, b"Forkert navn"),
                ("file", Some("plan.pdf"), Some("application/pdf"), PNG),
            ],
            "#file-error",
            "passer ikke til dens navn eller type",
        ),
        (
            &[
                ("title", None, None, b"Kort"),
                ("file", Some("kort.png"), Some("image/png"), PNG),
            ],
            "#alt_text-error",
            "Skriv en billedtekst",
        ),
        (
            &[
                ("title", None, None, b"Stor"),
                ("file", Some("stor.pdf"), Some("application/pdf"), &big),
            ],
            "#file-error",
            "Filen er for stor",
        ),
        (
            &[
                ("title", None, None, b"Link"),
                ("url", None, None, b"javascript:alert(1)"),
            ],
            "#url-error",
            "Skriv en hel webadresse",
        ),
    ];
    for (parts, selector, message) in refused {
        let res = send(parts, true).await;
        assert_eq!(res.status(), 422, "{message}");
        let page = Page::parse(&res.text().await.unwrap());
        assert!(
            page.text(selector).unwrap_or_default().contains(message),
            "{selector}: {:?}",
            page.text(selector)
        );
    }
    assert_eq!(count().await, 0, "nothing stored");

    let res = send(
        &[
            ("title", None, None, "Lokalplan 1234".as_bytes()),
            ("file", Some("lokalplan.pdf"), Some("application/pdf"), PDF),
        ],
        true,
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = send(
        &[
            ("title", None, None, b"Kort over parken"),
            (
                "alt_text",
                None,
                None,
                "Kort over parken med stier og søen".as_bytes(),
            ),
            ("file", Some("kort.png"), Some("image/png"), PNG),
        ],
        true,
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = send(
        &[
            ("title", None, None, b"Byraadets dagsorden"),
            ("url", None, None, b"https://aarhus.dk/dagsorden"),
        ],
        true,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count().await, 3);

    let (_, page) = app.page(&format!("/consultations/{}", c.slug)).await;
    let items = page.texts("#material li");
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        items[0].contains("Lokalplan 1234") && items[0].contains("PDF"),
        "{items:?}"
    );
    assert_eq!(
        page.attr("#material img", "alt").as_deref(),
        Some("Kort over parken med stier og søen")
    );
    let href = page.attr("#material a", "href").unwrap();
    // Anyone may download it, byte for byte, with exact headers.
    let res = samskab_tests::client()
        .get(app.url(&href))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["content-length"], PDF.len().to_string().as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("lokalplan.pdf")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
}

both_backends!(approval_needs_no_answer_and_answers_are_signed_by_role);
async fn approval_needs_no_answer_and_answers_are_signed_by_role(app: TestApp) {
    let staff = app
        .user(Role::Moderator)
        .name("Karen Privat")
        .logged_in_actor()
        .await;
    let c = app
        .consultation()
        .with_ideas()
        .moderation(ModerationMode::Pre)
        .by(&staff)
        .open()
        .create()
        .await;
    let author = app.user(Role::Citizen).actor().await;
    let idea = app
        .idea(&author, &c.slug)
        .title("Flere bænke")
        .create()
        .await;
    let path = format!("/ideas/{}", idea.id);
    // Approving for publication: no public answer needed.
    let res = app
        .post_form(
            &format!("{path}/status"),
            &[("to", "published"), ("response", "")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = samskab_tests::TestApp::page_with(&app, &samskab_tests::client(), &path).await;
    assert!(
        page.text("#answer-heading").is_none(),
        "no empty council answer"
    );

    // An official answer carries the configured role and department, not the name.
    let res = app
        .post_form(
            &format!("{path}/status"),
            &[
                ("to", "under_review"),
                ("response", "Vi ser på bænkene."),
                ("signature", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.page(&path).await;
    let signed = page.text("#answer-signature").unwrap();
    assert_eq!(signed, "Svar fra Byrådet, Aarhus Kommune");
    assert!(!page.text(".answer").unwrap().contains("Karen Privat"));
    // Staff may choose another signature, e.g. their department.
    app.post_form(
        &format!("{path}/status"),
        &[
            ("to", "answered"),
            ("response", "Bænkene kommer."),
            ("signature", "Teknik og Miljø, Park"),
        ],
    )
    .await;
    let (_, page) = app.page(&path).await;
    assert_eq!(
        page.text("#answer-signature").unwrap(),
        "Svar fra Teknik og Miljø, Park"
    );
    let api: serde_json::Value = app
        .get(&format!("/api/v1/ideas/{}", idea.id))
        .await
        .json()
        .await
        .unwrap();
    let history = api["history"].as_array().unwrap();
    assert_eq!(
        history.last().unwrap()["signature"],
        "Teknik og Miljø, Park"
    );
}

both_backends!(the_voting_and_ideas_pages_show_the_deadline);
async fn the_voting_and_ideas_pages_show_the_deadline(app: TestApp) {
    let c = app
        .consultation()
        .with_ideas()
        .conversation()
        .open()
        .create()
        .await;
    let deadline = minute(Utc::now() + Duration::days(6));
    let mut active: consultation::ActiveModel = c.clone().into();
    active.closes_at = Set(Some(deadline));
    active.update(&app.db).await.unwrap();
    for path in ["statements", "ideas"] {
        let (status, page) = app.page(&format!("/consultations/{}/{path}", c.slug)).await;
        assert_eq!(status, 200);
        let line = page.text("#deadline").unwrap_or_default();
        assert!(line.contains("6 dage tilbage"), "{path}: {line}");
        assert!(
            line.contains(&dates::format_datetime(deadline, samskab::i18n::Locale::Da)),
            "{path}: {line}"
        );
    }
}
