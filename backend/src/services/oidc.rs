//! Login through OpenID Connect (MitID brokers, staff directories).
//!
//! Authorization code flow with PKCE (S256), `state` and `nonce`. What the
//! callback needs to check the answer (state, nonce, PKCE verifier) is kept in
//! the encrypted session cookie and removed when the callback reads it, so every
//! pending login is single use. The ID token is verified in full by the
//! `openidconnect` crate (signature, issuer, audience, expiry, nonce); the RFC
//! 9207 `iss` callback parameter is compared with the issuer when present. The
//! HTTP client follows no redirects.
//!
//! Only what eligibility rules need is kept from the claims: the level of
//! assurance, the birth year and the municipality code. The account key is
//! `HMAC-SHA256(server secret, issuer + sub)`; CPR numbers are never requested.
//! Claims the ID token lacks are read from the userinfo endpoint, whose `sub`
//! must be the ID token's.
//!
//! Provider metadata (discovery document and signing keys) is fetched once and
//! kept for `metadata_cache_seconds`; an ID token signed with a key we do not
//! know yet makes us fetch it again once (the provider rotated its keys).

use hmac::{Hmac, Mac};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Role;
use crate::configuration::{OidcProvider, Settings};
use crate::local_path::LocalPath;

/// Session key of the pending login.
pub const SESSION_PENDING: &str = "oidc_pending";
/// Session key of a verified identity that has no account yet (first login).
pub const SESSION_NEW_IDENTITY: &str = "oidc_new_identity";
/// A pending login older than this is refused.
const PENDING_MAX_AGE_SECS: i64 = 15 * 60;

/// What the callback needs to check the provider's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go once logged in, already checked ([`LocalPath`]).
    pub next: LocalPath,
    /// Set when a logged-in person links the identity to their account.
    pub link_user: Option<i64>,
    pub started_at: i64,
    /// A citizen identifies at the service desk for an assisted session
    /// (`services::assisted`): the staff member's login stays as it is.
    #[serde(default)]
    pub assist: bool,
}

/// A verified identity, reduced to what Samskab keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub provider: String,
    /// HMAC of issuer + sub, hex.
    pub subject_hash: String,
    pub loa: Option<String>,
    pub birth_year: Option<i32>,
    pub municipality_code: Option<String>,
    /// The role the provider grants (citizen unless a staff group maps higher).
    pub role: Role,
    pub citizen: bool,
}

/// Why a login did not succeed. Each has a page that says what happened and
/// offers a way back; none carries secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcError {
    UnknownProvider,
    /// The callback matches no pending login (expired, replayed, never started).
    NoPendingLogin,
    StateMismatch,
    WrongIssuer,
    Cancelled,
    /// The provider refused the code or the ID token did not verify.
    Rejected,
    /// The ID token had expired when it arrived.
    Expired,
    /// The provider could not be reached or answered nonsense.
    ProviderDown,
    /// The configuration (public URL, issuer URL) is unusable.
    Misconfigured,
}

impl OidcError {
    pub fn key(self) -> &'static str {
        match self {
            OidcError::UnknownProvider => "oidc.errors.unknown_provider",
            OidcError::NoPendingLogin => "oidc.errors.no_pending_login",
            OidcError::StateMismatch => "oidc.errors.state_mismatch",
            OidcError::WrongIssuer => "oidc.errors.wrong_issuer",
            OidcError::Cancelled => "oidc.errors.cancelled",
            OidcError::Rejected => "oidc.errors.rejected",
            OidcError::Expired => "oidc.errors.expired",
            OidcError::ProviderDown => "oidc.errors.provider_down",
            OidcError::Misconfigured => "oidc.errors.misconfigured",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            OidcError::UnknownProvider => 404,
            OidcError::ProviderDown => 502,
            OidcError::Misconfigured => 503,
            _ => 400,
        }
    }
}

/// Configured citizen providers, for the "Log in with MitID" buttons.
pub fn citizen_providers(settings: &Settings) -> Vec<(String, String)> {
    settings
        .oidc
        .iter()
        .filter(|(_, p)| p.is_citizen())
        .map(|(name, p)| {
            (
                name.clone(),
                p.label.clone().unwrap_or_else(|| "MitID".into()),
            )
        })
        .collect()
}

/// Configured staff providers (the council's directory) and their labels if
/// set; shown as a plain "Staff login" link, not as a MitID button.
pub fn staff_providers(settings: &Settings) -> Vec<(String, Option<String>)> {
    settings
        .oidc
        .iter()
        .filter(|(_, p)| !p.is_citizen())
        .map(|(name, p)| (name.clone(), p.label.clone()))
        .collect()
}

/// Whether an account's identity comes from a staff directory (the provider
/// of its last OIDC login is configured as `staff`). Such a login is no
/// citizen identity for eligibility rules: it says nothing about age,
/// residence or assurance level.
pub fn is_staff_identity(settings: &Settings, provider: Option<&str>) -> bool {
    provider
        .and_then(|name| settings.oidc.get(name))
        .is_some_and(|p| !p.is_citizen())
}

/// Provider metadata by provider name, with the time it was fetched.
#[derive(Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl MetadataCache {
    /// The provider's metadata: cached while fresh, else discovered (which
    /// also fetches the JWKS). `refresh` skips the cache.
    async fn get(
        &self,
        name: &str,
        provider: &OidcProvider,
        http: &openidconnect::reqwest::Client,
        refresh: bool,
    ) -> Result<CoreProviderMetadata, OidcError> {
        let ttl = Duration::from_secs(provider.metadata_cache_seconds);
        if !refresh && let Some(cached) = self.fresh(name, ttl) {
            return Ok(cached);
        }
        let metadata = discover(name, provider, http).await?;
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(name.to_owned(), (Instant::now(), metadata.clone()));
        }
        Ok(metadata)
    }

    fn fresh(&self, name: &str, ttl: Duration) -> Option<CoreProviderMetadata> {
        let entries = self.entries.lock().ok()?;
        let (at, metadata) = entries.get(name)?;
        (at.elapsed() < ttl).then(|| metadata.clone())
    }
}

fn provider<'a>(settings: &'a Settings, name: &str) -> Result<&'a OidcProvider, OidcError> {
    settings.oidc.get(name).ok_or(OidcError::UnknownProvider)
}

fn redirect_uri(settings: &Settings, name: &str) -> Result<RedirectUrl, OidcError> {
    let base = settings
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .ok_or(OidcError::Misconfigured)?;
    RedirectUrl::new(format!("{base}/auth/oidc/{name}/callback")).map_err(|_| {
        tracing::error!("SAMSKAB_PUBLIC_URL is not a valid URL");
        OidcError::Misconfigured
    })
}

fn http_client() -> Result<openidconnect::reqwest::Client, OidcError> {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| {
            tracing::error!(error = %e, "building the OIDC HTTP client");
            OidcError::Misconfigured
        })
}

async fn discover(
    name: &str,
    provider: &OidcProvider,
    http: &openidconnect::reqwest::Client,
) -> Result<CoreProviderMetadata, OidcError> {
    let issuer = IssuerUrl::new(provider.issuer_url.trim().to_owned()).map_err(|_| {
        tracing::error!(provider = name, "issuer_url is not a valid URL");
        OidcError::Misconfigured
    })?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| {
            tracing::warn!(provider = name, error = %e, "OIDC discovery failed");
            OidcError::ProviderDown
        })
}

fn client_secret(provider: &OidcProvider) -> Option<ClientSecret> {
    provider
        .client_secret
        .as_ref()
        .map(|s| ClientSecret::new(s.expose_secret().to_owned()))
}

/// Begin a login: the provider's authorization URL, and what the session must
/// keep until the callback.
pub async fn start(
    settings: &Settings,
    cache: &MetadataCache,
    name: &str,
    next: LocalPath,
    link_user: Option<i64>,
) -> Result<(String, PendingLogin), OidcError> {
    start_login(settings, cache, name, next, link_user, false).await
}

/// Begin a citizen's login at the service desk: like [`start`], but the
/// provider is asked to make the citizen log in afresh (`prompt=login`), so
/// the desk device's single sign-on with the provider never carries one
/// citizen's identity over to the next.
pub async fn start_assisted(
    settings: &Settings,
    cache: &MetadataCache,
    name: &str,
    next: LocalPath,
) -> Result<(String, PendingLogin), OidcError> {
    if !provider(settings, name)?.is_citizen() {
        return Err(OidcError::UnknownProvider);
    }
    start_login(settings, cache, name, next, None, true).await
}

async fn start_login(
    settings: &Settings,
    cache: &MetadataCache,
    name: &str,
    next: LocalPath,
    link_user: Option<i64>,
    assist: bool,
) -> Result<(String, PendingLogin), OidcError> {
    let provider = provider(settings, name)?;
    let redirect = redirect_uri(settings, name)?;
    let http = http_client()?;
    let metadata = cache.get(name, provider, &http, false).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        client_secret(provider),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in provider.extra_scopes() {
        request = request.add_scope(Scope::new(scope));
    }
    if assist {
        request = request.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
    }
    let (url, state, nonce) = request.url();
    Ok((
        url.to_string(),
        PendingLogin {
            provider: name.to_owned(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            link_user,
            started_at: chrono::Utc::now().timestamp(),
            assist,
        },
    ))
}

/// The query string the provider sends back.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// Check the provider's answer against the pending login (already taken out
/// of the session, so it cannot be used twice) and return the identity.
pub async fn finish(
    settings: &Settings,
    cache: &MetadataCache,
    name: &str,
    pending: Option<PendingLogin>,
    callback: Callback,
) -> Result<Identity, OidcError> {
    let provider = provider(settings, name)?;
    let pending = pending
        .filter(|p| p.provider == name)
        .filter(|p| chrono::Utc::now().timestamp() - p.started_at <= PENDING_MAX_AGE_SECS)
        .ok_or(OidcError::NoPendingLogin)?;
    let state_matches = callback
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), pending.state.as_bytes()));
    if !state_matches {
        return Err(OidcError::StateMismatch);
    }
    if let Some(error) = &callback.error {
        tracing::info!(provider = name, error = %short(error), "OIDC login not completed");
        return Err(OidcError::Cancelled);
    }
    let code = callback.code.ok_or(OidcError::Rejected)?;
    let redirect = redirect_uri(settings, name)?;
    let http = http_client()?;
    let metadata = cache.get(name, provider, &http, false).await?;
    let issuer = metadata.issuer().to_string();
    // RFC 9207: the authorization response names its issuer; it must be ours.
    if let Some(iss) = &callback.iss
        && iss.trim_end_matches('/') != issuer.trim_end_matches('/')
    {
        tracing::warn!(provider = name, "OIDC callback from a different issuer");
        return Err(OidcError::WrongIssuer);
    }
    let userinfo_url = metadata.userinfo_endpoint().map(|u| u.url().clone());
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(provider.client_id.clone()),
        client_secret(provider),
    )
    .set_redirect_uri(redirect);
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| OidcError::Misconfigured)?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(&http)
        .await
        .map_err(|e| match e {
            openidconnect::RequestTokenError::ServerResponse(r) => {
                tracing::warn!(provider = name, error = %r.error(), "OIDC token request refused");
                OidcError::Rejected
            }
            other => {
                tracing::warn!(provider = name, error = %other, "OIDC token request failed");
                OidcError::ProviderDown
            }
        })?;
    let id_token = token.id_token().ok_or_else(|| {
        tracing::warn!(provider = name, "OIDC token response without an ID token");
        OidcError::Rejected
    })?;
    let nonce = Nonce::new(pending.nonce);
    let subject = match verify_id_token(provider, metadata, id_token, &nonce) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            // Signed with a key we have not seen: the provider may have
            // rotated its keys since we cached them. Fetch them once more.
            tracing::info!(
                provider = name,
                "unknown ID token key, fetching the provider's keys"
            );
            let fresh = cache.get(name, provider, &http, true).await?;
            verify_id_token(provider, fresh, id_token, &nonce)
        }
        other => other,
    }
    .map_err(|e| {
        tracing::warn!(provider = name, error = %e, "OIDC ID token rejected");
        match e {
            ClaimsVerificationError::Expired(_) => OidcError::Expired,
            _ => OidcError::Rejected,
        }
    })?;
    // The signature is verified: the payload's other claims can be read as is.
    let mut raw = token_payload(&id_token.to_string()).unwrap_or_default();
    if let Some(url) = userinfo_url.filter(|_| lacks_mapped_claims(provider, &raw)) {
        let extra = userinfo(name, &http, url, token.access_token(), &subject).await?;
        for (key, value) in extra {
            raw.entry(key).or_insert(value);
        }
    }
    let hash = subject_hash(settings, &issuer, &subject).map_err(|e| {
        tracing::error!(error = %e, "deriving the HMAC secret");
        OidcError::Misconfigured
    })?;
    Ok(identity_from_claims(name, provider, hash, &raw))
}

/// The verified ID token's subject.
fn verify_id_token(
    provider: &OidcProvider,
    metadata: CoreProviderMetadata,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<String, ClaimsVerificationError> {
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        client_secret(provider),
    );
    let claims = id_token.claims(&client.id_token_verifier(), nonce)?;
    Ok(claims.subject().as_str().to_owned())
}

/// Whether claims the provider's mapping names are missing (some brokers put
/// only `sub` into the ID token and the rest into userinfo).
fn lacks_mapped_claims(provider: &OidcProvider, claims: &serde_json::Map<String, Value>) -> bool {
    let has = |key: &str| claims.get(key).is_some_and(|v| !v.is_null());
    if provider.is_citizen() {
        !has(&provider.loa_claim)
            || !(has(&provider.birthdate_claim) || has(&provider.age_claim))
            || !has(&provider.municipality_claim)
    } else {
        provider.group_claim.as_deref().is_some_and(|g| !has(g))
    }
}

/// The userinfo claims, read with the access token. Their `sub` must be the
/// ID token's (OpenID Connect Core 5.3.2), else they belong to someone else.
async fn userinfo(
    name: &str,
    http: &openidconnect::reqwest::Client,
    url: openidconnect::url::Url,
    access_token: &AccessToken,
    subject: &str,
) -> Result<serde_json::Map<String, Value>, OidcError> {
    let res = http
        .get(url)
        .bearer_auth(access_token.secret())
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(provider = name, error = %e.without_url(), "OIDC userinfo request failed");
            OidcError::ProviderDown
        })?;
    if !res.status().is_success() {
        tracing::warn!(provider = name, status = %res.status(), "OIDC userinfo refused");
        return Err(OidcError::Rejected);
    }
    // Signed (JWT) userinfo is not asked for at registration, so JSON it is.
    let body = res.bytes().await.map_err(|_| OidcError::ProviderDown)?;
    let claims: serde_json::Map<String, Value> = serde_json::from_slice(&body).map_err(|_| {
        tracing::warn!(provider = name, "OIDC userinfo is not a JSON object");
        OidcError::Rejected
    })?;
    if claims.get("sub").and_then(Value::as_str) != Some(subject) {
        tracing::warn!(provider = name, "OIDC userinfo is about another subject");
        return Err(OidcError::Rejected);
    }
    Ok(claims)
}

fn short(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

fn token_payload(jwt: &str) -> Option<serde_json::Map<String, Value>> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `HMAC-SHA256(server secret, issuer + "\n" + sub)`, hex.
pub fn subject_hash(settings: &Settings, issuer: &str, subject: &str) -> anyhow::Result<String> {
    let secret = settings.hmac_secret()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret)
        .map_err(|e| anyhow::anyhow!("HMAC key: {e}"))?;
    mac.update(issuer.trim_end_matches('/').as_bytes());
    mac.update(b"\n");
    mac.update(subject.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Reduce the claims to what Samskab keeps.
pub fn identity_from_claims(
    name: &str,
    provider: &OidcProvider,
    subject_hash: String,
    claims: &serde_json::Map<String, Value>,
) -> Identity {
    let text = |key: &str| -> Option<String> {
        match claims.get(key)? {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let loa = text(&provider.loa_claim).and_then(|v| parse_loa(&v));
    let birth_year = text(&provider.birthdate_claim)
        .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .map(|d| chrono::Datelike::year(&d))
        .or_else(|| {
            let age: i32 = text(&provider.age_claim)?.parse().ok()?;
            (0..=150)
                .contains(&age)
                .then(|| chrono::Datelike::year(&chrono::Utc::now()) - age)
        });
    let municipality_code = text(&provider.municipality_claim).and_then(|c| parse_municipality(&c));
    let role = if provider.is_citizen() {
        Role::Citizen
    } else {
        staff_role(
            provider,
            claims.get(provider.group_claim.as_deref().unwrap_or("")),
        )
    };
    Identity {
        provider: name.to_owned(),
        subject_hash,
        loa,
        birth_year,
        municipality_code,
        role,
        citizen: provider.is_citizen(),
    }
}

/// The highest role a staff provider's group claim maps to.
fn staff_role(provider: &OidcProvider, groups: Option<&Value>) -> Role {
    let groups: Vec<String> = match groups {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let rank = |r: Role| match r {
        Role::Admin => 3,
        Role::Moderator => 2,
        Role::Politician => 1,
        Role::Citizen => 0,
    };
    provider
        .group_role_pairs()
        .into_iter()
        .filter(|(group, _)| groups.contains(group))
        .filter_map(|(_, role)| Role::parse(&role))
        .max_by_key(|r| rank(*r))
        .unwrap_or(Role::Citizen)
}

/// `low`, `substantial` or `high` from MitID values (`SUBSTANTIAL`) or NSIS
/// URIs (`https://data.gov.dk/concept/core/nsis/loa/Substantial`).
pub fn parse_loa(value: &str) -> Option<String> {
    let last = value
        .rsplit(['/', ':', '#'])
        .next()
        .unwrap_or(value)
        .to_ascii_lowercase();
    matches!(last.as_str(), "low" | "substantial" | "high").then_some(last)
}

pub use crate::domain::eligibility::loa_rank;

/// A Danish municipality code: up to four digits, kept zero-padded.
pub fn parse_municipality(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty() && v.len() <= 4 && v.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("{v:0>4}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_assurance_are_normalised() {
        assert_eq!(parse_loa("SUBSTANTIAL").as_deref(), Some("substantial"));
        assert_eq!(
            parse_loa("https://data.gov.dk/concept/core/nsis/loa/High").as_deref(),
            Some("high")
        );
        assert_eq!(parse_loa("medium"), None);
        assert!(loa_rank("high") > loa_rank("substantial"));
    }

    #[test]
    fn municipality_codes_are_four_digits() {
        assert_eq!(parse_municipality("751").as_deref(), Some("0751"));
        assert_eq!(parse_municipality("0101").as_deref(), Some("0101"));
        assert_eq!(parse_municipality("Aarhus"), None);
    }

    fn provider(kind: &str) -> OidcProvider {
        OidcProvider {
            issuer_url: "https://op.example".into(),
            client_id: "c".into(),
            client_secret: None,
            scopes: "openid".into(),
            kind: kind.into(),
            label: None,
            loa_claim: "mitid_loa".into(),
            birthdate_claim: "birthdate".into(),
            age_claim: "age".into(),
            municipality_claim: "municipality_code".into(),
            group_claim: Some("groups".into()),
            group_roles: "mods=moderator admins=admin council=politician".into(),
            metadata_cache_seconds: 3600,
        }
    }

    #[test]
    fn only_the_needed_claims_are_kept() {
        let claims = serde_json::json!({
            "sub": "x", "birthdate": "1990-05-01", "mitid_loa": "HIGH",
            "municipality_code": "751", "dk.cpr": "0101901234", "name": "Anna"
        });
        let id = identity_from_claims(
            "mitid",
            &provider("citizen"),
            "h".into(),
            claims.as_object().unwrap(),
        );
        assert_eq!(id.birth_year, Some(1990));
        assert_eq!(id.loa.as_deref(), Some("high"));
        assert_eq!(id.municipality_code.as_deref(), Some("0751"));
        assert_eq!(id.role, Role::Citizen);
        let shown = serde_json::to_string(&id).unwrap();
        assert!(!shown.contains("0101901234") && !shown.contains("Anna"));
    }

    #[test]
    fn staff_groups_map_to_the_highest_role() {
        let claims = serde_json::json!({"sub": "x", "groups": ["council", "mods"]});
        let id = identity_from_claims(
            "staff",
            &provider("staff"),
            "h".into(),
            claims.as_object().unwrap(),
        );
        assert_eq!(id.role, Role::Moderator);
        let none = serde_json::json!({"sub": "x", "groups": "others"});
        let id = identity_from_claims(
            "staff",
            &provider("staff"),
            "h".into(),
            none.as_object().unwrap(),
        );
        assert_eq!(id.role, Role::Citizen);
    }
}
