//! The knowledge-base pages (policies.md §17) over `steward_store::kb`.
//!
//! - **Staff** (`/kb`): the seven categories with their article counts, a
//!   category's articles (drafts included, for the roles §8 lets read
//!   them), an article, full-text search, and for admins the editor: new,
//!   edit with a live Markdown preview, save as draft, publish, unpublish,
//!   delete after a confirmation page.
//! - **Public** (`/help`, no sign-in needed): published articles only,
//!   read exactly as an anonymous visitor reads them whoever is looking, so
//!   a draft's address is a 404 here even for staff. Reading an article
//!   counts a view unless the reader is staff (staff at work are not
//!   readers). "Was this article helpful?" is a POST form: signed-in users
//!   vote as themselves (session CSRF token), anonymous visitors by a
//!   random visitor cookie (double-submit CSRF cookie, as the sign-in
//!   forms); the store keeps one vote per voter and article.
//!
//! Bodies are rendered by `steward_domain::kb::render_markdown`, which
//! escapes raw HTML and neutralises unsafe links, so the templates mark
//! exactly three things `|safe`: an article body, a preview, and a search
//! snippet (HTML-escaped by the store, `<em>` around the matches).

use std::collections::{BTreeMap, HashMap};

use axum::{
    Router,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use steward_domain::kb::{self as rules, ArticleBody, ArticleStatus, ArticleTitle, Tags};
use steward_store::{
    Actor, PageRequest, Sort, StoreError,
    kb::{Article, ArticleFilter, ArticleInput, Category, VoteDirection, Voter},
    sessions::WebSession,
};

use super::{
    page::{UiError, page, render},
    session::{Fields, MaybeSignedIn, Posted, PublicForm, Staff, cookie, login_csrf, set_cookie},
};
use crate::{AppState, extract::parse_id};

/// Articles per page in a category or a search.
const PER_PAGE: u32 = 50;
/// The anonymous visitor's key for votes: random, kept for a year.
const VISITOR_COOKIE: &str = "steward_kb_visitor";
const VISITOR_MAX_AGE: i64 = 365 * 86_400;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/kb", get(staff_home))
        .route("/kb/new", get(new_article).post(create_article))
        .route("/kb/preview", post(preview))
        .route("/kb/categories/{id}", get(staff_category))
        .route("/kb/articles/{id}", get(staff_article))
        .route(
            "/kb/articles/{id}/edit",
            get(edit_article).post(update_article),
        )
        .route("/kb/articles/{id}/publish", post(publish))
        .route("/kb/articles/{id}/unpublish", post(unpublish))
        .route(
            "/kb/articles/{id}/delete",
            get(confirm_delete).post(delete_article),
        )
        .route("/help", get(help_home))
        .route("/help/categories/{id}", get(help_category))
        .route("/help/articles/{id}", get(help_article))
        .route("/help/articles/{id}/vote", post(vote))
}

// ---------------------------------------------------------------------------
// Extractors

/// A numeric id from the path; anything else is the HTML 404 page.
struct PathId(i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| UiError::not_found())?;
        parse_id(&raw).map(PathId).ok_or_else(UiError::not_found)
    }
}

/// The query string, refused as a 400 page when it cannot be read.
struct Q(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UiError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| UiError::bad_request("The address has a malformed query string."))?;
        if map
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(UiError::bad_request(
                "The address must not contain NUL characters.",
            ));
        }
        Ok(Q(map))
    }
}

impl Q {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// `page=N`, 1 when absent.
    fn page(&self) -> Result<u32, UiError> {
        match self.get("page") {
            None => Ok(1),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=10_000).contains(p))
                .ok_or_else(|| UiError::bad_request("page must be a number from 1 to 10000.")),
        }
    }
}

/// A vote from the public side: a signed-in user's form (session CSRF) or
/// an anonymous visitor's (double-submit cookie), with the visitor's key
/// when the browser already has one.
enum HelpForm {
    User(Box<Posted>),
    Visitor { fields: Fields, key: Option<String> },
}

impl FromRequest<AppState> for HelpForm {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, UiError> {
        let (mut parts, body) = req.into_parts();
        let MaybeSignedIn(session) = MaybeSignedIn::from_request_parts(&mut parts, state).await?;
        let key = cookie(&parts.headers, VISITOR_COOKIE)
            .filter(|k| valid_visitor_key(k))
            .map(str::to_string);
        let req = Request::from_parts(parts, body);
        if session.is_some() {
            Ok(HelpForm::User(Box::new(
                Posted::from_request(req, state).await?,
            )))
        } else {
            let PublicForm(fields) = PublicForm::from_request(req, state).await?;
            Ok(HelpForm::Visitor { fields, key })
        }
    }
}

fn valid_visitor_key(k: &str) -> bool {
    (32..=128).contains(&k.len())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// ---------------------------------------------------------------------------
// Template values

fn category_value(c: &Category) -> Value {
    context! {
        id => c.id, name => c.name.clone(), description => c.description.clone(),
        count => c.article_count,
    }
}

fn article_value(a: &Article, categories: &[Category]) -> Value {
    let category = categories
        .iter()
        .find(|c| c.id == a.category_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    context! {
        id => a.id, title => a.title.clone(), status => a.status.as_str(), draft => a.is_draft(),
        category_id => a.category_id, category,
        author => a.author_name.clone().unwrap_or_else(|| "Steward".to_string()),
        tags => a.tags.clone(), views => a.view_count, helpful => a.helpful(),
        not_helpful => a.not_helpful(), votes => a.vote_count,
        created_at => a.created_at, updated_at => a.updated_at, published_at => a.published_at,
    }
}

/// Where the pages live and what they show: the staff side or the public
/// help center.
#[derive(Clone, Copy)]
struct Side {
    root: &'static str,
    staff: bool,
    name: &'static str,
}

const STAFF: Side = Side {
    root: "/kb",
    staff: true,
    name: "Knowledge base",
};
const PUBLIC: Side = Side {
    root: "/help",
    staff: false,
    name: "Help center",
};

fn side_value(side: Side, admin: bool) -> Value {
    context! { root => side.root, staff => side.staff, name => side.name, admin }
}

fn can_write(s: &WebSession) -> bool {
    rules::writes(s.actor.role())
}

/// The public pages' filter: published articles only.
fn published() -> ArticleFilter {
    ArticleFilter {
        status: Some(ArticleStatus::Published),
        ..ArticleFilter::default()
    }
}

/// A page of the public side: with the signed-in user's header when there
/// is one, else bare with the double-submit CSRF token its forms need.
fn public_page(
    state: &AppState,
    session: Option<&WebSession>,
    headers: &HeaderMap,
    name: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, UiError> {
    match session {
        Some(s) => page(s, name, title, context! { nav => "kb", ..ctx }),
        None => {
            let (csrf, set) = login_csrf(headers, state);
            let mut resp = render(StatusCode::OK, name, context! { title, csrf, ..ctx })?;
            if let Some(c) = set.and_then(|c| c.parse().ok()) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(resp)
        }
    }
}

// ---------------------------------------------------------------------------
// Listing and search (both sides)

/// Previous and next page links of a list or a search.
fn pager(path: &str, params: &[(&str, &str)], page_no: u32, has_more: bool) -> Value {
    let url = |n: u32| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        qs.extend_pairs(params);
        if n > 1 {
            qs.append_pair("page", &n.to_string());
        }
        let qs = qs.finish();
        if qs.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{qs}")
        }
    };
    context! {
        prev => (page_no > 1).then(|| url(page_no - 1)),
        next => has_more.then(|| url(page_no + 1)),
        page => page_no,
    }
}

/// The home page's context: categories, and the search results when `q`
/// is given.
async fn home_context(
    state: &AppState,
    reader: Option<&Actor>,
    side: Side,
    admin: bool,
    q: &Q,
) -> Result<(Value, String), UiError> {
    let filter = if side.staff {
        ArticleFilter::default()
    } else {
        published()
    };
    let categories = state.store.kb_categories(reader).await?;
    let cats: Vec<Value> = categories.iter().map(category_value).collect();
    let query = q.get("q").map(str::to_string);
    let (search, title) = match &query {
        Some(text) => {
            let page_no = q.page()?;
            let hits = state
                .store
                .search_kb(reader, text, &filter, page_no, PER_PAGE)
                .await?;
            let items: Vec<Value> = hits
                .items
                .iter()
                .map(|h| {
                    context! { snippet => h.snippet.clone(), ..article_value(&h.article, &categories) }
                })
                .collect();
            (
                Some(context! {
                    hits => items, count => hits.count.unwrap_or_default(),
                    pager => pager(side.root, &[("q", text)], page_no, hits.has_more),
                }),
                format!("Search: {text}"),
            )
        }
        None => (None, side.name.to_string()),
    };
    // Staff who read drafts see the latest ones: they are otherwise only
    // found category by category.
    let drafts: Vec<Value> = if side.staff && query.is_none() {
        let filter = ArticleFilter {
            status: Some(ArticleStatus::Draft),
            ..ArticleFilter::default()
        };
        let sort = Sort {
            column: "updated_at",
            descending: true,
        };
        state
            .store
            .kb_articles(reader, &filter, PageRequest::first(10), sort)
            .await?
            .items
            .iter()
            .map(|a| article_value(a, &categories))
            .collect()
    } else {
        Vec::new()
    };
    let deleted = q.get("deleted").is_some();
    Ok((
        context! {
            side => side_value(side, admin), categories => cats, search, query, drafts,
            flash => deleted.then_some("The article was deleted."),
        },
        title,
    ))
}

async fn category_context(
    state: &AppState,
    reader: Option<&Actor>,
    side: Side,
    admin: bool,
    id: i64,
    q: &Q,
) -> Result<(Value, String), UiError> {
    let category = state.store.kb_category(reader, id).await?;
    let categories = state.store.kb_categories(reader).await?;
    let page_no = q.page()?;
    // Staff choose between all, drafts and published; the public side
    // only ever lists published articles.
    let (status, tab) = match (side.staff, q.get("status")) {
        (false, _) => (Some(ArticleStatus::Published), None),
        (true, None) => (None, None),
        (true, Some(s)) => match ArticleStatus::parse(s) {
            Ok(st) => (Some(st), Some(st.as_str())),
            Err(_) => {
                return Err(UiError::bad_request("status must be draft or published."));
            }
        },
    };
    let filter = ArticleFilter {
        category_id: Some(id),
        status,
        ..ArticleFilter::default()
    };
    let list = state
        .store
        .kb_articles(
            reader,
            &filter,
            PageRequest::Offset {
                page: page_no,
                per_page: PER_PAGE,
            },
            Sort {
                column: "title",
                descending: false,
            },
        )
        .await?;
    let articles: Vec<Value> = list
        .items
        .iter()
        .map(|a| article_value(a, &categories))
        .collect();
    let title = category.name.clone();
    Ok((
        context! {
            side => side_value(side, admin), category => category_value(&category), articles,
            count => list.count.unwrap_or_default(),
            tab,
            pager => pager(
                &format!("{}/categories/{id}", side.root),
                &tab.map(|t| ("status", t)).into_iter().collect::<Vec<_>>(),
                page_no,
                list.has_more,
            ),
        },
        title,
    ))
}

// ---------------------------------------------------------------------------
// Staff side

async fn staff_home(
    State(state): State<AppState>,
    Staff(s): Staff,
    q: Q,
) -> Result<Response, UiError> {
    let (ctx, title) = home_context(&state, Some(&s.actor), STAFF, can_write(&s), &q).await?;
    page(&s, "kb.html", &title, context! { nav => "kb", ..ctx })
}

async fn staff_category(
    State(state): State<AppState>,
    Staff(s): Staff,
    PathId(id): PathId,
    q: Q,
) -> Result<Response, UiError> {
    let (ctx, title) =
        category_context(&state, Some(&s.actor), STAFF, can_write(&s), id, &q).await?;
    page(
        &s,
        "kb_category.html",
        &title,
        context! { nav => "kb", ..ctx },
    )
}

async fn staff_article(
    State(state): State<AppState>,
    Staff(s): Staff,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    let a = state.store.kb_article(Some(&s.actor), id, false).await?;
    let categories = state.store.kb_categories(Some(&s.actor)).await?;
    page(
        &s,
        "kb_article.html",
        &a.title,
        context! {
            nav => "kb", side => side_value(STAFF, can_write(&s)),
            article => article_value(&a, &categories), body => a.body_html(),
        },
    )
}

/// What the editor shows in its fields, as typed.
#[derive(Default)]
struct Draft {
    title: String,
    category_id: String,
    tags: String,
    body: String,
}

impl Draft {
    fn of(a: &Article) -> Draft {
        Draft {
            title: a.title.clone(),
            category_id: a.category_id.to_string(),
            tags: a.tags.join(", "),
            body: a.body.clone(),
        }
    }

    fn from_fields(f: &Fields) -> Draft {
        Draft {
            title: f.raw("title").to_string(),
            category_id: f.raw("category_id").trim().to_string(),
            tags: f.raw("tags").to_string(),
            body: f.raw("body").to_string(),
        }
    }

    /// The store's input, or every problem at once, keyed by field.
    fn parse(&self) -> Result<ArticleInput, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let title = ArticleTitle::parse(&self.title)
            .map_err(|e| errors.insert("title".to_string(), e.0))
            .ok();
        let category_id = parse_id(&self.category_id);
        if category_id.is_none() {
            errors.insert("category_id".to_string(), "choose a category".to_string());
        }
        let tags: Vec<&str> = self
            .tags
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .collect();
        let tags = Tags::parse(&tags)
            .map_err(|e| errors.insert("tags".to_string(), e.0))
            .ok();
        let body = ArticleBody::parse(&self.body)
            .map_err(|e| errors.insert("body".to_string(), e.0))
            .ok();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ArticleInput {
            title,
            body,
            category_id,
            status: None,
            tags,
        })
    }
}

/// Renders the editor, new (`article` None) or existing.
async fn editor(
    state: &AppState,
    s: &WebSession,
    article: Option<&Article>,
    draft: &Draft,
    errors: BTreeMap<String, String>,
    preview: Option<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let categories = state.store.kb_categories(Some(&s.actor)).await?;
    let options: Vec<Value> = categories
        .iter()
        .map(|c| context! { value => c.id, label => c.name.clone() })
        .collect();
    let (action, title) = match article {
        Some(a) => (
            format!("/kb/articles/{}/edit", a.id),
            format!("Edit: {}", a.title),
        ),
        None => ("/kb/new".to_string(), "New article".to_string()),
    };
    let preview = preview.unwrap_or_else(|| preview_html(&draft.body));
    let mut resp = page(
        s,
        "kb_edit.html",
        &title,
        context! {
            nav => "kb", action, options, errors, preview,
            article => article.map(|a| article_value(a, &categories)),
            values => context! {
                title => draft.title.clone(), category_id => draft.category_id.clone(),
                tags => draft.tags.clone(), body => draft.body.clone(),
            },
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

fn preview_html(markdown: &str) -> String {
    if markdown.trim().is_empty() {
        "<p class=\"muted\">Nothing to preview yet: write the body in Markdown.</p>".to_string()
    } else {
        rules::render_markdown(markdown)
    }
}

/// Text for an HTML fragment built by hand.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn require_writer(s: &WebSession) -> Result<(), UiError> {
    if can_write(s) {
        Ok(())
    } else {
        Err(UiError::forbidden(
            "Only administrators write knowledge-base articles.",
        ))
    }
}

async fn new_article(
    State(state): State<AppState>,
    Staff(s): Staff,
    q: Q,
) -> Result<Response, UiError> {
    require_writer(&s)?;
    let draft = Draft {
        category_id: q
            .get("category")
            .and_then(parse_id)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        ..Draft::default()
    };
    editor(
        &state,
        &s,
        None,
        &draft,
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn edit_article(
    State(state): State<AppState>,
    Staff(s): Staff,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    require_writer(&s)?;
    let a = state.store.kb_article(Some(&s.actor), id, false).await?;
    editor(
        &state,
        &s,
        Some(&a),
        &Draft::of(&a),
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// What a press of the editor's buttons asks for.
enum Intent {
    Preview,
    Save(ArticleStatus),
}

fn intent(f: &Fields) -> Result<Intent, UiError> {
    match f.get("action").unwrap_or("draft") {
        "preview" => Ok(Intent::Preview),
        "draft" => Ok(Intent::Save(ArticleStatus::Draft)),
        "publish" => Ok(Intent::Save(ArticleStatus::Published)),
        other => Err(UiError::bad_request(format!(
            "The editor has no action {other:?}."
        ))),
    }
}

/// Saves the editor's form (create when `id` is None); re-renders it with
/// the preview or with the errors next to their fields.
async fn save(state: &AppState, p: &Posted, id: Option<i64>) -> Result<Response, UiError> {
    let s = &p.session;
    require_writer(s)?;
    let existing = match id {
        Some(id) => Some(state.store.kb_article(Some(&s.actor), id, false).await?),
        None => None,
    };
    let draft = Draft::from_fields(&p.fields);
    let intent = intent(&p.fields)?;
    let parsed = draft.parse();
    let (mut input, status) = match (intent, parsed) {
        (Intent::Preview, _) => {
            return editor(
                state,
                s,
                existing.as_ref(),
                &draft,
                BTreeMap::new(),
                None,
                StatusCode::OK,
            )
            .await;
        }
        (Intent::Save(_), Err(errors)) => {
            return editor(
                state,
                s,
                existing.as_ref(),
                &draft,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        (Intent::Save(status), Ok(input)) => (input, status),
    };
    input.status = Some(status);
    let now = state.now();
    let saved = match id {
        Some(id) => {
            state
                .store
                .update_kb_article(&s.actor, id, input, now)
                .await
        }
        None => state.store.create_kb_article(&s.actor, input, now).await,
    };
    match saved {
        Ok(a) => Ok(Redirect::to(&format!("/kb/articles/{}", a.id)).into_response()),
        Err(StoreError::Invalid { field, message }) => {
            editor(
                state,
                s,
                existing.as_ref(),
                &draft,
                BTreeMap::from([(field, message)]),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_article(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    p.require_staff()?;
    save(&state, &p, None).await
}

async fn update_article(
    State(state): State<AppState>,
    PathId(id): PathId,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    save(&state, &p, Some(id)).await
}

/// The live preview: the form's body rendered by the articles' renderer,
/// as an HTML fragment.
async fn preview(p: Posted) -> Result<Response, UiError> {
    p.require_staff()?;
    require_writer(&p.session)?;
    // The script puts whatever comes back into the preview box, so a
    // refusal is a fragment too.
    let (status, html) = match ArticleBody::parse(p.fields.raw("body")) {
        Ok(body) => (StatusCode::OK, preview_html(body.as_str())),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("<p class=\"error\">The body {}.</p>", html_escape(&e.0)),
        ),
    };
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

async fn publish(
    State(state): State<AppState>,
    PathId(id): PathId,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    state
        .store
        .publish_kb_article(&p.session.actor, id, state.now())
        .await?;
    Ok(Redirect::to(&format!("/kb/articles/{id}")).into_response())
}

async fn unpublish(
    State(state): State<AppState>,
    PathId(id): PathId,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    state
        .store
        .unpublish_kb_article(&p.session.actor, id, state.now())
        .await?;
    Ok(Redirect::to(&format!("/kb/articles/{id}")).into_response())
}

async fn confirm_delete(
    State(state): State<AppState>,
    Staff(s): Staff,
    PathId(id): PathId,
) -> Result<Response, UiError> {
    require_writer(&s)?;
    let a = state.store.kb_article(Some(&s.actor), id, false).await?;
    let categories = state.store.kb_categories(Some(&s.actor)).await?;
    page(
        &s,
        "kb_delete.html",
        &format!("Delete: {}", a.title),
        context! { nav => "kb", article => article_value(&a, &categories) },
    )
}

async fn delete_article(
    State(state): State<AppState>,
    PathId(id): PathId,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    state.store.delete_kb_article(&p.session.actor, id).await?;
    Ok(Redirect::to("/kb?deleted=1").into_response())
}

// ---------------------------------------------------------------------------
// Public side

async fn help_home(
    State(state): State<AppState>,
    MaybeSignedIn(s): MaybeSignedIn,
    headers: HeaderMap,
    q: Q,
) -> Result<Response, UiError> {
    let (ctx, title) = home_context(&state, None, PUBLIC, false, &q).await?;
    public_page(&state, s.as_ref(), &headers, "kb.html", &title, ctx)
}

async fn help_category(
    State(state): State<AppState>,
    MaybeSignedIn(s): MaybeSignedIn,
    headers: HeaderMap,
    PathId(id): PathId,
    q: Q,
) -> Result<Response, UiError> {
    let (ctx, title) = category_context(&state, None, PUBLIC, false, id, &q).await?;
    public_page(
        &state,
        s.as_ref(),
        &headers,
        "kb_category.html",
        &title,
        ctx,
    )
}

async fn help_article(
    State(state): State<AppState>,
    MaybeSignedIn(s): MaybeSignedIn,
    headers: HeaderMap,
    PathId(id): PathId,
    q: Q,
) -> Result<Response, UiError> {
    // Customers and visitors are the readers whose views count; the page
    // shown after a vote is not a new read.
    let voted = q.get("voted");
    let count_view = voted.is_none() && s.as_ref().is_none_or(|s| !s.actor.role().is_staff());
    let a = state.store.kb_article(None, id, count_view).await?;
    let categories = state.store.kb_categories(None).await?;
    let thanks = match voted {
        Some("yes") => Some("Thank you: glad it helped."),
        Some(_) => Some("Thank you for telling us. We will improve this article."),
        None => None,
    };
    public_page(
        &state,
        s.as_ref(),
        &headers,
        "kb_article.html",
        &a.title,
        context! {
            side => side_value(PUBLIC, false), article => article_value(&a, &categories),
            body => a.body_html(), thanks,
        },
    )
}

async fn vote(
    State(state): State<AppState>,
    PathId(id): PathId,
    form: HelpForm,
) -> Result<Response, UiError> {
    let fields = match &form {
        HelpForm::User(p) => &p.fields,
        HelpForm::Visitor { fields, .. } => fields,
    };
    let (direction, answer) = match fields.get("helpful") {
        Some("yes") => (VoteDirection::Up, "yes"),
        Some("no") => (VoteDirection::Down, "no"),
        _ => return Err(UiError::bad_request("Answer Yes or No.")),
    };
    let now = state.now();
    let mut new_cookie = None;
    match &form {
        HelpForm::User(p) => {
            state
                .store
                .vote_kb_article(Voter::User(&p.session.actor), id, direction, now)
                .await?;
        }
        HelpForm::Visitor { key, .. } => {
            let key = match key {
                Some(k) => k.clone(),
                None => {
                    let k = steward_store::auth::generate_token();
                    new_cookie = Some(set_cookie(
                        &state,
                        VISITOR_COOKIE,
                        &k,
                        Some(VISITOR_MAX_AGE),
                    ));
                    k
                }
            };
            state
                .store
                .vote_kb_article(Voter::Visitor(&key), id, direction, now)
                .await?;
        }
    }
    let mut resp =
        Redirect::to(&format!("/help/articles/{id}?voted={answer}#vote")).into_response();
    if let Some(c) = new_cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, category: &str, tags: &str, body: &str) -> Draft {
        Draft {
            title: title.into(),
            category_id: category.into(),
            tags: tags.into(),
            body: body.into(),
        }
    }

    #[test]
    fn the_editor_reports_every_bad_field_at_once() {
        let errors = draft(" ", "x", "ok, bad/tag", "").parse().unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["category_id", "tags", "title"]
        );
        let input = draft(" Title ", "3", "Sla,  billing sla", "**b**")
            .parse()
            .unwrap();
        assert_eq!(input.title.unwrap().as_str(), "Title");
        assert_eq!(input.category_id, Some(3));
        assert_eq!(input.tags.unwrap().as_slice(), ["sla", "billing"]);
        assert_eq!(input.body.unwrap().as_str(), "**b**");
        assert_eq!(input.status, None);
    }

    #[test]
    fn pager_links_keep_the_query() {
        let p = pager("/help", &[("q", "reset password")], 2, true);
        assert_eq!(
            p.get_attr("prev").unwrap().to_string(),
            "/help?q=reset+password"
        );
        assert_eq!(
            p.get_attr("next").unwrap().to_string(),
            "/help?q=reset+password&page=3"
        );
        let p = pager("/kb/categories/1", &[], 1, false);
        assert!(p.get_attr("prev").unwrap().is_none());
        assert!(p.get_attr("next").unwrap().is_none());
    }

    #[test]
    fn previews_escape_raw_html_and_say_when_empty() {
        assert!(preview_html("  ").contains("Nothing to preview"));
        let html = preview_html("<script>x</script>");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert_eq!(
            html_escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }

    #[test]
    fn visitor_keys_are_generated_tokens() {
        assert!(valid_visitor_key(&steward_store::auth::generate_token()));
        assert!(!valid_visitor_key("short"));
        assert!(!valid_visitor_key(&"a;b".repeat(20)));
    }
}
