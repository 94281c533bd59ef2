//! Pagination, both of Zendesk's kinds.
//!
//! Offset pagination (`page`, `per_page`) returns a total `count`; cursor
//! pagination (`page[size]`, `page[after]`, `page[before]`) walks the id
//! order with keyset conditions, so its cost does not grow with depth.

use sqlx::{Row, any::AnyRow};

use crate::{error::Result, sql::Args};

pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    Offset {
        page: u32,
        per_page: u32,
    },
    Cursor {
        size: u32,
        after: Option<i64>,
        before: Option<i64>,
    },
}

impl PageRequest {
    pub fn first(per_page: u32) -> Self {
        PageRequest::Offset { page: 1, per_page }
    }
}

/// A sort order: a column chosen from a fixed list, then id as tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: &'static str,
    pub descending: bool,
}

impl Sort {
    pub const ID: Sort = Sort {
        column: "id",
        descending: false,
    };
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Total matches (offset pagination only).
    pub count: Option<i64>,
    pub has_more: bool,
    /// Whether rows exist before this page (cursor pagination).
    pub has_prev: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            count: self.count,
            has_more: self.has_more,
            has_prev: self.has_prev,
        }
    }
}

/// A listing: `SELECT {columns} FROM {from} WHERE {cond}` with `args`;
/// `alias` prefixes the id and sort columns (`t.` for tickets).
pub(crate) struct Listing<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub cond: &'a str,
    pub args: &'a Args,
    pub alias: &'a str,
}

/// Runs a listing one page at a time.
pub(crate) async fn fetch(
    conn: &mut sqlx::AnyConnection,
    listing: &Listing<'_>,
    sort: Sort,
    page: PageRequest,
) -> Result<Page<AnyRow>> {
    let Listing {
        columns,
        from,
        cond,
        args,
        alias,
    } = *listing;
    let mut args = args.clone();
    let id = format!("{alias}id");
    match page {
        PageRequest::Offset { page, per_page } => {
            let per_page = per_page.clamp(1, MAX_PER_PAGE) as i64;
            let offset = (page.max(1) as i64 - 1) * per_page;
            let dir = if sort.descending { "DESC" } else { "ASC" };
            let order = if sort.column == "id" {
                format!("{id} {dir}")
            } else {
                format!("{alias}{} {dir}, {id} {dir}", sort.column)
            };
            let limit = args.int(per_page + 1);
            let off = args.int(offset);
            let sql = format!(
                "SELECT {columns} FROM {from} WHERE {cond} ORDER BY {order} LIMIT {limit} OFFSET {off}"
            );
            let mut rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
            let has_more = rows.len() as i64 > per_page;
            rows.truncate(per_page as usize);
            Ok(Page {
                items: rows,
                count: None,
                has_more,
                has_prev: offset > 0,
            })
        }
        PageRequest::Cursor {
            size,
            after,
            before,
        } => {
            let size = size.clamp(1, MAX_PER_PAGE) as i64;
            // Keyset on id; `before` walks backwards and is reversed after.
            let backwards = before.is_some() && after.is_none();
            let mut conds = vec![format!("({cond})")];
            if let Some(a) = after {
                let p = args.int(a);
                conds.push(if sort.descending {
                    format!("{id} < {p}")
                } else {
                    format!("{id} > {p}")
                });
            }
            if let Some(b) = before {
                let p = args.int(b);
                conds.push(if sort.descending {
                    format!("{id} > {p}")
                } else {
                    format!("{id} < {p}")
                });
            }
            let desc = sort.descending != backwards;
            let limit = args.int(size + 1);
            let sql = format!(
                "SELECT {columns} FROM {from} WHERE {} ORDER BY {id} {} LIMIT {limit}",
                conds.join(" AND "),
                if desc { "DESC" } else { "ASC" }
            );
            let mut rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
            let more = rows.len() as i64 > size;
            rows.truncate(size as usize);
            if backwards {
                rows.reverse();
                Ok(Page {
                    items: rows,
                    count: None,
                    has_more: true,
                    has_prev: more,
                })
            } else {
                Ok(Page {
                    items: rows,
                    count: None,
                    has_more: more,
                    has_prev: after.is_some(),
                })
            }
        }
    }
}

/// [`fetch`], plus the total `count` for offset pagination.
pub(crate) async fn fetch_counted(
    conn: &mut sqlx::AnyConnection,
    listing: &Listing<'_>,
    sort: Sort,
    page: PageRequest,
) -> Result<Page<AnyRow>> {
    let mut out = fetch(conn, listing, sort, page).await?;
    if matches!(page, PageRequest::Offset { .. }) {
        out.count = Some(count(conn, listing.from, listing.cond, listing.args).await?);
    }
    Ok(out)
}

/// `SELECT COUNT(*)` for the same condition.
pub(crate) async fn count(
    conn: &mut sqlx::AnyConnection,
    from: &str,
    cond: &str,
    args: &Args,
) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM {from} WHERE {cond}");
    let row = args.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// Row ids of a page, for cursors.
pub fn row_id(row: &AnyRow) -> Option<i64> {
    row.try_get::<i64, _>("id").ok()
}
