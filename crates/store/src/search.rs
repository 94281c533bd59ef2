//! Zendesk search over tickets, users and organizations.
//!
//! The parsed [`Query`] is compiled into one SQL condition per object type:
//! field terms become indexed comparisons, free text goes to the database's
//! own full-text engine (FTS5 `MATCH` on SQLite, `tsvector @@ tsquery` on
//! PostgreSQL), and the actor's visibility condition is always ANDed in.
//! A field unknown for the requested type is an error, as in Zendesk, so a
//! typo is reported instead of silently matching everything.

use steward_domain::{
    Priority, Role, Status, TicketType,
    search::{ObjectType, Op, Query, Term},
    time::search_instant,
};

use crate::{
    Store,
    access::Actor,
    db::Dialect,
    error::{Result, StoreError},
    orgs::Organization,
    page::{self, Page, Sort},
    sql::{Args, and_all},
    tickets::{TICKET_COLUMNS, Ticket},
    users::{USER_COLUMNS, User, user_from_row},
};

#[derive(Debug, Clone)]
pub enum Hit {
    Ticket(Ticket),
    User(User),
    Organization(Organization),
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::invalid("query", msg)
}

/// `[start, end)` of a time value compared with `op`, as SQL over `col`.
fn time_cond(col: &str, op: Op, value: &str, now: i64, args: &mut Args) -> Result<String> {
    let (start, end) = search_instant(value, now).map_err(|e| bad(e.0))?;
    Ok(match op {
        Op::Eq => format!(
            "({col} >= {} AND {col} < {})",
            args.int(start),
            args.int(end)
        ),
        Op::Gt => format!("{col} >= {}", args.int(end)),
        Op::Ge => format!("{col} >= {}", args.int(start)),
        Op::Lt => format!("{col} < {}", args.int(start)),
        Op::Le => format!("{col} < {}", args.int(end)),
    })
}

/// Values of an ordered enumeration satisfying `op value`.
fn ordinal<T: Copy + Ord>(all: &[T], op: Op, v: T) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|x| match op {
            Op::Eq => *x == v,
            Op::Lt => *x < v,
            Op::Le => *x <= v,
            Op::Gt => *x > v,
            Op::Ge => *x >= v,
        })
        .collect()
}

fn in_texts(col: &str, values: &[&str], args: &mut Args) -> String {
    if values.is_empty() {
        "1 = 0".into()
    } else {
        format!("{col} IN ({})", args.texts(values))
    }
}

fn eq_only(t: &Term) -> Result<()> {
    if t.op == Op::Eq {
        Ok(())
    } else {
        Err(bad(format!("{} supports only ':'", t.field)))
    }
}

impl Store {
    /// Full-text condition for `text` (all must match) and `excluded`.
    fn text_cond(
        &self,
        ty: ObjectType,
        text: &[String],
        excluded: &[String],
        args: &mut Args,
    ) -> Option<String> {
        // Text without a single letter or digit has no tokens in either
        // engine (and would be a syntax error in FTS5): ignore it.
        let words = |items: &[String]| -> Vec<String> {
            items
                .iter()
                .filter(|s| s.chars().any(char::is_alphanumeric))
                .cloned()
                .collect()
        };
        let (text, excluded) = (words(text), words(excluded));
        let (text, excluded) = (&text[..], &excluded[..]);
        if text.is_empty() && excluded.is_empty() {
            return None;
        }
        let (table, alias) = match ty {
            ObjectType::Ticket => ("tickets", "t"),
            ObjectType::User => ("users", "u"),
            _ => ("organizations", "o"),
        };
        let mut conds = Vec::new();
        match self.dialect {
            Dialect::Sqlite => {
                let expr = |items: &[String]| {
                    items
                        .iter()
                        .map(|s| fts5_phrase(s))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                };
                let fts = format!("{table}_fts");
                if !text.is_empty() {
                    let p = args.text(expr(text));
                    conds.push(format!(
                        "{alias}.id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {p})"
                    ));
                }
                if !excluded.is_empty() {
                    let p = args.text(
                        excluded
                            .iter()
                            .map(|s| fts5_phrase(s))
                            .collect::<Vec<_>>()
                            .join(" OR "),
                    );
                    conds.push(format!(
                        "{alias}.id NOT IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {p})"
                    ));
                }
            }
            Dialect::Postgres => {
                for s in text {
                    conds.push(format!("{alias}.search_vector @@ {}", pg_tsquery(s, args)));
                }
                for s in excluded {
                    conds.push(format!(
                        "NOT ({alias}.search_vector @@ {})",
                        pg_tsquery(s, args)
                    ));
                }
            }
        }
        Some(and_all(&conds))
    }

    async fn user_ids_matching(&self, value: &str, actor: &Actor) -> Result<Option<Vec<i64>>> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Ok(None),
            "me" => Ok(Some(vec![actor.id()])),
            v => {
                if let Ok(id) = v.parse::<i64>() {
                    return Ok(Some(vec![id]));
                }
                let mut conn = self.reader().await?;
                let rows: Vec<sqlx::any::AnyRow> =
                    sqlx::query("SELECT id FROM users WHERE email = $1 OR lower(name) = $1")
                        .bind(v.to_string())
                        .fetch_all(&mut *conn)
                        .await?;
                use sqlx::Row;
                Ok(Some(
                    rows.iter()
                        .map(|r| r.try_get::<i64, _>("id"))
                        .collect::<Result<_, _>>()?,
                ))
            }
        }
    }

    async fn org_ids_matching(&self, value: &str) -> Result<Option<Vec<i64>>> {
        if value.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        if let Ok(id) = value.parse::<i64>() {
            return Ok(Some(vec![id]));
        }
        let mut conn = self.reader().await?;
        use sqlx::Row;
        let rows = sqlx::query("SELECT id FROM organizations WHERE name_key = $1")
            .bind(value.to_lowercase())
            .fetch_all(&mut *conn)
            .await?;
        Ok(Some(
            rows.iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<Result<_, _>>()?,
        ))
    }

    async fn group_ids_matching(&self, value: &str) -> Result<Option<Vec<i64>>> {
        if value.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        if let Ok(id) = value.parse::<i64>() {
            return Ok(Some(vec![id]));
        }
        let v = value.to_lowercase();
        Ok(Some(
            self.groups()
                .await?
                .into_iter()
                .filter(|g| g.name.to_lowercase() == v)
                .map(|g| g.id)
                .collect(),
        ))
    }

    /// `col IN (ids)`, `col IS NULL` for "none", negated when asked.
    fn id_cond(col: &str, ids: Option<Vec<i64>>, negated: bool, args: &mut Args) -> String {
        let positive = match ids {
            None => format!("{col} IS NULL"),
            Some(ids) if ids.is_empty() => "1 = 0".into(),
            Some(ids) => format!("{col} IN ({})", args.ints(&ids)),
        };
        if negated {
            format!("NOT ({positive})")
        } else {
            positive
        }
    }

    async fn ticket_conds(
        &self,
        q: &Query,
        actor: &Actor,
        now: i64,
        args: &mut Args,
    ) -> Result<(Vec<String>, Option<Driver>)> {
        let mut conds = vec!["t.deleted = 0".to_string(), actor.ticket_condition(args)];
        // On SQLite the most selective index-backed term (a tag, else the
        // full-text match) drives the query: its ids are read in id order
        // and joined to tickets, so the first page stops after a page of
        // hits instead of sorting every match (see `search`).
        let mut driver: Option<String> = None;
        let sqlite = self.dialect == Dialect::Sqlite;
        for t in &q.terms {
            let cond = match t.field.as_str() {
                "status" => {
                    let s = Status::parse(&t.value).map_err(|e| bad(e.0))?;
                    let set: Vec<&str> = ordinal(Status::ALL, t.op, s)
                        .iter()
                        .map(|s| s.as_str())
                        .collect();
                    in_texts("t.status", &set, args)
                }
                "priority" => {
                    let p = Priority::parse_any(&t.value).map_err(|e| bad(e.0))?;
                    let set: Vec<&str> = ordinal(Priority::ALL, t.op, p)
                        .iter()
                        .map(|s| s.as_str())
                        .collect();
                    in_texts("t.priority", &set, args)
                }
                "ticket_type" => {
                    eq_only(t)?;
                    let ty = TicketType::parse(&t.value).map_err(|e| bad(e.0))?;
                    format!("t.ticket_type = {}", args.text(ty.as_str()))
                }
                "via" => {
                    eq_only(t)?;
                    format!("t.via = {}", args.text(t.value.to_lowercase()))
                }
                "tags" | "tag" => {
                    eq_only(t)?;
                    let p = args.text(t.value.to_lowercase());
                    let ids =
                        format!("SELECT x.ticket_id AS rid FROM ticket_tags x WHERE x.tag = {p}");
                    if sqlite && driver.is_none() && !t.negated {
                        driver = Some(ids);
                        continue;
                    }
                    // Start from the tag index (an EXISTS per ticket would
                    // scan every ticket).
                    format!("t.id IN ({ids})")
                }
                "created" | "created_at" => time_cond("t.created_at", t.op, &t.value, now, args)?,
                "updated" | "updated_at" => time_cond("t.updated_at", t.op, &t.value, now, args)?,
                "solved" | "solved_at" => time_cond("t.solved_at", t.op, &t.value, now, args)?,
                "due_date" | "due" => time_cond("t.due_at", t.op, &t.value, now, args)?,
                "assignee" | "requester" | "submitter" => {
                    eq_only(t)?;
                    let ids = self.user_ids_matching(&t.value, actor).await?;
                    Self::id_cond(&format!("t.{}_id", t.field), ids, false, args)
                }
                "organization" | "org" => {
                    eq_only(t)?;
                    let ids = self.org_ids_matching(&t.value).await?;
                    Self::id_cond("t.organization_id", ids, false, args)
                }
                "group" => {
                    eq_only(t)?;
                    let ids = self.group_ids_matching(&t.value).await?;
                    Self::id_cond("t.group_id", ids, false, args)
                }
                "id" | "problem" | "problem_id" => {
                    eq_only(t)?;
                    let v: i64 = t
                        .value
                        .parse()
                        .map_err(|_| bad(format!("{} needs a number", t.field)))?;
                    let col = if t.field == "id" {
                        "t.id"
                    } else {
                        "t.problem_id"
                    };
                    format!("{col} = {}", args.int(v))
                }
                "external_id" => {
                    eq_only(t)?;
                    format!("t.external_id = {}", args.text(t.value.clone()))
                }
                "subject" => {
                    eq_only(t)?;
                    format!(
                        "lower(t.subject) LIKE {}",
                        args.text(format!("%{}%", like_escape(&t.value.to_lowercase())))
                    )
                }
                "description" | "comment" => {
                    eq_only(t)?;
                    let text = [t.value.clone()];
                    let none: [String; 0] = [];
                    let (pos, neg): (&[String], &[String]) = if t.negated {
                        (&none, &text)
                    } else {
                        (&text, &none)
                    };
                    conds.extend(self.text_cond(ObjectType::Ticket, pos, neg, args));
                    continue;
                }
                other => return Err(bad(format!("unknown field {other} for tickets"))),
            };
            conds.push(if t.negated {
                format!("NOT ({cond})")
            } else {
                cond
            });
        }
        let words: Vec<String> = q
            .text
            .iter()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .cloned()
            .collect();
        if sqlite && driver.is_none() && !words.is_empty() {
            let expr = words
                .iter()
                .map(|w| fts5_phrase(w))
                .collect::<Vec<_>>()
                .join(" AND ");
            driver = Some(format!(
                "SELECT rowid AS rid FROM tickets_fts WHERE tickets_fts MATCH {}",
                args.text(expr)
            ));
            conds.extend(self.text_cond(ObjectType::Ticket, &[], &q.excluded_text, args));
        } else {
            conds.extend(self.text_cond(ObjectType::Ticket, &q.text, &q.excluded_text, args));
        }
        // When nothing but the driver restricts the result (an admin or
        // viewer searching one tag or words), it can be counted from the
        // index alone: deleted tickets leave the tag and full-text indexes.
        let index_only = driver.is_some() && conds.len() == 2 && conds[1] == "1 = 1";
        if index_only {
            conds = vec!["1 = 1".to_string()];
        }
        Ok((conds, driver.map(|sql| Driver { sql, index_only })))
    }

    async fn user_conds(
        &self,
        q: &Query,
        actor: &Actor,
        now: i64,
        args: &mut Args,
    ) -> Result<Vec<String>> {
        let mut conds = vec!["u.active = 1".to_string()];
        if actor.role() == Role::EndUser {
            conds.push(format!("u.id = {}", args.int(actor.id())));
        }
        for t in &q.terms {
            let cond = match t.field.as_str() {
                "role" => {
                    eq_only(t)?;
                    // Zendesk's `role:agent` means any staff role but admin.
                    match t.value.to_lowercase().as_str() {
                        "agent" => "u.role IN ('agent', 'csm', 'contractor', 'viewer')".to_string(),
                        "end-user" | "end_user" | "enduser" => "u.role = 'end-user'".to_string(),
                        v => format!(
                            "u.role = {}",
                            args.text(Role::parse(v).map_err(|e| bad(e.0))?.as_str())
                        ),
                    }
                }
                "email" => {
                    eq_only(t)?;
                    format!("u.email = {}", args.text(t.value.to_lowercase()))
                }
                "name" => {
                    eq_only(t)?;
                    format!(
                        "lower(u.name) LIKE {}",
                        args.text(format!("%{}%", like_escape(&t.value.to_lowercase())))
                    )
                }
                "organization" | "org" => {
                    eq_only(t)?;
                    let ids = self.org_ids_matching(&t.value).await?;
                    Self::id_cond("u.organization_id", ids, false, args)
                }
                "tags" | "tag" => {
                    eq_only(t)?;
                    tag_like("u.tags", &t.value, args)
                }
                "external_id" => {
                    eq_only(t)?;
                    format!("u.external_id = {}", args.text(t.value.clone()))
                }
                "phone" => {
                    eq_only(t)?;
                    format!("u.phone = {}", args.text(t.value.clone()))
                }
                "created" | "created_at" => time_cond("u.created_at", t.op, &t.value, now, args)?,
                "updated" | "updated_at" => time_cond("u.updated_at", t.op, &t.value, now, args)?,
                other => return Err(bad(format!("unknown field {other} for users"))),
            };
            conds.push(if t.negated {
                format!("NOT ({cond})")
            } else {
                cond
            });
        }
        conds.extend(self.text_cond(ObjectType::User, &q.text, &q.excluded_text, args));
        Ok(conds)
    }

    fn org_conds(
        &self,
        q: &Query,
        actor: &Actor,
        now: i64,
        args: &mut Args,
    ) -> Result<Vec<String>> {
        let mut conds = Vec::new();
        if actor.role() == Role::EndUser {
            match actor.user.organization_id {
                Some(o) => conds.push(format!("o.id = {}", args.int(o))),
                None => conds.push("1 = 0".into()),
            }
        }
        for t in &q.terms {
            let cond = match t.field.as_str() {
                "name" => {
                    eq_only(t)?;
                    format!(
                        "o.name_key LIKE {}",
                        args.text(format!("%{}%", like_escape(&t.value.to_lowercase())))
                    )
                }
                "tags" | "tag" => {
                    eq_only(t)?;
                    tag_like("o.tags", &t.value, args)
                }
                "external_id" => {
                    eq_only(t)?;
                    format!("o.external_id = {}", args.text(t.value.clone()))
                }
                "industry" | "region" | "company_size" => {
                    eq_only(t)?;
                    format!("o.{} = {}", t.field, args.text(t.value.to_lowercase()))
                }
                "account_status" => {
                    eq_only(t)?;
                    format!("o.account_status = {}", args.text(t.value.to_lowercase()))
                }
                "created" | "created_at" => time_cond("o.created_at", t.op, &t.value, now, args)?,
                "updated" | "updated_at" => time_cond("o.updated_at", t.op, &t.value, now, args)?,
                other => return Err(bad(format!("unknown field {other} for organizations"))),
            };
            conds.push(if t.negated {
                format!("NOT ({cond})")
            } else {
                cond
            });
        }
        conds.extend(self.text_cond(ObjectType::Organization, &q.text, &q.excluded_text, args));
        Ok(conds)
    }

    /// Runs a search. Without `type:`, every type whose fields fit the
    /// query is searched and results come organizations, users, then
    /// tickets, as one paginated list.
    pub async fn search(
        &self,
        actor: &Actor,
        q: &Query,
        page: (u32, u32),
        now: i64,
    ) -> Result<Page<Hit>> {
        let (page_no, per_page) = (page.0.max(1), page.1.clamp(1, page::MAX_PER_PAGE));
        if (page_no as i64 - 1) * per_page as i64 >= MAX_RESULTS {
            return Err(bad(format!(
                "search returns at most {MAX_RESULTS} results; narrow the query (or use the list endpoints)"
            )));
        }
        let types: Vec<ObjectType> = match q.object_type {
            Some(ObjectType::Group) => {
                return Err(bad(
                    "searching groups is not supported; list /api/v2/groups",
                ));
            }
            Some(t) => vec![t],
            None => vec![
                ObjectType::Organization,
                ObjectType::User,
                ObjectType::Ticket,
            ],
        };
        let mut plans = Vec::new();
        let mut first_error = None;
        for ty in types {
            let mut args = Args::default();
            let conds = match ty {
                ObjectType::Ticket => self.ticket_conds(q, actor, now, &mut args).await,
                ObjectType::User => self
                    .user_conds(q, actor, now, &mut args)
                    .await
                    .map(|c| (c, None)),
                _ => self.org_conds(q, actor, now, &mut args).map(|c| (c, None)),
            };
            match conds {
                Ok((c, driver)) => plans.push((ty, and_all(&c), args, driver)),
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        if plans.is_empty() {
            return Err(first_error.unwrap_or_else(|| bad("nothing to search")));
        }
        let mut conn = self.reader().await?;
        let mut total = 0;
        let mut skip = (page_no as i64 - 1) * per_page as i64;
        let mut want = per_page as i64;
        let mut hits = Vec::new();
        for (ty, cond, args, driver) in plans {
            let (from, alias, cols) = match (ty, &driver) {
                (ObjectType::Ticket, Some(d)) => (
                    format!("({}) f JOIN tickets t ON t.id = f.rid", d.sql),
                    "t.",
                    TICKET_COLUMNS,
                ),
                (ObjectType::Ticket, None) => ("tickets t".to_string(), "t.", TICKET_COLUMNS),
                (ObjectType::User, _) => ("users u".to_string(), "u.", USER_COLUMNS),
                _ => ("organizations o".to_string(), "o.", ""),
            };
            let from = from.as_str();
            let n = match &driver {
                // Counting the driver's ids alone never reads a ticket row.
                Some(d) if d.index_only => {
                    capped_count(&mut conn, &format!("({}) f", d.sql), "1 = 1", &args).await?
                }
                _ => capped_count(&mut conn, from, &cond, &args).await?,
            };
            total += n;
            if want == 0 || skip >= n {
                skip = (skip - n).max(0);
                continue;
            }
            let sort = sort_for(ty, q)?;
            // Fetch the window [skip, skip + want) of this type.
            let rows = if ty == ObjectType::Organization {
                let orgs = self
                    .search_orgs_window(&cond, &args, sort, skip, want)
                    .await?;
                orgs.into_iter().map(Hit::Organization).collect::<Vec<_>>()
            } else {
                let mut a = args.clone();
                let dir = if sort.descending { "DESC" } else { "ASC" };
                // Ordering by the driver's id lets SQLite walk its index in
                // order and stop after the page.
                let id_col = if driver.is_some() {
                    "f.rid".to_string()
                } else {
                    format!("{alias}id")
                };
                let order = if sort.column == "id" {
                    format!("{id_col} {dir}")
                } else {
                    format!("{alias}{} {dir}, {alias}id {dir}", sort.column)
                };
                let lim = a.int(want);
                let off = a.int(skip);
                let sql = format!(
                    "SELECT {cols} FROM {from} WHERE {cond} ORDER BY {order} LIMIT {lim} OFFSET {off}"
                );
                let rows = a.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
                match ty {
                    ObjectType::Ticket => self
                        .hydrate(&mut conn, &rows)
                        .await?
                        .into_iter()
                        .map(Hit::Ticket)
                        .collect(),
                    _ => rows
                        .iter()
                        .map(user_from_row)
                        .collect::<Result<Vec<_>>>()?
                        .into_iter()
                        .map(Hit::User)
                        .collect(),
                }
            };
            want -= rows.len() as i64;
            skip = 0;
            hits.extend(rows);
        }
        let total = total.min(MAX_RESULTS);
        let has_more = (page_no as i64) * (per_page as i64) < total;
        Ok(Page {
            items: hits,
            count: Some(total),
            has_more,
            has_prev: page_no > 1,
        })
    }

    async fn search_orgs_window(
        &self,
        cond: &str,
        args: &Args,
        sort: Sort,
        skip: i64,
        want: i64,
    ) -> Result<Vec<Organization>> {
        // Organizations are few; select ids here and load them whole.
        let mut a = args.clone();
        let dir = if sort.descending { "DESC" } else { "ASC" };
        let lim = a.int(want);
        let off = a.int(skip);
        let col = if sort.column == "id" {
            "o.id".to_string()
        } else {
            format!("o.{}", sort.column)
        };
        let sql = format!(
            "SELECT o.id FROM organizations o WHERE {cond} ORDER BY {col} {dir}, o.id {dir} LIMIT {lim} OFFSET {off}"
        );
        let mut conn = self.reader().await?;
        use sqlx::Row;
        let ids: Vec<i64> = a
            .bind(sqlx::query(&sql))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<_, _>>()?;
        drop(conn);
        let mut orgs = self.orgs_by_ids(&ids).await?;
        orgs.sort_by_key(|o| ids.iter().position(|i| *i == o.id));
        Ok(orgs)
    }
}

/// The index that drives a ticket search on SQLite: a query yielding
/// ticket ids as `rid`. `index_only` when nothing else restricts the
/// result, so counting needs no ticket row.
struct Driver {
    sql: String,
    index_only: bool,
}

/// Like Zendesk, a search returns at most this many results (its `count`
/// saturates there and pages beyond it are refused). Counting stops at the
/// cap, so a query matching half a million tickets costs no more to count
/// than one matching a thousand.
pub const MAX_RESULTS: i64 = 1_000;

async fn capped_count(
    conn: &mut sqlx::AnyConnection,
    from: &str,
    cond: &str,
    args: &Args,
) -> Result<i64> {
    use sqlx::Row;
    let mut a = args.clone();
    let limit = a.int(MAX_RESULTS + 1);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM {from} WHERE {cond} LIMIT {limit}) capped"
    );
    let row = a.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// Sorting: `order_by:` in the query (or the `sort_by` parameter, merged by
/// the caller), newest first by default.
fn sort_for(ty: ObjectType, q: &Query) -> Result<Sort> {
    let descending = q.descending.unwrap_or(true);
    let column = match (q.order_by.as_deref(), ty) {
        (None, _) => "id",
        (Some("created_at" | "created"), _) => "created_at",
        (Some("updated_at" | "updated"), _) => "updated_at",
        (Some("priority"), ObjectType::Ticket) => "priority",
        (Some("status"), ObjectType::Ticket) => "status",
        (Some("ticket_type"), ObjectType::Ticket) => "ticket_type",
        (Some("name"), ObjectType::User | ObjectType::Organization) => "name",
        (Some(other), _) => {
            return Err(bad(format!(
                "cannot order {} results by {other}",
                ty.as_str()
            )));
        }
    };
    Ok(Sort { column, descending })
}

/// An FTS5 phrase: double quotes doubled, wrapped in quotes; a trailing `*`
/// on a single word becomes a prefix query.
fn fts5_phrase(s: &str) -> String {
    let prefix = s.ends_with('*') && !s.contains(' ');
    let body = s.trim_end_matches('*').replace('"', "\"\"");
    if prefix {
        format!("\"{body}\"*")
    } else {
        format!("\"{body}\"")
    }
}

/// A PostgreSQL tsquery for a phrase (or a `word*` prefix).
fn pg_tsquery(s: &str, args: &mut Args) -> String {
    let norm: String = s
        .trim_end_matches('*')
        .chars()
        .map(|c| if "@.-_/:+".contains(c) { ' ' } else { c })
        .collect();
    if s.ends_with('*') && !s.contains(' ') {
        // Prefix match on each lexeme's last word; quote to neutralize syntax.
        let words: Vec<String> = norm
            .split_whitespace()
            .map(|w| format!("'{}'", w.replace('\'', "''").replace('\\', "")))
            .collect();
        let last = words.len().saturating_sub(1);
        let expr = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" <-> ");
        format!("to_tsquery('simple', {})", args.text(expr))
    } else {
        format!("phraseto_tsquery('simple', {})", args.text(norm))
    }
}

fn like_escape(s: &str) -> String {
    s.replace(['%', '_'], "")
}

/// Tags stored space-separated: match a whole tag.
fn tag_like(col: &str, tag: &str, args: &mut Args) -> String {
    let p = args.text(format!("% {} %", like_escape(&tag.to_lowercase())));
    format!("(' ' || {col} || ' ') LIKE {p}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_phrases_are_quoted() {
        assert_eq!(fts5_phrase(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(fts5_phrase("log*"), "\"log\"*");
        assert_eq!(fts5_phrase("two words*"), "\"two words\"");
    }

    #[test]
    fn ordinal_sets() {
        assert_eq!(
            ordinal(Status::ALL, Op::Lt, Status::Solved),
            vec![Status::New, Status::Open, Status::Pending, Status::Hold]
        );
        assert_eq!(
            ordinal(Priority::ALL, Op::Gt, Priority::Normal),
            vec![Priority::High, Priority::Urgent]
        );
    }
}
