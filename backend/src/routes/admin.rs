//! Administrators: who has which role.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::errors::AppError;
use crate::routes::context::Admin;
use crate::routes::see_other;
use crate::routes::views::{Choice, date};
use crate::services::users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(user_list).service(change_role);
}

/// A person with their role, and the roles they may be given.
#[derive(Serialize)]
struct UserRow {
    id: i64,
    display_name: String,
    email: Option<String>,
    role_label: String,
    roles: Vec<Choice>,
    created_at: String,
}

/// A mail that could not be delivered.
#[derive(Serialize)]
struct FailedMail {
    id: i64,
    user_id: i64,
    kind: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: String,
}

#[derive(Serialize)]
struct UsersPage {
    users: Vec<UserRow>,
    failed_mails: Vec<FailedMail>,
}

#[get("/admin/users")]
pub async fn user_list(Admin(ctx, me): Admin) -> Result<HttpResponse, AppError> {
    let list = users::list(&ctx.state.db, &me).await?;
    let users = list
        .into_iter()
        .map(|u| UserRow {
            roles: Role::ALL
                .iter()
                .map(|r| Choice {
                    value: r.as_str(),
                    label: ctx.t(&format!("roles.{}", r.as_str())),
                    selected: u.role == *r,
                })
                .collect(),
            role_label: ctx.t(&format!("roles.{}", u.role)),
            created_at: date(ctx.locale, &u.created_at),
            id: u.id,
            display_name: u.display_name,
            email: u.email,
        })
        .collect();
    let failed_mails = crate::services::mail::failed(&ctx.state.db, &me)
        .await?
        .into_iter()
        .map(|m| FailedMail {
            created_at: date(ctx.locale, &m.created_at),
            id: m.id,
            user_id: m.user_id,
            kind: m.kind.as_str().to_owned(),
            attempts: m.attempts,
            last_error: m.last_error,
        })
        .collect();
    let page = UsersPage {
        users,
        failed_mails,
    };
    ctx.render("admin_users", &ctx.t("admin.users_title"), page)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[post("/admin/users/{id}/role")]
pub async fn change_role(
    id: web::Path<i64>,
    form: web::Form<RoleForm>,
    Admin(ctx, me): Admin,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse(&form.role).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let id = id.into_inner();
    let before = me.role;
    users::change_role(&ctx.state.db, &me, id, role).await?;
    // The person's sessions ended with the change. An administrator who
    // changed their own role goes on in a new session (new key) instead.
    if id == me.id && role != before {
        ctx.session.renew();
    }
    ctx.flash("success", "admin.role_changed");
    Ok(see_other("/admin/users"))
}
