//! The mail flows end to end, with mails received by a real SMTP server
//! (the aiosmtpd sink that `tests/run` starts), parsed, and their links
//! followed: verifying an address, resetting a password, statement decisions,
//! consultation followers, preferences and one-click unsubscribe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailparse::MailHeaderMap;
use reqwest::StatusCode;
use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::domain::VotingEligibility as Eligibility;
use samskab::entities::{audit_log, email_token, mail_outbox, statement, user};
use samskab::i18n::Locale;
use samskab::services::consultations::{ModerationMode, Status};
use samskab::services::statements::ModerationAction;
use samskab::services::tokens;
use samskab_tests::{Backend, BuildOptions, Page, TestApp, client, location, smtp_sink};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs `$name(app, maildir)` on SQLite and PostgreSQL, the app sending
/// through the SMTP sink.
macro_rules! with_smtp {
    ($name:ident) => {
        mod $name {
            use super::*;

            async fn run(backend: Backend) {
                let Some((port, maildir)) = smtp_sink(stringify!($name)) else {
                    return;
                };
                let app = TestApp::spawn_configured(backend, BuildOptions::default(), move |s| {
                    s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
                    s.mail.poll_seconds = 1;
                })
                .await
                .expect("spawning the app");
                match app {
                    Some(app) => super::$name(app, maildir).await,
                    None => samskab_tests::report_postgres_skipped(stringify!($name)),
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Backend::Postgres).await;
            }
        }
    };
}

/// One received mail, decoded.
#[derive(Debug)]
struct Mail {
    headers: Vec<(String, String)>,
    subject: String,
    text: String,
    html: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first link in the text part that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link {prefix}… in {}", self.text))
            .to_owned()
    }
}

fn parse_mail(raw: &str) -> Mail {
    let parsed = mailparse::parse_mail(raw.as_bytes()).expect("a MIME message");
    assert_eq!(
        parsed.ctype.mimetype, "multipart/alternative",
        "text and HTML parts"
    );
    let part = |mime: &str| {
        parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().expect("a decodable part"))
            .unwrap_or_default()
    };
    Mail {
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.get_key(), h.get_value()))
            .collect(),
        subject: parsed
            .headers
            .get_first_value("Subject")
            .unwrap_or_default(),
        text: part("text/plain"),
        html: part("text/html"),
    }
}

/// Wait for a mail to `to` whose subject contains `subject`.
async fn wait_for(dir: &Path, to: &str, subject: &str) -> Mail {
    for _ in 0..200 {
        if let Ok(entries) = std::fs::read_dir(dir.join("new")) {
            for entry in entries.flatten() {
                let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if !raw.contains(to) {
                    continue;
                }
                let Ok((headers, _)) = mailparse::parse_headers(raw.as_bytes()) else {
                    continue;
                };
                let addressed = headers
                    .get_first_value("To")
                    .is_some_and(|v| v.contains(to));
                if !addressed {
                    continue;
                }
                let mail = parse_mail(&raw);
                if mail.subject.contains(subject) {
                    return mail;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no mail to {to} about “{subject}” in {}", dir.display());
}

/// Every mail has a subject, a text part and an HTML part in the language.
fn assert_complete(mail: &Mail, lang: &str) {
    assert!(!mail.subject.is_empty());
    assert!(!mail.text.trim().is_empty(), "a text part");
    assert!(
        mail.html.contains(&format!("<html lang=\"{lang}\"")),
        "an HTML part in {lang}: {}",
        mail.html
    );
}

/// Wait until the sender has handled every mail to `user_id`; their statuses.
async fn settled_outbox(app: &TestApp, user_id: i64) -> Vec<(String, String)> {
    for _ in 0..100 {
        let rows = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::UserId.eq(user_id))
            .all(&app.db)
            .await
            .unwrap();
        if rows
            .iter()
            .all(|r| r.status != samskab::domain::MailStatus::Pending)
        {
            return rows
                .into_iter()
                .map(|r| (r.kind.as_str().to_owned(), r.status.as_str().to_owned()))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("mails to {user_id} still pending");
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// An open consultation with ideas and a conversation for logged-in people.
async fn open_consultation(
    app: &TestApp,
    staff: &CurrentUser,
    title: &str,
    mode: ModerationMode,
) -> String {
    app.consultation()
        .title(title)
        .moderation(mode)
        .with_ideas()
        .conversation()
        .voting(Eligibility::LoggedIn)
        .by(staff)
        .open()
        .create()
        .await
        .slug
}

async fn staff_member(app: &TestApp, tag: &str) -> CurrentUser {
    app.user(Role::Moderator)
        .email(&format!("staff-{tag}@example.org"))
        .actor()
        .await
}

with_smtp!(a_new_account_verifies_its_address_before_taking_part);
async fn a_new_account_verifies_its_address_before_taking_part(app: TestApp, maildir: PathBuf) {
    let tag = tag();
    let staff = staff_member(&app, &tag).await;
    let slug = open_consultation(
        &app,
        &staff,
        &format!("Grønne tage {tag}"),
        ModerationMode::Post,
    )
    .await;
    let seed = app
        .seed_statement(&staff, &slug, "Flere grønne tage.")
        .await;
    let author = app
        .user(Role::Citizen)
        .email(&format!("author-{tag}@example.org"))
        .actor()
        .await;
    let idea = app
        .idea(&author, &slug)
        .title("Grønt tag på rådhuset")
        .body("Det vil se godt ud.")
        .create()
        .await;

    let email = format!("ny-{tag}@example.org");
    let browser = client();
    let res = app
        .post_form_with(
            &browser,
            "/register",
            &[
                ("display_name", "Ny Borger"),
                ("email", &email),
                ("password", "en god lang adgangskode"),
                ("password_confirm", "en god lang adgangskode"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/register/sent");
    // Registering does not log in (a taken address answers the same); the
    // new account logs in with its password before confirming the address.
    let res = app
        .post_form_with(
            &browser,
            "/login",
            &[("email", &email), ("password", "en god lang adgangskode")],
        )
        .await;
    assert_eq!(location(&res), "/account");
    let (_, page) = app.page_with(&browser, "/account").await;
    assert!(
        page.text("#verify-notice").is_some(),
        "the account says the address needs confirming"
    );

    // Logged in and reading, but every way of taking part is refused.
    let (status, _) = app
        .page_with(&browser, &format!("/consultations/{slug}"))
        .await;
    assert_eq!(status, 200);
    let attempts = [
        (
            format!("/consultations/{slug}/ideas"),
            vec![("title", "Min idé"), ("body", "Beskrivelse.")],
        ),
        (format!("/ideas/{}/support", idea.id), vec![]),
        (
            format!("/ideas/{}/comments", idea.id),
            vec![("body", "Godt!")],
        ),
        (
            format!("/consultations/{slug}/statements"),
            vec![("body", "Tagene skal være grønne.")],
        ),
        (
            format!("/consultations/{slug}/statements/{}/vote", seed.id),
            vec![("vote", "agree")],
        ),
    ];
    for (path, fields) in &attempts {
        let res = app.post_form_with(&browser, path, fields).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{path}");
        let page = Page::parse(&res.text().await.unwrap());
        assert!(
            page.body.contains("Du skal bekræfte din e-mailadresse"),
            "{path} explains why"
        );
        assert!(
            page.attr("form[action='/verify-email/resend']", "method")
                .is_some(),
            "{path} offers to send the mail again"
        );
    }

    // Asking again at once is refused politely (one a minute).
    let res = app
        .post_form_with(&browser, "/verify-email/resend", &[])
        .await;
    assert_eq!(location(&res), "/account");
    let (_, page) = app.page_with(&browser, "/account").await;
    assert!(page.body.contains("Vent et minut"));

    let mail = wait_for(&maildir, &email, "Bekræft din e-mailadresse").await;
    assert_complete(&mail, "da");
    assert!(
        mail.header("List-Unsubscribe").is_none(),
        "account mails cannot be unsubscribed"
    );
    let link = mail.link(&format!("{}/verify-email?token=", app.address));
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(mail.html.contains(&token), "the HTML part has the link too");
    // Only a hash of the token is stored, and the sent mail no longer holds it.
    let stored = email_token::Entity::find()
        .filter(email_token::Column::Email.eq(email.clone()))
        .all(&app.db)
        .await
        .unwrap();
    assert!(stored.iter().all(|t| t.token_hash != token));
    let me = user::Entity::find()
        .filter(user::Column::Email.eq(email.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled_outbox(&app, me.id).await.len(), 1);
    let rows = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::UserId.eq(me.id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| !r.data.contains(&token)));

    let path = &link[app.address.len()..];
    let (status, page) = app.page_with(&browser, path).await;
    assert_eq!(status, 200);
    assert!(page.text("#verify-done").is_some());
    assert!(
        page.text("#verify-notice").is_none(),
        "the page already knows"
    );
    let me = user::Entity::find_by_id(me.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(me.email_verified);
    let logged = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("user.email_verified"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    // The link works once.
    let (status, page) = app.page_with(&browser, path).await;
    assert_eq!(status, 400);
    assert!(page.text("#verify-problem").is_some());
    let (status, _) = app
        .page_with(&browser, "/verify-email?token=not-a-token")
        .await;
    assert_eq!(status, 400);

    // Now every action goes through.
    let (_, page) = app.page_with(&browser, "/account").await;
    assert!(page.text("#verify-notice").is_none());
    for (path, fields) in &attempts {
        let res = app.post_form_with(&browser, path, fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

with_smtp!(a_forgotten_password_is_reset_by_mail);
async fn a_forgotten_password_is_reset_by_mail(app: TestApp, maildir: PathBuf) {
    let tag = tag();
    let email = format!("glemsom-{tag}@example.org");
    // The mail comes in the person's chosen language.
    let (elsewhere, person) = app
        .user(Role::Citizen)
        .email(&email)
        .locale(Locale::En)
        .in_browser()
        .await;

    let (status, page) = app.page("/login").await;
    assert_eq!(status, 200);
    assert_eq!(
        page.attr("a[href='/forgot-password']", "href").as_deref(),
        Some("/forgot-password")
    );

    // The same answer for an address without an account: no enumeration.
    let unknown = app
        .post_form("/forgot-password", &[("email", "ingen@example.org")])
        .await;
    let unknown_status = unknown.status();
    let unknown_page = Page::parse(&unknown.text().await.unwrap());
    let known = app
        .post_form("/forgot-password", &[("email", &email)])
        .await;
    assert_eq!(known.status(), unknown_status);
    assert_eq!(unknown_status, 200);
    let known_page = Page::parse(&known.text().await.unwrap());
    assert_eq!(known_page.text("main"), unknown_page.text("main"));
    assert!(known_page.text("#reset-sent").is_some());

    let mail = wait_for(&maildir, &email, "Choose a new password").await;
    assert_complete(&mail, "en");
    let link = mail.link(&format!("{}/reset-password?token=", app.address));
    let path = link[app.address.len()..].to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let (status, page) = app.page(&path).await;
    assert_eq!(status, 200);
    assert_eq!(page.attr("input[name=token]", "value"), Some(token.clone()));
    // The registration's password rules apply.
    let res = app
        .post_form(
            "/reset-password",
            &[
                ("token", &token),
                ("password", "kort"),
                ("password_confirm", "kort"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = "et helt nyt og langt kodeord";
    let res = app
        .post_form(
            "/reset-password",
            &[
                ("token", &token),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    let stored = user::Entity::find_by_id(person.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$")
    );

    // The session logged in before the reset has ended.
    let res = app.get_with(&elsewhere, "/account").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
    // The old password is gone, the new one works.
    let res = app
        .post_form_with(
            &client(),
            "/login",
            &[("email", &email), ("password", samskab_tests::PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let fresh = client();
    let res = app
        .post_form_with(
            &fresh,
            "/login",
            &[("email", &email), ("password", new_password)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&fresh, "/account").await.status(), 200);

    // The link cannot be used twice.
    let (status, page) = app.page(&path).await;
    assert_eq!(status, 400);
    assert_eq!(
        page.attr("#main a.button", "href").as_deref(),
        Some("/forgot-password")
    );
    let res = app
        .post_form(
            "/reset-password",
            &[
                ("token", &token),
                ("password", "endnu et langt kodeord"),
                ("password_confirm", "endnu et langt kodeord"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // An expired link: a clear page with a way to ask again.
    let old = tokens::issue(&app.db, person.id, tokens::PURPOSE_RESET, &email)
        .await
        .unwrap();
    let row = email_token::Entity::find()
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::UserId.eq(person.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = row.into_active_model();
    active.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    active.update(&app.db).await.unwrap();
    let (status, page) = app.page(&format!("/reset-password?token={old}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.text("#reset-problem").unwrap().contains("for gammelt"));
    assert_eq!(
        page.attr("#main a.button", "href").as_deref(),
        Some("/forgot-password")
    );
}

with_smtp!(authors_and_followers_get_mail_they_asked_for);
async fn authors_and_followers_get_mail_they_asked_for(app: TestApp, maildir: PathBuf) {
    let tag = tag();
    let staff = staff_member(&app, &tag).await;
    let title = format!("Havnebad {tag}");
    let slug = open_consultation(&app, &staff, &title, ModerationMode::Pre).await;

    // A statement author hears about both decisions, with the reason.
    let author_email = format!("forfatter-{tag}@example.org");
    let (writer, author) = app
        .user(Role::Citizen)
        .email(&author_email)
        .in_browser()
        .await;
    for body in ["Badet skal være åbent om vinteren.", "Køb is hos mig."] {
        let res = app
            .post_form_with(
                &writer,
                &format!("/consultations/{slug}/statements"),
                &[("body", body)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let written = statement::Entity::find()
        .filter(statement::Column::CreatedBy.eq(author.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(written.len(), 2);
    let winter = written
        .iter()
        .find(|s| s.body.contains("vinteren"))
        .unwrap();
    let ad = written.iter().find(|s| s.body.contains("Køb")).unwrap();
    app.moderate_statement(&staff, &slug, winter.id, ModerationAction::Accept, "")
        .await;
    app.moderate_statement(
        &staff,
        &slug,
        ad.id,
        ModerationAction::Reject,
        "Reklame hører ikke hjemme her.",
    )
    .await;
    let accepted = wait_for(&maildir, &author_email, "Dit udsagn er godkendt").await;
    assert_complete(&accepted, "da");
    assert!(accepted.text.contains("Badet skal være åbent om vinteren."));
    assert!(accepted.header("List-Unsubscribe").is_some());
    let rejected = wait_for(&maildir, &author_email, "Dit udsagn er afvist").await;
    assert_complete(&rejected, "da");
    assert!(rejected.text.contains("Reklame hører ikke hjemme her."));
    assert!(rejected.html.contains("Reklame hører ikke hjemme her."));
    // "Mine data" lists the mails sent with their subjects as sent.
    settled_outbox(&app, author.id).await;
    let (status, page) = app.page_with(&writer, "/account/data").await;
    assert_eq!(status, 200);
    let listed = page.text("#my-mails").expect("the mails are listed");
    assert!(listed.contains(&accepted.subject), "{listed}");
    assert!(listed.contains(&rejected.subject), "{listed}");
    assert!(listed.contains("sendt"), "{listed}");

    // Preferences: no statement mails, English mails from now on.
    let (status, page) = app.page_with(&writer, "/account/preferences").await;
    assert_eq!(status, 200);
    assert!(page.attr("#statements", "checked").is_some());
    let res = app
        .post_form_with(
            &writer,
            "/account/preferences",
            &[
                ("idea_updates", "on"),
                ("consultations", "on"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.page_with(&writer, "/account/preferences").await;
    assert!(page.attr("#statements", "checked").is_none());
    assert!(page.attr("#consultations", "checked").is_some());
    let res = app
        .post_form_with(&writer, "/account/preferences", &[("locale", "xx")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.moderate_statement(
        &staff,
        &slug,
        winter.id,
        ModerationAction::Reject,
        "Gentagelse.",
    )
    .await;
    let kinds = settled_outbox(&app, author.id).await;
    assert_eq!(
        kinds.iter().filter(|(_, s)| s == "skipped").count(),
        1,
        "{kinds:?}"
    );

    // Following: the author follows this consultation (open → closed →
    // published); a colleague follows a draft and hears it open.
    let res = app
        .post_form_with(&writer, &format!("/consultations/{slug}/follow"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = app
        .page_with(&writer, &format!("/consultations/{slug}"))
        .await;
    assert_eq!(
        page.attr("form.follow", "action"),
        Some(format!("/consultations/{slug}/unfollow"))
    );
    let colleague_email = format!("kollega-{tag}@example.org");
    let (colleague, _) = app
        .user(Role::Moderator)
        .email(&colleague_email)
        .in_browser()
        .await;
    let draft = app
        .consultation()
        .title(&format!("Legepladser {tag}"))
        .summary("Nye legepladser.")
        .by(&staff)
        .create()
        .await;
    let res = app
        .post_form_with(
            &colleague,
            &format!("/consultations/{}/follow", draft.slug),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.transition(&staff, &draft.slug, Status::Open).await;
    let opened = wait_for(&maildir, &colleague_email, "er åben").await;
    assert_complete(&opened, "da");
    assert!(
        opened
            .text
            .contains(&format!("{}/consultations/{}", app.address, draft.slug))
    );
    // Following a page that does not exist is a 404.
    let res = app
        .post_form_with(&colleague, "/consultations/findes-ikke/follow", &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    app.transition(&staff, &slug, Status::Closed).await;
    let closed = wait_for(&maildir, &author_email, "has closed").await;
    assert_complete(&closed, "en");
    app.transition(&staff, &slug, Status::Published).await;
    let published = wait_for(&maildir, &author_email, "The report for").await;
    assert_complete(&published, "en");
    assert!(
        published
            .text
            .contains(&format!("{}/consultations/{slug}/report", app.address))
    );

    // RFC 8058 one-click: a POST without cookies or CSRF token unsubscribes.
    assert_eq!(
        published.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let url = published
        .header("List-Unsubscribe")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    assert!(url.starts_with(&format!("{}/mail/unsubscribe?", app.address)));
    let bare = reqwest::Client::new();
    let forged = url.replace("t=", "t=00");
    let res = bare
        .post(&forged)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = bare
        .post(&url)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stored = user::Entity::find_by_id(author.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.mail_notifications);
    assert!(!stored.mail_consultations && !stored.mail_idea_updates);
    // Other routes still need their CSRF token.
    let res = bare
        .post(app.url("/account/preferences"))
        .form(&[("locale", "da")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The archive step sends nothing, and nothing more goes to the author.
    app.transition(&staff, &slug, Status::Archived).await;
    settled_outbox(&app, author.id).await;
}

with_smtp!(the_complaint_answer_and_the_inactivity_warning_arrive_complete);
async fn the_complaint_answer_and_the_inactivity_warning_arrive_complete(
    app: TestApp,
    maildir: PathBuf,
) {
    let tag = tag();
    let email = format!("klager-{tag}@example.org");
    let citizen = app.user(Role::Citizen).email(&email).actor().await;
    let staff = staff_member(&app, &tag).await;

    // A complaint (not about a decision) answered by staff: the answer is mailed.
    let filed = samskab::services::complaints::submit(
        &app.db,
        &citizen,
        None,
        "Jeg kan ikke finde ud af at rette mit udsagn.",
    )
    .await
    .unwrap();
    samskab::services::complaints::take(&app.db, &staff, filed.id)
        .await
        .unwrap();
    samskab::services::complaints::answer(
        &app.db,
        &staff,
        filed.id,
        "Skriv et nyt udsagn, så fjerner vi det gamle.",
    )
    .await
    .unwrap();
    let answered = wait_for(&maildir, &email, "Svar på din klage").await;
    assert_complete(&answered, "da");
    assert!(
        answered
            .text
            .contains("Skriv et nyt udsagn, så fjerner vi det gamle."),
        "{}",
        answered.text
    );
    assert!(answered.text.contains("/account/data"), "{}", answered.text);

    // Years without a login: the warning says when the account goes.
    let mut settings = app.settings.retention.clone();
    settings.inactive_days = 365;
    settings.inactive_grace_days = 30;
    let later = chrono::Utc::now() + chrono::Duration::days(3 * 365);
    let warned = samskab::services::retention::warn_inactive(&app.db, &settings, later)
        .await
        .unwrap();
    assert!(warned >= 1);
    let warning = wait_for(&maildir, &email, "bliver slettet").await;
    assert_complete(&warning, "da");
    assert!(warning.text.contains("30"), "{}", warning.text);
    assert!(warning.text.contains("/login"), "{}", warning.text);
}
