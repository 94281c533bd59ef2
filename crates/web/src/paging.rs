//! Zendesk's two pagination styles on list endpoints.
//!
//! `?page[size]=N` (with `page[after]` / `page[before]` cursors) selects
//! cursor pagination and answers with `meta` and `links`; otherwise offset
//! pagination with `page`, `per_page` (at most 100), `sort_by`, `sort_order`
//! answers with `next_page`, `previous_page` and `count`. Cursors are opaque
//! to clients (base64 of the boundary id).

use axum::http::{HeaderMap, Uri, header};
use base64::Engine;
use serde_json::{Map, Value, json};
use steward_store::{Page, PageRequest, Sort};

use crate::{error::ApiError, extract::Params};

pub const DEFAULT_PER_PAGE: u32 = 100;

/// The request's base URL (`http://host:port`), from the Host header, for
/// the `url`, `next_page` and `links` fields clients follow.
pub fn base_url(headers: &HeaderMap, public_url: Option<&str>) -> String {
    if let Some(p) = public_url {
        return p.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}

fn decode_cursor(s: &str) -> Result<i64, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request("page[after] / page[before] is not a cursor this server issued")
        })
}

/// Reads pagination and sorting. `sortable` lists the columns offset
/// pagination may sort by (the first is the default).
pub fn request(p: &Params, sortable: &[&'static str]) -> Result<(PageRequest, Sort), ApiError> {
    if let Some(size) = p.u32("page[size]")? {
        let after = p.get("page[after]").map(decode_cursor).transpose()?;
        let before = p.get("page[before]").map(decode_cursor).transpose()?;
        let descending = match p.get("sort") {
            None | Some("id") => false,
            Some("-id") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "cursor pagination sorts by id or -id, not {other}"
                )));
            }
        };
        return Ok((
            PageRequest::Cursor {
                size,
                after,
                before,
            },
            Sort {
                column: "id",
                descending,
            },
        ));
    }
    let page = p.u32("page")?.unwrap_or(1).max(1);
    let per_page = p.u32("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
    if per_page > 100 {
        return Err(ApiError::bad_request("per_page is at most 100"));
    }
    let column = match p.get("sort_by") {
        None => sortable.first().copied().unwrap_or("id"),
        Some(s) => sortable.iter().copied().find(|c| *c == s).ok_or_else(|| {
            ApiError::bad_request(format!("sort_by must be one of {}", sortable.join(", ")))
        })?,
    };
    let descending = match p.get("sort_order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::bad_request("sort_order must be asc or desc")),
    };
    Ok((
        PageRequest::Offset {
            page,
            per_page: per_page.max(1),
        },
        Sort { column, descending },
    ))
}

/// `{key: items, ...pagination}`, serialized without building the items
/// as `serde_json::Value`s first.
pub struct Envelope<I> {
    key: String,
    items: I,
    rest: Map<String, Value>,
}

impl<I: serde::Serialize> serde::Serialize for Envelope<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1 + self.rest.len()))?;
        m.serialize_entry(&self.key, &self.items)?;
        for (k, v) in &self.rest {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Builds `{key: items, ...pagination}` for a page.
pub fn envelope_of<T, I>(
    key: &str,
    page: &Page<T>,
    items: I,
    req: PageRequest,
    uri: &Uri,
    base: &str,
    ids: impl Fn(&T) -> i64,
) -> Envelope<I> {
    Envelope {
        key: key.to_string(),
        items,
        rest: pagination(page, req, uri, base, ids),
    }
}

/// [`envelope_of`] for items already rendered as JSON values.
pub fn envelope<T>(
    key: &str,
    page: &Page<T>,
    items: Vec<Value>,
    req: PageRequest,
    uri: &Uri,
    base: &str,
    ids: impl Fn(&T) -> i64,
) -> Value {
    let mut body = pagination(page, req, uri, base, ids);
    body.insert(key.to_string(), Value::Array(items));
    Value::Object(body)
}

/// The pagination fields of a page: `next_page`, `previous_page` and
/// `count` (offset pagination) or `meta` and `links` (cursor pagination).
fn pagination<T>(
    page: &Page<T>,
    req: PageRequest,
    uri: &Uri,
    base: &str,
    ids: impl Fn(&T) -> i64,
) -> Map<String, Value> {
    let mut body = Map::new();
    let link = |replace: &[(&str, String)], drop: &[&str]| {
        let mut pairs: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter(|kv| !kv.is_empty())
                    .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        pairs.retain(|(k, _)| {
            let decoded = k.replace("%5B", "[").replace("%5D", "]");
            !replace.iter().any(|(r, _)| *r == decoded) && !drop.contains(&decoded.as_str())
        });
        for (k, v) in replace {
            pairs.push((k.to_string(), v.clone()));
        }
        let q = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        Value::String(format!("{base}{}?{q}", uri.path()))
    };
    match req {
        PageRequest::Offset { page: n, .. } => {
            body.insert(
                "next_page".into(),
                if page.has_more {
                    link(&[("page", (n + 1).to_string())], &[])
                } else {
                    Value::Null
                },
            );
            body.insert(
                "previous_page".into(),
                if n > 1 {
                    link(&[("page", (n - 1).to_string())], &[])
                } else {
                    Value::Null
                },
            );
            body.insert("count".into(), json!(page.count.unwrap_or(0)));
        }
        PageRequest::Cursor { .. } => {
            let first = page.items.first().map(&ids).map(encode_cursor);
            let last = page.items.last().map(&ids).map(encode_cursor);
            body.insert(
                "meta".into(),
                json!({"has_more": page.has_more, "after_cursor": last, "before_cursor": first}),
            );
            let next = match (&last, page.has_more) {
                (Some(c), true) => link(&[("page[after]", c.clone())], &["page[before]"]),
                _ => Value::Null,
            };
            let prev = match (&first, page.has_prev) {
                (Some(c), true) => link(&[("page[before]", c.clone())], &["page[after]"]),
                _ => Value::Null,
            };
            body.insert("links".into(), json!({"next": next, "prev": prev}));
        }
    }
    body
}
