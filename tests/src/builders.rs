//! Builders for what the tests set up again and again: consultations in a
//! given state, users by role, ideas, comments, statements and conversations
//! with votes. They call the services directly (no HTTP), so a change in a
//! service's signature is made here once, not in every test file.
//!
//! ```text
//! let me = app.user(Role::Moderator).email("mod@example.org").actor().await;
//! let c = app.consultation().slug("hasle").conversation().seeds(&SEEDS).by(&me).open().create().await;
//! let (browser, anna) = app.user(Role::Citizen).mitid("substantial", 1990, "0751").in_browser().await;
//! app.votes(&c).participants(40).two_camps().cast().await;
//! ```
//!
//! Defaults: a consultation is a post-moderated draft titled "Høring {slug}"
//! with the summary "Hvad mener du?", made by a fresh moderator; a user is a
//! verified, Danish-speaking account with the password [`crate::PASSWORD`].

use samskab::auth::Role;
use samskab::auth::session::CurrentUser;
use samskab::domain::VotingEligibility as Eligibility;
use samskab::entities::{comment, consultation, idea, opinion_snapshot, statement, user};
use samskab::i18n::Locale;
use samskab::opinion::{Snapshot, VoteValue};
use samskab::services::consultations::{self, ConsultationForm, ModerationMode, Status};
use samskab::services::ideas::{self, IdeaForm};
use samskab::services::participants::Visitor;
use samskab::services::snapshots::{self, Kind, LockMode};
use samskab::services::statements::{self, ModerationAction};
use samskab::services::{comments, users, votes};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use crate::{PASSWORD_HASH, TestApp};

fn on(yes: bool) -> Option<String> {
    yes.then(|| "on".to_owned())
}

impl TestApp {
    /// A number unique within this app, for default names and addresses.
    pub fn next_number(&self) -> u64 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    /// A consultation: `app.consultation().open().with_ideas().create().await`.
    pub fn consultation(&self) -> ConsultationBuilder<'_> {
        ConsultationBuilder {
            app: self,
            form: ConsultationForm {
                summary: "Hvad mener du?".into(),
                ..Default::default()
            },
            moderation: ModerationMode::Post,
            voting: None,
            status: Status::Draft,
            seeds: Vec::new(),
            by: None,
        }
    }

    /// A user with `role`: `app.user(Role::Citizen).email("anna@example.org").create().await`.
    pub fn user(&self, role: Role) -> UserBuilder<'_> {
        UserBuilder {
            app: self,
            role,
            email: None,
            name: None,
            locale: Locale::Da,
            verified: true,
            identity: None,
        }
    }

    /// An idea proposed by `author` in the consultation `slug`.
    pub fn idea<'a>(&'a self, author: &'a CurrentUser, slug: &str) -> IdeaBuilder<'a> {
        IdeaBuilder {
            app: self,
            author,
            slug: slug.to_owned(),
            form: IdeaForm {
                title: "En idé".into(),
                body: "Tekst.".into(),
                ..Default::default()
            },
            supporters: Vec::new(),
        }
    }

    /// A comment by `by` on idea `idea_id` (a reply when `parent` is given).
    pub async fn comment(
        &self,
        by: &CurrentUser,
        idea_id: i64,
        parent: Option<i64>,
        body: &str,
    ) -> comment::Model {
        comments::create(&self.db, by, idea_id, parent, body)
            .await
            .unwrap_or_else(|e| panic!("commenting on idea {idea_id}: {e:?}"))
    }

    /// Staff member `by` moves idea `id` to `to` with an official response.
    pub async fn change_idea_status(
        &self,
        by: &CurrentUser,
        id: i64,
        to: ideas::IdeaStatus,
        response: &str,
    ) -> idea::Model {
        ideas::change_status(&self.db, by, id, to, response)
            .await
            .unwrap_or_else(|e| panic!("moving idea {id} to {to:?}: {e:?}"))
    }

    /// A seed statement by staff member `by` (accepted at once).
    pub async fn seed_statement(
        &self,
        by: &CurrentUser,
        slug: &str,
        body: &str,
    ) -> statement::Model {
        statements::add_seed(&self.db, by, slug, body)
            .await
            .unwrap_or_else(|e| panic!("adding the seed statement {body:?}: {e:?}"))
    }

    /// A statement written by participant `who` (see [`anonymous`] and
    /// [`visitor`]): accepted at once under post-moderation, pending under
    /// pre-moderation.
    pub async fn participant_statement(
        &self,
        c: &consultation::Model,
        who: &Visitor,
        body: &str,
    ) -> statement::Model {
        statements::add(&self.db, c, who, body)
            .await
            .unwrap_or_else(|e| panic!("writing the statement {body:?}: {e:?}"))
    }

    /// Staff member `by` moderates statement `id` of consultation `slug`.
    pub async fn moderate_statement(
        &self,
        by: &CurrentUser,
        slug: &str,
        id: i64,
        action: ModerationAction,
        reason: &str,
    ) -> statement::Model {
        statements::moderate(&self.db, by, slug, id, action, reason)
            .await
            .unwrap_or_else(|e| panic!("moderating statement {id}: {e:?}"))
    }

    /// Staff member `by` moves consultation `slug` to `to` (one step).
    pub async fn transition(
        &self,
        by: &CurrentUser,
        slug: &str,
        to: Status,
    ) -> consultation::Model {
        samskab::services::lifecycle::transition(&self.db, by, slug, to)
            .await
            .unwrap_or_else(|e| panic!("moving {slug} to {to:?}: {e:?}"))
    }

    /// A warm opinion snapshot of consultation `consultation_id`, computed now
    /// (after any run in progress); `None` when nothing changed since the last.
    pub async fn recompute_snapshot(
        &self,
        consultation_id: i64,
    ) -> Option<opinion_snapshot::Model> {
        snapshots::recompute(&self.db, consultation_id, Kind::Warm, LockMode::Wait)
            .await
            .unwrap_or_else(|e| panic!("recomputing the snapshot of {consultation_id}: {e:?}"))
    }

    /// The snapshot the app shows for consultation `consultation_id` (the
    /// final one once it is closed), if any.
    pub async fn latest_snapshot(
        &self,
        consultation_id: i64,
    ) -> Option<(opinion_snapshot::Model, Snapshot)> {
        snapshots::latest(&self.db, consultation_id)
            .await
            .unwrap_or_else(|e| panic!("reading the snapshot of {consultation_id}: {e:?}"))
            .map(|(row, snapshot)| (row, Snapshot::clone(&snapshot)))
    }

    /// Votes on the accepted statements of `c`: see [`VotesBuilder`].
    pub fn votes<'a>(&'a self, c: &'a consultation::Model) -> VotesBuilder<'a> {
        VotesBuilder {
            app: self,
            consultation: c,
            participants: 0,
            prefix: "voter".into(),
            statements: None,
            pattern: VotePattern::TwoCamps,
        }
    }

    /// One vote by the anonymous participant `token`.
    pub async fn vote(
        &self,
        c: &consultation::Model,
        token: &str,
        statement_id: i64,
        value: VoteValue,
    ) -> votes::VoteOutcome {
        self.vote_as(c, &anonymous(token), statement_id, value)
            .await
    }

    /// One vote by `who` (see [`anonymous`] and [`visitor`]).
    pub async fn vote_as(
        &self,
        c: &consultation::Model,
        who: &Visitor,
        statement_id: i64,
        value: VoteValue,
    ) -> votes::VoteOutcome {
        votes::cast(&self.db, c, who, statement_id, value)
            .await
            .unwrap_or_else(|e| panic!("voting on statement {statement_id}: {e:?}"))
    }

    /// Conversation `c` with `participants` anonymous people (`camp-0`, `camp-1`, …)
    /// in two camps voting on all of `statement_ids`: even-numbered people agree
    /// with even-numbered statements and disagree with the others, odd-numbered
    /// people the opposite.
    pub async fn conversation_with_votes(
        &self,
        c: &consultation::Model,
        statement_ids: &[i64],
        participants: usize,
    ) {
        self.votes(c)
            .statements(statement_ids)
            .participants(participants)
            .prefix("camp")
            .two_camps()
            .cast()
            .await;
    }
}

/// An anonymous participant with the participant cookie `token`.
pub fn anonymous(token: &str) -> Visitor {
    Visitor {
        user: None,
        anon_token: Some(token.to_owned()),
        client: None,
    }
}

/// A logged-in participant.
pub fn visitor(user: &CurrentUser) -> Visitor {
    Visitor {
        user: Some(user.clone()),
        anon_token: None,
        client: None,
    }
}

// ------------------------------------------------------------ consultations

/// See [`TestApp::consultation`].
#[must_use = "call .create().await"]
pub struct ConsultationBuilder<'a> {
    app: &'a TestApp,
    form: ConsultationForm,
    moderation: ModerationMode,
    voting: Option<Eligibility>,
    status: Status,
    seeds: Vec<String>,
    by: Option<CurrentUser>,
}

impl<'a> ConsultationBuilder<'a> {
    pub fn title(mut self, title: &str) -> Self {
        self.form.title = title.into();
        self
    }

    /// Without a slug the service derives one from the title.
    pub fn slug(mut self, slug: &str) -> Self {
        self.form.slug = slug.into();
        self
    }

    pub fn summary(mut self, summary: &str) -> Self {
        self.form.summary = summary.into();
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.form.body = body.into();
        self
    }

    /// Pre-moderation: ideas and statements wait for a moderator.
    pub fn pre_moderated(mut self) -> Self {
        self.moderation = ModerationMode::Pre;
        self
    }

    pub fn moderation(mut self, mode: ModerationMode) -> Self {
        self.moderation = mode;
        self
    }

    /// Citizens may propose ideas.
    pub fn with_ideas(mut self) -> Self {
        self.form.accepts_ideas = on(true);
        self
    }

    pub fn support_threshold(mut self, supports: u32) -> Self {
        self.form.support_threshold = supports.to_string();
        self
    }

    /// Authors may support their own ideas.
    pub fn allow_self_support(mut self) -> Self {
        self.form.allow_self_support = on(true);
        self
    }

    pub fn comment_flag_threshold(mut self, flags: u32) -> Self {
        self.form.comment_flag_threshold = flags.to_string();
        self
    }

    pub fn categories(mut self, categories: &[&str]) -> Self {
        self.form.categories = categories.join("\n");
        self
    }

    /// A Pol.is-style conversation of statements and votes.
    pub fn conversation(mut self) -> Self {
        self.form.has_conversation = on(true);
        self
    }

    /// Who may vote in the conversation.
    pub fn voting(mut self, who: Eligibility) -> Self {
        self.voting = Some(who);
        self
    }

    pub fn statement_max_chars(mut self, chars: u32) -> Self {
        self.form.statement_max_chars = chars.to_string();
        self
    }

    /// Seed statements, added by the creator before the consultation opens.
    pub fn seeds<S: AsRef<str>>(mut self, seeds: &[S]) -> Self {
        self.seeds
            .extend(seeds.iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Only MitID logins take part.
    pub fn mitid_only(mut self) -> Self {
        self.form.eligibility = "mitid".into();
        self
    }

    /// Minimum MitID level of assurance (`low`, `substantial`, `high`).
    pub fn min_loa(mut self, loa: &str) -> Self {
        self.form.min_loa = loa.into();
        self
    }

    pub fn min_age(mut self, years: u32) -> Self {
        self.form.min_age = years.to_string();
        self
    }

    /// Residents of this municipality only (code, e.g. `0751`).
    pub fn municipality(mut self, code: &str) -> Self {
        self.form.municipality_code = code.into();
        self
    }

    /// Anything else on the form.
    pub fn form(mut self, tweak: impl FnOnce(&mut ConsultationForm)) -> Self {
        tweak(&mut self.form);
        self
    }

    /// The staff member who creates (and moves) it; a fresh moderator by default.
    pub fn by(mut self, staff: &CurrentUser) -> Self {
        self.by = Some(staff.clone());
        self
    }

    /// The state to leave it in, moving through the life cycle from draft.
    pub fn status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn draft(self) -> Self {
        self.status(Status::Draft)
    }

    pub fn open(self) -> Self {
        self.status(Status::Open)
    }

    pub fn closed(self) -> Self {
        self.status(Status::Closed)
    }

    pub fn published(self) -> Self {
        self.status(Status::Published)
    }

    pub fn archived(self) -> Self {
        self.status(Status::Archived)
    }

    pub async fn create(mut self) -> consultation::Model {
        let app = self.app;
        let by = match self.by.take() {
            Some(by) => by,
            None => {
                app.user(Role::Moderator)
                    .email(&format!("setup-{}@example.org", app.next_number()))
                    .actor()
                    .await
            }
        };
        if self.form.title.is_empty() {
            self.form.title = if self.form.slug.is_empty() {
                format!("Høring {}", app.next_number())
            } else {
                format!("Høring {}", self.form.slug)
            };
        }
        self.form.moderation_mode = self.moderation.as_str().into();
        if let Some(voting) = self.voting {
            self.form.voting_eligibility = voting.as_str().into();
        }
        let mut c = consultations::create(&app.db, &by, &self.form)
            .await
            .unwrap_or_else(|e| panic!("creating the consultation {:?}: {e:?}", self.form.title));
        for seed in &self.seeds {
            app.seed_statement(&by, &c.slug, seed).await;
        }
        for step in self.status.path_from_draft() {
            c = app.transition(&by, &c.slug, *step).await;
        }
        c
    }
}

// ------------------------------------------------------------ users

/// What a MitID login leaves on an account.
#[derive(Debug, Clone, Default)]
struct MitId {
    subject: bool,
    loa: Option<String>,
    birth_year: Option<i32>,
    municipality: Option<String>,
}

/// See [`TestApp::user`].
#[must_use = "call .create().await, .actor().await, .logged_in().await or .in_browser().await"]
pub struct UserBuilder<'a> {
    app: &'a TestApp,
    role: Role,
    email: Option<String>,
    name: Option<String>,
    locale: Locale,
    verified: bool,
    identity: Option<MitId>,
}

impl<'a> UserBuilder<'a> {
    /// Default: `{role}-{n}@example.org`.
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_owned());
        self
    }

    /// Default: the part of the address before the `@`.
    pub fn name(mut self, display_name: &str) -> Self {
        self.name = Some(display_name.to_owned());
        self
    }

    pub fn locale(mut self, locale: Locale) -> Self {
        self.locale = locale;
        self
    }

    /// The address is not verified yet.
    pub fn unverified(mut self) -> Self {
        self.verified = false;
        self
    }

    /// As a MitID login would leave them (no OpenID Provider needed): a subject,
    /// level of assurance, birth year and municipality code.
    pub fn mitid(mut self, loa: &str, birth_year: i32, municipality: &str) -> Self {
        self.identity = Some(MitId {
            subject: true,
            loa: Some(loa.to_owned()),
            birth_year: Some(birth_year),
            municipality: Some(municipality.to_owned()),
        });
        self
    }

    /// Only the MitID attributes a report uses (birth year and municipality),
    /// without a linked subject or level of assurance.
    pub fn mitid_attributes(mut self, birth_year: i32, municipality: &str) -> Self {
        self.identity = Some(MitId {
            subject: false,
            loa: None,
            birth_year: Some(birth_year),
            municipality: Some(municipality.to_owned()),
        });
        self
    }

    fn address(&self) -> String {
        self.email.clone().unwrap_or_else(|| {
            format!(
                "{}-{}@example.org",
                self.role.as_str(),
                self.app.next_number()
            )
        })
    }

    pub async fn create(self) -> user::Model {
        let app = self.app;
        let email = self.address();
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| email.split('@').next().unwrap_or("Test").to_owned());
        let u = users::create(
            &app.db,
            &name,
            &email,
            &PASSWORD_HASH,
            self.role,
            self.locale,
            self.verified,
        )
        .await
        .unwrap_or_else(|e| panic!("creating the test user {email}: {e:?}"));
        let Some(identity) = self.identity else {
            return u;
        };
        let mut active = u.into_active_model();
        if identity.subject {
            active.oidc_subject_hash = Set(Some(format!("{:0>64}", app.next_number())));
        }
        active.identity_provider = Set(Some("mitid".into()));
        if identity.loa.is_some() {
            active.loa = Set(identity.loa);
        }
        active.birth_year = Set(identity.birth_year);
        active.municipality_code = Set(identity.municipality);
        active
            .update(&app.db)
            .await
            .unwrap_or_else(|e| panic!("giving {email} a MitID identity: {e:?}"))
    }

    /// The new user as the services' actor.
    pub async fn actor(self) -> CurrentUser {
        CurrentUser::from_model(&self.create().await)
    }

    /// The new user as the services' actor, with the app's own client logged in as them.
    pub async fn logged_in_actor(self) -> CurrentUser {
        CurrentUser::from_model(&self.logged_in().await)
    }

    /// The new user, with the app's own client (`app.client`) logged in as them.
    pub async fn logged_in(self) -> user::Model {
        let app = self.app;
        let u = self.create().await;
        app.login_with(&app.client, u.email.as_deref().unwrap_or_default())
            .await;
        u
    }

    /// The new user and a fresh client logged in as them.
    pub async fn in_browser(self) -> (reqwest::Client, user::Model) {
        let app = self.app;
        let u = self.create().await;
        let browser = crate::client();
        app.login_with(&browser, u.email.as_deref().unwrap_or_default())
            .await;
        (browser, u)
    }
}

// ------------------------------------------------------------ ideas

/// See [`TestApp::idea`].
#[must_use = "call .create().await"]
pub struct IdeaBuilder<'a> {
    app: &'a TestApp,
    author: &'a CurrentUser,
    slug: String,
    form: IdeaForm,
    supporters: Vec<CurrentUser>,
}

impl<'a> IdeaBuilder<'a> {
    pub fn title(mut self, title: &str) -> Self {
        self.form.title = title.into();
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.form.body = body.into();
        self
    }

    pub fn category(mut self, category: &str) -> Self {
        self.form.category = category.into();
        self
    }

    pub fn place(mut self, place: &str) -> Self {
        self.form.place = place.into();
        self
    }

    /// People who support it once it is proposed (it must be public by then).
    pub fn supported_by(mut self, people: &[CurrentUser]) -> Self {
        self.supporters.extend(people.iter().cloned());
        self
    }

    /// Proposed through the service: published at once under post-moderation,
    /// submitted (waiting) under pre-moderation.
    pub async fn create(self) -> idea::Model {
        let app = self.app;
        let created = ideas::create(&app.db, self.author, &self.slug, &self.form)
            .await
            .unwrap_or_else(|e| panic!("proposing the idea {:?}: {e:?}", self.form.title));
        for supporter in &self.supporters {
            ideas::support(&app.db, supporter, created.id)
                .await
                .unwrap_or_else(|e| panic!("supporting idea {}: {e:?}", created.id));
        }
        if self.supporters.is_empty() {
            return created;
        }
        use sea_orm::EntityTrait;
        idea::Entity::find_by_id(created.id)
            .one(&app.db)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("reading idea {} back", created.id))
    }
}

// ------------------------------------------------------------ votes

/// How participant `i` votes on statement `j` (both counted from 0).
#[derive(Clone, Copy)]
pub enum VotePattern {
    /// Even-numbered participants agree with even-numbered statements and
    /// disagree with the others; odd-numbered participants the opposite.
    TwoCamps,
    /// Everyone votes the same on everything.
    All(VoteValue),
    /// Any deterministic rule; `None` skips that statement.
    Rule(fn(usize, usize) -> Option<VoteValue>),
}

impl VotePattern {
    pub fn value(self, participant: usize, statement: usize) -> Option<VoteValue> {
        match self {
            VotePattern::TwoCamps => Some(
                if statement.is_multiple_of(2) == participant.is_multiple_of(2) {
                    VoteValue::Agree
                } else {
                    VoteValue::Disagree
                },
            ),
            VotePattern::All(value) => Some(value),
            VotePattern::Rule(rule) => rule(participant, statement),
        }
    }
}

/// `participants` anonymous people (`{prefix}-0`, `{prefix}-1`, …) voting on
/// the given statements (by default every statement of the consultation, in
/// number order) after a deterministic [`VotePattern`], participant by
/// participant. See [`TestApp::votes`].
#[must_use = "call .cast().await"]
pub struct VotesBuilder<'a> {
    app: &'a TestApp,
    consultation: &'a consultation::Model,
    participants: usize,
    prefix: String,
    statements: Option<Vec<i64>>,
    pattern: VotePattern,
}

impl<'a> VotesBuilder<'a> {
    pub fn participants(mut self, n: usize) -> Self {
        self.participants = n;
        self
    }

    /// Participant cookies are `{prefix}-{i}`; default `voter`.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    pub fn statements(mut self, ids: &[i64]) -> Self {
        self.statements = Some(ids.to_vec());
        self
    }

    pub fn pattern(mut self, pattern: VotePattern) -> Self {
        self.pattern = pattern;
        self
    }

    pub fn two_camps(self) -> Self {
        self.pattern(VotePattern::TwoCamps)
    }

    /// Casts the votes; returns the participant cookies, in order.
    pub async fn cast(self) -> Vec<String> {
        let app = self.app;
        let ids = match self.statements {
            Some(ids) => ids,
            None => app.statement_ids(self.consultation.id).await,
        };
        let mut tokens = Vec::with_capacity(self.participants);
        for i in 0..self.participants {
            let token = format!("{}-{i}", self.prefix);
            for (j, id) in ids.iter().enumerate() {
                if let Some(value) = self.pattern.value(i, j) {
                    app.vote(self.consultation, &token, *id, value).await;
                }
            }
            tokens.push(token);
        }
        tokens
    }
}

// ------------------------------------------------------------ a citizen who did everything

/// What [`TestApp::citizen_who_did_everything`] made.
pub struct ActiveCitizen {
    pub user: user::Model,
    pub actor: CurrentUser,
    /// The staff member who runs the consultation.
    pub staff: CurrentUser,
    /// Another citizen, whose idea the active one supports and comments on.
    pub other: CurrentUser,
    pub consultation: consultation::Model,
    pub idea: idea::Model,
    pub other_idea: idea::Model,
    pub comment: comment::Model,
    pub statement: statement::Model,
}

impl TestApp {
    /// A MitID-verified citizen (`email`, `name`) who has done everything a
    /// citizen can in one open consultation with ideas and a conversation
    /// (slug `slug`): proposed an idea (moved on by staff, so a mail went
    /// out), supported, followed and commented on another idea (whose
    /// status change notified them), flagged a comment, wrote a statement
    /// and voted on every statement, and followed the consultation.
    pub async fn citizen_who_did_everything(
        &self,
        slug: &str,
        email: &str,
        name: &str,
    ) -> ActiveCitizen {
        let staff = self.user(Role::Moderator).actor().await;
        let c = self
            .consultation()
            .slug(slug)
            .with_ideas()
            .conversation()
            .seeds(&[
                "Der skal være flere bænke",
                "Parken skal være åben om natten",
            ])
            .by(&staff)
            .open()
            .create()
            .await;
        let user = self
            .user(Role::Citizen)
            .email(email)
            .name(name)
            .mitid("substantial", 1980, "0751")
            .create()
            .await;
        let actor = CurrentUser::from_model(&user);
        let other = self.user(Role::Citizen).actor().await;
        let idea = self
            .idea(&actor, slug)
            .title("Cykelsti langs åen")
            .body("En sti fra Dokk1 til Brabrand.")
            .place("Åen")
            .create()
            .await;
        let other_idea = self
            .idea(&other, slug)
            .title("Flere træer på torvet")
            .supported_by(std::slice::from_ref(&actor))
            .create()
            .await;
        ideas::follow(&self.db, &actor, other_idea.id)
            .await
            .unwrap_or_else(|e| panic!("following idea {}: {e:?}", other_idea.id));
        samskab::services::notifications::follow_consultation(&self.db, &actor, slug)
            .await
            .unwrap_or_else(|e| panic!("following {slug}: {e:?}"));
        let comment = self
            .comment(
                &actor,
                other_idea.id,
                None,
                "Godt forslag, men hvem vander dem?",
            )
            .await;
        let reply = self
            .comment(&other, other_idea.id, Some(comment.id), "Det gør kommunen.")
            .await;
        comments::flag(&self.db, &actor, reply.id, "Det er ikke rigtigt")
            .await
            .unwrap_or_else(|e| panic!("flagging comment {}: {e:?}", reply.id));
        self.change_idea_status(
            &staff,
            idea.id,
            ideas::IdeaStatus::UnderReview,
            "Vi ser på den.",
        )
        .await;
        self.change_idea_status(
            &staff,
            other_idea.id,
            ideas::IdeaStatus::UnderReview,
            "Vi ser på den.",
        )
        .await;
        let me = visitor(&actor);
        let statement = self
            .participant_statement(&c, &me, "Legepladsen skal have skygge")
            .await;
        for id in self.statement_ids(c.id).await {
            if id != statement.id {
                self.vote_as(&c, &me, id, VoteValue::Agree).await;
            }
        }
        ActiveCitizen {
            user,
            actor,
            staff,
            other,
            consultation: c,
            idea,
            other_idea,
            comment,
            statement,
        }
    }
}
