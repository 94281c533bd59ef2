//! Knowledge base (policies.md §17): categories, articles, full-text search,
//! views and helpful votes.
//!
//! **Who sees what** (§8, rules in `steward_domain::kb`). Read functions take
//! `reader: Option<&Actor>`, `None` being an anonymous visitor of the public
//! knowledge base. Admins, viewers, CSMs and agents read every article,
//! drafts included; contractors, end users and anonymous visitors read
//! published articles only, and a draft is *not found* for them (its
//! existence is not confirmed). Only admins write; anyone else gets
//! `Forbidden`.
//!
//! **Categories** are the seven of §17, seeded with fixed ids 1–7 by
//! migration 18 (with 27 published article stubs), ordered by `position`.
//!
//! **Search** runs on the database's own full-text engine, over title and
//! body, stemmed: FTS5 with the porter tokenizer on SQLite (`kb_articles_fts`,
//! written in the transaction of every article write), a generated
//! `search_vector` with the `english` configuration on PostgreSQL. Every
//! word of the query must match ([`steward_domain::kb::search_terms`] drops
//! stop words first); hits are ranked with the title weighing far more
//! than the body (bm25 weights 10:1 on SQLite, tsvector weights A and D on
//! PostgreSQL), so an article whose title names the words comes first.
//!
//! **Votes**: one per voter and article; voting again replaces the vote
//! (helpful ↔ not helpful). The article's `vote_sum` / `vote_count` are
//! recounted from `kb_votes` in the vote's transaction, under a row lock of
//! the article, so concurrent voters cannot lose each other's votes.
//!
//! **Views** are counted on request ([`Store::kb_article`] with
//! `count_view`). A view is not a write anybody is told was saved, so it is
//! committed without waiting for the WAL fsync on SQLite.

use sqlx::{Row, any::AnyRow};
use steward_domain::kb::{
    self, ArticleBody, ArticleStatus, ArticleTitle, Tags, search_terms, snippet,
};

use crate::{
    Store,
    access::Actor,
    db::{Dialect, Tx},
    error::{Result, StoreError},
    page::{self, Page, PageRequest, Sort},
    sql::{Args, and_all},
};

/// A knowledge-base category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Display order, ascending.
    pub position: i64,
    /// Articles in the category that the reader may see.
    pub article_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A knowledge-base article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: i64,
    pub category_id: i64,
    pub title: String,
    /// The Markdown source; [`Article::body_html`] renders it safely.
    pub body: String,
    pub status: ArticleStatus,
    /// `None` for the articles shipped with Steward.
    pub author_id: Option<i64>,
    /// The author's name, `None` for the articles shipped with Steward.
    pub author_name: Option<String>,
    pub tags: Vec<String>,
    pub view_count: i64,
    /// Helpful votes minus not-helpful votes (Zendesk's `vote_sum`).
    pub vote_sum: i64,
    /// All votes (Zendesk's `vote_count`).
    pub vote_count: i64,
    pub created_at: i64,
    /// Last change of title, body, category, tags or status.
    pub updated_at: i64,
    /// Last time the article was published; kept when it is unpublished.
    pub published_at: Option<i64>,
}

impl Article {
    pub fn is_draft(&self) -> bool {
        self.status == ArticleStatus::Draft
    }

    /// The body as HTML, safe to embed as it is (raw HTML in the Markdown
    /// is escaped and `javascript:`-style links are neutralised; see
    /// [`steward_domain::kb::render_markdown`]).
    pub fn body_html(&self) -> String {
        kb::render_markdown(&self.body)
    }

    /// "Yes, this helped" votes.
    pub fn helpful(&self) -> i64 {
        (self.vote_count + self.vote_sum) / 2
    }

    /// "No, this did not help" votes.
    pub fn not_helpful(&self) -> i64 {
        (self.vote_count - self.vote_sum) / 2
    }
}

/// Fields to create or change an article. For a create, `title` and
/// `category_id` are required; `body` defaults to empty, `status` to draft,
/// `tags` to none. For an update, `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ArticleInput {
    pub title: Option<ArticleTitle>,
    pub body: Option<ArticleBody>,
    pub category_id: Option<i64>,
    pub status: Option<ArticleStatus>,
    pub tags: Option<Tags>,
}

/// Which articles a list or search returns (besides what the reader may see).
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub category_id: Option<i64>,
    /// Only drafts or only published ones. A reader who may not see drafts
    /// gets nothing for `Some(Draft)`.
    pub status: Option<ArticleStatus>,
    /// Articles carrying at least one of these tags (lower case).
    pub tags: Vec<String>,
}

/// The columns [`Store::kb_articles`] may sort by, for the web layer's
/// `sort_by` list; the first is the default.
pub const ARTICLE_SORTS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "title",
    "view_count",
    "vote_sum",
];

/// A search hit: the article and an HTML-escaped excerpt of its text with
/// the matching words in `<em>` (Zendesk's `snippet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleHit {
    pub article: Article,
    pub snippet: String,
}

/// Who votes: a signed-in user, or an anonymous visitor of the public
/// knowledge base identified by a key the caller keeps for them (for
/// example a random id in a cookie; 8 to 128 visible ASCII characters).
#[derive(Debug, Clone, Copy)]
pub enum Voter<'a> {
    User(&'a Actor),
    Visitor(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteDirection {
    /// "Yes, this helped" (`+1`).
    Up,
    /// "No" (`-1`).
    Down,
}

impl VoteDirection {
    pub fn value(self) -> i64 {
        match self {
            VoteDirection::Up => 1,
            VoteDirection::Down => -1,
        }
    }
}

/// One voter's vote on one article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub id: i64,
    pub article_id: i64,
    /// `None` for an anonymous visitor.
    pub user_id: Option<i64>,
    /// `1` helpful, `-1` not helpful.
    pub value: i64,
    pub created_at: i64,
    /// When the voter last changed their mind.
    pub updated_at: i64,
}

/// Snippets are about this many characters.
const SNIPPET_CHARS: usize = 160;

const ARTICLE_COLUMNS: &str = "a.id, a.category_id, a.title, a.body, a.status, a.author_id, \
    u.name AS author_name, a.tags, a.view_count, a.vote_sum, a.vote_count, a.created_at, \
    a.updated_at, a.published_at";

const ARTICLE_FROM: &str = "kb_articles a LEFT JOIN users u ON u.id = a.author_id";

fn article_from_row(r: &AnyRow) -> Result<Article> {
    Ok(Article {
        id: r.try_get("id")?,
        category_id: r.try_get("category_id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        status: ArticleStatus::parse(&r.try_get::<String, _>("status")?)?,
        author_id: r.try_get("author_id")?,
        author_name: r.try_get("author_name")?,
        tags: Tags::from_stored(&r.try_get::<String, _>("tags")?).into_vec(),
        view_count: r.try_get("view_count")?,
        vote_sum: r.try_get("vote_sum")?,
        vote_count: r.try_get("vote_count")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        published_at: r.try_get("published_at")?,
    })
}

fn vote_from_row(r: &AnyRow) -> Result<Vote> {
    Ok(Vote {
        id: r.try_get("id")?,
        article_id: r.try_get("article_id")?,
        user_id: r.try_get("user_id")?,
        value: r.try_get("value")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn sees_drafts(reader: Option<&Actor>) -> bool {
    reader.is_some_and(|a| kb::reads_drafts(a.role()))
}

fn may_write(actor: &Actor) -> Result<()> {
    if kb::writes(actor.role()) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "only admins may change the knowledge base".into(),
        ))
    }
}

/// Conditions over alias `a` for what `reader` may see and `filter` asks.
fn article_conds(reader: Option<&Actor>, filter: &ArticleFilter, args: &mut Args) -> Vec<String> {
    let mut conds = Vec::new();
    if !sees_drafts(reader) {
        conds.push(format!(
            "a.status = {}",
            args.text(ArticleStatus::Published.as_str())
        ));
    }
    if let Some(s) = filter.status {
        conds.push(format!("a.status = {}", args.text(s.as_str())));
    }
    if let Some(c) = filter.category_id {
        conds.push(format!("a.category_id = {}", args.int(c)));
    }
    if !filter.tags.is_empty() {
        // Tags are stored space-separated; match whole tags, with LIKE's
        // wildcards escaped (`_` is allowed in tags).
        let any: Vec<String> = filter
            .tags
            .iter()
            .map(|t| {
                let escaped = t
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!(
                    "(' ' || a.tags || ' ') LIKE {} ESCAPE '\\'",
                    args.text(format!("% {escaped} %"))
                )
            })
            .collect();
        conds.push(format!("({})", any.join(" OR ")));
    }
    conds
}

fn voter_key(voter: Voter<'_>) -> Result<(String, Option<i64>)> {
    match voter {
        Voter::User(a) => Ok((format!("user:{}", a.id()), Some(a.id()))),
        Voter::Visitor(key) => {
            let ok = (8..=128).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic());
            if ok {
                Ok((format!("visitor:{key}"), None))
            } else {
                Err(StoreError::invalid(
                    "voter",
                    "a visitor key is 8 to 128 visible ASCII characters",
                ))
            }
        }
    }
}

impl Store {
    /// The categories in display order, each with the number of articles
    /// `reader` may see in it (`None`: an anonymous visitor).
    pub async fn kb_categories(&self, reader: Option<&Actor>) -> Result<Vec<Category>> {
        self.kb_categories_where(reader, None).await
    }

    /// One category, with its article count for `reader`; `NotFound` if
    /// there is no such category.
    pub async fn kb_category(&self, reader: Option<&Actor>, id: i64) -> Result<Category> {
        self.kb_categories_where(reader, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound("category"))
    }

    async fn kb_categories_where(
        &self,
        reader: Option<&Actor>,
        id: Option<i64>,
    ) -> Result<Vec<Category>> {
        let mut args = Args::default();
        let mut vis = article_conds(reader, &ArticleFilter::default(), &mut args);
        vis.push("a.category_id = c.id".into());
        let vis = and_all(&vis);
        let only = match id {
            Some(id) => format!("WHERE c.id = {}", args.int(id)),
            None => String::new(),
        };
        let sql = format!(
            "SELECT c.id, c.name, c.description, c.position, c.created_at, c.updated_at, \
             (SELECT COUNT(*) FROM kb_articles a WHERE {vis}) AS article_count \
             FROM kb_categories c {only} ORDER BY c.position, c.id"
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|r| {
                Ok(Category {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    position: r.try_get("position")?,
                    article_count: r.try_get("article_count")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Articles `reader` may see, filtered, one page at a time. `sort`
    /// must name a column of [`ARTICLE_SORTS`] (an `Invalid` error
    /// otherwise). Offset pages carry the total `count`.
    pub async fn kb_articles(
        &self,
        reader: Option<&Actor>,
        filter: &ArticleFilter,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<Article>> {
        if !ARTICLE_SORTS.contains(&sort.column) {
            return Err(StoreError::invalid(
                "sort_by",
                format!("must be one of {}", ARTICLE_SORTS.join(", ")),
            ));
        }
        let mut args = Args::default();
        let cond = and_all(&article_conds(reader, filter, &mut args));
        let listing = page::Listing {
            columns: ARTICLE_COLUMNS,
            from: ARTICLE_FROM,
            cond: &cond,
            args: &args,
            alias: "a.",
        };
        let mut conn = self.reader().await?;
        let out = page::fetch_counted(&mut conn, &listing, sort, page).await?;
        let items = out
            .items
            .iter()
            .map(article_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    /// One article `reader` may see; `NotFound` otherwise (a draft, for
    /// readers who may not see drafts). With `count_view` the article's
    /// view count goes up by one (and the returned article shows it).
    pub async fn kb_article(
        &self,
        reader: Option<&Actor>,
        id: i64,
        count_view: bool,
    ) -> Result<Article> {
        let mut article = self.kb_article_visible(reader, id).await?;
        if count_view {
            // Committed without the group fsync (see the module docs); a
            // failure to count must not fail the read.
            let counted =
                sqlx::query("UPDATE kb_articles SET view_count = view_count + 1 WHERE id = $1")
                    .bind(id)
                    .execute(&self.write)
                    .await;
            match counted {
                Ok(_) => article.view_count += 1,
                Err(e) => tracing::warn!(article.id = id, error = %e, "could not count a view"),
            }
        }
        Ok(article)
    }

    async fn kb_article_visible(&self, reader: Option<&Actor>, id: i64) -> Result<Article> {
        let mut args = Args::default();
        let mut conds = article_conds(reader, &ArticleFilter::default(), &mut args);
        conds.push(format!("a.id = {}", args.int(id)));
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM {ARTICLE_FROM} WHERE {}",
            and_all(&conds)
        );
        let mut conn = self.reader().await?;
        let row = args
            .bind(sqlx::query(&sql))
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| article_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("article"))
    }

    /// `Invalid` on `category_id` unless the category exists.
    async fn ensure_kb_category(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let found = sqlx::query("SELECT id FROM kb_categories WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::invalid(
                "category_id",
                format!("there is no category {id}"),
            )),
        }
    }

    /// Creates an article written by `actor` (an admin; `Forbidden`
    /// otherwise). `title` and `category_id` are required (`Invalid`
    /// otherwise, as for an unknown category). A published article gets
    /// `published_at = now`.
    pub async fn create_kb_article(
        &self,
        actor: &Actor,
        input: ArticleInput,
        now: i64,
    ) -> Result<Article> {
        may_write(actor)?;
        let title = input
            .title
            .ok_or_else(|| StoreError::invalid("title", "is required"))?;
        let category_id = input
            .category_id
            .ok_or_else(|| StoreError::invalid("category_id", "is required"))?;
        let body = input.body.map(ArticleBody::into_string).unwrap_or_default();
        let status = input.status.unwrap_or(ArticleStatus::Draft);
        let tags = input.tags.unwrap_or_default().to_stored();
        let published_at = (status == ArticleStatus::Published).then_some(now);
        let mut tx = self.begin().await?;
        self.ensure_kb_category(&mut tx, category_id).await?;
        let row = sqlx::query(
            "INSERT INTO kb_articles (category_id, title, body, status, author_id, tags, \
             created_at, updated_at, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
        )
        .bind(category_id)
        .bind(title.as_str())
        .bind(body.as_str())
        .bind(status.as_str())
        .bind(actor.id())
        .bind(tags)
        .bind(now)
        .bind(published_at)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        if self.dialect == Dialect::Sqlite {
            sqlx::query("INSERT INTO kb_articles_fts (rowid, title, body) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(title.as_str())
                .bind(body.as_str())
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        tracing::info!(
            article.id = id,
            user.id = actor.id(),
            "knowledge-base article created"
        );
        self.kb_article_visible(Some(actor), id).await
    }

    /// Changes the fields `input` names (admins only; `NotFound` for an
    /// unknown article, `Invalid` for an unknown category). Publishing sets
    /// `published_at = now`; `updated_at` moves only when something changed.
    pub async fn update_kb_article(
        &self,
        actor: &Actor,
        id: i64,
        input: ArticleInput,
        now: i64,
    ) -> Result<Article> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM {ARTICLE_FROM} WHERE a.id = $1{}",
            // Row locks on PostgreSQL: lock only the article, not its author.
            match self.dialect {
                Dialect::Postgres => " FOR UPDATE OF a",
                Dialect::Sqlite => "",
            }
        );
        let old = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| article_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("article"))?;
        if let Some(c) = input.category_id.filter(|c| *c != old.category_id) {
            self.ensure_kb_category(&mut tx, c).await?;
        }
        let title = input
            .title
            .map(ArticleTitle::into_string)
            .unwrap_or_else(|| old.title.clone());
        let body = input
            .body
            .map(ArticleBody::into_string)
            .unwrap_or_else(|| old.body.clone());
        let category_id = input.category_id.unwrap_or(old.category_id);
        let status = input.status.unwrap_or(old.status);
        let tags = input
            .tags
            .map(Tags::into_vec)
            .unwrap_or_else(|| old.tags.clone());
        let text_changed = title != old.title || body != old.body;
        let changed = text_changed
            || category_id != old.category_id
            || status != old.status
            || tags != old.tags;
        if !changed {
            // Nothing to write; the transaction ends with nothing done.
            drop(tx);
            return Ok(old);
        }
        let published_at = if status == ArticleStatus::Published && old.is_draft() {
            Some(now)
        } else {
            old.published_at
        };
        sqlx::query(
            "UPDATE kb_articles SET title = $1, body = $2, category_id = $3, status = $4, \
             tags = $5, updated_at = $6, published_at = $7 WHERE id = $8",
        )
        .bind(title.as_str())
        .bind(body.as_str())
        .bind(category_id)
        .bind(status.as_str())
        .bind(tags.join(" "))
        .bind(now)
        .bind(published_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if text_changed && self.dialect == Dialect::Sqlite {
            sqlx::query("UPDATE kb_articles_fts SET title = $1, body = $2 WHERE rowid = $3")
                .bind(title.as_str())
                .bind(body.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        tracing::info!(
            article.id = id,
            user.id = actor.id(),
            "knowledge-base article updated"
        );
        self.kb_article_visible(Some(actor), id).await
    }

    /// Publishes an article (admins only): customers and visitors see it
    /// from now on.
    pub async fn publish_kb_article(&self, actor: &Actor, id: i64, now: i64) -> Result<Article> {
        let input = ArticleInput {
            status: Some(ArticleStatus::Published),
            ..ArticleInput::default()
        };
        self.update_kb_article(actor, id, input, now).await
    }

    /// Turns an article back into a draft (admins only): only staff see it.
    /// Its votes and views are kept.
    pub async fn unpublish_kb_article(&self, actor: &Actor, id: i64, now: i64) -> Result<Article> {
        let input = ArticleInput {
            status: Some(ArticleStatus::Draft),
            ..ArticleInput::default()
        };
        self.update_kb_article(actor, id, input, now).await
    }

    /// Deletes an article with its votes and index entry (admins only;
    /// `NotFound` for an unknown article).
    pub async fn delete_kb_article(&self, actor: &Actor, id: i64) -> Result<()> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM kb_votes WHERE article_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM kb_articles WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound("article"));
        }
        if self.dialect == Dialect::Sqlite {
            sqlx::query("DELETE FROM kb_articles_fts WHERE rowid = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        tracing::info!(
            article.id = id,
            user.id = actor.id(),
            "knowledge-base article deleted"
        );
        Ok(())
    }

    /// Full-text search over title and body of the articles `reader` may
    /// see, best hits first (see the module docs for the ranking), with
    /// `filter` applied; offset pagination (`page` from 1, `per_page` at
    /// most 100) with the total `count`. A query without a word to look
    /// for (empty, punctuation, only stop words) finds nothing.
    pub async fn search_kb(
        &self,
        reader: Option<&Actor>,
        query: &str,
        filter: &ArticleFilter,
        page: u32,
        per_page: u32,
    ) -> Result<Page<ArticleHit>> {
        let (page, per_page) = (page.max(1), per_page.clamp(1, page::MAX_PER_PAGE));
        let terms = search_terms(query);
        if terms.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                count: Some(0),
                has_more: false,
                has_prev: page > 1,
            });
        }
        let mut args = Args::default();
        let (from, matched, order) = match self.dialect {
            Dialect::Sqlite => {
                // Each term a quoted FTS5 string (terms are letters and
                // digits only), all required.
                let expr = terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" ");
                (
                    "kb_articles_fts JOIN kb_articles a ON a.id = kb_articles_fts.rowid \
                     LEFT JOIN users u ON u.id = a.author_id"
                        .to_string(),
                    format!("kb_articles_fts MATCH {}", args.text(expr)),
                    "bm25(kb_articles_fts, 10.0, 1.0), a.id".to_string(),
                )
            }
            Dialect::Postgres => {
                let p = args.text(terms.join(" "));
                (
                    ARTICLE_FROM.to_string(),
                    format!("a.search_vector @@ plainto_tsquery('english', {p})"),
                    format!("ts_rank(a.search_vector, plainto_tsquery('english', {p})) DESC, a.id"),
                )
            }
        };
        let mut conds = vec![matched];
        conds.extend(article_conds(reader, filter, &mut args));
        let cond = and_all(&conds);
        let mut conn = self.reader().await?;
        let count = page::count(&mut conn, &from, &cond, &args).await?;
        let mut a = args.clone();
        let limit = a.int(per_page as i64);
        let offset = a.int((page as i64 - 1) * per_page as i64);
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM {from} WHERE {cond} ORDER BY {order} \
             LIMIT {limit} OFFSET {offset}"
        );
        let rows = a.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        let items = rows
            .iter()
            .map(|r| {
                let article = article_from_row(r)?;
                let snippet = snippet(&article.body, &terms, SNIPPET_CHARS);
                Ok(ArticleHit { article, snippet })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: Some(count),
            has_more: (page as i64) * (per_page as i64) < count,
            has_prev: page > 1,
        })
    }

    /// Records `voter`'s vote on a published article, replacing their
    /// earlier vote on it, and recounts the article's votes. `NotFound` for
    /// an article the voter may not see; `Invalid` for a draft (staff see
    /// drafts, but only published articles take votes) or a malformed
    /// visitor key.
    pub async fn vote_kb_article(
        &self,
        voter: Voter<'_>,
        id: i64,
        direction: VoteDirection,
        now: i64,
    ) -> Result<Vote> {
        let (key, user_id) = voter_key(voter)?;
        let reader = match voter {
            Voter::User(a) => Some(a),
            Voter::Visitor(_) => None,
        };
        let mut tx = self.begin().await?;
        // The row lock serializes voters of one article on PostgreSQL, so
        // the recount below sees every committed vote.
        let status = sqlx::query(&format!(
            "SELECT status FROM kb_articles WHERE id = $1{}",
            self.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<String, _>("status"))
        .transpose()?
        .ok_or(StoreError::NotFound("article"))?;
        if ArticleStatus::parse(&status)? == ArticleStatus::Draft {
            return Err(if sees_drafts(reader) {
                StoreError::invalid("article", "only published articles take votes")
            } else {
                StoreError::NotFound("article")
            });
        }
        let row = sqlx::query(
            "INSERT INTO kb_votes (article_id, voter, user_id, value, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (article_id, voter) DO UPDATE SET value = excluded.value, \
             updated_at = CASE WHEN kb_votes.value = excluded.value THEN kb_votes.updated_at \
             ELSE excluded.updated_at END \
             RETURNING id, article_id, user_id, value, created_at, updated_at",
        )
        .bind(id)
        .bind(key)
        .bind(user_id)
        .bind(direction.value())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let vote = vote_from_row(&row)?;
        sqlx::query(
            "UPDATE kb_articles SET \
             vote_sum = (SELECT COALESCE(SUM(v.value), 0) FROM kb_votes v WHERE v.article_id = $1), \
             vote_count = (SELECT COUNT(*) FROM kb_votes v WHERE v.article_id = $1) \
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(vote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_keys_are_checked() {
        assert!(voter_key(Voter::Visitor("abcdefgh")).is_ok());
        assert!(voter_key(Voter::Visitor("short")).is_err());
        assert!(voter_key(Voter::Visitor("has a space")).is_err());
        assert!(voter_key(Voter::Visitor(&"x".repeat(129))).is_err());
        assert_eq!(
            voter_key(Voter::Visitor("abcdefgh")).unwrap().0,
            "visitor:abcdefgh"
        );
    }

    #[test]
    fn helpful_counts_follow_from_sum_and_count() {
        let a = Article {
            id: 1,
            category_id: 1,
            title: "t".into(),
            body: String::new(),
            status: ArticleStatus::Published,
            author_id: None,
            author_name: None,
            tags: vec![],
            view_count: 0,
            vote_sum: -1,
            vote_count: 5,
            created_at: 0,
            updated_at: 0,
            published_at: None,
        };
        assert_eq!((a.helpful(), a.not_helpful()), (2, 3));
    }
}
