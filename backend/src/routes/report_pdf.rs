//! The report as a PDF (`/consultations/{slug}/report.pdf`), for a council agenda's appendix:
//! A4, the font embedded (DejaVu Sans, so æ, ø and å come out everywhere), text that can be
//! selected and searched, the consultation's title and date at the top of every page, page
//! numbers at the bottom, the brief on page one, and the charts as vector graphics.
//!
//! Exactly who may read the report may get the PDF: the handler asks the same service. The
//! words and numbers come from the report page's own view (same sentences, same Danish number
//! formatting); this module only lays them out. Laying out and writing the PDF runs on a
//! blocking thread, as it is CPU work.

use actix_web::{HttpResponse, get, web};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use serde_json::Value;

use crate::errors::AppError;
use crate::i18n::Locale;
use crate::messages::Arg;
use crate::routes::context::Ctx;
use crate::services::report;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(pdf);
}

/// A4 in points, and the margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
const CONTENT_TOP: f32 = 78.0;
const CONTENT_BOTTOM: f32 = PAGE_H - 64.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;
const LINE: f32 = 1.35;

/// Colours: ink, grey, and the five group colours of the report page's CSS.
const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const GREY: (u8, u8, u8) = (0x5a, 0x5a, 0x5a);
const RULE: (u8, u8, u8) = (0xb0, 0xb0, 0xb0);
const AGREE: (u8, u8, u8) = (0x1d, 0x6b, 0x34);
const DISAGREE: (u8, u8, u8) = (0xa3, 0x1d, 0x1d);
const PASS: (u8, u8, u8) = (0x6b, 0x6b, 0x6b);
const GROUPS: [(u8, u8, u8); 5] = [
    (0x0b, 0x4f, 0x8a),
    (0xa3, 0x47, 0x00),
    (0x1d, 0x6b, 0x34),
    (0x8a, 0x1c, 0x5c),
    (0x4a, 0x3a, 0x8c),
];

#[get("/consultations/{slug}/report.pdf")]
pub async fn pdf(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let c = super::report::consultation_for(&ctx, &slug).await?;
    let report = report::build(&ctx.state.db, &c, ctx.state.settings.report.min_group_size).await?;
    let page = super::report::view(&ctx, &c, &report);
    let doc = document(&ctx, &page);
    let bytes = web::block(move || render(&doc))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("PDF thread: {e}")))?
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("PDF: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"rapport-{}.pdf\"", c.slug),
        ))
        .body(bytes))
}

/// A cross-tab row's bars: the row's label and per group (colour, letter, count as shown, count).
pub type BarRow = (String, Vec<(usize, String, String, u64)>);

/// What goes into the PDF, in reading order.
#[derive(Debug, Clone)]
pub enum Block {
    Title(String),
    Heading(String),
    SubHeading(String),
    Para(String),
    Muted(String),
    Bullet(String),
    /// A group's name with its colour swatch.
    GroupHeading(usize, String),
    Table {
        caption: String,
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Votes per day: (x, y, w, h) in a `w` × `h` box, with the axis texts.
    Columns {
        width: f32,
        height: f32,
        bars: Vec<[f32; 4]>,
        top_label: String,
        first: String,
        last: String,
    },
    /// The opinion map: dots (x, y, colour) and labels (x, y, text) in a `w` × `h` box.
    Map {
        width: f32,
        height: f32,
        dots: Vec<(f32, f32, usize)>,
        labels: Vec<(f32, f32, String)>,
        axis: String,
    },
    /// A horizontal agree / disagree / pass bar (percentages), with its legend below.
    StackBar([f32; 3], String),
    /// Horizontal bars per row for a cross-tab: (label, [(group letter, count)]).
    GroupBars {
        rows: Vec<BarRow>,
        max: u64,
    },
    /// A small line chart of the history: the series (colour, name, values) over `n` points.
    Lines {
        series: Vec<(usize, String, Vec<f64>)>,
        first: String,
        last: String,
        max: f64,
        top_label: String,
    },
    PageBreak,
}

#[derive(Debug, Clone)]
pub struct Doc {
    pub title: String,
    /// Top right on every page, e.g. "Frist: 3. marts 2027".
    pub date: String,
    /// "Side {n} af {total}"
    pub page_label: String,
    pub lang: String,
    pub blocks: Vec<Block>,
}

fn s(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn arr<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn f(v: &Value, pointer: &str) -> f32 {
    v.pointer(pointer).and_then(Value::as_f64).unwrap_or(0.0) as f32
}

/// The message `template` with `pairs` filled in: a value that is a plain
/// number chooses the plural form of a Fluent message ("1 deltager").
fn fill(locale: Locale, template: String, pairs: &[(&str, String)]) -> String {
    let args: Vec<(&str, Arg)> = pairs
        .iter()
        .map(|(k, v)| {
            let arg = v
                .parse::<f64>()
                .map_or_else(|_| Arg::Text(v.clone()), Arg::Number);
            (*k, arg)
        })
        .collect();
    crate::messages::format(locale, &template, &args)
}

/// The blocks of the report, from the report page's view (`routes::report::view`).
pub fn document(ctx: &Ctx, page: &Value) -> Doc {
    let t = |k: &str| ctx.t(k);
    let mut b = Vec::new();
    let title = s(page, "/consultation/title");
    let date = match page
        .pointer("/consultation/closes_on")
        .and_then(Value::as_str)
    {
        Some(d) => fill(ctx.locale, t("pdf.deadline"), &[("date", d.to_owned())]),
        None => fill(
            ctx.locale,
            t("pdf.made"),
            &[(
                "date",
                crate::dates::format_date(chrono::Utc::now(), ctx.locale),
            )],
        ),
    };
    b.push(Block::Title(title.clone()));
    b.push(Block::Muted(format!(
        "{} · {}",
        t("report.eyebrow"),
        s(page, "/consultation/status_label")
    )));
    if page.pointer("/opinion").is_some_and(|o| !o.is_null()) {
        b.push(Block::Muted(fill(
            ctx.locale,
            t("report.based_on"),
            &[
                ("kind", s(page, "/opinion/kind_label")),
                ("at", s(page, "/opinion/computed_on")),
            ],
        )));
    }
    if let Some(outcome) = page.pointer("/outcome").filter(|o| !o.is_null()) {
        b.push(Block::Heading(t("deadlines.outcome.heading")));
        b.push(Block::Para(strip_tags(&s(outcome, "/html"))));
    }

    // Page one: the brief.
    b.push(Block::Heading(t("brief.heading")));
    b.push(Block::Para(format!(
        "{} {} {}",
        s(page, "/brief/took_part"),
        s(page, "/brief/voted"),
        s(page, "/brief/channels")
    )));
    let has_conversation = page
        .pointer("/has_conversation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if has_conversation {
        b.push(Block::Para(s(page, "/brief/groups_sentence")));
        for g in arr(page, "/brief/groups") {
            let name = match g.pointer("/label").and_then(Value::as_str) {
                Some(label) => format!("{}: {label}", s(g, "/name")),
                None => s(g, "/name"),
            };
            let colour = g.pointer("/colour").and_then(Value::as_u64).unwrap_or(0) as usize;
            b.push(Block::GroupHeading(colour, name));
            if g.pointer("/withheld").and_then(Value::as_bool) == Some(true) {
                b.push(Block::Para(s(g, "/text")));
            } else {
                b.push(Block::Para(format!(
                    "{} {}",
                    s(g, "/size"),
                    s(g, "/sentence")
                )));
                let stability = s(g, "/stability");
                if !stability.is_empty() {
                    b.push(Block::Para(stability));
                }
            }
        }
        b.push(Block::SubHeading(t("brief.unites_heading")));
        let uniting = arr(page, "/brief/uniting");
        if uniting.is_empty() {
            b.push(Block::Para(t("brief.none_unite")));
        }
        for u in uniting {
            b.push(Block::Bullet(format!(
                "{} — {}",
                s(u, "/text"),
                s(u, "/figure")
            )));
        }
        let bridging = arr(page, "/opinion/bridging");
        if !bridging.is_empty() {
            b.push(Block::SubHeading(t("report.bridging_heading")));
            b.push(Block::Muted(t("report.bridging_intro")));
            for u in bridging {
                b.push(Block::Bullet(format!(
                    "{} ({})",
                    s(u, "/text"),
                    s(u, "/score")
                )));
            }
        }
        b.push(Block::SubHeading(t("brief.divides_heading")));
        let dividing = arr(page, "/brief/dividing");
        if dividing.is_empty() {
            b.push(Block::Para(
                if page
                    .pointer("/brief/has_dividing_groups")
                    .and_then(Value::as_bool)
                    == Some(true)
                {
                    t("brief.none_divide")
                } else {
                    t("brief.none_divide_groups")
                },
            ));
        }
        for d in dividing {
            b.push(Block::Bullet(format!(
                "{} — {}",
                s(d, "/text"),
                s(d, "/figure")
            )));
        }
        b.push(Block::Muted(s(page, "/brief/rule")));
    }
    b.push(Block::Para(s(page, "/brief/representation")));

    // Then the details, from page two on.
    b.push(Block::PageBreak);
    b.push(Block::Heading(t("report.participation_heading")));
    let figures = [
        ("report.participants", "/participation/participants"),
        ("report.voters", "/participation/voters"),
        ("report.votes", "/participation/votes"),
        ("report.statements", "/participation/statements"),
        ("report.ideas", "/participation/ideas"),
        ("report.comments", "/participation/comments"),
    ];
    b.push(Block::Table {
        caption: String::new(),
        head: Vec::new(),
        rows: figures
            .iter()
            .map(|(k, p)| {
                let n = page.pointer(p).and_then(Value::as_i64).unwrap_or(0);
                vec![t(k), crate::numbers::integer(ctx.locale, n)]
            })
            .collect(),
    });
    b.push(Block::SubHeading(t("report.votes_over_time")));
    if page.pointer("/chart/has_data").and_then(Value::as_bool) == Some(true) {
        b.push(Block::Columns {
            width: f(page, "/chart/width"),
            height: f(page, "/chart/height"),
            bars: arr(page, "/chart/bars")
                .iter()
                .map(|r| [f(r, "/x"), f(r, "/y"), f(r, "/width"), f(r, "/height")])
                .collect(),
            top_label: fill(
                ctx.locale,
                t("brief.axis_votes"),
                &[("max", s(page, "/chart/max"))],
            ),
            first: s(page, "/chart/first"),
            last: s(page, "/chart/last"),
        });
    } else {
        b.push(Block::Para(t("report.no_votes")));
    }
    if let Some(history) = page.pointer("/history").filter(|h| !h.is_null()) {
        history_blocks(ctx, history, &mut b);
    }

    if has_conversation {
        b.push(Block::Heading(t("report.map_heading")));
        let op = page.pointer("/opinion").filter(|o| !o.is_null());
        match op {
            Some(op) if op.pointer("/has_groups").and_then(Value::as_bool) == Some(true) => {
                b.push(Block::Para(fill(
                    ctx.locale,
                    t("report.map_intro"),
                    &[("k", s(op, "/k")), ("n", s(op, "/clustered"))],
                )));
                if op.pointer("/map/has_points").and_then(Value::as_bool) == Some(true) {
                    b.push(Block::Map {
                        width: f(op, "/map/width"),
                        height: f(op, "/map/height"),
                        dots: arr(op, "/map/points")
                            .iter()
                            .map(|p| {
                                (
                                    f(p, "/cx"),
                                    f(p, "/cy"),
                                    p.pointer("/group").and_then(Value::as_u64).unwrap_or(0)
                                        as usize,
                                )
                            })
                            .collect(),
                        labels: arr(op, "/map/labels")
                            .iter()
                            .map(|l| {
                                (
                                    f(l, "/x"),
                                    f(l, "/y"),
                                    format!("{} ({})", s(l, "/name"), s(l, "/members")),
                                )
                            })
                            .collect(),
                        axis: t("brief.map_axis"),
                    });
                    b.push(Block::Muted(t("brief.map_legend")));
                }
                for g in arr(op, "/groups") {
                    let name = t("report.group_name").replace("{name}", &s(g, "/name"));
                    let colour = g.pointer("/colour").and_then(Value::as_u64).unwrap_or(0) as usize;
                    b.push(Block::GroupHeading(colour, name.clone()));
                    if g.pointer("/withheld").and_then(Value::as_bool) == Some(true) {
                        b.push(Block::Para(
                            t("report.group_withheld").replace("{n}", &s(page, "/min_group_size")),
                        ));
                        continue;
                    }
                    b.push(Block::Para(fill(
                        ctx.locale,
                        t("report.group_size"),
                        &[("n", s(g, "/members")), ("share", s(g, "/share"))],
                    )));
                    for r in arr(g, "/representative") {
                        b.push(Block::Bullet(s(r, "/text")));
                        let key = if r.pointer("/agree").and_then(Value::as_bool) == Some(true) {
                            "report.rep_agree"
                        } else {
                            "report.rep_disagree"
                        };
                        b.push(Block::Muted(fill(
                            ctx.locale,
                            t(key),
                            &[
                                ("p", s(r, "/group_percent")),
                                ("group", s(g, "/name")),
                                ("others", s(r, "/others_percent")),
                            ],
                        )));
                        b.push(Block::StackBar(
                            [
                                f(r, "/agree_percent"),
                                f(r, "/disagree_percent"),
                                f(r, "/pass_percent"),
                            ],
                            fill(
                                ctx.locale,
                                t("report.bar_legend"),
                                &[
                                    ("agree", s(r, "/agree_percent")),
                                    ("disagree", s(r, "/disagree_percent")),
                                    ("pass", s(r, "/pass_percent")),
                                    ("n", s(r, "/votes")),
                                ],
                            ),
                        ));
                    }
                }
            }
            Some(_) => b.push(Block::Para(t("report.no_groups"))),
            None => b.push(Block::Para(t("report.no_snapshot"))),
        }
    }

    let crosstabs = arr(page, "/brief/crosstabs");
    if !crosstabs.is_empty() {
        b.push(Block::Heading(t("brief.crosstabs_heading")));
        b.push(Block::Para(
            t("brief.crosstabs_intro").replace("{n}", &s(page, "/min_group_size")),
        ));
        for ct in crosstabs {
            let groups: Vec<String> = arr(ct, "/groups")
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect();
            let mut head = vec![s(ct, "/heading")];
            head.extend(groups.iter().cloned());
            b.push(Block::SubHeading(s(ct, "/heading")));
            b.push(Block::Table {
                caption: s(ct, "/caption"),
                head,
                rows: arr(ct, "/rows")
                    .iter()
                    .map(|r| {
                        let mut row = vec![s(r, "/label")];
                        row.extend(
                            arr(r, "/cells")
                                .iter()
                                .map(|c| c.as_str().unwrap_or_default().to_owned()),
                        );
                        row
                    })
                    .collect(),
            });
            let rows: Vec<BarRow> = arr(ct, "/bars")
                .iter()
                .map(|r| {
                    (
                        s(r, "/label"),
                        arr(r, "/bars")
                            .iter()
                            .map(|c| {
                                (
                                    c.pointer("/colour").and_then(Value::as_u64).unwrap_or(0)
                                        as usize,
                                    s(c, "/letter"),
                                    s(c, "/text"),
                                    c.pointer("/n").and_then(Value::as_u64).unwrap_or(0),
                                )
                            })
                            .collect(),
                    )
                })
                .collect();
            let max = ct.pointer("/max").and_then(Value::as_u64).unwrap_or(0);
            if max > 0 && !rows.is_empty() {
                b.push(Block::GroupBars { rows, max });
            }
        }
    }

    b.push(Block::Heading(t("report.who_heading")));
    b.push(Block::Para(fill(
        ctx.locale,
        t("report.who_intro"),
        &[
            ("n", s(page, "/who/participants")),
            ("verified", s(page, "/who/verified")),
        ],
    )));
    b.push(Block::Table {
        caption: t("report.age_caption"),
        head: vec![
            t("report.age_band"),
            t("report.verified_participants"),
            t("report.share_participants"),
            t("report.share_population"),
        ],
        rows: arr(page, "/who/bands")
            .iter()
            .map(|r| {
                if r.pointer("/withheld").and_then(Value::as_bool) == Some(true) {
                    vec![
                        s(r, "/band"),
                        t("report.withheld"),
                        String::new(),
                        s(r, "/population_percent"),
                    ]
                } else {
                    vec![
                        s(r, "/band"),
                        s(r, "/participants"),
                        s(r, "/participants_percent"),
                        s(r, "/population_percent"),
                    ]
                }
            })
            .collect(),
    });
    if let Some(op) = page.pointer("/opinion").filter(|o| !o.is_null()) {
        b.push(Block::Heading(t("report.receipt_heading")));
        b.push(Block::Table {
            caption: String::new(),
            head: Vec::new(),
            rows: vec![
                vec![t("report.computed_at"), s(op, "/computed_at")],
                vec![t("report.engine"), s(op, "/receipt/engine")],
                vec![t("report.seed"), s(op, "/receipt/seed")],
                vec![t("report.input_hash"), s(op, "/receipt/input_sha256")],
                vec![t("report.chosen_k"), s(op, "/k")],
            ],
        });
        let stability = s(page, "/brief/stability_receipt/intro");
        if !stability.is_empty() {
            b.push(Block::Muted(stability));
        }
    }
    Doc {
        title,
        date,
        page_label: t("pdf.page"),
        lang: ctx.locale.code().to_owned(),
        blocks: b,
    }
}

fn history_blocks(ctx: &Ctx, history: &Value, b: &mut Vec<Block>) {
    let points = arr(history, "/rows");
    if points.len() < 2 {
        return;
    }
    b.push(Block::SubHeading(ctx.t("history.heading")));
    let participants: Vec<f64> = points
        .iter()
        .map(|p| {
            p.pointer("/participants_n")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
        })
        .collect();
    let mut series = vec![(usize::MAX, ctx.t("history.participants"), participants)];
    for (i, g) in arr(history, "/groups").iter().enumerate() {
        let values = points
            .iter()
            .map(|p| {
                p.pointer(&format!("/sizes_n/{i}"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            })
            .collect();
        let colour = g.pointer("/colour").and_then(Value::as_u64).unwrap_or(0) as usize;
        series.push((colour, s(g, "/name"), values));
    }
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(1.0, f64::max);
    b.push(Block::Lines {
        series,
        first: s(&points[0], "/when"),
        last: s(&points[points.len() - 1], "/when"),
        max,
        top_label: ctx.t("history.axis"),
    });
    let mut head = vec![ctx.t("history.when"), ctx.t("history.participants")];
    head.extend(arr(history, "/groups").iter().map(|g| s(g, "/name")));
    b.push(Block::Table {
        caption: ctx.t("history.caption"),
        head,
        rows: points
            .iter()
            .map(|p| {
                let mut row = vec![s(p, "/when"), s(p, "/participants")];
                row.extend(
                    arr(p, "/sizes")
                        .iter()
                        .map(|c| c.as_str().unwrap_or_default().to_owned()),
                );
                row
            })
            .collect(),
    });
}

/// The text of the outcome's sanitised HTML, for the PDF.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Glyph widths, for wrapping lines.
struct Metrics {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Metrics {
    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let upem = f32::from(face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(upem * 0.6, f32::from)
            })
            .sum();
        units / upem * size
    }

    /// Greedy line breaking; a word longer than a line is broken inside.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size, bold) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if self.width(word, size, bold) <= width {
                line = word.to_owned();
            } else {
                for ch in word.chars() {
                    let mut next = line.clone();
                    next.push(ch);
                    if self.width(&next, size, bold) > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line.push(ch);
                    } else {
                        line = next;
                    }
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: (u8, u8, u8),
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: (u8, u8, u8),
    },
    Dot {
        x: f32,
        y: f32,
        r: f32,
        colour: (u8, u8, u8),
    },
}

struct Layout<'m> {
    m: &'m Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = CONTENT_TOP;
    }

    fn ensure(&mut self, h: f32) {
        if self.y + h > CONTENT_BOTTOM && self.y > CONTENT_TOP {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: (u8, u8, u8), text: &str) {
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            colour,
            text: text.to_owned(),
        });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
        self.ops().push(Op::Rect { x, y, w, h, colour });
    }

    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        colour: (u8, u8, u8),
        indent: f32,
        before: f32,
        after: f32,
    ) {
        let lines = self.m.wrap(text, size, bold, WIDTH - indent);
        // A heading stays with the first lines that follow it.
        let keep = if bold { size * LINE * 3.0 } else { 0.0 };
        self.ensure(before + size * LINE + keep);
        self.y += before;
        for line in lines {
            self.ensure(size * LINE);
            self.y += size * LINE;
            let y = self.y - size * 0.3;
            self.text(MARGIN + indent, y, size, bold, colour, &line);
        }
        self.y += after;
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Title(t) => self.paragraph(t, 18.0, true, INK, 0.0, 0.0, 4.0),
            Block::Heading(t) => self.paragraph(t, 14.0, true, INK, 0.0, 12.0, 2.0),
            Block::SubHeading(t) => self.paragraph(t, 11.0, true, INK, 0.0, 8.0, 1.0),
            Block::Para(t) => self.paragraph(t, 10.0, false, INK, 0.0, 2.0, 3.0),
            Block::Muted(t) => self.paragraph(t, 8.5, false, GREY, 0.0, 1.0, 3.0),
            Block::Bullet(t) => {
                self.ensure(13.5);
                let y = self.y + 10.0;
                self.text(MARGIN + 2.0, y, 10.0, false, INK, "•");
                self.paragraph(t, 10.0, false, INK, 14.0, 0.0, 2.0);
            }
            Block::GroupHeading(colour, t) => {
                self.ensure(8.0 + 11.0 * LINE * 3.0);
                self.y += 6.0;
                let y = self.y + 3.0;
                self.rect(MARGIN, y, 9.0, 9.0, GROUPS[colour % GROUPS.len()]);
                self.paragraph(t, 11.0, true, INK, 14.0, 0.0, 1.0);
            }
            Block::Table {
                caption,
                head,
                rows,
            } => self.table(caption, head, rows),
            Block::Columns {
                width,
                height,
                bars,
                top_label,
                first,
                last,
            } => {
                let h = 110.0;
                self.ensure(h + 36.0);
                let top = self.y + 14.0;
                self.text(MARGIN, top - 3.0, 8.0, false, GREY, top_label);
                let sx = WIDTH / width.max(1.0);
                let sy = h / height.max(1.0);
                for [x, y, w, bh] in bars {
                    self.rect(
                        MARGIN + x * sx,
                        top + y * sy,
                        (w * sx).max(0.5),
                        bh * sy,
                        GROUPS[0],
                    );
                }
                self.rect(MARGIN, top + h, WIDTH, 0.8, INK);
                self.text(MARGIN, top + h + 11.0, 8.0, false, GREY, first);
                let lw = self.m.width(last, 8.0, false);
                self.text(MARGIN + WIDTH - lw, top + h + 11.0, 8.0, false, GREY, last);
                self.y = top + h + 18.0;
            }
            Block::Map {
                width,
                height,
                dots,
                labels,
                axis,
            } => {
                let scale = (WIDTH * 0.8) / width.max(1.0);
                let (w, h) = (width * scale, height * scale);
                self.ensure(h + 10.0);
                let left = MARGIN + (WIDTH - w) / 2.0;
                let top = self.y + 6.0;
                for (x0, y0, w0, h0) in [
                    (0.0, 0.0, w, 0.6),
                    (0.0, h - 0.6, w, 0.6),
                    (0.0, 0.0, 0.6, h),
                    (w - 0.6, 0.0, 0.6, h),
                ] {
                    self.rect(left + x0, top + y0, w0, h0, RULE);
                }
                for (x, y, g) in dots {
                    self.ops().push(Op::Dot {
                        x: left + x * scale,
                        y: top + y * scale,
                        r: 2.6,
                        colour: GROUPS[g % GROUPS.len()],
                    });
                }
                for (x, y, text) in labels {
                    let lw = self.m.width(text, 10.0, true);
                    let (lx, ly) = (left + x * scale - lw / 2.0, top + y * scale + 3.5);
                    self.rect(lx - 2.0, ly - 9.5, lw + 4.0, 13.0, (0xff, 0xff, 0xff));
                    self.text(lx, ly, 10.0, true, INK, text);
                }
                let aw = self.m.width(axis, 8.0, false);
                self.text(left + w - aw - 4.0, top + h - 5.0, 8.0, false, GREY, axis);
                self.y = top + h + 4.0;
            }
            Block::StackBar(p, legend) => {
                self.ensure(24.0);
                let top = self.y + 2.0;
                let full = 200.0;
                let mut x = MARGIN + 14.0;
                for (share, colour) in p.iter().zip([AGREE, DISAGREE, PASS]) {
                    let w = full * share / 100.0;
                    if w > 0.0 {
                        self.rect(x, top, w, 8.0, colour);
                    }
                    x += w;
                }
                self.y = top + 8.0;
                self.paragraph(legend, 8.5, false, GREY, 14.0, 0.0, 3.0);
            }
            Block::GroupBars { rows, max } => {
                let label_w = 110.0;
                let bar_w = WIDTH - label_w - 40.0;
                for (label, bars) in rows {
                    let h = 10.0 * bars.len() as f32 + 6.0;
                    self.ensure(h);
                    let top = self.y + 2.0;
                    self.text(MARGIN, top + 8.0, 8.5, false, INK, label);
                    for (i, (colour, letter, text, n)) in bars.iter().enumerate() {
                        let y = top + i as f32 * 10.0;
                        let w = bar_w * (*n as f32) / (*max as f32);
                        self.text(MARGIN + label_w - 10.0, y + 7.5, 7.5, true, INK, letter);
                        if w > 0.0 {
                            self.rect(MARGIN + label_w, y, w, 8.0, GROUPS[colour % GROUPS.len()]);
                        }
                        self.text(MARGIN + label_w + w + 3.0, y + 7.5, 7.5, false, GREY, text);
                    }
                    self.y = top + h;
                }
                self.y += 4.0;
            }
            Block::Lines {
                series,
                first,
                last,
                max,
                top_label,
            } => {
                let h = 100.0;
                self.ensure(h + 50.0);
                let top = self.y + 14.0;
                self.text(MARGIN, top - 3.0, 8.0, false, GREY, top_label);
                let n = series.first().map_or(0, |(_, _, v)| v.len());
                let step = if n > 1 { WIDTH / (n - 1) as f32 } else { 0.0 };
                for (colour, _, values) in series {
                    let c = if *colour == usize::MAX {
                        INK
                    } else {
                        GROUPS[colour % GROUPS.len()]
                    };
                    for (i, v) in values.iter().enumerate() {
                        let x = MARGIN + i as f32 * step;
                        let y = top + h - (*v / max) as f32 * h;
                        self.ops().push(Op::Dot {
                            x,
                            y,
                            r: 2.2,
                            colour: c,
                        });
                        if i + 1 < values.len() {
                            // Segments as thin dots along the way: vector, and no stroke state.
                            let next = top + h - (values[i + 1] / max) as f32 * h;
                            for k in 1..12 {
                                let f = k as f32 / 12.0;
                                self.ops().push(Op::Dot {
                                    x: x + step * f,
                                    y: y + (next - y) * f,
                                    r: 0.8,
                                    colour: c,
                                });
                            }
                        }
                    }
                }
                self.rect(MARGIN, top + h, WIDTH, 0.8, INK);
                self.text(MARGIN, top + h + 11.0, 8.0, false, GREY, first);
                let lw = self.m.width(last, 8.0, false);
                self.text(MARGIN + WIDTH - lw, top + h + 11.0, 8.0, false, GREY, last);
                // The legend, by name as well as colour.
                let mut x = MARGIN;
                let ly = top + h + 24.0;
                for (colour, name, _) in series {
                    let c = if *colour == usize::MAX {
                        INK
                    } else {
                        GROUPS[colour % GROUPS.len()]
                    };
                    self.rect(x, ly - 7.0, 8.0, 8.0, c);
                    self.text(x + 11.0, ly, 8.5, false, INK, name);
                    x += 11.0 + self.m.width(name, 8.5, false) + 14.0;
                }
                self.y = ly + 6.0;
            }
            Block::PageBreak => {
                if self.y > CONTENT_TOP {
                    self.new_page();
                }
            }
        }
    }

    fn table(&mut self, caption: &str, head: &[String], rows: &[Vec<String>]) {
        if !caption.is_empty() {
            self.paragraph(caption, 8.5, false, GREY, 0.0, 2.0, 1.0);
        }
        let cols = head
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0))
            .max(1);
        // The first column (labels) gets twice the room of the others.
        let unit = WIDTH / (cols as f32 + 1.0);
        let widths: Vec<f32> = (0..cols)
            .map(|i| if i == 0 { unit * 2.0 } else { unit })
            .collect();
        let size = 9.0;
        let draw_row = |l: &mut Self, cells: &[String], bold: bool| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| l.m.wrap(c, size, bold, w - 6.0))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * size * LINE + 4.0;
            l.ensure(h);
            let top = l.y;
            let mut x = MARGIN;
            for (cell, w) in wrapped.iter().zip(&widths) {
                for (i, line) in cell.iter().enumerate() {
                    let y = top + 2.0 + (i as f32 + 1.0) * size * LINE - size * 0.3;
                    l.text(x, y, size, bold, INK, line);
                }
                x += w;
            }
            l.y = top + h;
            l.rect(MARGIN, l.y - 0.5, WIDTH, 0.4, RULE);
        };
        if !head.is_empty() {
            draw_row(self, head, true);
        }
        for r in rows {
            draw_row(self, r, false);
        }
        self.y += 4.0;
    }
}

fn colour(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn circle(x: f32, y: f32, r: f32) -> Option<krilla::geom::Path> {
    const K: f32 = 0.552_284_8;
    let k = K * r;
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    pb.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    pb.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    pb.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    pb.close();
    pb.finish()
}

/// Cut `text` to `width` with an ellipsis.
fn fit(m: &Metrics, text: &str, size: f32, bold: bool, width: f32) -> String {
    if m.width(text, size, bold) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for ch in text.chars() {
        if m.width(&format!("{out}{ch} …"), size, bold) > width {
            break;
        }
        out.push(ch);
    }
    format!("{} …", out.trim_end())
}

/// Lay `doc` out on A4 pages and write the PDF.
pub fn render(doc: &Doc) -> Result<Vec<u8>, String> {
    use samskab_frontend::{PDF_FONT_BOLD, PDF_FONT_REGULAR};
    let metrics = Metrics {
        regular: ttf_parser::Face::parse(PDF_FONT_REGULAR, 0).map_err(|e| e.to_string())?,
        bold: ttf_parser::Face::parse(PDF_FONT_BOLD, 0).map_err(|e| e.to_string())?,
    };
    let regular = Font::new(PDF_FONT_REGULAR.into(), 0).ok_or("the regular font")?;
    let bold = Font::new(PDF_FONT_BOLD.into(), 0).ok_or("the bold font")?;

    let mut layout = Layout {
        m: &metrics,
        pages: vec![Vec::new()],
        y: CONTENT_TOP,
    };
    for block in &doc.blocks {
        layout.block(block);
    }
    let pages = layout.pages;
    let total = pages.len();

    let mut document = krilla::Document::new();
    document.set_metadata(
        Metadata::new()
            .title(doc.title.clone())
            .language(doc.lang.clone())
            .creator("Samskab".to_owned()),
    );
    for (i, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let mut header = vec![
            Op::Text {
                x: MARGIN,
                y: 40.0,
                size: 9.0,
                bold: true,
                colour: INK,
                text: fit(&metrics, &doc.title, 9.0, true, WIDTH * 0.62),
            },
            Op::Rect {
                x: MARGIN,
                y: 48.0,
                w: WIDTH,
                h: 0.6,
                colour: RULE,
            },
        ];
        let dw = metrics.width(&doc.date, 9.0, false);
        header.push(Op::Text {
            x: MARGIN + WIDTH - dw,
            y: 40.0,
            size: 9.0,
            bold: false,
            colour: GREY,
            text: doc.date.clone(),
        });
        // A plain message: the locale only matters for Fluent messages.
        let number = fill(
            Locale::Da,
            doc.page_label.clone(),
            &[("n", (i + 1).to_string()), ("total", total.to_string())],
        );
        let nw = metrics.width(&number, 9.0, false);
        header.push(Op::Text {
            x: (PAGE_W - nw) / 2.0,
            y: PAGE_H - 34.0,
            size: 9.0,
            bold: false,
            colour: GREY,
            text: number,
        });
        for op in header.iter().chain(ops) {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    colour: c,
                    text,
                } => {
                    surface.set_fill(Some(colour(*c)));
                    let font = if *b { bold.clone() } else { regular.clone() };
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::LeftToRight,
                    );
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    colour: c,
                } => {
                    if let Some(path) =
                        Rect::from_xywh(*x, *y, w.max(0.1), h.max(0.1)).and_then(|r| {
                            let mut pb = PathBuilder::new();
                            pb.push_rect(r);
                            pb.finish()
                        })
                    {
                        surface.set_fill(Some(colour(*c)));
                        surface.draw_path(&path);
                    }
                }
                Op::Dot { x, y, r, colour: c } => {
                    if let Some(path) = circle(*x, *y, *r) {
                        surface.set_fill(Some(colour(*c)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_word_is_broken_and_every_page_is_a4() {
        let long = "Kommuneplanrammeændringsforslagsbehandlingsprocedurebeskrivelsen".repeat(3);
        let doc = Doc {
            title: "Parken ved åen".into(),
            date: "Frist: 3. marts 2027".into(),
            page_label: "Side {n} af {total}".into(),
            lang: "da".into(),
            blocks: (0..80)
                .map(|i| Block::Para(format!("Afsnit {i}: {long} æøå ÆØÅ")))
                .collect(),
        };
        let bytes = render(&doc).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() > 1000);
    }
}
