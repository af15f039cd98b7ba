//! Council staff: create, edit and run consultations.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crate::routes::context::{Ctx, Staff};
use crate::routes::see_other;
use crate::routes::views::{ConsultationCard, FieldErrors, Transition, consultation_card};
use crate::services::consultations::{self, ConsultationForm, Status};
use crate::services::outcome::{self, OutcomeForm};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(new_form)
        .service(create)
        .service(edit_form)
        .service(update)
        .service(transition)
        .service(confirm_page)
        .service(outcome_form)
        .service(outcome_save);
}

#[get("/staff/consultations")]
pub async fn list(Staff(ctx, me): Staff) -> Result<HttpResponse, AppError> {
    let all = consultations::list_all(&ctx.state.db, &me).await?;
    let items: Vec<_> = all
        .iter()
        .map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c))
        .collect();
    ctx.render(
        "staff_consultations",
        &ctx.t("staff.title"),
        ItemsPage { items },
    )
}

#[derive(Serialize)]
struct ItemsPage {
    items: Vec<ConsultationCard>,
}

/// A choice of who may vote.
#[derive(Serialize)]
struct EligibilityChoice {
    value: &'static str,
    label: String,
    checked: bool,
}

#[derive(Serialize)]
struct ConsultationFormPage<'a> {
    form: &'a ConsultationForm,
    has_errors: bool,
    errors: FieldErrors,
    is_pre: bool,
    eligibility: Vec<EligibilityChoice>,
    edit: Option<ConsultationCard>,
    slug_locked: bool,
    transitions: Vec<Transition>,
    /// The server's limit on new anonymous participants per client and hour.
    participants_default: u32,
    /// Recent new participants and refusals (edit page of a conversation).
    participation: Option<crate::services::participants::RecentParticipation>,
    /// Times that have become history and can no longer be planned.
    dates_locked: DatesLocked,
    /// The outcome can be written (closed or published).
    outcome_link: bool,
}

#[derive(Serialize, Default)]
struct DatesLocked {
    opens: bool,
    closes: bool,
}

async fn form_page(
    ctx: &Ctx,
    form: &ConsultationForm,
    errors: FieldErrors,
    edit: Option<&crate::entities::consultation::Model>,
) -> Result<HttpResponse, AppError> {
    let title = if edit.is_some() {
        ctx.t("staff.edit_title")
    } else {
        ctx.t("staff.new_title")
    };
    let transitions = edit
        .map(|c| {
            c.status
                .next()
                .iter()
                .map(|s| Transition {
                    value: s.as_str(),
                    label: ctx.t(&format!("staff.to_{}", s.as_str())),
                })
                .collect()
        })
        .unwrap_or_default();
    let eligibility = crate::domain::VotingEligibility::ALL
        .iter()
        .map(|e| EligibilityChoice {
            value: e.as_str(),
            label: ctx.t(&format!("eligibility.{}", e.as_str())),
            checked: form.voting_eligibility == e.as_str()
                || (form.voting_eligibility.is_empty() && e.as_str() == "anyone"),
        })
        .collect();
    let participation = match edit.filter(|c| c.has_conversation) {
        Some(c) => Some(crate::services::participants::recent(&ctx.state.db, c.id).await?),
        None => None,
    };
    let page = ConsultationFormPage {
        form,
        has_errors: !errors.is_empty(),
        errors,
        is_pre: form.moderation_mode == "pre",
        eligibility,
        edit: edit.map(|c| consultation_card(&ctx.state.catalogs, ctx.locale, c)),
        slug_locked: edit.is_some_and(|c| c.status != Status::Draft),
        transitions,
        participants_default: ctx.state.limits.settings.new_participants_per_client,
        participation,
        dates_locked: DatesLocked {
            opens: edit.is_some_and(|c| c.status != Status::Draft),
            closes: edit.is_some_and(|c| !matches!(c.status, Status::Draft | Status::Open)),
        },
        outcome_link: edit.is_some_and(|c| outcome::may_write(c).is_ok()),
    };
    ctx.render("staff_consultation_form", &title, page)
}

#[get("/staff/consultations/new")]
pub async fn new_form(Staff(ctx, _): Staff) -> Result<HttpResponse, AppError> {
    let form = ConsultationForm {
        accepts_ideas: Some("on".into()),
        has_conversation: Some("on".into()),
        moderation_mode: "post".into(),
        support_threshold: "50".into(),
        comment_flag_threshold: "3".into(),
        voting_eligibility: "anyone".into(),
        statement_max_chars: "200".into(),
        ..Default::default()
    };
    form_page(&ctx, &form, FieldErrors::default(), None).await
}

#[post("/staff/consultations")]
pub async fn create(
    form: web::Form<ConsultationForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let created = consultations::create(&ctx.state.db, &me, &form).await;
    ctx.form_result(
        created,
        |c| {
            ctx.flash("success", "staff.created");
            Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
        },
        async |errors| form_page(&ctx, &form, errors, None).await,
    )
    .await
}

#[get("/staff/consultations/{slug}/edit")]
pub async fn edit_form(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
    let form = ConsultationForm::from_model(&c);
    form_page(&ctx, &form, FieldErrors::default(), Some(&c)).await
}

#[post("/staff/consultations/{slug}/edit")]
pub async fn update(
    slug: web::Path<String>,
    form: web::Form<ConsultationForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let saved = consultations::update(&ctx.state.db, &me, &slug, &form).await;
    ctx.form_result(
        saved,
        |c| {
            ctx.flash("success", "staff.saved");
            Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
        },
        async |errors| {
            let existing = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
            form_page(&ctx, &form, errors, Some(&existing)).await
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct TransitionForm {
    #[serde(default)]
    to: String,
    /// `yes` from the confirmation page; irreversible steps without it are
    /// sent there first.
    #[serde(default)]
    confirm: String,
}

#[post("/staff/consultations/{slug}/status")]
pub async fn transition(
    slug: web::Path<String>,
    form: web::Form<TransitionForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let to = Status::parse(&form.to).ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let existing = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
    if !existing.status.next().contains(&to) {
        return Err(AppError::Conflict("errors.transition_not_allowed"));
    }
    if outcome::needs_confirmation(to) && form.confirm != "yes" {
        return Ok(see_other(&format!(
            "/staff/consultations/{}/confirm?to={}",
            existing.slug,
            to.as_str()
        )));
    }
    let c = crate::services::lifecycle::transition(&ctx.state.db, &me, &slug, to).await?;
    ctx.flash("success", &format!("staff.now_{}", to.as_str()));
    Ok(see_other(&format!("/staff/consultations/{}/edit", c.slug)))
}

#[derive(Deserialize)]
pub struct ConfirmQuery {
    #[serde(default)]
    to: String,
}

#[derive(Serialize)]
struct ConfirmPage {
    consultation: ConsultationCard,
    to: &'static str,
    /// What the step does, in words.
    consequences: Vec<String>,
    warnings: Vec<String>,
    button: String,
}

/// The confirmation step before closing, publishing or archiving: what will
/// happen, and what still waits for moderation or an answer.
#[get("/staff/consultations/{slug}/confirm")]
pub async fn confirm_page(
    slug: web::Path<String>,
    query: web::Query<ConfirmQuery>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let to = Status::parse(&query.to)
        .filter(|s| outcome::needs_confirmation(*s))
        .ok_or(AppError::BadRequest("errors.invalid_choice"))?;
    let c = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
    if !c.status.next().contains(&to) {
        return Err(AppError::Conflict("errors.transition_not_allowed"));
    }
    let pending = outcome::pending(&ctx.state.db, c.id).await?;
    let mut warnings = Vec::new();
    let count =
        |key: &str, n: u64| ctx.tf(&format!("deadlines.confirm.{key}"), &[("count", n.into())]);
    if pending.ideas_to_moderate > 0 {
        warnings.push(count("ideas_to_moderate", pending.ideas_to_moderate));
    }
    if pending.ideas_to_answer > 0 {
        warnings.push(count("ideas_to_answer", pending.ideas_to_answer));
    }
    if pending.statements_to_moderate > 0 {
        warnings.push(count(
            "statements_to_moderate",
            pending.statements_to_moderate,
        ));
    }
    let mut consequences = vec![ctx.t(&format!("deadlines.confirm.what_{}", to.as_str()))];
    consequences.push(ctx.t("deadlines.confirm.irreversible"));
    let page = ConfirmPage {
        consultation: consultation_card(&ctx.state.catalogs, ctx.locale, &c),
        to: to.as_str(),
        consequences,
        warnings,
        button: ctx.t(&format!("staff.to_{}", to.as_str())),
    };
    let title = ctx.t(&format!("deadlines.confirm.title_{}", to.as_str()));
    ctx.render("staff_consultation_confirm", &title, page)
}

#[derive(Serialize)]
struct OutcomePage<'a> {
    consultation: ConsultationCard,
    form: &'a OutcomeForm,
    has_errors: bool,
    errors: FieldErrors,
    may_publish: bool,
    published: bool,
}

async fn outcome_page(
    ctx: &Ctx,
    c: &crate::entities::consultation::Model,
    form: &OutcomeForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    outcome::may_write(c)?;
    let page = OutcomePage {
        consultation: consultation_card(&ctx.state.catalogs, ctx.locale, c),
        form,
        has_errors: !errors.is_empty(),
        errors,
        may_publish: outcome::may_publish(c),
        published: c.outcome_published_at.is_some(),
    };
    ctx.render(
        "staff_outcome",
        &ctx.t("deadlines.outcome.staff_title"),
        page,
    )
}

#[get("/staff/consultations/{slug}/outcome")]
pub async fn outcome_form(
    slug: web::Path<String>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let c = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
    let form = OutcomeForm::from_model(&c);
    outcome_page(&ctx, &c, &form, FieldErrors::default()).await
}

#[post("/staff/consultations/{slug}/outcome")]
pub async fn outcome_save(
    slug: web::Path<String>,
    form: web::Form<OutcomeForm>,
    Staff(ctx, me): Staff,
) -> Result<HttpResponse, AppError> {
    let saved = outcome::save(&ctx.state.db, &me, &slug, &form).await;
    ctx.form_result(
        saved,
        |c| {
            let key = if c.outcome_published_at.is_some() && form.publish.is_some() {
                "deadlines.outcome.published_flash"
            } else {
                "deadlines.outcome.saved_flash"
            };
            ctx.flash("success", key);
            Ok(see_other(&format!(
                "/staff/consultations/{}/outcome",
                c.slug
            )))
        },
        async |errors| {
            let existing = consultations::get_for_staff(&ctx.state.db, &me, &slug).await?;
            outcome_page(&ctx, &existing, &form, errors).await
        },
    )
    .await
}
