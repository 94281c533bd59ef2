//! `/api/v2/help_center/...`: the knowledge base (policies.md §17) in the
//! shape of Zendesk's Help Center API.
//!
//! * Reading is public: categories, sections, published articles and search
//!   answer without credentials (the customer portal and links in e-mails
//!   rely on it). With credentials, staff who read drafts (§8) see them too;
//!   wrong credentials are a 401, not an anonymous read.
//! * Admins create (`POST /articles`, or Zendesk's `POST
//!   /sections/{id}/articles`), edit (`PUT`), publish (`"draft": false`),
//!   unpublish (`"draft": true`) and delete; everyone else gets 403.
//! * Signed-in users vote with Zendesk's `POST /articles/{id}/up` and
//!   `/down`; voting again replaces the earlier vote.
//!
//! Steward has categories only; Zendesk's sections are the same seven
//! (`section_id` = `category_id`), so Zendesk clients that file articles
//! under sections work. Articles are Markdown: `body` is the rendered, safe
//! HTML and `body_markdown` the source. On writes `body_markdown` is the
//! source; a Zendesk client's `body` is taken as the source when
//! `body_markdown` is absent (HTML in it shows as text, never runs).
//! A non-staff reader opening one article counts a view.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{
    kb::{ArticleBody, ArticleStatus, ArticleTitle, Tags},
    time::format_unix,
};
use steward_store::{
    Actor, PageRequest, Sort,
    kb::{ARTICLE_SORTS, Article, ArticleFilter, ArticleInput, Category, VoteDirection, Voter},
};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, MaybeAuth, Params, require_admin},
    input::{Reader, envelope},
    paging,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/help_center/categories", get(categories)),
        ("/api/v2/help_center/categories/{id}", get(category)),
        (
            "/api/v2/help_center/categories/{id}/articles",
            get(category_articles),
        ),
        ("/api/v2/help_center/sections", get(sections)),
        ("/api/v2/help_center/sections/{id}", get(section)),
        (
            "/api/v2/help_center/sections/{id}/articles",
            get(category_articles).post(create_in_section),
        ),
        ("/api/v2/help_center/articles", get(list).post(create)),
        ("/api/v2/help_center/articles/search", get(search)),
        (
            "/api/v2/help_center/articles/{id}",
            get(show).put(update).delete(destroy),
        ),
        ("/api/v2/help_center/articles/{id}/up", post(vote_up)),
        ("/api/v2/help_center/articles/{id}/down", post(vote_down)),
    ]
}

/// The help center serves one locale.
const LOCALE: &str = "en-us";

fn category_json(c: &Category, base: &str) -> Value {
    json!({
        "id": c.id,
        "url": format!("{base}/api/v2/help_center/categories/{}.json", c.id),
        "html_url": format!("{base}/hc/categories/{}", c.id),
        "name": c.name,
        "description": c.description,
        "position": c.position,
        "locale": LOCALE,
        "source_locale": LOCALE,
        "outdated": false,
        "article_count": c.article_count,
        "created_at": format_unix(c.created_at),
        "updated_at": format_unix(c.updated_at),
    })
}

/// A category in Zendesk's section shape (one section per category).
fn section_json(c: &Category, base: &str) -> Value {
    let mut v = category_json(c, base);
    v["url"] = json!(format!("{base}/api/v2/help_center/sections/{}.json", c.id));
    v["category_id"] = json!(c.id);
    v["sorting"] = json!("manual");
    v
}

/// An article in Zendesk's shape, plus Steward's `body_markdown`, `status`,
/// `category_id`, `view_count`, `author_name` and helpful counts.
pub(crate) fn article_json(a: &Article, base: &str) -> Value {
    json!({
        "id": a.id,
        "url": format!("{base}/api/v2/help_center/articles/{}.json", a.id),
        "html_url": format!("{base}/hc/articles/{}", a.id),
        "title": a.title,
        "body": a.body_html(),
        "body_markdown": a.body,
        "draft": a.is_draft(),
        "status": a.status.as_str(),
        "section_id": a.category_id,
        "category_id": a.category_id,
        "author_id": a.author_id,
        "author_name": a.author_name.as_deref().unwrap_or("Steward"),
        "label_names": a.tags,
        "vote_sum": a.vote_sum,
        "vote_count": a.vote_count,
        "helpful_count": a.helpful(),
        "not_helpful_count": a.not_helpful(),
        "view_count": a.view_count,
        "locale": LOCALE,
        "source_locale": LOCALE,
        "outdated": false,
        "promoted": false,
        "position": 0,
        "comments_disabled": true,
        "created_at": format_unix(a.created_at),
        "updated_at": format_unix(a.updated_at),
        "edited_at": format_unix(a.updated_at),
        "published_at": a.published_at.map(format_unix),
    })
}

async fn categories(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let all = state.store.kb_categories(reader.as_ref()).await?;
    let b = base(&state, &headers);
    let items: Vec<Value> = all.iter().map(|c| category_json(c, &b)).collect();
    Ok(Json(single_page("categories", items)))
}

async fn category(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let c = state.store.kb_category(reader.as_ref(), id).await?;
    Ok(Json(
        json!({"category": category_json(&c, &base(&state, &headers))}),
    ))
}

async fn sections(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let all = state.store.kb_categories(reader.as_ref()).await?;
    let b = base(&state, &headers);
    let items: Vec<Value> = all.iter().map(|c| section_json(c, &b)).collect();
    Ok(Json(single_page("sections", items)))
}

async fn section(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let c = state.store.kb_category(reader.as_ref(), id).await?;
    Ok(Json(
        json!({"section": section_json(&c, &base(&state, &headers))}),
    ))
}

/// The whole (short) list as one page, in Zendesk's offset envelope.
fn single_page(key: &str, items: Vec<Value>) -> Value {
    let n = items.len();
    json!({
        key: items,
        "count": n,
        "page": 1,
        "per_page": n.max(1),
        "page_count": 1,
        "next_page": null,
        "previous_page": null,
    })
}

/// `label_names=a,b` (articles with any of them), lower-cased.
fn labels(p: &Params) -> Vec<String> {
    p.get("label_names")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Steward's `draft=true|false` filter on lists.
fn draft_filter(p: &Params) -> ApiResult<Option<ArticleStatus>> {
    match p.get("draft") {
        None => Ok(None),
        Some("true") => Ok(Some(ArticleStatus::Draft)),
        Some("false") => Ok(Some(ArticleStatus::Published)),
        Some(_) => Err(ApiError::bad_request("draft must be true or false")),
    }
}

/// Pagination and sorting; Zendesk's `position` and `edited_at` sorts map
/// onto Steward's id (the authoring order) and `updated_at`.
fn list_request(p: &Params) -> ApiResult<(PageRequest, Sort)> {
    let mut sortable: Vec<&'static str> = ARTICLE_SORTS.to_vec();
    sortable.extend(["position", "edited_at"]);
    let (req, mut sort) = paging::request(p, &sortable)?;
    sort.column = match sort.column {
        "position" => "id",
        "edited_at" => "updated_at",
        c => c,
    };
    Ok((req, sort))
}

async fn list_articles(
    state: &AppState,
    reader: Option<&Actor>,
    filter: ArticleFilter,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: &Params,
) -> ApiResult<Json<Value>> {
    let (req, sort) = list_request(params)?;
    let page = state.store.kb_articles(reader, &filter, req, sort).await?;
    let b = base(state, headers);
    let items = page.items.iter().map(|a| article_json(a, &b)).collect();
    Ok(Json(paging::envelope(
        "articles",
        &page,
        items,
        req,
        uri,
        &b,
        |a| a.id,
    )))
}

async fn list(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let filter = ArticleFilter {
        category_id: None,
        status: draft_filter(&params)?,
        tags: labels(&params),
    };
    list_articles(&state, reader.as_ref(), filter, &headers, &uri, &params).await
}

async fn category_articles(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    // An unknown category is a 404, not an empty list.
    state.store.kb_category(reader.as_ref(), id).await?;
    let filter = ArticleFilter {
        category_id: Some(id),
        status: draft_filter(&params)?,
        tags: labels(&params),
    };
    list_articles(&state, reader.as_ref(), filter, &headers, &uri, &params).await
}

async fn show(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    // Views are what customers and visitors read, not staff at work.
    let count_view = reader.as_ref().is_none_or(|a| !a.role().is_staff());
    let a = state
        .store
        .kb_article(reader.as_ref(), id, count_view)
        .await?;
    Ok(Json(
        json!({"article": article_json(&a, &base(&state, &headers))}),
    ))
}

/// The `article` object of a create or update. All problems are reported
/// together as one 422.
fn article_input(body: &Value, creating: bool) -> ApiResult<ArticleInput> {
    let mut r = Reader::new(envelope(body, "article")?, "article")?;
    let mut input = ArticleInput::default();

    match r.string("title", usize::MAX) {
        None if creating && !r.has("title") => r.error("title", "is required"),
        None => {}
        Some(None) => r.error("title", "cannot be blank"),
        Some(Some(t)) => match ArticleTitle::parse(&t) {
            Ok(t) => input.title = Some(t),
            Err(e) => r.error("title", e.0),
        },
    }

    let body_key = if r.has("body_markdown") {
        "body_markdown"
    } else {
        "body"
    };
    match r.raw(body_key) {
        None => {}
        Some(Value::Null) => input.body = Some(ArticleBody::default()),
        Some(Value::String(s)) => match ArticleBody::parse(s) {
            Ok(b) => input.body = Some(b),
            Err(e) => r.error(body_key, e.0),
        },
        Some(_) => r.error(body_key, "must be a string"),
    }

    // `category_id` and `section_id` name the same thing.
    let category = r.int("category_id");
    let section = r.int("section_id");
    match (category, section) {
        (Some(Some(c)), Some(Some(s))) if c != s => r.error(
            "section_id",
            "names another category than category_id (they are the same in Steward)",
        ),
        (Some(None), _) | (_, Some(None)) => r.error("category_id", "cannot be null"),
        (Some(Some(c)), _) | (None, Some(Some(c))) => input.category_id = Some(c),
        (None, None) => {}
    }

    let draft = r.boolean("draft");
    let status = match r.string("status", 64) {
        None => None,
        Some(None) => {
            r.error("status", "cannot be null");
            None
        }
        Some(Some(s)) => match ArticleStatus::parse(&s) {
            Ok(s) => Some(s),
            Err(e) => {
                r.error("status", e.0);
                None
            }
        },
    };
    let from_draft = draft.map(|d| {
        if d {
            ArticleStatus::Draft
        } else {
            ArticleStatus::Published
        }
    });
    match (from_draft, status) {
        (Some(a), Some(b)) if a != b => r.error("draft", "contradicts status"),
        (a, b) => input.status = a.or(b),
    }

    if let Some(list) = r.strings("label_names") {
        match Tags::parse(&list) {
            Ok(t) => input.tags = Some(t),
            Err(e) => r.error("label_names", e.0),
        }
    }
    r.finish()?;
    Ok(input)
}

async fn create_article(
    state: &AppState,
    actor: &Actor,
    mut input: ArticleInput,
    headers: &HeaderMap,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if input.category_id.is_none() {
        return Err(ApiError::invalid(vec![(
            "article.section_id".into(),
            "is required (the category: section_id or category_id)".into(),
        )]));
    }
    input.status = input.status.or(Some(ArticleStatus::Draft));
    let a = state
        .store
        .create_kb_article(actor, input, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"article": article_json(&a, &base(state, headers))})),
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_admin(&actor)?;
    let input = article_input(&body, true)?;
    create_article(&state, &actor, input, &headers).await
}

/// Zendesk's create path: the section (= category) comes from the URL.
async fn create_in_section(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_admin(&actor)?;
    // An unknown section in the path is a 404, like any unknown resource.
    state.store.kb_category(Some(&actor), id).await?;
    let mut input = article_input(&body, true)?;
    if input.category_id.is_some_and(|c| c != id) {
        return Err(ApiError::invalid(vec![(
            "article.section_id".into(),
            "differs from the section in the URL".into(),
        )]));
    }
    input.category_id = Some(id);
    create_article(&state, &actor, input, &headers).await
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let input = article_input(&body, false)?;
    let a = state
        .store
        .update_kb_article(&actor, id, input, state.now())
        .await?;
    Ok(Json(
        json!({"article": article_json(&a, &base(&state, &headers))}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    require_admin(&actor)?;
    state.store.delete_kb_article(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn search(
    State(state): State<AppState>,
    MaybeAuth(reader): MaybeAuth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let query = params
        .get("query")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::bad_request("query is required"))?;
    if query.chars().count() > 1_000 {
        return Err(ApiError::bad_request(
            "query is too long (at most 1,000 characters)",
        ));
    }
    let category_id = match params.get("category").or(params.get("section")) {
        None => None,
        Some(v) => Some(
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request("category and section take a category id"))?,
        ),
    };
    let page_no = params.u32("page")?.unwrap_or(1).max(1);
    let per_page = params.u32("per_page")?.unwrap_or(25).max(1);
    if per_page > 100 {
        return Err(ApiError::bad_request("per_page is at most 100"));
    }
    let filter = ArticleFilter {
        category_id,
        status: None,
        tags: labels(&params),
    };
    let page = state
        .store
        .search_kb(reader.as_ref(), query, &filter, page_no, per_page)
        .await?;
    let b = base(&state, &headers);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|hit| {
            let mut v = article_json(&hit.article, &b);
            v["result_type"] = json!("article");
            v["snippet"] = json!(hit.snippet);
            v
        })
        .collect();
    let count = page.count.unwrap_or(0);
    let req = PageRequest::Offset {
        page: page_no,
        per_page,
    };
    let mut body = paging::envelope("results", &page, items, req, &uri, &b, |h| h.article.id);
    body["page"] = json!(page_no);
    body["per_page"] = json!(per_page);
    body["page_count"] = json!((count + per_page as i64 - 1) / per_page as i64);
    Ok(Json(body))
}

async fn vote(
    state: &AppState,
    actor: &Actor,
    id: i64,
    direction: VoteDirection,
    headers: &HeaderMap,
) -> ApiResult<Json<Value>> {
    let v = state
        .store
        .vote_kb_article(Voter::User(actor), id, direction, state.now())
        .await?;
    let b = base(state, headers);
    Ok(Json(json!({"vote": {
        "id": v.id,
        "url": format!("{b}/api/v2/help_center/votes/{}.json", v.id),
        "user_id": v.user_id,
        "value": v.value,
        "item_id": v.article_id,
        "item_type": "Article",
        "created_at": format_unix(v.created_at),
        "updated_at": format_unix(v.updated_at),
    }})))
}

async fn vote_up(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    vote(&state, &actor, id, VoteDirection::Up, &headers).await
}

async fn vote_down(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    vote(&state, &actor, id, VoteDirection::Down, &headers).await
}
