//! The consultation report (`/consultations/{slug}/report`), its JSON twin
//! (`/api/v1/consultations/{slug}/report`) and the administrators' population
//! figures (`/admin/population`). Who may read a report is decided in
//! `services::report`; this module only lays the numbers out: charts as inline
//! SVG with their coordinates computed here, each followed by a table.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::entities::consultation;
use crate::errors::AppError;
use crate::i18n::Locale;
use crate::routes::context::{Admin, Ctx};
use crate::routes::see_other;
use crate::routes::views::{FieldErrors, date, status_label};
use crate::services::population::{self, AGE_BANDS, BAND_FIELDS};
use crate::services::report::{self, Report};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(api)
        .service(population_form)
        .service(population_save);
}

/// The consultation, or why not: an anonymous reader of a report that is not
/// public yet is asked to log in; a logged-in one is refused.
pub(crate) async fn consultation_for(
    ctx: &Ctx,
    slug: &str,
) -> Result<consultation::Model, AppError> {
    match report::consultation_for(&ctx.state.db, ctx.user.as_ref(), slug).await {
        Ok(c) => Ok(c),
        Err(AppError::Forbidden(_)) if ctx.user.is_none() => {
            ctx.require_user()?;
            Err(AppError::forbidden())
        }
        Err(e) => Err(e),
    }
}

#[get("/consultations/{slug}/report")]
pub async fn show(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let c = consultation_for(&ctx, &slug).await?;
    let report = report::build(&ctx.state.db, &c, ctx.state.settings.report.min_group_size).await?;
    let title = ctx.t("report.title").replace("{title}", &c.title);
    let page = view(&ctx, &c, &report);
    ctx.render("report", &title, page)
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}/report",
    params(("slug" = String, Path, description = "The consultation's short name")),
    responses(
        (status = 200, description = "The consultation's report: aggregates only, small groups withheld", body = Report),
        (status = 403, description = "The report is not published yet; politicians and staff may read it while the consultation is open or closed"),
        (status = 404, description = "No such consultation")
    )
)]
#[get("/api/v1/consultations/{slug}/report")]
pub async fn api(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let c = report::consultation_for(&ctx.state.db, ctx.user.as_ref(), &slug).await?;
    let report = report::build(&ctx.state.db, &c, ctx.state.settings.report.min_group_size).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Chart geometry, in SVG user units.
const CHART_W: f64 = 600.0;
const CHART_H: f64 = 160.0;
const MAP_W: f64 = 400.0;
const MAP_H: f64 = 300.0;
const MAP_PAD: f64 = 24.0;
/// Full width of a statement's agree/disagree/pass bar.
const BAR_W: f64 = 200.0;

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn votes_chart(locale: crate::i18n::Locale, report: &Report) -> Value {
    let days = &report.participation.votes_per_day;
    let max = days.iter().map(|d| d.votes).max().unwrap_or(0).max(1) as f64;
    let n = days.len().max(1) as f64;
    let slot = CHART_W / n;
    let width = (slot * 0.8).max(1.0);
    let bars: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = (d.votes as f64 / max * (CHART_H - 20.0)).max(1.0);
            json!({
                "x": round1(i as f64 * slot + (slot - width) / 2.0),
                "y": round1(CHART_H - h),
                "width": round1(width),
                "height": round1(h),
                "date": d.date,
                "votes": d.votes,
                "votes_text": crate::numbers::integer(locale, d.votes as i64),
            })
        })
        .collect();
    json!({
        "width": CHART_W,
        "height": CHART_H,
        // Room below the axis for the first and last day.
        "full_height": CHART_H + 18.0,
        "label_y": CHART_H + 14.0,
        "bars": bars,
        "max": crate::numbers::integer(locale, max as i64),
        "first": days.first().map(|d| d.date.clone()),
        "last": days.last().map(|d| d.date.clone()),
        "has_data": !days.is_empty(),
    })
}

/// Participants and group labels scaled into the map's box.
/// A big conversation's map is a sample (`sampled`, with the numbers to say so).
fn opinion_map(locale: Locale, op: &report::OpinionReport) -> Value {
    let centers: Vec<[f64; 2]> = op.groups.iter().filter_map(|g| g.center).collect();
    let xs = op
        .map
        .iter()
        .map(|p| p.x)
        .chain(centers.iter().map(|c| c[0]));
    let ys = op
        .map
        .iter()
        .map(|p| p.y)
        .chain(centers.iter().map(|c| c[1]));
    let (min_x, max_x) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (min_y, max_y) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let span_x = if max_x > min_x { max_x - min_x } else { 1.0 };
    let span_y = if max_y > min_y { max_y - min_y } else { 1.0 };
    let sx = |x: f64| round1(MAP_PAD + (x - min_x) / span_x * (MAP_W - 2.0 * MAP_PAD));
    // SVG's y grows downwards; the map keeps the engine's orientation.
    let sy = |y: f64| round1(MAP_H - MAP_PAD - (y - min_y) / span_y * (MAP_H - 2.0 * MAP_PAD));
    let points: Vec<Value> = op
        .map
        .iter()
        .map(|p| json!({ "cx": sx(p.x), "cy": sy(p.y), "group": p.group % 5 }))
        .collect();
    let labels: Vec<Value> = op
        .groups
        .iter()
        .filter_map(|g| {
            let c = g.center?;
            Some(json!({ "x": sx(c[0]), "y": sy(c[1]), "name": g.name, "members": g.members }))
        })
        .collect();
    json!({
        "width": MAP_W,
        "height": MAP_H,
        "points": points,
        "labels": labels,
        "has_points": !points.is_empty(),
        "sampled": op.map.len() < op.map_participants,
        "shown": crate::numbers::integer(locale, i64::try_from(op.map.len()).unwrap_or(i64::MAX)),
        "all": crate::numbers::integer(locale, i64::try_from(op.map_participants).unwrap_or(i64::MAX)),
    })
}

/// History chart geometry.
const HIST_W: f64 = 600.0;
const HIST_H: f64 = 160.0;
const HIST_LEFT: f64 = 8.0;
const HIST_RIGHT: f64 = 70.0;
const HIST_TOP: f64 = 22.0;

/// Participation and group sizes over the snapshots: a line per series (participants dashed,
/// each group in its colour with its letter at the line's end, so colour is not needed to
/// read it) and the same numbers as a table. `None` with fewer than two points.
fn history(ctx: &Ctx, report: &Report) -> Option<Value> {
    let points = &report.history;
    if points.len() < 2 {
        return None;
    }
    let locale = ctx.locale;
    let k = points.iter().map(|p| p.groups.len()).max().unwrap_or(0);
    let max = points
        .iter()
        .flat_map(|p| {
            std::iter::once(p.participants).chain(p.groups.iter().map(|g| g.unwrap_or(0)))
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_w = HIST_W - HIST_LEFT - HIST_RIGHT;
    let plot_h = HIST_H - HIST_TOP;
    let x = |i: usize| round1(HIST_LEFT + i as f64 * plot_w / (points.len() - 1) as f64);
    let y = |n: u64| round1(HIST_TOP + plot_h - n as f64 / max * plot_h);
    let line = |values: &[Option<u64>]| -> String {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|n| format!("{},{}", x(i), y(n))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let total: Vec<Option<u64>> = points.iter().map(|p| Some(p.participants)).collect();
    let mut series = vec![json!({
        "class": "total",
        "points": line(&total),
        "label": ctx.t("history.participants"),
        "end_x": x(points.len() - 1) + 4.0,
        "end_y": y(points[points.len() - 1].participants) + 4.0,
    })];
    let mut groups = Vec::new();
    for g in 0..k {
        let values: Vec<Option<u64>> = points
            .iter()
            .map(|p| p.groups.get(g).copied().flatten())
            .collect();
        let letter = crate::services::snapshots::group_name(g);
        groups.push(json!({
            "name": ctx.t("report.group_name").replace("{name}", &letter),
            "colour": g % 5,
        }));
        if let Some((i, Some(n))) = values.iter().enumerate().rev().find(|(_, v)| v.is_some()) {
            series.push(json!({
                "class": format!("l{}", g % 5),
                "points": line(&values),
                "label": letter,
                "end_x": x(i) + 4.0,
                "end_y": y(*n) + 4.0,
            }));
        }
    }
    let withheld = ctx.t("report.withheld");
    let when = |p: &crate::services::opinion_history::HistoryPoint| {
        crate::dates::format_datetime(p.computed_at, locale)
    };
    let rows: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({
                "when": when(p),
                "participants": crate::numbers::integer(locale, p.participants as i64),
                "participants_n": p.participants,
                "sizes": (0..k).map(|g| match p.groups.get(g) {
                    Some(Some(n)) => crate::numbers::integer(locale, *n as i64),
                    Some(None) => withheld.clone(),
                    None => "–".to_owned(),
                }).collect::<Vec<_>>(),
                "sizes_n": (0..k).map(|g| p.groups.get(g).copied().flatten().unwrap_or(0)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let first = when(&points[0]);
    let last = when(&points[points.len() - 1]);
    Some(json!({
        "width": HIST_W,
        "height": HIST_H,
        "full_height": HIST_H + 18.0,
        "label_y": HIST_H + 14.0,
        "axis_y": HIST_TOP + plot_h,
        "max": crate::numbers::integer(locale, max as i64),
        "series": series,
        "groups": groups,
        "rows": rows,
        "title": ctx.t("history.chart_title")
            .replace("{first}", &first)
            .replace("{last}", &last),
        "first": first,
        "last": last,
        "right": HIST_W,
    }))
}

fn pct(p: u32) -> f64 {
    round1(f64::from(p) / 100.0 * BAR_W)
}

pub(crate) fn view(ctx: &Ctx, c: &consultation::Model, report: &Report) -> Value {
    let locale = ctx.locale;
    let status = c.status;
    let opinion = report.opinion.as_ref().map(|op| {
        let clustered = op.participants_clustered.max(1);
        let groups: Vec<Value> = op
            .groups
            .iter()
            .map(|g| {
                let reps: Vec<Value> = g
                    .representative
                    .iter()
                    .map(|r| {
                        json!({
                            "text": r.text,
                            "agree": r.direction == "agree",
                            "group_percent": r.group_percent,
                            "others_percent": r.others_percent,
                            "agree_percent": r.agree_percent,
                            "disagree_percent": r.disagree_percent,
                            "pass_percent": r.pass_percent,
                            "agree_w": pct(r.agree_percent),
                            "disagree_x": pct(r.agree_percent),
                            "disagree_w": pct(r.disagree_percent),
                            "pass_x": pct(r.agree_percent) + pct(r.disagree_percent),
                            "pass_w": round1((BAR_W - pct(r.agree_percent) - pct(r.disagree_percent)).max(0.0)),
                            "votes": r.votes,
                        })
                    })
                    .collect();
                json!({
                    "name": g.name,
                    "withheld": g.withheld,
                    "members": g.members,
                    "members_text": g.members.map(|m| crate::numbers::integer(locale, m as i64)),
                    "share": g.members.map(|m| crate::numbers::share(locale, m as u64, clustered as u64)),
                    "colour": g.id % 5,
                    "representative": reps,
                    "has_representative": !reps.is_empty(),
                })
            })
            .collect();
        let silhouette: Vec<Value> = op
            .receipt
            .silhouette
            .iter()
            .map(|(k, s)| json!({ "k": k, "value": crate::numbers::decimal(locale, *s, 3) }))
            .collect();
        let params = serde_json::to_string_pretty(&op.receipt.params).unwrap_or_default();
        json!({
            "kind": op.kind,
            "kind_label": ctx.t(&format!("report.kind_{}", op.kind)),
            "computed_at": op.computed_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            // In the sentence at the top, a date as readers write it; the receipt keeps the time.
            "computed_on": date(locale, &op.computed_at),
            "k": op.k,
            "clustered": op.participants_clustered,
            "groups": groups,
            "has_groups": !op.groups.is_empty(),
            "map": opinion_map(locale, op),
            "consensus_agree": op.consensus_agree,
            "consensus_disagree": op.consensus_disagree,
            "has_consensus": !op.consensus_agree.is_empty() || !op.consensus_disagree.is_empty(),
            "ranking": op.group_informed_consensus.iter().map(|r| json!({
                "text": r.text, "score": crate::numbers::decimal(locale, r.score, 3)
            })).collect::<Vec<_>>(),
            "bridging": op.bridging.iter().map(|r| json!({
                "text": r.text, "score": crate::numbers::decimal(locale, r.score, 3)
            })).collect::<Vec<_>>(),
            "divisive": op.divisive,
            "receipt": {
                "engine": op.receipt.engine,
                "input_sha256": op.receipt.input_sha256,
                "seed": op.receipt.seed,
                "votes": op.receipt.counts.votes,
                "participants": op.receipt.counts.participants,
                "statements": op.receipt.counts.statements,
                "in_conv": op.receipt.counts.in_conv,
                "best_k": op.receipt.best_k,
                "chosen_k": op.receipt.chosen_k,
                "warm_start": op.receipt.warm_start,
                "silhouette": silhouette,
                "params": params,
                "command": format!(
                    "samskab opinion analyze --polis-export <{}> --seed {}",
                    ctx.t("report.export_dir"),
                    op.receipt.seed
                ),
            },
        })
    });
    let ideas: Vec<Value> = report
        .ideas
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "title": i.title,
                "status_label": ctx.t(&format!("idea_status.{}", i.status)),
                "supports": i.supports,
                "comments": i.comments,
                "answer": i.answer,
            })
        })
        .collect();
    let who = &report.who_took_part;
    let withheld = ctx.t("report.withheld");
    let count_text = |n: Option<u64>| n.map_or_else(|| withheld.clone(), |n| n.to_string());
    let percent_text = |p: Option<u32>| p.map_or_else(|| "–".to_owned(), |p| format!("{p} %"));
    let bands: Vec<Value> = who
        .age_bands
        .iter()
        .map(|b| {
            json!({
                "band": b.band.replace('-', "–"),
                "participants": b.participants,
                "withheld": b.participants.is_none(),
                "participants_percent": percent_text(b.participants_percent),
                "population_percent": percent_text(b.population_percent),
            })
        })
        .collect();
    let slug = &c.slug;
    // Every file of the open-data export (the Pol.is files are what
    // `samskab opinion analyze` reads), for those who may download them.
    let downloads =
        if c.has_conversation && crate::services::export::can_download(ctx.user.as_ref(), c) {
            crate::routes::export::downloads(ctx, c)
        } else {
            Vec::new()
        };
    json!({
        "consultation": {
            "slug": slug,
            "title": c.title,
            "status": status.as_str(),
            "status_label": status_label(&ctx.state.catalogs, locale, status),
            "closes_at": c.closes_at.as_ref().map(|d| date(locale, d)),
            // In words, for the PDF's header: "2. december 2026".
            "closes_on": c.closes_at.map(|d| crate::dates::format_date(d, locale)),
        },
        "outcome": crate::routes::views::outcome_view(locale, c),
        "min_group_size": report.min_group_size,
        "participation": report.participation,
        // The same figures as written in the reader's language: 33.422 in Danish.
        "figures": {
            "participants": crate::numbers::integer(locale, report.participation.participants as i64),
            "voters": crate::numbers::integer(locale, report.participation.voters as i64),
            "votes": crate::numbers::integer(locale, report.participation.votes as i64),
            "statements": crate::numbers::integer(locale, report.participation.statements as i64),
            "ideas": crate::numbers::integer(locale, report.participation.ideas as i64),
            "comments": crate::numbers::integer(locale, report.participation.comments as i64),
        },
        "chart": votes_chart(locale, report),
        "opinion": opinion,
        "has_conversation": c.has_conversation,
        "accepts_ideas": c.accepts_ideas,
        "ideas": ideas,
        "has_ideas": !ideas.is_empty(),
        "who": {
            "participants": who.participants,
            "verified": who.verified,
            "unknown": who.unknown,
            "unknown_percent": who.unknown_percent,
            "unknown_share": crate::numbers::share(locale, who.unknown, who.participants),
            "municipality_code": who.municipality_code,
            "bands": bands,
            "age_unknown": count_text(who.age_unknown),
            "in_municipality": count_text(who.in_municipality),
            "other_municipality": count_text(who.other_municipality),
            "municipality_unknown": count_text(who.municipality_unknown),
            "has_population": who.has_population,
            "has_home": who.municipality_code.is_some(),
        },
        "brief": super::report_brief::view(ctx, report),
        "history": history(ctx, report),
        "downloads": downloads,
        "license_url": crate::services::export::LICENSE_URL,
        "api_href": format!("/api/v1/consultations/{slug}/report"),
    })
}

#[get("/admin/population")]
pub async fn population_form(Admin(ctx, _): Admin) -> Result<HttpResponse, AppError> {
    // Start from the figures entered first (a platform serves one municipality).
    let mut form = HashMap::new();
    if let Some((code, figures)) = population::for_report(&ctx.state.db, None).await? {
        for ((band, _, _), field) in AGE_BANDS.iter().zip(BAND_FIELDS) {
            if let Some(n) = figures.get(*band) {
                form.insert(field.to_owned(), n.to_string());
            }
        }
        form.insert("municipality_code".to_owned(), code);
    }
    population_page(&ctx, &form, FieldErrors::default()).await
}

#[post("/admin/population")]
pub async fn population_save(
    form: web::Form<HashMap<String, String>>,
    Admin(ctx, me): Admin,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let saved = population::save(&ctx.state.db, &me, &form).await;
    ctx.form_result(
        saved,
        |_| {
            ctx.flash("success", "population.saved");
            Ok(see_other("/admin/population"))
        },
        async |errors| population_page(&ctx, &form, errors).await,
    )
    .await
}

/// The population figures form; after a rejected form the caller answers 422.
async fn population_page(
    ctx: &Ctx,
    form: &HashMap<String, String>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let stored: Vec<Value> = population::list(&ctx.state.db)
        .await?
        .into_iter()
        .map(|(code, figures)| {
            let rows: Vec<Value> = AGE_BANDS
                .iter()
                .map(|(band, _, _)| {
                    json!({
                        "band": band.replace('-', "–"),
                        "residents": figures.get(*band),
                    })
                })
                .collect();
            json!({ "code": code, "rows": rows, "total": figures.values().sum::<i64>() })
        })
        .collect();
    let fields: Vec<Value> = AGE_BANDS
        .iter()
        .zip(BAND_FIELDS)
        .map(|((band, _, _), field)| {
            json!({
                "name": field,
                "label": ctx.t("population.band").replace("{band}", &band.replace('-', "–")),
                "value": form.get(field).cloned().unwrap_or_default(),
                "error": errors.get(field),
            })
        })
        .collect();
    let has_errors = !errors.is_empty();
    ctx.render(
        "admin_population",
        &ctx.t("population.title"),
        json!({
            "fields": fields,
            "municipality_code": form.get("municipality_code").cloned().unwrap_or_default(),
            "errors": errors,
            "has_errors": has_errors,
            "stored": stored,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_of(participants: usize) -> report::OpinionReport {
        use crate::opinion_tools::synthetic::{SyntheticParams, generate};
        let params = SyntheticParams {
            participants,
            statements: 20,
            votes: participants * 10,
            ..Default::default()
        };
        let snap = crate::opinion::cold_run(&generate(&params, 3).input, &Default::default());
        report::opinion_report_of("warm".into(), chrono::Utc::now(), &snap, &[], 1)
    }

    #[test]
    fn the_map_says_when_it_shows_a_sample() {
        let big = report_of(3_000);
        let map = opinion_map(Locale::Da, &big);
        assert_eq!(map["sampled"], true);
        assert_eq!(map["points"].as_array().unwrap().len(), big.map.len());
        assert_eq!(
            map["all"],
            crate::numbers::integer(Locale::Da, big.map_participants as i64)
        );
        assert!(map["all"].as_str().unwrap().contains('.'), "{map}");

        let small = report_of(200);
        let map = opinion_map(Locale::En, &small);
        assert_eq!(map["sampled"], false);
        assert_eq!(
            map["points"].as_array().unwrap().len(),
            small.map_participants
        );
    }
}
