//! Users: staff with the roles of policies.md §8 and end users (customers'
//! people) who belong to an organization. E-mail is unique; deleting a user
//! deactivates it, so tickets keep their requester.

use sqlx::{Row, any::AnyRow};
use steward_domain::{Email, Role, ticket::normalize_tags};

use crate::{
    Store,
    db::{Dialect, Tx, flag, opt_str},
    error::{Result, StoreError},
    page::{self, Page, PageRequest, Sort},
    sql::{Args, and_all},
};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub organization_id: Option<i64>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub time_zone: String,
    pub locale: String,
    pub active: bool,
    pub suspended: bool,
    pub verified: bool,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.name, u.email, u.role, u.organization_id, u.phone, \
    u.external_id, u.details, u.notes, u.tags, u.time_zone, u.locale, u.active, u.suspended, \
    u.verified, u.last_login_at, u.created_at, u.updated_at";

pub(crate) fn user_from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        email: opt_str(r, "email")?,
        role: Role::parse(&r.try_get::<String, _>("role")?)?,
        organization_id: r.try_get("organization_id")?,
        phone: opt_str(r, "phone")?,
        external_id: opt_str(r, "external_id")?,
        details: opt_str(r, "details")?,
        notes: opt_str(r, "notes")?,
        tags: split_tags(&r.try_get::<String, _>("tags")?),
        time_zone: r.try_get("time_zone")?,
        locale: r.try_get("locale")?,
        active: flag(r, "active")?,
        suspended: flag(r, "suspended")?,
        verified: flag(r, "verified")?,
        last_login_at: r.try_get("last_login_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) fn split_tags(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Fields of a user to create; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub role: Option<Role>,
    /// `Some(None)` clears the organization.
    pub organization_id: Option<Option<i64>>,
    pub phone: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
    pub details: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub suspended: Option<bool>,
    pub verified: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub organization_id: Option<i64>,
    pub ids: Option<Vec<i64>>,
    /// End users may see only themselves.
    pub only_id: Option<i64>,
    pub include_inactive: bool,
}

impl Store {
    pub async fn create_user(&self, input: UserInput, now: i64) -> Result<User> {
        let mut tx = self.begin().await?;
        let user = self.create_user_tx(&mut tx, input, now).await?;
        self.commit(tx).await?;
        Ok(user)
    }

    pub(crate) async fn create_user_tx(
        &self,
        tx: &mut Tx,
        input: UserInput,
        now: i64,
    ) -> Result<User> {
        let name = match (&input.name, &input.email) {
            (Some(n), _) if !n.trim().is_empty() => n.trim().to_string(),
            (_, Some(e)) => e.as_str().split('@').next().unwrap_or_default().to_string(),
            _ => return Err(StoreError::invalid("name", "is required")),
        };
        let role = input.role.unwrap_or(Role::EndUser);
        let org = input.organization_id.flatten();
        if let Some(org) = org {
            self.ensure_org_exists(tx, org).await?;
        }
        let tags = normalize_tags(input.tags.unwrap_or_default()).join(" ");
        let row = sqlx::query(
            "INSERT INTO users (name, email, role, organization_id, phone, external_id, details, notes,
                tags, time_zone, locale, suspended, verified, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(&name)
        .bind(input.email.as_ref().map(|e| e.as_str().to_string()))
        .bind(role.as_str())
        .bind(org)
        .bind(input.phone.flatten())
        .bind(input.external_id.flatten())
        .bind(input.details.flatten())
        .bind(input.notes.clone().flatten())
        .bind(&tags)
        .bind(input.time_zone.unwrap_or_else(|| "America/New_York".into()))
        .bind(input.locale.unwrap_or_else(|| "en-US".into()))
        .bind(i64::from(input.suspended.unwrap_or(false)))
        .bind(i64::from(input.verified.unwrap_or(false)))
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| duplicate_email(e.into()))?;
        let id: i64 = row.try_get("id")?;
        self.index_user(tx, id).await?;
        self.user_tx(tx, id).await
    }

    pub async fn update_user(&self, id: i64, input: UserInput, now: i64) -> Result<User> {
        let mut tx = self.begin().await?;
        let user = self.update_user_tx(&mut tx, id, input, now).await?;
        self.commit(tx).await?;
        Ok(user)
    }

    pub(crate) async fn update_user_tx(
        &self,
        tx: &mut Tx,
        id: i64,
        input: UserInput,
        now: i64,
    ) -> Result<User> {
        let mut u = self.user_tx(tx, id).await?;
        if let Some(n) = input.name {
            if n.trim().is_empty() {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            u.name = n.trim().to_string();
        }
        if let Some(e) = input.email {
            u.email = Some(e.as_str().to_string());
        }
        if let Some(r) = input.role {
            u.role = r;
        }
        if let Some(org) = input.organization_id {
            if let Some(o) = org {
                self.ensure_org_exists(tx, o).await?;
            }
            u.organization_id = org;
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = input.$f { u.$f = v; } )* };
        }
        set!(
            phone,
            external_id,
            details,
            notes,
            time_zone,
            locale,
            suspended,
            verified
        );
        if let Some(t) = input.tags {
            u.tags = normalize_tags(t);
        }
        sqlx::query(
            "UPDATE users SET name = $1, email = $2, role = $3, organization_id = $4, phone = $5,
                external_id = $6, details = $7, notes = $8, tags = $9, time_zone = $10, locale = $11,
                suspended = $12, verified = $13, updated_at = $14 WHERE id = $15",
        )
        .bind(&u.name)
        .bind(&u.email)
        .bind(u.role.as_str())
        .bind(u.organization_id)
        .bind(&u.phone)
        .bind(&u.external_id)
        .bind(&u.details)
        .bind(&u.notes)
        .bind(u.tags.join(" "))
        .bind(&u.time_zone)
        .bind(&u.locale)
        .bind(i64::from(u.suspended))
        .bind(i64::from(u.verified))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| duplicate_email(e.into()))?;
        self.index_user(tx, id).await?;
        self.user_tx(tx, id).await
    }

    /// Finds a user by e-mail (or else external id) and updates it, or
    /// creates it: Zendesk's `create_or_update`. Returns whether it was new.
    pub async fn create_or_update_user(&self, input: UserInput, now: i64) -> Result<(User, bool)> {
        let mut tx = self.begin().await?;
        let existing = match (&input.email, &input.external_id) {
            (Some(e), _) => self.user_id_by_email_tx(&mut tx, e.as_str()).await?,
            (None, Some(Some(x))) => {
                let row =
                    sqlx::query("SELECT id FROM users WHERE external_id = $1 ORDER BY id LIMIT 1")
                        .bind(x)
                        .fetch_optional(&mut *tx)
                        .await?;
                row.map(|r| r.try_get::<i64, _>("id")).transpose()?
            }
            _ => None,
        };
        let out = match existing {
            Some(id) => (self.update_user_tx(&mut tx, id, input, now).await?, false),
            None => (self.create_user_tx(&mut tx, input, now).await?, true),
        };
        self.commit(tx).await?;
        Ok(out)
    }

    /// Deactivates a user (Zendesk keeps deleted users' tickets).
    pub async fn deactivate_user(&self, id: i64, now: i64) -> Result<User> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE users SET active = 0, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        // Its tokens die with it, in the same transaction.
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        self.user(id).await
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| user_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("user"))
    }

    pub(crate) async fn user_tx(&self, tx: &mut Tx, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.map(|r| user_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("user"))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        let row = sqlx::query(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    pub(crate) async fn user_id_by_email_tx(
        &self,
        tx: &mut Tx,
        email: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("id")).transpose()?)
    }

    pub async fn users_by_ids(&self, ids: &[i64]) -> Result<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = Args::default();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id IN ({}) ORDER BY u.id",
            args.ints(ids)
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn list_users(
        &self,
        filter: &UserFilter,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<User>> {
        let mut args = Args::default();
        let mut conds = Vec::new();
        if !filter.include_inactive {
            conds.push("u.active = 1".to_string());
        }
        if let Some(r) = filter.role {
            conds.push(format!("u.role = {}", args.text(r.as_str())));
        }
        if let Some(o) = filter.organization_id {
            conds.push(format!("u.organization_id = {}", args.int(o)));
        }
        if let Some(id) = filter.only_id {
            conds.push(format!("u.id = {}", args.int(id)));
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                return Ok(Page {
                    items: vec![],
                    count: Some(0),
                    has_more: false,
                    has_prev: false,
                });
            }
            conds.push(format!("u.id IN ({})", args.ints(ids)));
        }
        let cond = and_all(&conds);
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: USER_COLUMNS,
            from: "users u",
            cond: &cond,
            args: &args,
            alias: "u.",
        };
        let out = page::fetch_counted(&mut conn, &listing, sort, page).await?;
        let items = out
            .items
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    /// Active staff who may be assigned tickets (all but viewers), by name:
    /// the assignee choices of the ticket page.
    pub async fn assignable_agents(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.active = 1 \
             AND u.role NOT IN ('end-user', 'viewer') ORDER BY u.name, u.id"
        );
        let mut conn = self.reader().await?;
        let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_admins(&self) -> Result<i64> {
        let mut conn = self.reader().await?;
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1")
                .fetch_one(&mut *conn)
                .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn touch_login(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.write)
            .await?;
        self.make_durable().await?;
        Ok(())
    }

    /// Keeps the SQLite full-text index in step (PostgreSQL's is a
    /// generated column).
    async fn index_user(&self, tx: &mut Tx, id: i64) -> Result<()> {
        if self.dialect == Dialect::Sqlite {
            sqlx::query("DELETE FROM users_fts WHERE rowid = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO users_fts (rowid, name, email, notes)
                 SELECT id, name, coalesce(email, ''), coalesce(notes, '') FROM users WHERE id = $1",
            )
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

fn duplicate_email(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid("email", "is already being used by another user")
    } else {
        e
    }
}

/// The first active, unsuspended user with `role` (lowest id).
pub(crate) async fn first_active(
    conn: &mut sqlx::AnyConnection,
    role: Role,
) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT id FROM users WHERE role = $1 AND active = 1 AND suspended = 0 ORDER BY id LIMIT 1",
    )
    .bind(role.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

/// The CS Manager of policies.md §6–§9: the first active admin.
pub(crate) async fn cs_manager(conn: &mut sqlx::AnyConnection) -> Result<Option<i64>> {
    first_active(conn, Role::Admin).await
}
