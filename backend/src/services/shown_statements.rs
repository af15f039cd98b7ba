//! The statements a conversation's pages show, kept in memory per
//! consultation, and the opinion API's answer kept per snapshot.
//!
//! A big conversation has hundreds of statements; reading them all from the
//! database on every view of the voting page, the statement list and the
//! opinion API was most of what those pages cost. They change seldom (a new
//! statement, a moderation decision), and every change moves the
//! consultation's `statements_version` in the same transaction: a database
//! trigger on `statements` does it (migration
//! `m20261224_000001_statements_version`), so no write path can forget it.
//! The pages read the consultation row anyway, so they learn the current
//! marker without another query, and a change made by another server process
//! on the same database is seen on the next view.
//!
//! Why a kept copy is never older than what a request must show: the marker
//! is read (with the consultation) before the statements are read, so a copy
//! is labelled with a marker no newer than its contents; a request uses the
//! copy only when the marker it read equals that label.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::DatabaseConnection;

use crate::entities::{consultation, statement};
use crate::errors::AppError;

use super::snapshots::database_key;
use super::statements::{self, StatementStatus};

/// A consultation's statements as its pages use them.
pub struct Statements {
    /// Every statement, by number.
    pub all: Vec<statement::Model>,
    /// Those offered to voters (accepted, not a duplicate), by number.
    pub accepted: Vec<statement::Model>,
    /// Position in `accepted` of each accepted statement's id.
    position: HashMap<i64, usize>,
    /// Position in `all` of each statement's number.
    by_number: HashMap<i64, usize>,
}

impl Statements {
    fn new(all: Vec<statement::Model>) -> Self {
        let accepted: Vec<statement::Model> = all
            .iter()
            .filter(|s| s.status == StatementStatus::Accepted && s.duplicate_of.is_none())
            .cloned()
            .collect();
        let position = accepted
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        let by_number = all.iter().enumerate().map(|(i, s)| (s.number, i)).collect();
        Self {
            all,
            accepted,
            position,
            by_number,
        }
    }

    /// Where the accepted statement `id` is in `accepted`.
    pub fn position_of(&self, id: i64) -> Option<usize> {
        self.position.get(&id).copied()
    }

    /// Any statement of the consultation by its number.
    pub fn by_number(&self, number: i64) -> Option<&statement::Model> {
        self.by_number.get(&number).and_then(|&i| self.all.get(i))
    }
}

/// Statements per page of the statement list: each comes with its vote
/// form, and a big conversation's hundreds would make one page of megabytes.
pub const LIST_PAGE_SIZE: usize = 50;

/// One page of the statement list.
pub struct ListPage<'a> {
    /// 1-based, within `1..=pages`.
    pub page: usize,
    /// At least 1 (an empty list has one empty page).
    pub pages: usize,
    /// Position of the first item among the accepted statements.
    pub first: usize,
    pub total: usize,
    pub items: &'a [statement::Model],
}

impl Statements {
    /// Page `page` of the accepted statements (the last one when it is
    /// beyond the end, the first when 0).
    pub fn list_page(&self, page: usize) -> ListPage<'_> {
        let total = self.accepted.len();
        let pages = total.div_ceil(LIST_PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        let first = (page - 1) * LIST_PAGE_SIZE;
        let items = self
            .accepted
            .get(first..total.min(first + LIST_PAGE_SIZE))
            .unwrap_or_default();
        ListPage {
            page,
            pages,
            first,
            total,
            items,
        }
    }

    /// The list page that shows accepted statement `id` (the first page for
    /// one that is not offered).
    pub fn list_page_of(&self, id: i64) -> usize {
        self.position_of(id).map_or(1, |i| i / LIST_PAGE_SIZE + 1)
    }
}

type Key = (String, i64);

/// Which consultation a kept value belongs to, and what it was made from.
/// The creation time and slug guard against a consultation id used again
/// by a database restored or rebuilt under a running process.
#[derive(Clone, PartialEq, Eq)]
struct Label {
    version: i64,
    created_at: chrono::DateTime<chrono::Utc>,
    slug: String,
}

impl Label {
    fn of(c: &consultation::Model) -> Self {
        Self {
            version: c.statements_version,
            created_at: c.created_at,
            slug: c.slug.clone(),
        }
    }
}

/// A consultation's statements and the label they were read under.
type KeptStatements = (Label, Arc<Statements>);

static KEPT: LazyLock<Mutex<HashMap<Key, KeptStatements>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The statements of `c` (as read with it): the kept copy when its marker
/// is `c`'s, else read from the database and kept.
pub async fn of(
    db: &DatabaseConnection,
    c: &consultation::Model,
) -> Result<Arc<Statements>, AppError> {
    let key = (database_key(db), c.id);
    let label = Label::of(c);
    {
        let kept = KEPT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((l, s)) = kept.get(&key)
            && *l == label
        {
            return Ok(Arc::clone(s));
        }
    }
    let fresh = Arc::new(Statements::new(statements::list_all(db, c.id).await?));
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // A slower request that read an older marker must not replace a newer
    // copy (it would only cost a read, but the newest copy serves more views).
    let older = kept
        .get(&key)
        .is_some_and(|(l, _)| l.created_at == label.created_at && l.version > label.version);
    if !older {
        kept.insert(key, (label, Arc::clone(&fresh)));
    }
    Ok(fresh)
}

/// The opinion API's answer with what it was built from: the statements'
/// label and the snapshot row.
type KeptOpinion = (Label, i64, Arc<[u8]>);

/// The opinion API's answer, kept per consultation.
static OPINION: LazyLock<Mutex<HashMap<Key, KeptOpinion>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The opinion API's body for snapshot row `row_id` of `c`: the kept one when
/// neither the snapshot nor the statements changed since it was built, else
/// `build`'s (built from the statements) and kept.
pub async fn opinion_body(
    db: &DatabaseConnection,
    c: &consultation::Model,
    row_id: i64,
    build: impl FnOnce(&Statements) -> Result<Vec<u8>, AppError>,
) -> Result<Arc<[u8]>, AppError> {
    let key = (database_key(db), c.id);
    let label = Label::of(c);
    {
        let kept = OPINION
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((l, r, body)) = kept.get(&key)
            && *l == label
            && *r == row_id
        {
            return Ok(Arc::clone(body));
        }
    }
    let statements = of(db, c).await?;
    let body: Arc<[u8]> = build(&statements)?.into();
    OPINION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key, (label, row_id, Arc::clone(&body)));
    Ok(body)
}
