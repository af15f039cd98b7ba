//! Administrators: who has which role.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Role;
use crate::errors::AppError;
use crate::routes::context::Admin;
use crate::routes::see_other;
use crate::routes::views::date;
use crate::services::users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(user_list).service(change_role);
}

#[get("/admin/users")]
pub async fn user_list(Admin(ctx, me): Admin) -> Result<HttpResponse, AppError> {
    let list = users::list(&ctx.state.db, &me).await?;
    let rows: Vec<_> = list
        .iter()
        .map(|u| {
            let roles: Vec<_> = Role::ALL
                .iter()
                .map(|r| json!({ "value": r.as_str(), "label": ctx.t(&format!("roles.{}", r.as_str())), "selected": u.role == *r }))
                .collect();
            json!({
                "id": u.id,
                "display_name": u.display_name,
                "email": u.email,
                "role_label": ctx.t(&format!("roles.{}", u.role)),
                "roles": roles,
                "created_at": date(ctx.locale, &u.created_at),
            })
        })
        .collect();
    let failed: Vec<_> = crate::services::mail::failed(&ctx.state.db, &me)
        .await?
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "user_id": m.user_id,
                "kind": m.kind,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "created_at": date(ctx.locale, &m.created_at),
            })
        })
        .collect();
    ctx.render(
        "admin_users",
        &ctx.t("admin.users_title"),
        json!({ "users": rows, "failed_mails": failed }),
    )
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
    users::change_role(&ctx.state.db, &me, id.into_inner(), role).await?;
    ctx.flash("success", "admin.role_changed");
    Ok(see_other("/admin/users"))
}
