//! The staff dashboard of ideas: ideas waiting for moderation or an answer,
//! and comments hidden after flags.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::entities::idea;
use crate::errors::AppError;
use crate::routes::context::Staff;
use crate::routes::ideas::{IdeaCard, idea_card};
use crate::routes::views::date;
use crate::services::comments;
use crate::services::ideas::{self, IdeaStatus};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_dashboard);
}

#[derive(Serialize)]
struct HiddenComment {
    id: i64,
    idea_id: i64,
    body: String,
    flag_count: i32,
    created_at: String,
}

#[derive(Serialize)]
struct StaffIdeasPage {
    awaiting: Vec<IdeaCard>,
    submitted: Vec<IdeaCard>,
    hidden_comments: Vec<HiddenComment>,
}

#[get("/staff/ideas")]
pub async fn staff_dashboard(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let awaiting = ideas::staff_queue(db, &me, IdeaStatus::AwaitingAnswer).await?;
    let submitted = ideas::staff_queue(db, &me, IdeaStatus::Submitted).await?;
    let hidden = comments::awaiting_moderation(db, &me).await?;
    let names = ideas::display_names(
        db,
        awaiting
            .iter()
            .chain(submitted.iter())
            .filter_map(|i| i.author_id),
    )
    .await?;
    let cards = |list: &[idea::Model]| -> Vec<IdeaCard> {
        list.iter()
            .map(|i| idea_card(&ctx, i, i.author_id.and_then(|a| names.get(&a))))
            .collect()
    };
    let page = StaffIdeasPage {
        awaiting: cards(&awaiting),
        submitted: cards(&submitted),
        hidden_comments: hidden
            .iter()
            .map(|cm| HiddenComment {
                id: cm.id,
                idea_id: cm.idea_id,
                body: cm.body.clone(),
                flag_count: cm.flag_count,
                created_at: date(ctx.locale, &cm.created_at),
            })
            .collect(),
    };
    ctx.render("staff_ideas", &ctx.t("staff_ideas.title"), page)
}
