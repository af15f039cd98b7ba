use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::{Ctx, LoggedIn};
use crate::routes::export::Download;
use crate::routes::see_other;
use crate::routes::views::{
    Choice, ConsultationCard, ConsultationDetail, consultation_card, consultation_detail,
};
use crate::services::consultations::{self, Status};
use crate::services::notifications;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(consultation_list)
        .service(consultation)
        .service(follow)
        .service(unfollow)
        .service(privacy);
}

#[get("/")]
pub async fn home(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let open = consultations::list_public(&ctx.state.db, &[Status::Open]).await?;
    let reports = consultations::list_public(&ctx.state.db, &[Status::Published]).await?;
    let cards = |list: &[crate::entities::consultation::Model]| -> Vec<_> {
        list.iter()
            .map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c))
            .collect()
    };
    let page = HomePage {
        open: cards(&open),
        reports: cards(&reports),
    };
    ctx.render("home", &ctx.t("home.title"), page)
}

#[derive(Serialize)]
struct HomePage {
    open: Vec<ConsultationCard>,
    reports: Vec<ConsultationCard>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

#[get("/consultations")]
pub async fn consultation_list(
    ctx: Ctx,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            Status::parse(s)
                .filter(|s| s.is_public())
                .ok_or(AppError::BadRequest("errors.invalid_filter"))
        })
        .transpose()?;
    let only: Vec<Status> = filter.into_iter().collect();
    let list = consultations::list_public(&ctx.state.db, &only).await?;
    let items: Vec<_> = list
        .iter()
        .map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c))
        .collect();
    let filters = Status::PUBLIC
        .iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: ctx.t(&format!("status.{}", s.as_str())),
            selected: filter == Some(*s),
        })
        .collect();
    let page = ConsultationsPage {
        count: items.len(),
        items,
        filters,
        filtered: filter.is_some(),
    };
    ctx.render("consultations", &ctx.t("consultations.title"), page)
}

#[derive(Serialize)]
struct ConsultationsPage {
    count: usize,
    items: Vec<ConsultationCard>,
    filters: Vec<Choice>,
    filtered: bool,
}

#[get("/consultations/{slug}")]
pub async fn consultation(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let c = consultations::get_visible(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let detail = consultation_detail(&ctx.state.catalogs, ctx.locale, &c);
    let is_staff = ctx.user.as_ref().is_some_and(|u| u.role.is_staff());
    let eligibility = eligibility_view(&ctx, &c);
    let downloads =
        if c.has_conversation && crate::services::export::can_download(ctx.user.as_ref(), &c) {
            crate::routes::export::downloads(&ctx, &c)
        } else {
            Vec::new()
        };
    let following = match &ctx.user {
        Some(u) => Some(notifications::follows_consultation(&ctx.state.db, c.id, u.id).await?),
        None => None,
    };
    let banner = match c.status {
        Status::Closed | Status::Published | Status::Archived => {
            ctx.t(&format!("deadlines.banner.{}", c.status.as_str()))
        }
        Status::Draft | Status::Open => String::new(),
    };
    let attachments = crate::services::attachments::list(&ctx.state.db, c.id)
        .await?
        .iter()
        .map(|a| crate::routes::attachments::view(&ctx, &c.slug, a))
        .collect();
    let page = ConsultationPage {
        banner,
        attachments,
        consultation: detail,
        can_edit: is_staff,
        eligibility,
        downloads,
        license_url: crate::services::export::LICENSE_URL,
        can_read_report: crate::services::report::can_view(ctx.user.as_ref(), &c),
        can_follow: following.is_some(),
        following: following == Some(true),
    };
    ctx.render("consultation", &c.title, page)
}

#[derive(Serialize)]
struct ConsultationPage {
    /// Said at the top once participation has ended.
    banner: String,
    attachments: Vec<crate::routes::attachments::AttachmentView>,
    consultation: ConsultationDetail,
    can_edit: bool,
    eligibility: EligibilityView,
    downloads: Vec<Download>,
    license_url: &'static str,
    can_read_report: bool,
    can_follow: bool,
    following: bool,
}

/// Who may take part, and for the reader what stands in their way.
#[derive(Serialize)]
struct EligibilityView {
    rules: Vec<String>,
    unmet: Option<String>,
    ok: bool,
    mitid_href: Option<String>,
    mitid_label: String,
}

#[post("/consultations/{slug}/follow")]
pub async fn follow(
    slug: web::Path<String>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    notifications::follow_consultation(&ctx.state.db, &me, &slug).await?;
    ctx.flash("success", "consultation.followed");
    Ok(see_other(&format!("/consultations/{slug}")))
}

#[post("/consultations/{slug}/unfollow")]
pub async fn unfollow(
    slug: web::Path<String>,
    LoggedIn(ctx, me): LoggedIn,
) -> Result<HttpResponse, AppError> {
    notifications::unfollow_consultation(&ctx.state.db, &me, &slug).await?;
    ctx.flash("success", "consultation.unfollowed");
    Ok(see_other(&format!("/consultations/{slug}")))
}

/// The consultation's participation rules in words, and for a logged-in
/// person why they may not take part and what to do about it.
fn eligibility_view(ctx: &Ctx, c: &crate::entities::consultation::Model) -> EligibilityView {
    use crate::services::eligibility::Ineligible;
    let rules = consultations::eligibility_rules(c);
    let mut texts = Vec::new();
    if rules.mitid {
        texts.push(ctx.t("eligibility.rule_mitid"));
    }
    if let Some(loa) = &rules.min_loa {
        let level = ctx.t(&format!("eligibility.loa.{loa}"));
        texts.push(ctx.t("eligibility.rule_loa").replace("{level}", &level));
    }
    if let Some(age) = rules.min_age {
        texts.push(
            ctx.t("eligibility.rule_age")
                .replace("{age}", &age.to_string()),
        );
    }
    if let Some(code) = &rules.municipality_code {
        texts.push(
            ctx.t("eligibility.rule_municipality")
                .replace("{code}", code),
        );
    }
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let unmet = ctx
        .user
        .as_ref()
        .and_then(|u| crate::domain::eligibility::unmet(&u.identity(), &rules, year));
    let provider = crate::services::oidc::citizen_providers(&ctx.state.settings)
        .into_iter()
        .next()
        .map(|(name, _)| name);
    let (mitid_href, mitid_label) = match (unmet, provider) {
        (Some(Ineligible::NeedsMitid), Some(name)) => (
            Some(format!("/auth/oidc/{name}/start?link=1")),
            ctx.t("eligibility.connect_mitid"),
        ),
        (Some(Ineligible::LoaTooLow | Ineligible::AgeUnknown), Some(name)) => (
            Some(format!("/auth/oidc/{name}/start")),
            ctx.t("eligibility.login_mitid"),
        ),
        _ => (None, String::new()),
    };
    EligibilityView {
        rules: texts,
        unmet: unmet.map(|r| ctx.t(r.key())),
        ok: ctx.user.is_some() && unmet.is_none(),
        mitid_href,
        mitid_label,
    }
}

#[get("/privacy")]
pub async fn privacy(ctx: Ctx) -> Result<HttpResponse, AppError> {
    crate::routes::data_rights::privacy_page(&ctx)
}

/// A page that needs no data of its own.
#[derive(Serialize)]
pub struct NoData {}
