//! The staff dashboard of ideas: ideas waiting for moderation or an answer,
//! and comments hidden after flags.

use actix_web::{HttpResponse, get, web};
use serde_json::{Value, json};

use crate::entities::idea;
use crate::errors::AppError;
use crate::routes::context::Ctx;
use crate::routes::ideas::idea_card;
use crate::routes::views::date;
use crate::services::comments;
use crate::services::ideas::{self, IdeaStatus};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_dashboard);
}

#[get("/staff/ideas")]
pub async fn staff_dashboard(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let me = ctx.require_staff()?;
    let db = &ctx.state.db;
    let awaiting = ideas::staff_queue(db, me, IdeaStatus::AwaitingAnswer).await?;
    let submitted = ideas::staff_queue(db, me, IdeaStatus::Submitted).await?;
    let hidden = comments::awaiting_moderation(db, me).await?;
    let names = ideas::display_names(
        db,
        awaiting
            .iter()
            .chain(submitted.iter())
            .filter_map(|i| i.author_id),
    )
    .await?;
    let cards = |list: &[idea::Model]| -> Vec<Value> {
        list.iter()
            .map(|i| idea_card(&ctx, i, i.author_id.and_then(|a| names.get(&a))))
            .collect()
    };
    let hidden: Vec<_> = hidden
        .iter()
        .map(|cm| json!({"id": cm.id, "idea_id": cm.idea_id, "body": cm.body, "flag_count": cm.flag_count, "created_at": date(ctx.locale, &cm.created_at)}))
        .collect();
    ctx.render(
        "staff_ideas",
        &ctx.t("staff_ideas.title"),
        json!({ "awaiting": cards(&awaiting), "submitted": cards(&submitted), "hidden_comments": hidden }),
    )
}
