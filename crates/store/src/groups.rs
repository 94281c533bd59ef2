//! Groups (policies.md §4) and the custom ticket fields.
//!
//! The four default groups have fixed ids 1–4 and their subgroups point at
//! them with `parent_id`; role permissions (§8) are stated over these root
//! groups and extend to their subgroups.

use std::{collections::BTreeMap, sync::Arc};

use sqlx::{Row, any::AnyRow};

use crate::{
    Store,
    db::{Tx, flag, opt_str},
    error::{Result, StoreError},
};

pub const TECHNICAL_SUPPORT: i64 = 1;
pub const IMPLEMENTATION: i64 = 2;
pub const BILLING_ADMIN: i64 = 3;
pub const ESCALATIONS: i64 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Group {
    /// The root group whose permissions apply.
    pub fn root(&self) -> i64 {
        self.parent_id.unwrap_or(self.id)
    }
}

fn group_from_row(r: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: opt_str(r, "description")?,
        parent_id: r.try_get("parent_id")?,
        deleted: flag(r, "deleted")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const GROUP_COLUMNS: &str = "id, name, description, parent_id, deleted, created_at, updated_at";

#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parent_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketField {
    pub id: i64,
    pub title: String,
    /// text, integer, decimal, checkbox or tagger.
    pub field_type: String,
    pub options: Vec<String>,
    pub commercial: bool,
    pub position: i64,
    pub created_at: i64,
}

impl TicketField {
    /// Checks and normalizes a value for this field (`null` clears it).
    pub fn check(&self, value: &serde_json::Value) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        if value.is_null() {
            return Ok(Value::Null);
        }
        let ok = match self.field_type.as_str() {
            "checkbox" => value.is_boolean(),
            "integer" => value.is_i64() || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            "decimal" => {
                value.is_number()
                    || value
                        .as_str()
                        .is_some_and(|s| s.parse::<f64>().is_ok_and(f64::is_finite))
            }
            "tagger" => value
                .as_str()
                .is_some_and(|s| self.options.iter().any(|o| o == s)),
            _ => value.is_string(),
        };
        if !ok {
            let expected = match self.field_type.as_str() {
                "tagger" => format!("one of {}", self.options.join(", ")),
                other => format!("a {other} value"),
            };
            return Err(format!("{} must be {expected}", self.title));
        }
        Ok(value.clone())
    }
}

impl Store {
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE deleted = 0 ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
        rows.iter().map(group_from_row).collect()
    }

    pub async fn group(&self, id: i64) -> Result<Group> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1 AND deleted = 0");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| group_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("group"))
    }

    pub(crate) async fn group_tx(&self, tx: &mut Tx, id: i64) -> Result<Option<Group>> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1 AND deleted = 0");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.map(|r| group_from_row(&r)).transpose()
    }

    pub(crate) async fn ensure_group_exists(&self, tx: &mut Tx, id: i64) -> Result<Group> {
        self.group_tx(tx, id)
            .await?
            .ok_or_else(|| StoreError::invalid("group_id", format!("group {id} does not exist")))
    }

    pub async fn create_group(&self, input: GroupInput, now: i64) -> Result<Group> {
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| StoreError::invalid("name", "is required"))?
            .to_string();
        let mut tx = self.begin().await?;
        let parent = self
            .checked_parent(&mut tx, input.parent_id.flatten())
            .await?;
        let row = sqlx::query(
            "INSERT INTO groups (name, description, parent_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(&name)
        .bind(input.description.flatten())
        .bind(parent)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| duplicate_group(e.into()))?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        self.group(id).await
    }

    pub async fn update_group(&self, id: i64, input: GroupInput, now: i64) -> Result<Group> {
        let mut tx = self.begin().await?;
        let mut g = self
            .group_tx(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound("group"))?;
        if let Some(n) = input.name {
            if n.trim().is_empty() {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            g.name = n.trim().to_string();
        }
        if let Some(d) = input.description {
            g.description = d;
        }
        if let Some(p) = input.parent_id {
            if p == Some(id) {
                return Err(StoreError::invalid(
                    "parent_id",
                    "a group cannot be its own parent",
                ));
            }
            g.parent_id = self.checked_parent(&mut tx, p).await?;
        }
        sqlx::query("UPDATE groups SET name = $1, description = $2, parent_id = $3, updated_at = $4 WHERE id = $5")
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.parent_id)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| duplicate_group(e.into()))?;
        self.commit(tx).await?;
        self.group(id).await
    }

    /// Soft-deletes a group that no unsolved ticket uses; the four default
    /// groups are permanent because the policies refer to them.
    pub async fn delete_group(&self, id: i64, now: i64) -> Result<()> {
        if id <= ESCALATIONS {
            return Err(StoreError::invalid(
                "group",
                "the default groups cannot be deleted",
            ));
        }
        let mut tx = self.begin().await?;
        self.group_tx(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound("group"))?;
        let used = sqlx::query(
            "SELECT 1 AS x FROM tickets WHERE group_id = $1 AND status NOT IN ('solved', 'closed') AND deleted = 0 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if used.is_some() {
            return Err(StoreError::invalid(
                "group",
                "has unsolved tickets; reassign them first",
            ));
        }
        sqlx::query("UPDATE groups SET deleted = 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Subgroups are one level deep: a parent must itself be a root.
    async fn checked_parent(&self, tx: &mut Tx, parent: Option<i64>) -> Result<Option<i64>> {
        let Some(p) = parent else { return Ok(None) };
        let g = self
            .group_tx(tx, p)
            .await?
            .ok_or_else(|| StoreError::invalid("parent_id", format!("group {p} does not exist")))?;
        if g.parent_id.is_some() {
            return Err(StoreError::invalid(
                "parent_id",
                "subgroups cannot have subgroups",
            ));
        }
        Ok(Some(p))
    }

    /// The custom ticket fields, from a per-process cache refreshed every
    /// [`crate::cache::TTL`] (every ticket read and write needs them; they change
    /// only when an admin edits them).
    pub async fn ticket_fields(&self) -> Result<Fields> {
        if let Some(fields) = self.fields.fresh() {
            return Ok(fields);
        }
        let mut conn = self.reader().await?;
        self.ticket_fields_in(&mut conn).await
    }

    /// [`Store::ticket_fields`] on a given connection (see `setting_in`).
    pub(crate) async fn ticket_fields_in(&self, conn: &mut sqlx::AnyConnection) -> Result<Fields> {
        if let Some(fields) = self.fields.fresh() {
            return Ok(fields);
        }
        let fields = Arc::new(Self::load_ticket_fields(conn).await?);
        self.fields.put(fields.clone());
        Ok(fields)
    }

    async fn load_ticket_fields(
        conn: &mut sqlx::AnyConnection,
    ) -> Result<BTreeMap<i64, TicketField>> {
        let rows = sqlx::query(
            "SELECT id, title, field_type, options, commercial, position, created_at FROM ticket_fields ORDER BY position, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let options: Vec<String> = match opt_str(r, "options")? {
                    Some(s) => serde_json::from_str(&s)?,
                    None => Vec::new(),
                };
                let f = TicketField {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    field_type: r.try_get("field_type")?,
                    options,
                    commercial: flag(r, "commercial")?,
                    position: r.try_get("position")?,
                    created_at: r.try_get("created_at")?,
                };
                Ok((f.id, f))
            })
            .collect()
    }
}

/// Field definitions by id, shared between requests.
pub type Fields = Arc<BTreeMap<i64, TicketField>>;

fn duplicate_group(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid("name", "has already been taken")
    } else {
        e
    }
}
