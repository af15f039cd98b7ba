//! Mail through the outbox to a real SMTP server (the aiosmtpd sink that
//! `tests/run` starts), its unsubscribe link followed, and delivery after an
//! SMTP outage.

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::entities::{mail_outbox, user};
use samskab::services::consultations::{self, ConsultationForm, Status};
use samskab::services::ideas::{self, IdeaForm, IdeaStatus};
use samskab::services::notifications;
use samskab_tests::{Backend, BuildOptions, TestApp, smtp_sink};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::path::Path;
use std::time::Duration;

async fn spawn(backend: Backend, smtp_port: u16) -> Option<TestApp> {
    TestApp::spawn_configured(backend, BuildOptions::default(), move |s| {
        s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}").into());
        s.mail.poll_seconds = 1;
    })
    .await
    .expect("spawning the app")
}

/// An idea followed by a fresh citizen; returns the staff member, idea id and follower.
async fn followed_idea(app: &TestApp, tag: &str) -> (CurrentUser, i64, user::Model) {
    let staff = CurrentUser::from_model(
        &app.create_user(&format!("staff-{tag}@example.org"), Role::Moderator)
            .await,
    );
    let form = ConsultationForm {
        title: "Cykelstier i Hasle".into(),
        summary: "Hvor skal der cykelstier?".into(),
        moderation_mode: "post".into(),
        accepts_ideas: Some("on".into()),
        ..Default::default()
    };
    consultations::create(&app.db, &staff, &form).await.unwrap();
    samskab::services::lifecycle::transition(&app.db, &staff, "cykelstier-i-hasle", Status::Open)
        .await
        .unwrap();
    let author = CurrentUser::from_model(
        &app.create_user(&format!("author-{tag}@example.org"), Role::Citizen)
            .await,
    );
    let idea = ideas::create(
        &app.db,
        &author,
        "cykelstier-i-hasle",
        &IdeaForm {
            title: "Sti langs Hasle Ringvej".into(),
            body: "Den mangler.".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let follower = app
        .create_user(&format!("follower-{tag}@example.org"), Role::Citizen)
        .await;
    notifications::follow(&app.db, idea.id, follower.id)
        .await
        .unwrap();
    (staff, idea.id, follower)
}

/// Wait for a message to `to` in the Maildir; returns it with headers unfolded.
async fn wait_for_mail(dir: &Path, to: &str, seconds: u64) -> String {
    for _ in 0..seconds * 5 {
        if let Ok(entries) = std::fs::read_dir(dir.join("new")) {
            for entry in entries.flatten() {
                let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let unfolded = raw.replace("\r\n ", " ").replace("\n ", " ");
                if unfolded.contains(to) {
                    return unfolded;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no mail to {to} in {} within {seconds} s", dir.display());
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

async fn outbox_statuses(app: &TestApp, user_id: i64) -> Vec<String> {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.status)
        .collect()
}

async fn status_change_mail_arrives_and_unsubscribe_works(backend: Backend) {
    let Some((port, maildir)) = smtp_sink("status_change_mail_arrives_and_unsubscribe_works")
    else {
        return;
    };
    let Some(app) = spawn(backend, port).await else {
        samskab_tests::report_postgres_skipped("status_change_mail");
        return;
    };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (staff, idea_id, follower) = followed_idea(&app, &tag).await;
    ideas::change_status(
        &app.db,
        &staff,
        idea_id,
        IdeaStatus::UnderReview,
        "Vi ser på den.",
    )
    .await
    .unwrap();

    let mail = wait_for_mail(&maildir, &follower.email.clone().unwrap(), 30).await;
    assert!(header(&mail, "Subject").is_some());
    let unsubscribe = header(&mail, "List-Unsubscribe").expect("a List-Unsubscribe header");
    let url = unsubscribe.trim_matches(['<', '>']);
    assert!(url.starts_with(&app.address), "{url} points at the app");
    assert!(mail.contains("multipart/alternative"), "text and HTML");
    // Wait until the sender has marked it.
    for _ in 0..50 {
        if outbox_statuses(&app, follower.id).await == ["sent"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outbox_statuses(&app, follower.id).await, ["sent"]);

    // The link shows a button; pressing it unsubscribes.
    let path = &url[app.address.len()..];
    let (status, page) = app.page(path).await;
    assert_eq!(status, 200);
    let u = page.attr("input[name=u]", "value").unwrap();
    let t = page.attr("input[name=t]", "value").unwrap();
    let res = app
        .post_form("/mail/unsubscribe", &[("u", &u), ("t", &t)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Du får ikke flere mails")
    );
    let stored = user::Entity::find_by_id(follower.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.mail_notifications);
    // A forged token is refused.
    let res = app
        .post_form("/mail/unsubscribe", &[("u", &u), ("t", "0000")])
        .await;
    assert_eq!(res.status(), 400);

    // The next change is not mailed to them.
    ideas::change_status(&app.db, &staff, idea_id, IdeaStatus::Answered, "Svar.")
        .await
        .unwrap();
    for _ in 0..50 {
        if outbox_statuses(&app, follower.id).await.len() == 2
            && !outbox_statuses(&app, follower.id)
                .await
                .contains(&"pending".to_owned())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        outbox_statuses(&app, follower.id).await,
        ["sent", "skipped"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_change_mail_sqlite() {
    status_change_mail_arrives_and_unsubscribe_works(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_change_mail_postgres() {
    status_change_mail_arrives_and_unsubscribe_works(Backend::Postgres).await;
}

/// Kills the SMTP server this test started, also when the test fails.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_smtp_is_down_arrives_when_it_is_back() {
    if smtp_sink("mail_queued_while_smtp_is_down_arrives_when_it_is_back").is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn(Backend::Sqlite, port).await.unwrap();
    let (staff, idea_id, follower) = followed_idea(&app, "outage").await;
    ideas::change_status(
        &app.db,
        &staff,
        idea_id,
        IdeaStatus::UnderReview,
        "Vi ser på den.",
    )
    .await
    .unwrap();
    // Nobody listens: the mail stays pending with a recorded failure.
    let mut row = None;
    for _ in 0..100 {
        let r = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::UserId.eq(follower.id))
            .one(&app.db)
            .await
            .unwrap();
        if r.as_ref().is_some_and(|r| r.attempts >= 1) {
            row = r;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = row.expect("a failed attempt is recorded");
    assert_eq!(row.status, "pending");
    assert!(row.last_error.is_some());

    // The SMTP server comes (back) up: the mail arrives.
    let dir = tempfile::tempdir().unwrap();
    let _smtp = Child(
        std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .spawn()
            .expect("starting aiosmtpd"),
    );
    let mail = wait_for_mail(
        &dir.path().join("maildir"),
        &follower.email.clone().unwrap(),
        60,
    )
    .await;
    assert!(mail.contains("List-Unsubscribe"));
}

samskab_tests::both_backends!(admins_see_mails_that_were_given_up_on);
async fn admins_see_mails_that_were_given_up_on(app: TestApp) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let admin = app.logged_in_as("admin@example.org", Role::Admin).await;
    let (_, page) = app.page("/admin/users").await;
    assert!(page.body.contains("Alle mails er sendt"));
    samskab::services::mail::enqueue(
        &app.db,
        admin.id,
        samskab::services::mail::KIND_IDEA_STATUS,
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let row = mail_outbox::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = row.into_active_model();
    active.status = Set("failed".into());
    active.attempts = Set(samskab::services::mail::MAX_ATTEMPTS);
    active.last_error = Set(Some("Connection refused".into()));
    active.update(&app.db).await.unwrap();
    let (status, page) = app.page("/admin/users").await;
    assert_eq!(status, 200);
    assert_eq!(page.texts("tr.failed-mail").len(), 1);
    assert!(page.body.contains("Connection refused"));
}
