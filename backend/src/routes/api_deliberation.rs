//! JSON API of a consultation's conversation: its statements and the latest
//! opinion snapshot. Plain serde handlers; errors become JSON through the
//! error-page middleware (everything under /api/).
//! Both endpoints are in the OpenAPI document (`routes::api::ApiDoc`).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::errors::AppError;
use crate::opinion::{Direction, Receipt};
use crate::routes::context::Ctx;
use crate::services::shown_statements::{self, Statements};
use crate::services::{snapshots, statements};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(show);
}

#[derive(Serialize, ToSchema)]
pub struct ApiStatement {
    pub id: i64,
    /// Number within the consultation (the opinion engine's statement id).
    pub number: i64,
    pub text: String,
    pub is_meta: bool,
    pub is_seed: bool,
    /// Votes as of `counted_at`.
    pub agree: u32,
    pub disagree: u32,
    pub pass: u32,
}

#[derive(Serialize, ToSchema)]
pub struct ApiStatements {
    pub consultation: String,
    /// When the vote counts were made: by the latest opinion analysis (the
    /// one `/opinion` shows), which follows new votes within seconds. Null
    /// before the first analysis; every count is then 0.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub counted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The newest vote (history id) the counts include, 0 before the first
    /// analysis.
    pub vote_high_water_mark: i64,
    pub statements: Vec<ApiStatement>,
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}/statements",
    params(("slug" = String, Path, description = "The consultation's short name")),
    responses(
        (status = 200, description = "Accepted statements with their vote counts as of the latest opinion analysis", body = ApiStatements),
        (status = 404, description = "No such public consultation with a conversation")
    )
)]
#[get("/api/v1/consultations/{slug}/statements")]
pub async fn list(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let c = statements::conversation(db, ctx.user.as_ref(), &slug).await?;
    let shown = shown_statements::of(db, &c).await?;
    // The counts of the latest snapshot (kept parsed in the process), not a
    // count of the votes: that read every vote of the consultation on every
    // request, seconds at two million votes, on a public endpoint.
    let latest = snapshots::latest(db, c.id).await?;
    let counts_of = |number: i64| {
        latest
            .as_ref()
            .and_then(|(_, snap)| snap.statements.get(&number))
            .map_or((0, 0, 0), |r| {
                let n = r.counts;
                (n.na, n.nd, n.ns.saturating_sub(n.na + n.nd))
            })
    };
    let list = shown
        .accepted
        .iter()
        .map(|s| {
            let (agree, disagree, pass) = counts_of(s.number);
            ApiStatement {
                id: s.id,
                number: s.number,
                text: s.body.clone(),
                is_meta: s.is_meta,
                is_seed: s.is_seed,
                agree,
                disagree,
                pass,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(ApiStatements {
        consultation: c.slug,
        counted_at: latest.as_ref().map(|(row, _)| row.computed_at),
        vote_high_water_mark: latest
            .as_ref()
            .map_or(0, |(row, _)| row.vote_high_water_mark),
        statements: list,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ApiRepresentative {
    pub statement_id: i64,
    pub text: String,
    /// agree or disagree
    #[schema(value_type = String)]
    pub direction: Direction,
    /// Share of the group agreeing (or disagreeing, by direction), smoothed.
    pub share: f64,
}

#[derive(Serialize, ToSchema)]
pub struct ApiGroup {
    pub id: usize,
    pub name: String,
    pub members: usize,
    pub representative: Vec<ApiRepresentative>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiConsensusStatement {
    pub statement_id: i64,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiConsensus {
    pub agree: Vec<ApiConsensusStatement>,
    pub disagree: Vec<ApiConsensusStatement>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiOpinion {
    pub consultation: String,
    /// warm | final
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub computed_at: chrono::DateTime<chrono::Utc>,
    pub vote_high_water_mark: i64,
    pub k: usize,
    pub participants_clustered: usize,
    pub groups: Vec<ApiGroup>,
    pub consensus: ApiConsensus,
    /// The math receipt: input hash, seed, parameters, silhouette per k.
    #[schema(value_type = Object)]
    pub receipt: Receipt,
}

#[utoipa::path(
    get,
    path = "/api/v1/consultations/{slug}/opinion",
    params(("slug" = String, Path, description = "The consultation's short name")),
    responses(
        (status = 200, description = "The latest opinion snapshot: groups, consensus, receipt", body = ApiOpinion),
        (status = 404, description = "No such consultation, or no snapshot yet")
    )
)]
#[get("/api/v1/consultations/{slug}/opinion")]
pub async fn show(ctx: Ctx, slug: web::Path<String>) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.db;
    let c = statements::conversation(db, ctx.user.as_ref(), &slug).await?;
    let (row, snap) = snapshots::latest(db, c.id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The answer changes only with a new snapshot or a statement change: it is
    // built once and kept (a big conversation's is tens of kilobytes).
    let body = shown_statements::opinion_body(db, &c, row.id, |all| {
        let opinion = opinion(&c, &row, &snap, all);
        serde_json::to_vec(&opinion).map_err(|e| AppError::Unexpected(e.into()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(actix_web::web::Bytes::from_owner(body)))
}

/// The API's view of snapshot `row` (parsed: `snap`), its statement numbers
/// told as ids and texts.
fn opinion(
    c: &crate::entities::consultation::Model,
    row: &crate::entities::opinion_snapshot::Model,
    snap: &crate::opinion::Snapshot,
    all: &Statements,
) -> ApiOpinion {
    let describe = |n: i64| {
        all.by_number(n)
            .map_or((0, String::new()), |s| (s.id, s.body.clone()))
    };
    let groups = snap
        .groups
        .iter()
        .map(|g| ApiGroup {
            id: g.id,
            name: crate::services::snapshots::group_name(g.id),
            members: g.members,
            representative: g
                .representative
                .iter()
                .map(|r| {
                    let (statement_id, text) = describe(r.statement);
                    ApiRepresentative {
                        statement_id,
                        text,
                        direction: r.direction,
                        share: match r.direction {
                            Direction::Agree => r.stats.pa,
                            Direction::Disagree => r.stats.pd,
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let consensus = |items: &[crate::opinion::ConsensusStatement]| {
        items
            .iter()
            .map(|c| {
                let (statement_id, text) = describe(c.statement);
                ApiConsensusStatement { statement_id, text }
            })
            .collect()
    };
    ApiOpinion {
        consultation: c.slug.clone(),
        kind: row.kind.as_str().to_owned(),
        computed_at: row.computed_at,
        vote_high_water_mark: row.vote_high_water_mark,
        k: snap.k,
        participants_clustered: snap.receipt.counts.in_conv,
        groups,
        consensus: ApiConsensus {
            agree: consensus(&snap.consensus.agree),
            disagree: consensus(&snap.consensus.disagree),
        },
        receipt: snap.receipt.clone(),
    }
}
