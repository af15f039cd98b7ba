//! The brief at the top of the report, as sentences: the service gives the numbers
//! (`services::report_brief`), this module words them in the reader's language with Danish
//! number formatting, every percentage with its n and small n marked.

use serde_json::{Value, json};

use crate::i18n::Locale;
use crate::messages::Arg;
use crate::numbers;
use crate::routes::context::Ctx;
use crate::services::report::Report;
use crate::services::report_brief::{Brief, CrossTab};

/// Below this many votes a percentage is marked as resting on few answers.
pub const SMALL_N: u32 = 20;
/// Stability from which a group is called stable, and below which unstable, in percent.
const STABLE: f64 = 80.0;
const UNSTABLE: f64 = 60.0;
/// Words of a statement used for a group's short label.
const LABEL_WORDS: usize = 8;

fn fill(template: String, pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .fold(template, |t, (k, v)| t.replace(&format!("{{{k}}}"), v))
}

/// The Fluent message `key` for the count `n` ("1 person", "2 personer"),
/// with `more` placeholders.
fn plural(ctx: &Ctx, key: &str, n: u64, more: &[(&str, Arg)]) -> String {
    let mut args = vec![("n", Arg::from(n))];
    args.extend(more.iter().cloned());
    ctx.tf(key, &args)
}

/// "82,0 % (n = 41)", with "few answers" added below [`SMALL_N`].
pub fn with_n(ctx: &Ctx, percent: f64, n: u32) -> String {
    let key = if n < SMALL_N {
        "brief.percent_n_small"
    } else {
        "brief.percent_n"
    };
    fill(
        ctx.t(key),
        &[
            ("p", numbers::percent(ctx.locale, percent)),
            ("n", numbers::integer(ctx.locale, i64::from(n))),
        ],
    )
}

fn short(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= LABEL_WORDS {
        words.join(" ")
    } else {
        format!("{} …", words[..LABEL_WORDS].join(" "))
    }
}

fn list(locale: Locale, items: &[String]) -> String {
    let and = match locale {
        Locale::Da => "og",
        Locale::En => "and",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

fn crosstab(ctx: &Ctx, t: &CrossTab) -> Value {
    let withheld = ctx.t("report.withheld");
    let rows: Vec<Value> = t
        .rows
        .iter()
        .map(|r| {
            let label = match t.dimension.as_str() {
                "age" if r.category != "unknown" => r.category.replace('-', "–"),
                "channel" => ctx.t(&format!("brief.channel_{}_label", r.category)),
                dim => ctx.t(&format!("brief.{dim}_{}", r.category)),
            };
            json!({
                "label": label,
                "cells": r.cells.iter().map(|c| c.map_or_else(
                    || withheld.clone(),
                    |n| numbers::integer(ctx.locale, n as i64),
                )).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Bars beside the table: per row one bar per group, labelled with the group's letter and
    // the count, so the chart reads without colours; withheld cells get no bar.
    let max = t
        .rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.unwrap_or(0)))
        .max()
        .unwrap_or(0);
    let (label_w, bar_w, row_h) = (150.0, 380.0, 14.0);
    let mut y = 0.0;
    let bars: Vec<Value> = t
        .rows
        .iter()
        .zip(&rows)
        .map(|(r, shown)| {
            let top = y;
            let cells: Vec<Value> = r
                .cells
                .iter()
                .zip(&t.groups)
                .enumerate()
                .map(|(i, (c, letter))| {
                    let n = c.unwrap_or(0);
                    let w = if max == 0 {
                        0.0
                    } else {
                        (n as f64 / max as f64 * bar_w * 10.0).round() / 10.0
                    };
                    let cy = top + i as f64 * row_h;
                    let colour = letter
                        .bytes()
                        .next()
                        .map_or(0, |b| usize::from(b.saturating_sub(b'A')) % 5);
                    json!({
                        "letter": letter,
                        "colour": colour,
                        "n": n,
                        "text": c.map_or_else(|| withheld.clone(), |n| numbers::integer(ctx.locale, n as i64)),
                        "y": cy,
                        "text_y": cy + 10.0,
                        "w": w,
                        "value_x": label_w + 16.0 + w + 4.0,
                    })
                })
                .collect();
            y += r.cells.len() as f64 * row_h + 8.0;
            json!({
                "label": shown["label"],
                "label_y": top + 10.0,
                "bars": cells,
            })
        })
        .collect();
    json!({
        "chart": {
            "width": label_w + 16.0 + bar_w + 60.0,
            "height": y,
            "bar_x": label_w + 16.0,
            "letter_x": label_w + 4.0,
        },
        "bars": bars,
        "max": max,
        "id": format!("crosstab-{}", t.dimension),
        "caption": ctx.t(&format!("brief.crosstab_{}", t.dimension)),
        "heading": ctx.t(&format!("brief.crosstab_{}_heading", t.dimension)),
        "groups": t.groups.iter().map(|g| ctx.t("report.group_name").replace("{name}", g)).collect::<Vec<_>>(),
        "rows": rows,
    })
}

pub fn view(ctx: &Ctx, report: &Report) -> Value {
    let b: &Brief = &report.brief;
    let locale = ctx.locale;
    let took_part = plural(ctx, "brief.took_part", b.participants, &[]);
    let voted = fill(
        ctx.t("brief.voted"),
        &[("n", numbers::integer(locale, b.voters as i64))],
    );
    let channels: Vec<String> = b
        .channels
        .iter()
        .map(|c| {
            fill(
                ctx.t(&format!("brief.channel_{}", c.channel)),
                &[("n", numbers::integer(locale, c.participants as i64))],
            )
        })
        .collect();
    let channel_sentence = fill(
        ctx.t("brief.channels"),
        &[("list", list(locale, &channels))],
    );
    let shown_groups = b.groups.iter().filter(|g| !g.withheld).count() as u64;
    let groups_sentence = if b.groups.is_empty() {
        ctx.t("brief.no_groups")
    } else {
        plural(
            ctx,
            "brief.groups",
            b.groups.len() as u64,
            &[("clustered", Arg::from(b.clustered as u64))],
        )
    };
    let groups: Vec<Value> = b
        .groups
        .iter()
        .map(|g| {
            let name = ctx.t("report.group_name").replace("{name}", &g.name);
            if g.withheld {
                return json!({
                    "name": name,
                    "letter": g.name,
                    "colour": g.id % 5,
                    "label": null,
                    "withheld": true,
                    "text": ctx.t("report.group_withheld").replace("{n}", &report.min_group_size.to_string()),
                });
            }
            let members = g.members.unwrap_or(0) as u64;
            let size = plural(
                ctx,
                "brief.group_size",
                members,
                &[(
                    "share",
                    Arg::Text(numbers::percent(locale, g.share_percent.unwrap_or(0.0))),
                )],
            );
            let label = g.statements.first().map(|s| {
                fill(
                    ctx.t(&format!("brief.label_{}", s.direction)),
                    &[("text", short(&s.text))],
                )
            });
            let clauses: Vec<String> = g
                .statements
                .iter()
                .map(|s| {
                    fill(
                        ctx.t(&format!("brief.sentence_{}", s.direction)),
                        &[("text", s.text.clone()), ("p", with_n(ctx, s.percent, s.votes))],
                    )
                })
                .collect();
            let sentence = if clauses.is_empty() {
                ctx.t("report.no_representative")
            } else {
                format!("{}.", clauses.join(". "))
            };
            let stability = g.stability_percent.map(|p| {
                let key = if p >= STABLE {
                    "brief.stable"
                } else if p >= UNSTABLE {
                    "brief.fairly_stable"
                } else {
                    "brief.unstable"
                };
                fill(
                    ctx.t(key),
                    &[("group", name.clone()), ("p", numbers::percent(locale, p))],
                )
            });
            json!({
                "name": name,
                "letter": g.name,
                "colour": g.id % 5,
                "withheld": false,
                "label": label,
                "size": size,
                "sentence": sentence,
                "stability": stability,
            })
        })
        .collect();
    let uniting: Vec<Value> = b
        .uniting
        .iter()
        .map(|u| {
            json!({
                "text": u.text,
                "figure": fill(
                    ctx.t(&format!("brief.unites_{}", u.direction)),
                    &[("p", with_n(ctx, u.percent, u.votes))],
                ),
            })
        })
        .collect();
    let group_name = |g: &str| ctx.t("report.group_name").replace("{name}", g);
    let dividing: Vec<Value> = b
        .dividing
        .iter()
        .map(|d| {
            json!({
                "text": d.text,
                "figure": fill(
                    ctx.t("brief.divides"),
                    &[
                        ("high", group_name(&d.high.group)),
                        ("hp", with_n(ctx, d.high.agree_percent, d.high.votes)),
                        ("low", group_name(&d.low.group)),
                        ("lp", with_n(ctx, d.low.agree_percent, d.low.votes)),
                    ],
                ),
            })
        })
        .collect();
    let r = &b.representation;
    let bands = |v: &[String]| -> String {
        list(
            locale,
            &v.iter().map(|b| b.replace('-', "–")).collect::<Vec<_>>(),
        )
    };
    let mut representation = if !r.has_population {
        ctx.t("brief.no_population")
    } else if r.over.is_empty() && r.under.is_empty() {
        ctx.t("brief.like_population")
    } else {
        let mut parts = Vec::new();
        if !r.over.is_empty() {
            parts.push(fill(ctx.t("brief.over"), &[("bands", bands(&r.over))]));
        }
        if !r.under.is_empty() {
            parts.push(fill(ctx.t("brief.under"), &[("bands", bands(&r.under))]));
        }
        parts.join(" ")
    };
    representation.push(' ');
    representation.push_str(&fill(
        ctx.t("brief.known_age"),
        &[
            ("v", numbers::integer(locale, r.verified as i64)),
            ("n", numbers::integer(locale, r.participants as i64)),
        ],
    ));
    let rule = fill(
        ctx.t("brief.rule"),
        &[("min", numbers::integer(locale, i64::from(b.min_votes)))],
    );
    let stability_receipt = b.stability.as_ref().map(|s| {
        json!({
            "intro": fill(ctx.t("brief.stability_receipt"), &[
                ("r", numbers::integer(locale, s.resamples as i64)),
                ("seed", s.seed.to_string()),
            ]),
            "rows": s.groups.iter().map(|g| json!({
                "group": group_name(&g.group),
                "drawn": numbers::integer(locale, g.drawn as i64),
                "same": numbers::integer(locale, g.same as i64),
                "percent": numbers::percent(locale, g.percent),
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "took_part": took_part,
        "voted": voted,
        "channels": channel_sentence,
        "groups_sentence": groups_sentence,
        "has_shown_groups": shown_groups > 0,
        "groups": groups,
        "uniting": uniting,
        "dividing": dividing,
        "has_dividing_groups": shown_groups >= 2,
        "representation": representation,
        "rule": rule,
        "stability_explain": fill(ctx.t("brief.stability_explain"), &[("r", stability_receipt_count(b))]),
        "stability_receipt": stability_receipt,
        "crosstabs": b.crosstabs.iter().map(|t| crosstab(ctx, t)).collect::<Vec<_>>(),
    })
}

fn stability_receipt_count(b: &Brief) -> String {
    b.stability
        .as_ref()
        .map_or(crate::opinion::stability::RESAMPLES, |s| s.resamples)
        .to_string()
}
