//! Accounts: registration, password login, roles, profile.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::auth::session::CurrentUser;
use crate::auth::{Role, password};
use crate::entities::{email_token, user};
use crate::errors::{AppError, FieldError};
use crate::i18n::Locale;

use super::oidc::Identity;
use super::rate_limits::{self, Client, Limits};
use super::{audit, clean_text, mail, now, sessions, tokens};

pub const DISPLAY_NAME_MAX: usize = 80;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Registration {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, skip_serializing)]
    pub password: String,
    #[serde(default, skip_serializing)]
    pub password_confirm: String,
}

pub fn parse_display_name(raw: &str) -> Result<String, &'static str> {
    let name = clean_text(raw, DISPLAY_NAME_MAX)?;
    if name.contains('\n') || name.contains('\t') {
        return Err("invalid_characters");
    }
    if name.chars().count() < 2 {
        return Err("display_name_short");
    }
    Ok(name)
}

/// A plausible address, lower-cased. Deliverability is proved by the
/// verification mail, not by pattern matching.
pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("required");
    }
    if email.chars().count() > EMAIL_MAX {
        return Err("too_long");
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err("email_invalid")
    }
}

fn check_password(password: &str, confirm: &str, errors: &mut Vec<FieldError>) {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        errors.push(FieldError {
            field: "password",
            key: "password_short",
        });
    } else if len > PASSWORD_MAX {
        errors.push(FieldError {
            field: "password",
            key: "too_long",
        });
    } else if password != confirm {
        errors.push(FieldError {
            field: "password_confirm",
            key: "password_mismatch",
        });
    }
}

/// Register a local account. The answer is the same whether or not the
/// address already has an account, so the form does not tell strangers who
/// uses Samskab: the password is hashed either way, and instead of a second
/// account the owner gets a mail saying someone tried (at most one an hour).
/// Registrations are limited per client and for everyone together.
pub async fn register(
    db: &DatabaseConnection,
    input: &Registration,
    locale: Locale,
    client: &Client,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let display_name = parse_display_name(&input.display_name)
        .map_err(|key| {
            errors.push(FieldError {
                field: "display_name",
                key,
            })
        })
        .ok();
    let email = parse_email(&input.email)
        .map_err(|key| {
            errors.push(FieldError {
                field: "email",
                key,
            })
        })
        .ok();
    check_password(&input.password, &input.password_confirm, &mut errors);
    let (Some(display_name), Some(email)) = (display_name, email) else {
        return Err(AppError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let limits = &client.limits;
    let mine = rate_limits::take(
        db,
        limits.registrations_per_client(),
        &client.key("register", ""),
    )
    .await?
    .map_err(rate_limits::too_many)?;
    if let Err(refused) = rate_limits::take(
        db,
        limits.registrations_total(),
        &limits.key(&["register.total"]),
    )
    .await?
    {
        rate_limits::give_back(db, &mine).await?;
        return Err(rate_limits::too_many(refused));
    }
    let hash = password::hash_blocking(input.password.clone()).await?;
    if let Some(owner) = find_by_email(db, &email).await? {
        return tell_owner_of_attempt(db, limits, &owner).await;
    }
    let created = create_with(
        db,
        &display_name,
        &email,
        &hash,
        Role::Citizen,
        locale,
        false,
    )
    .await;
    match created {
        Ok(_) => Ok(()),
        // Two registrations raced for the same address: the unique index decided.
        Err(AppError::Unexpected(e)) => match find_by_email(db, &email).await? {
            Some(owner) => tell_owner_of_attempt(db, limits, &owner).await,
            None => Err(AppError::Unexpected(e)),
        },
        Err(e) => Err(e),
    }
}

/// "Someone tried to create an account with your address": at most one such
/// mail an hour per address, so the form cannot be used to flood an inbox.
async fn tell_owner_of_attempt(
    db: &DatabaseConnection,
    limits: &Limits,
    owner: &user::Model,
) -> Result<(), AppError> {
    let Some(email) = &owner.email else {
        return Ok(());
    };
    let key = limits.email_key("register.notice", email);
    if rate_limits::take(db, limits.registration_notices(), &key)
        .await?
        .is_ok()
    {
        mail::enqueue(
            db,
            owner.id,
            mail::KIND_REGISTRATION_ATTEMPT,
            &serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    display_name: &str,
    email: &str,
    password_hash: &str,
    role: Role,
    locale: Locale,
    email_verified: bool,
) -> Result<user::Model, AppError> {
    create_with(
        db,
        display_name,
        email,
        password_hash,
        role,
        locale,
        email_verified,
    )
    .await
}

/// A local account; an unverified address gets its verification mail queued
/// in the same transaction, so an account never waits for a mail that was lost.
async fn create_with(
    db: &DatabaseConnection,
    display_name: &str,
    email: &str,
    password_hash: &str,
    role: Role,
    locale: Locale,
    email_verified: bool,
) -> Result<user::Model, AppError> {
    let txn = super::begin_write(db).await?;
    let user = user::ActiveModel {
        display_name: Set(display_name.to_owned()),
        email: Set(Some(email.to_owned())),
        password_hash: Set(Some(password_hash.to_owned())),
        role: Set(role),
        locale: Set(locale.code().to_owned()),
        email_verified: Set(email_verified),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(user.id),
        "user.created",
        "user",
        Some(user.id),
        role.as_str(),
    )
    .await?;
    if !email_verified {
        queue_verification(&txn, &user).await?;
    }
    txn.commit().await?;
    Ok(user)
}

async fn queue_verification<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: &user::Model,
) -> Result<(), AppError> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    let token = tokens::issue(db, user.id, tokens::PURPOSE_VERIFY, email).await?;
    mail::enqueue(
        db,
        user.id,
        mail::KIND_VERIFY_EMAIL,
        &serde_json::json!({ "token": token }),
    )
    .await?;
    Ok(())
}

/// "Send the mail again": a new verification link, rate-limited.
pub async fn resend_verification(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<(), AppError> {
    if !actor.email_unverified {
        return Err(AppError::Conflict("verify.already_verified"));
    }
    let txn = super::begin_write(db).await?;
    if !tokens::may_send(&txn, actor.id, tokens::PURPOSE_VERIFY).await? {
        return Err(AppError::Conflict("verify.too_soon"));
    }
    let user = user::Entity::find_by_id(actor.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    queue_verification(&txn, &user).await?;
    txn.commit().await?;
    Ok(())
}

/// Use up a mailed link's token and load the live account it belongs to;
/// `keys` are the (expired, invalid) messages of the link's kind.
async fn redeem<C: ConnectionTrait>(
    txn: &C,
    purpose: crate::domain::TokenPurpose,
    token: &str,
    (expired, invalid): (&'static str, &'static str),
) -> Result<(email_token::Model, user::Model), AppError> {
    let found = match tokens::consume(txn, purpose, token).await? {
        Ok(t) => t,
        Err(tokens::Refused::Expired) => return Err(AppError::Conflict(expired)),
        Err(tokens::Refused::Invalid) => return Err(AppError::Conflict(invalid)),
    };
    let target = user::Entity::find_by_id(found.user_id)
        .filter(user::Column::DeletedAt.is_null())
        .one(txn)
        .await?
        .ok_or(AppError::Conflict(invalid))?;
    Ok((found, target))
}

/// Follow a verification link: the address it was sent to is verified, if
/// it is still the account's address.
pub async fn verify_email(db: &DatabaseConnection, token: &str) -> Result<user::Model, AppError> {
    let txn = super::begin_write(db).await?;
    let (found, target) = redeem(
        &txn,
        tokens::PURPOSE_VERIFY,
        token,
        ("verify.expired", "verify.invalid"),
    )
    .await?;
    if target.email.as_deref() != Some(found.email.as_str()) {
        return Err(AppError::Conflict("verify.invalid"));
    }
    let mut active = target.into_active_model();
    active.email_verified = Set(true);
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(user.id),
        "user.email_verified",
        "user",
        Some(user.id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// "Forgot password": mail a reset link if a local account has this
/// address. The caller answers the same whatever happened, so the form
/// does not reveal who has an account.
/// Requests are limited per client (refused whatever the address).
pub async fn request_password_reset(
    db: &DatabaseConnection,
    client: &Client,
    email: &str,
) -> Result<(), AppError> {
    rate_limits::take(
        db,
        client.limits.password_resets_per_client(),
        &client.key("reset", ""),
    )
    .await?
    .map_err(rate_limits::too_many)?;
    let Ok(email) = parse_email(email) else {
        return Ok(());
    };
    let Some(found) = find_by_email(db, &email).await? else {
        return Ok(());
    };
    if found.password_hash.is_none() {
        return Ok(());
    }
    let txn = super::begin_write(db).await?;
    if !tokens::may_send(&txn, found.id, tokens::PURPOSE_RESET).await? {
        return Ok(());
    }
    let token = tokens::issue(&txn, found.id, tokens::PURPOSE_RESET, &email).await?;
    mail::enqueue(
        &txn,
        found.id,
        mail::KIND_PASSWORD_RESET,
        &serde_json::json!({ "token": token }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The reset link's token is usable (to show the form): `Err` with the key
/// of the explanation otherwise.
pub async fn check_reset_token(db: &DatabaseConnection, token: &str) -> Result<(), AppError> {
    match tokens::peek(db, tokens::PURPOSE_RESET, token).await? {
        Ok(_) => Ok(()),
        Err(tokens::Refused::Expired) => Err(AppError::Conflict("reset.expired")),
        Err(tokens::Refused::Invalid) => Err(AppError::Conflict("reset.invalid")),
    }
}

/// Set a new password with a reset link. The link is used up, other reset
/// links stop working, and every session of the account ends. The
/// pause on password login that failures from many places put on the
/// address ends too: whoever guessed did not guess the new password.
pub async fn reset_password(
    db: &DatabaseConnection,
    limits: &Limits,
    token: &str,
    new_password: &str,
    confirm: &str,
) -> Result<user::Model, AppError> {
    check_reset_token(db, token).await?;
    let mut errors = Vec::new();
    check_password(new_password, confirm, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash_blocking(new_password.to_owned()).await?;
    let txn = super::begin_write(db).await?;
    let (found, target) = redeem(
        &txn,
        tokens::PURPOSE_RESET,
        token,
        ("reset.expired", "reset.invalid"),
    )
    .await?;
    tokens::retire_all(&txn, found.user_id, tokens::PURPOSE_RESET).await?;
    let same_address = target.email.as_deref() == Some(found.email.as_str());
    let mut active = target.into_active_model();
    active.password_hash = Set(Some(hash));
    active.password_changed_at = Set(Some(now()));
    // The link arrived at the account's address: that proves it is theirs.
    if same_address {
        active.email_verified = Set(true);
    }
    let user = active.update(&txn).await?;
    // Whoever knew the old password is logged out everywhere.
    sessions::end_all_for_user(&txn, user.id).await?;
    audit::record(
        &txn,
        Some(user.id),
        "user.password_reset",
        "user",
        Some(user.id),
        "",
    )
    .await?;
    txn.commit().await?;
    if let Some(email) = &user.email {
        rate_limits::clear(
            db,
            limits.login_failures_per_address(),
            &limits.email_key("login.address", email),
        )
        .await?;
    }
    Ok(user)
}

pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// What a password login attempt came to.
#[derive(Debug)]
pub enum Login {
    Ok(Box<user::Model>),
    Failed,
    /// Too many wrong passwords lately; try again after `wait`.
    Throttled {
        wait: std::time::Duration,
        by: Throttle,
    },
}

/// Which limit refused a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// This client: too many wrong passwords for this address, or for
    /// any addresses (credential stuffing).
    Client,
    /// The address, from everywhere together: its password login pauses
    /// (MitID and password reset still work).
    Address,
}

/// Check an email and password. Unknown addresses cost the same time as a
/// wrong password and give the same answer.
///
/// Failures are counted in the database (so across replicas) three ways:
/// per address and client (strict: a stranger elsewhere cannot lock the
/// owner out), per address from all clients (slower: guessing spread over
/// many machines), and per client over all addresses (credential stuffing).
/// Every attempt takes a slot first, so parallel guesses cannot slip past the
/// limits; a successful login gives its slots back and clears its client's
/// count for the address.
pub async fn authenticate(
    db: &DatabaseConnection,
    client: &Client,
    email: &str,
    password: &str,
) -> Result<Login, AppError> {
    let limits = &client.limits;
    let address = email.trim().to_lowercase();
    let pair = (
        limits.login_failures_per_address_and_client(),
        client.key("login.pair", &address),
    );
    let checks = [
        (
            limits.login_failures_per_client(),
            client.key("login.client", ""),
            Throttle::Client,
        ),
        (pair.0, pair.1.clone(), Throttle::Client),
        (
            limits.login_failures_per_address(),
            limits.email_key("login.address", &address),
            Throttle::Address,
        ),
    ];
    let mut taken = Vec::with_capacity(checks.len());
    for (limit, key, by) in &checks {
        match rate_limits::take(db, *limit, key).await? {
            Ok(slot) => taken.push(slot),
            Err(refused) => {
                for slot in &taken {
                    rate_limits::give_back(db, slot).await?;
                }
                return Ok(Login::Throttled {
                    wait: refused.retry_after,
                    by: *by,
                });
            }
        }
    }
    let found = match parse_email(email) {
        Ok(e) => find_by_email(db, &e).await?,
        Err(_) => None,
    };
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify_blocking(password.to_owned(), stored).await;
    match (ok, found) {
        (true, Some(user)) => {
            for slot in &taken {
                rate_limits::give_back(db, slot).await?;
            }
            rate_limits::clear(db, pair.0, &pair.1).await?;
            let mut active = user.clone().into_active_model();
            active.last_login_at = Set(Some(now()));
            // Active again: a warning about deletion for inactivity no longer holds.
            active.inactivity_warned_at = Set(None);
            Ok(Login::Ok(Box::new(active.update(db).await?)))
        }
        _ => Ok(Login::Failed),
    }
}

/// Copy the identity's attributes onto an account at login.
fn apply_identity(active: &mut user::ActiveModel, identity: &Identity) {
    active.identity_provider = Set(Some(identity.provider.clone()));
    active.loa = Set(identity.loa.clone());
    active.birth_year = Set(identity.birth_year);
    active.municipality_code = Set(identity.municipality_code.clone());
    active.last_login_at = Set(Some(now()));
    active.inactivity_warned_at = Set(None);
}

/// Log in with a verified OIDC identity: the account with this subject hash,
/// its attributes refreshed from this login (and the role, for staff
/// providers). `None` when the identity has no account yet.
pub async fn log_in_with_identity(
    db: &DatabaseConnection,
    identity: &Identity,
) -> Result<Option<user::Model>, AppError> {
    let Some(found) = user::Entity::find()
        .filter(user::Column::OidcSubjectHash.eq(identity.subject_hash.clone()))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active = found.clone().into_active_model();
    apply_identity(&mut active, identity);
    let role_changed = !identity.citizen && found.role != identity.role;
    if role_changed {
        active.role = Set(identity.role);
    }
    let txn = super::begin_write(db).await?;
    let user = active.update(&txn).await?;
    if role_changed {
        // The directory changed the person's role: their other sessions
        // end, this login gets a new one.
        sessions::end_all_for_user(&txn, user.id).await?;
    }
    txn.commit().await?;
    Ok(Some(user))
}

/// First login with an identity: a new account under the display name the
/// person chose.
pub async fn create_from_identity(
    db: &DatabaseConnection,
    identity: &Identity,
    display_name: &str,
    locale: Locale,
) -> Result<user::Model, AppError> {
    let name =
        parse_display_name(display_name).map_err(|key| AppError::field("display_name", key))?;
    if let Some(existing) = log_in_with_identity(db, identity).await? {
        // The same identity finished a first login twice (two tabs).
        return Ok(existing);
    }
    let txn = super::begin_write(db).await?;
    let mut active = user::ActiveModel {
        display_name: Set(name),
        email: Set(None),
        password_hash: Set(None),
        oidc_subject_hash: Set(Some(identity.subject_hash.clone())),
        role: Set(identity.role),
        locale: Set(locale.code().to_owned()),
        email_verified: Set(false),
        created_at: Set(now()),
        ..Default::default()
    };
    apply_identity(&mut active, identity);
    let user = active.insert(&txn).await?;
    audit::record(
        &txn,
        Some(user.id),
        "user.created",
        "user",
        Some(user.id),
        &format!("oidc:{}", identity.provider),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Link an identity to a logged-in account (e.g. MitID to a local account).
/// An identity belongs to one account only.
pub async fn link_identity(
    db: &DatabaseConnection,
    user_id: i64,
    identity: &Identity,
) -> Result<user::Model, AppError> {
    let txn = super::begin_write(db).await?;
    let other = user::Entity::find()
        .filter(user::Column::OidcSubjectHash.eq(identity.subject_hash.clone()))
        .one(&txn)
        .await?;
    if other.is_some_and(|o| o.id != user_id) {
        return Err(AppError::Conflict("oidc.errors.already_linked"));
    }
    let target = user::Entity::find_by_id(user_id)
        .filter(user::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut active = target.into_active_model();
    active.oidc_subject_hash = Set(Some(identity.subject_hash.clone()));
    apply_identity(&mut active, identity);
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(user_id),
        "user.identity_linked",
        "user",
        Some(user_id),
        &identity.provider,
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    display_name: &str,
    locale: Option<Locale>,
) -> Result<user::Model, AppError> {
    let name =
        parse_display_name(display_name).map_err(|key| AppError::field("display_name", key))?;
    let user = user::Entity::find_by_id(actor.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut active = user.into_active_model();
    active.display_name = Set(name);
    if let Some(locale) = locale {
        active.locale = Set(locale.code().to_owned());
    }
    Ok(active.update(db).await?)
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &CurrentUser,
) -> Result<Vec<user::Model>, AppError> {
    if !actor.role.is_admin() {
        return Err(AppError::forbidden());
    }
    Ok(user::Entity::find()
        .filter(user::Column::DeletedAt.is_null())
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// Admins change roles. The last admin cannot demote themself, so the
/// municipality never locks itself out.
pub async fn change_role(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    user_id: i64,
    role: Role,
) -> Result<user::Model, AppError> {
    if !actor.role.is_admin() {
        return Err(AppError::forbidden());
    }
    let txn = super::begin_write(db).await?;
    let target = user::Entity::find_by_id(user_id)
        .filter(user::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if target.role == Role::Admin && role != Role::Admin {
        let admins = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Admin))
            .filter(user::Column::DeletedAt.is_null())
            .count(&txn)
            .await?;
        if admins <= 1 {
            return Err(AppError::Conflict("errors.last_admin"));
        }
    }
    let old = target.role;
    let mut active = target.into_active_model();
    active.role = Set(role);
    let updated = active.update(&txn).await?;
    if old != role {
        // A session keeps no role, but it must not outlive a change of
        // rights: the person logs in again under the new role.
        sessions::end_all_for_user(&txn, user_id).await?;
    }
    audit::record(
        &txn,
        Some(actor.id),
        "user.role_changed",
        "user",
        Some(user_id),
        &format!("{old} -> {}", role.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            parse_email("  Borger@Example.ORG "),
            Ok("borger@example.org".into())
        );
        assert_eq!(parse_email(""), Err("required"));
        assert_eq!(parse_email("no-at-sign"), Err("email_invalid"));
        assert_eq!(parse_email("a@b"), Err("email_invalid"));
        assert_eq!(parse_email("a b@c.dk"), Err("email_invalid"));
        assert_eq!(
            parse_email(&format!("{}@x.dk", "a".repeat(260))),
            Err("too_long")
        );
    }

    #[test]
    fn display_names_have_limits() {
        assert_eq!(parse_display_name("  Åse  "), Ok("Åse".into()));
        assert_eq!(parse_display_name("A"), Err("display_name_short"));
        assert_eq!(parse_display_name(&"ø".repeat(81)), Err("too_long"));
        assert_eq!(parse_display_name("a\u{0}b"), Err("invalid_characters"));
    }

    #[test]
    fn passwords_must_be_long_enough_and_match() {
        let mut e = Vec::new();
        check_password("short", "short", &mut e);
        assert_eq!(e[0].key, "password_short");
        let mut e = Vec::new();
        check_password("long-enough-1", "long-enough-2", &mut e);
        assert_eq!(e[0].key, "password_mismatch");
        let mut e = Vec::new();
        check_password("long-enough-1", "long-enough-1", &mut e);
        assert!(e.is_empty());
    }
}
