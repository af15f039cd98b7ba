//! Typed settings. Layering, later wins: built-in defaults → optional file
//! (`--config PATH` or `SAMSKAB_CONFIG`) → `SAMSKAB_*` environment variables
//! (nested keys with `__`, e.g. `SAMSKAB_OIDC__MITID__ISSUER_URL`). The binary
//! needs no file at all, so it runs from any working directory.
//!
//! Secrets are `SecretString`: they never show up in `Debug` output or logs.

use anyhow::Context;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`. Empty = SQLite file in `data_dir`.
    #[serde(default)]
    pub database_url: Option<SecretString>,
    /// host:port to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// Where the SQLite default and the generated session key live.
    pub data_dir: PathBuf,
    /// External base URL, e.g. `https://samskab.aarhus.dk` (used for links in mails
    /// and OpenID redirect URIs).
    #[serde(default)]
    pub public_url: Option<String>,
    /// At least 64 bytes, base64. Generated into the data dir when absent.
    #[serde(default)]
    pub session_key: Option<SecretString>,
    /// Mark cookies `Secure`. Only switch off for plain-http local use.
    pub cookie_secure: bool,
    /// Seconds for the `Strict-Transport-Security` header; 0 (default) sends none.
    #[serde(default)]
    pub hsts_max_age: u64,
    /// tracing filter, e.g. `info` or `samskab=debug,info`.
    pub log: String,
    /// Maximum database connections in the pool.
    pub database_max_connections: u32,
    /// HTTP worker threads; default = number of CPU cores.
    #[serde(default)]
    pub workers: Option<usize>,
    /// How often the background worker recomputes opinion groups of
    /// conversations with new votes (milliseconds; 0 = no worker).
    #[serde(default = "default_recompute_interval_ms")]
    pub opinion_recompute_interval_ms: u64,
    /// OpenID Connect providers by name (the name appears in URLs:
    /// `/auth/oidc/{name}/start`). See [`OidcProvider`].
    #[serde(default)]
    pub oidc: BTreeMap<String, OidcProvider>,
    /// Outgoing mail (`SAMSKAB_MAIL__*`). See [`MailSettings`].
    #[serde(default)]
    pub mail: MailSettings,
    /// The consultation report (`SAMSKAB_REPORT__*`). See [`ReportSettings`].
    #[serde(default)]
    pub report: ReportSettings,
    /// Rate limits and the proxies trusted to name the client (`SAMSKAB_LIMITS__*`).
    /// See [`LimitSettings`].
    #[serde(default)]
    pub limits: LimitSettings,
    /// `/.well-known/security.txt` (`SAMSKAB_SECURITY_TXT__*`). See [`SecurityTxtSettings`].
    #[serde(default)]
    pub security_txt: SecurityTxtSettings,
    /// How long sessions last (`SAMSKAB_SESSION__*`). See [`SessionSettings`].
    #[serde(default)]
    pub session: SessionSettings,
    /// Scheduled opening and closing, reminders, official answers and
    /// attachments (`SAMSKAB_CONSULTATIONS__*`). See [`ConsultationSettings`].
    #[serde(default)]
    pub consultations: ConsultationSettings,
    /// The data controller and data protection officer named on the privacy
    /// page (`SAMSKAB_PRIVACY__*`). See [`PrivacySettings`].
    #[serde(default)]
    pub privacy: PrivacySettings,
    /// How long personal data is kept (`SAMSKAB_RETENTION__*`). See [`RetentionSettings`].
    #[serde(default)]
    pub retention: RetentionSettings,
    /// The moderation queue (`SAMSKAB_MODERATION__*`). See [`ModerationSettings`].
    #[serde(default)]
    pub moderation: ModerationSettings,
    /// `development` (default: zero-setup fallbacks allowed) or `production`
    /// (the server refuses to start without real mail, https, a session key).
    #[serde(default = "default_environment")]
    pub environment: String,
    /// `text` (default, for people) or `json` (one JSON object per line, for
    /// log collectors; `SAMSKAB_LOG_FORMAT=json`).
    #[serde(default = "default_log_format")]
    pub log_format: String,
    /// Stopping (`SAMSKAB_SHUTDOWN__*`). See [`ShutdownSettings`].
    #[serde(default)]
    pub shutdown: ShutdownSettings,
    /// The Prometheus endpoint (`SAMSKAB_METRICS__*`). See [`MetricsSettings`].
    #[serde(default)]
    pub metrics: MetricsSettings,
}

fn default_log_format() -> String {
    "text".into()
}

/// What a replica does on SIGTERM: `/readyz` answers 503 for `drain_seconds`
/// while requests are still served (so load balancers that probe it take the
/// replica out), then it stops accepting connections and gives in-flight
/// requests and background work `grace_seconds` to finish before it exits.
#[derive(Debug, Clone, Deserialize)]
pub struct ShutdownSettings {
    #[serde(default)]
    pub drain_seconds: u64,
    #[serde(default = "default_grace_seconds")]
    pub grace_seconds: u64,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        ShutdownSettings {
            drain_seconds: 0,
            grace_seconds: default_grace_seconds(),
        }
    }
}

fn default_grace_seconds() -> u64 {
    30
}

/// `/metrics` (Prometheus text format) is not public: it is served only on
/// `bind` (a separate, internal address), or on the main address to requests
/// that carry `Authorization: Bearer {token}`. With neither set it is off.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// host:port for a listener that serves only `/metrics`.
    #[serde(default)]
    pub bind: Option<String>,
    /// Bearer token for `/metrics` on the main address (and on `bind`, if set).
    #[serde(default)]
    pub token: Option<SecretString>,
}

impl MetricsSettings {
    /// The configured token, when it is not empty.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(|t| t.expose_secret().trim())
            .filter(|t| !t.is_empty())
    }
}

fn default_environment() -> String {
    "development".into()
}

/// The moderation queue.
#[derive(Debug, Clone, Deserialize)]
pub struct ModerationSettings {
    /// Reasons a moderator can pick instead of typing one. They are sent to
    /// the author with the decision, so they are written for citizens.
    #[serde(default = "default_reason_templates")]
    pub reason_templates: Vec<String>,
}

impl Default for ModerationSettings {
    fn default() -> Self {
        ModerationSettings {
            reason_templates: default_reason_templates(),
        }
    }
}

fn default_reason_templates() -> Vec<String> {
    [
        "Indeholder personoplysninger som telefonnummer, adresse eller e-mail.",
        "Handler ikke om høringens emne.",
        "Siger det samme som et udsagn eller en idé, der allerede findes.",
        "Overholder ikke debatreglerne (krænkende eller personlige angreb).",
        "Er reklame eller spam.",
    ]
    .map(String::from)
    .to_vec()
}

/// The consultation report.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSettings {
    /// Opinion groups and age or municipality cells with fewer people than
    /// this are withheld on the page: statistics of a handful of people can
    /// point at who they are.
    #[serde(default = "default_min_group_size")]
    pub min_group_size: usize,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            min_group_size: default_min_group_size(),
        }
    }
}

/// Consultations run by the clock, and what staff publish with them.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsultationSettings {
    /// Seconds between two looks for consultations to open, close or remind
    /// about (0 = no scheduler in this process).
    #[serde(default = "default_scheduler_seconds")]
    pub scheduler_seconds: u64,
    /// Followers get a reminder this many hours before the deadline (0 = none).
    #[serde(default = "default_reminder_hours")]
    pub reminder_hours: u32,
    /// Who signs an official answer to an idea unless staff write otherwise:
    /// a role and department, not a person's name.
    #[serde(default = "default_answer_signature")]
    pub answer_signature: String,
    /// Largest attachment in bytes.
    #[serde(default = "default_attachment_max_bytes")]
    pub attachment_max_bytes: usize,
}

impl Default for ConsultationSettings {
    fn default() -> Self {
        ConsultationSettings {
            scheduler_seconds: default_scheduler_seconds(),
            reminder_hours: default_reminder_hours(),
            answer_signature: default_answer_signature(),
            attachment_max_bytes: default_attachment_max_bytes(),
        }
    }
}

fn default_scheduler_seconds() -> u64 {
    30
}
fn default_reminder_hours() -> u32 {
    48
}
fn default_answer_signature() -> String {
    "Byrådet, Aarhus Kommune".into()
}
fn default_attachment_max_bytes() -> usize {
    10 * 1024 * 1024
}

/// Where to report a vulnerability in this installation, published as
/// `/.well-known/security.txt` (RFC 9116). Unset fields fall back to the
/// Samskab project's own security policy, so the file is never missing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecurityTxtSettings {
    /// Space-separated contact URIs, most preferred first: `mailto:`,
    /// `https://` or `tel:`.
    #[serde(default)]
    pub contact: Option<String>,
    /// When the file goes stale (RFC 3339, e.g. `2027-06-30T00:00:00Z`).
    #[serde(default)]
    pub expires: Option<String>,
    /// Comma-separated language tags the contact reads (default `da, en`).
    #[serde(default)]
    pub preferred_languages: Option<String>,
    /// URL of the security policy (default: the project's SECURITY.md).
    #[serde(default)]
    pub policy: Option<String>,
    /// URL of an OpenPGP key for encrypted reports.
    #[serde(default)]
    pub encryption: Option<String>,
}

/// Who is responsible for the personal data (GDPR art. 13): shown in the
/// privacy page's record of processing. Required in production.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivacySettings {
    /// The data controller, e.g. `Aarhus Kommune, Rådhuspladsen 2, 8000 Aarhus C`.
    #[serde(default)]
    pub controller: Option<String>,
    /// How to reach the controller about personal data (address, mail or phone).
    #[serde(default)]
    pub controller_contact: Option<String>,
    /// The data protection officer's name or function.
    #[serde(default)]
    pub dpo_name: Option<String>,
    /// The data protection officer's email address.
    #[serde(default)]
    pub dpo_email: Option<String>,
}

impl PrivacySettings {
    /// The settings that are missing or empty, by their environment names.
    pub fn missing(&self) -> Vec<&'static str> {
        let empty = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        [
            ("SAMSKAB_PRIVACY__CONTROLLER", &self.controller),
            (
                "SAMSKAB_PRIVACY__CONTROLLER_CONTACT",
                &self.controller_contact,
            ),
            ("SAMSKAB_PRIVACY__DPO_NAME", &self.dpo_name),
            ("SAMSKAB_PRIVACY__DPO_EMAIL", &self.dpo_email),
        ]
        .into_iter()
        .filter(|(_, v)| empty(v))
        .map(|(name, _)| name)
        .collect()
    }
}

/// How long personal data is kept; the housekeeping job deletes the rest.
/// 0 switches a rule off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Days an account keeps an unconfirmed email address before it is deleted.
    pub unverified_days: u32,
    /// Days without a login before a citizen is warned that the account
    /// will be deleted.
    pub inactive_days: u32,
    /// Days after the warning before the inactive account is deleted.
    pub inactive_grace_days: u32,
    /// Seconds between two rounds of the housekeeping job that applies
    /// these rules (and removes expired sessions and counters).
    pub every_seconds: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            unverified_days: 7,
            inactive_days: 3 * 365,
            inactive_grace_days: 30,
            every_seconds: 300,
        }
    }
}

fn default_min_group_size() -> usize {
    5
}

/// Rate limits, kept in the database so they hold across replicas. Each
/// count is per window (the window is fixed in code and named in the field);
/// 0 switches that limit off. A "client" is the connecting address (an IPv6
/// client by its /64), or the right-most address in `X-Forwarded-For` that
/// is not a trusted proxy when the connection comes from one.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Space- or comma-separated addresses or CIDR ranges of reverse proxies
    /// whose `X-Forwarded-For` is believed. Default: loopback only (a proxy
    /// on the same host); empty = believe no one.
    pub trusted_proxies: String,
    /// New accounts from one client per hour.
    pub registrations_per_client: u32,
    /// New accounts from everyone together per hour.
    pub registrations_total: u32,
    /// Password reset requests from one client per hour.
    pub password_resets_per_client: u32,
    /// New anonymous participants from one client per hour and consultation,
    /// unless the consultation sets its own number.
    pub new_participants_per_client: u32,
    /// Wrong passwords for one address from one client per 15 minutes.
    pub login_failures_per_address_and_client: u32,
    /// Wrong passwords for one address from all clients together per hour.
    pub login_failures_per_address: u32,
    /// Wrong passwords from one client for any addresses per 15 minutes.
    pub login_failures_per_client: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            trusted_proxies: "127.0.0.0/8 ::1".into(),
            registrations_per_client: 10,
            registrations_total: 200,
            password_resets_per_client: 10,
            new_participants_per_client: 30,
            login_failures_per_address_and_client: 10,
            login_failures_per_address: 50,
            login_failures_per_client: 50,
        }
    }
}

/// How long a session lasts. A logged-in session ends after `idle_minutes`
/// without a request and at the latest `absolute_hours` after the login,
/// whichever comes first; a session without a login (the CSRF token, an
/// anonymous voter's participant token) ends when the browser is closed and
/// at the latest `anonymous_days` after it began.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u32,
    #[serde(default = "default_absolute_hours")]
    pub absolute_hours: u32,
    #[serde(default = "default_anonymous_days")]
    pub anonymous_days: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: default_idle_minutes(),
            absolute_hours: default_absolute_hours(),
            anonymous_days: default_anonymous_days(),
        }
    }
}

fn default_idle_minutes() -> u32 {
    120
}
fn default_absolute_hours() -> u32 {
    12
}
fn default_anonymous_days() -> u32 {
    30
}

/// Pol.is's cadence: its math worker polls for new votes every second and updates each
/// conversation that got some, so the groups shown follow the same update history.
fn default_recompute_interval_ms() -> u64 {
    crate::opinion::UPDATE_INTERVAL_MS
}

/// Outgoing mail. Without `smtp_url` mails are written as `.eml` files into
/// `dir` (default `{data_dir}/mail`), so a fresh install needs no mail server.
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465`
    /// (TLS) or `smtp://127.0.0.1:2525` (plain, local tests only).
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// Sender, e.g. `Samskab Aarhus <noreply@samskab.aarhus.dk>`.
    #[serde(default = "default_mail_from")]
    pub from: String,
    /// Folder for `.eml` files when there is no SMTP server.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Seconds between two looks at the outbox.
    #[serde(default = "default_mail_poll")]
    pub poll_seconds: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            from: default_mail_from(),
            dir: None,
            poll_seconds: default_mail_poll(),
        }
    }
}

fn default_mail_from() -> String {
    "Samskab <noreply@localhost>".into()
}
fn default_mail_poll() -> u64 {
    5
}

/// One OpenID Connect provider, e.g. a MitID broker (`SAMSKAB_OIDC__MITID__*`)
/// or the council's staff directory. Only the issuer URL and client id are
/// required: claim names default to a MitID broker's, and a provider grants
/// the citizen role unless `group_claim` and `group_roles` say otherwise.
#[derive(Debug, Clone, Deserialize)]
pub struct OidcProvider {
    /// Issuer URL; discovery is read from `{issuer_url}/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Space-separated scopes; `openid` is always requested.
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// `citizen` (a "Log in with …" button on the login page; the account is a
    /// citizen identity that eligibility rules may require) or `staff`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Button text; defaults to "MitID" for citizen providers.
    #[serde(default)]
    pub label: Option<String>,
    /// Claim with the level of assurance (LOW/SUBSTANTIAL/HIGH or NSIS URIs).
    #[serde(default = "default_loa_claim")]
    pub loa_claim: String,
    /// Claim with the birthdate (YYYY-MM-DD).
    #[serde(default = "default_birthdate_claim")]
    pub birthdate_claim: String,
    /// Claim with the age in years, used when there is no birthdate.
    #[serde(default = "default_age_claim")]
    pub age_claim: String,
    /// Claim with the municipality code of residence (e.g. `0751`).
    #[serde(default = "default_municipality_claim")]
    pub municipality_claim: String,
    /// Claim with the person's groups (staff providers), a string or a list.
    #[serde(default)]
    pub group_claim: Option<String>,
    /// Space-separated `group=role` pairs, e.g. `samskab-admins=admin council=politician`.
    /// Only staff providers grant roles; a citizen provider's groups are ignored.
    #[serde(default)]
    pub group_roles: String,
    /// How long the discovery document and signing keys are kept before they
    /// are fetched again (seconds). Unknown signing keys cause a refetch anyway.
    #[serde(default = "default_metadata_cache_seconds")]
    pub metadata_cache_seconds: u64,
}

fn default_metadata_cache_seconds() -> u64 {
    3600
}

fn default_scopes() -> String {
    "openid".into()
}
fn default_kind() -> String {
    "citizen".into()
}
fn default_loa_claim() -> String {
    "mitid_loa".into()
}
fn default_birthdate_claim() -> String {
    "birthdate".into()
}
fn default_age_claim() -> String {
    "age".into()
}
fn default_municipality_claim() -> String {
    "municipality_code".into()
}

impl OidcProvider {
    pub fn is_citizen(&self) -> bool {
        self.kind != "staff"
    }

    /// Scopes to request besides `openid`.
    pub fn extra_scopes(&self) -> Vec<String> {
        self.scopes
            .split([' ', ','])
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(str::to_owned)
            .collect()
    }

    /// `(group, role)` pairs from `group_roles`.
    pub fn group_role_pairs(&self) -> Vec<(String, String)> {
        self.group_roles
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(g, r)| (g.to_owned(), r.to_owned()))
            .collect()
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    /// Load settings from defaults, an optional file and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let env_file = std::env::var_os("SAMSKAB_CONFIG").map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        let mut builder = config::Config::builder()
            .set_default("bind", DEFAULT_BIND)?
            .set_default("data_dir", "./data")?
            .set_default("cookie_secure", true)?
            .set_default("log", "info")?
            .set_default("database_max_connections", 10)?;
        if let Some(path) = &file {
            builder = builder.add_source(config::File::from(path.as_path()).required(true));
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("SAMSKAB")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        Ok(settings)
    }

    /// The database URL to connect to: explicit, or a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                url.expose_secret().trim().to_owned()
            }
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("samskab.db").display()
            ),
        }
    }

    pub fn is_postgres(&self) -> bool {
        let url = self.database_url();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// The session key bytes: from settings, or generated once and kept in the
    /// data dir (so restarts keep people logged in). Replicas sharing a database
    /// must share `SAMSKAB_SESSION_KEY`.
    pub fn session_key_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let engine = base64::engine::general_purpose::STANDARD;
        if let Some(key) = &self.session_key {
            let bytes = engine
                .decode(key.expose_secret().trim())
                .context("SAMSKAB_SESSION_KEY must be base64")?;
            anyhow::ensure!(
                bytes.len() >= 64,
                "SAMSKAB_SESSION_KEY must decode to at least 64 bytes"
            );
            return Ok(bytes);
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
        let path = self.data_dir.join("session.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let bytes = engine
                .decode(existing.trim())
                .with_context(|| format!("{} is not base64", path.display()))?;
            anyhow::ensure!(bytes.len() >= 64, "{} is too short", path.display());
            return Ok(bytes);
        }
        let mut bytes = vec![0u8; 64];
        rand::fill(&mut bytes[..]);
        write_private(&path, &engine.encode(&bytes))?;
        tracing::info!(path = %path.display(), "generated a new session key");
        Ok(bytes)
    }

    /// Refuse to serve production with development fallbacks: mails written
    /// to files nobody reads, plain-http links and redirect URIs, a session
    /// key generated on one machine's disk, demo accounts with a published
    /// password. Every problem is named with the setting that fixes it.
    pub fn check_environment(&self, demo: bool) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        match self.environment.as_str() {
            "development" => return Ok(()),
            "production" => {}
            other => anyhow::bail!(
                "SAMSKAB_ENVIRONMENT must be `development` or `production`, not `{other}`"
            ),
        }
        if self
            .mail
            .smtp_url
            .as_ref()
            .is_none_or(|u| u.expose_secret().trim().is_empty())
        {
            problems.push(
                "SAMSKAB_MAIL__SMTP_URL is not set: production sends mail through an SMTP server"
                    .to_owned(),
            );
        }
        let public_url = self.public_url.as_deref().unwrap_or("").trim();
        if !public_url.starts_with("https://") || public_url.len() <= "https://".len() {
            problems.push(format!(
                "SAMSKAB_PUBLIC_URL must be an https:// URL in production (is `{public_url}`)"
            ));
        }
        match &self.session_key {
            Some(key) if !key.expose_secret().trim().is_empty() => {
                if let Err(e) = self.session_key_bytes() {
                    problems.push(format!("{e:#}"));
                }
            }
            _ => problems.push(
                "SAMSKAB_SESSION_KEY is not set: production needs its own key \
                 (`openssl rand -base64 64`), not one generated into the data dir"
                    .to_owned(),
            ),
        }
        if !self.cookie_secure {
            problems.push("SAMSKAB_COOKIE_SECURE must not be false in production".to_owned());
        }
        for name in self.privacy.missing() {
            problems.push(format!(
                "{name} is not set: the privacy page must name the data controller and the \
                 data protection officer"
            ));
        }
        if demo {
            problems.push(
                "--demo is refused in production: demo accounts share a published password"
                    .to_owned(),
            );
        }
        anyhow::ensure!(
            problems.is_empty(),
            "SAMSKAB_ENVIRONMENT=production, but:\n  - {}",
            problems.join("\n  - ")
        );
        Ok(())
    }

    /// Secret for HMACs that are not cookies (OIDC subject hashes, tokens):
    /// derived from the session key so operators manage one secret.
    pub fn hmac_secret(&self) -> anyhow::Result<Vec<u8>> {
        use sha2::Digest;
        let key = self.session_key_bytes()?;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"samskab-hmac-v1");
        hasher.update(&key);
        Ok(hasher.finalize().to_vec())
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        file.write_all(contents.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> Settings {
        Settings {
            database_url: None,
            bind: DEFAULT_BIND.into(),
            data_dir: dir.to_path_buf(),
            public_url: None,
            session_key: None,
            cookie_secure: true,
            hsts_max_age: 0,
            log: "info".into(),
            database_max_connections: 5,
            workers: None,
            opinion_recompute_interval_ms: default_recompute_interval_ms(),
            oidc: BTreeMap::new(),
            mail: MailSettings::default(),
            report: ReportSettings::default(),
            limits: LimitSettings::default(),
            security_txt: SecurityTxtSettings::default(),
            privacy: PrivacySettings::default(),
            retention: RetentionSettings::default(),
            session: SessionSettings::default(),
            consultations: ConsultationSettings::default(),
            moderation: ModerationSettings::default(),
            environment: "development".into(),
            log_format: "text".into(),
            shutdown: Default::default(),
            metrics: Default::default(),
        }
    }

    #[test]
    fn sqlite_default_lives_in_the_data_dir() {
        let s = settings(Path::new("/var/lib/samskab"));
        assert_eq!(
            s.database_url(),
            "sqlite:///var/lib/samskab/samskab.db?mode=rwc"
        );
        assert!(!s.is_postgres());
    }

    #[test]
    fn generated_session_key_is_kept_between_starts() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let first = s.session_key_bytes().unwrap();
        let second = s.session_key_bytes().unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(first, second);
    }

    #[test]
    fn short_session_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path());
        s.session_key = Some(SecretString::from("c2hvcnQ="));
        assert!(s.session_key_bytes().is_err());
    }

    /// Settings read from exactly these environment variables, as `load` reads the real ones.
    fn settings_from_env(vars: &[(&str, &str)]) -> Settings {
        let source = config::Environment::with_prefix("SAMSKAB")
            .prefix_separator("_")
            .separator("__")
            .source(Some(
                vars.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ));
        config::Config::builder()
            .add_source(source)
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap()
    }

    const MINIMAL_ENV: [(&str, &str); 5] = [
        ("SAMSKAB_BIND", "127.0.0.1:0"),
        ("SAMSKAB_DATA_DIR", "/tmp"),
        ("SAMSKAB_COOKIE_SECURE", "true"),
        ("SAMSKAB_LOG", "info"),
        ("SAMSKAB_DATABASE_MAX_CONNECTIONS", "5"),
    ];

    #[test]
    fn a_mitid_provider_needs_only_four_variables() {
        let mut vars = MINIMAL_ENV.to_vec();
        vars.extend([
            ("SAMSKAB_OIDC__MITID__ISSUER_URL", "https://broker.example"),
            ("SAMSKAB_OIDC__MITID__CLIENT_ID", "samskab"),
            ("SAMSKAB_OIDC__MITID__CLIENT_SECRET", "s3cret-value"),
            ("SAMSKAB_OIDC__MITID__SCOPES", "openid mitid"),
        ]);
        let s = settings_from_env(&vars);
        let mitid = &s.oidc["mitid"];
        assert_eq!(mitid.issuer_url, "https://broker.example");
        assert_eq!(mitid.extra_scopes(), vec!["mitid".to_owned()]);
        assert!(mitid.is_citizen());
        assert_eq!(mitid.loa_claim, "mitid_loa");
        assert!(!format!("{s:?}").contains("s3cret-value"));
    }

    #[test]
    fn opinion_groups_are_recomputed_every_second_by_default_as_polis_does() {
        let s = settings_from_env(&MINIMAL_ENV);
        assert_eq!(s.opinion_recompute_interval_ms, 1000);
        assert_eq!(
            crate::opinion_tools::polis::POLL_INTERVAL_MS,
            s.opinion_recompute_interval_ms as i64
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path());
        s.session_key = Some(SecretString::from("super-secret-value"));
        s.database_url = Some(SecretString::from("postgres://u:hunter2@db/x"));
        let shown = format!("{s:?}");
        assert!(!shown.contains("super-secret-value"));
        assert!(!shown.contains("hunter2"));
    }
}
