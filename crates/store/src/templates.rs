//! Communication templates (policies.md §16). The defaults are code
//! (`steward_domain::templates::DEFAULTS`, §16's eleven, and `EXTRAS`, the
//! feedback notices of §11); the `templates` table holds only
//! the copies admins have edited, so a new release can improve a default
//! nobody touched, and "reset to default" is deleting the row.
//!
//! Staff read templates; admins change them. Every save is validated
//! against the template's schema first (syntax and unknown placeholders,
//! with line and column), so what is stored always renders.

use sqlx::Row;
use steward_domain::{
    Role,
    templates::{self, Parts, TemplateDef, TemplateError},
};

use crate::{
    Store,
    access::Actor,
    error::{Result, StoreError},
};

/// A template as it is now: an edited copy, or the default.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub def: &'static TemplateDef,
    pub name: String,
    pub parts: Parts,
    /// `None` for a default nobody edited.
    pub updated_at: Option<i64>,
    pub updated_by: Option<i64>,
}

impl Template {
    pub fn is_default(&self) -> bool {
        self.updated_at.is_none()
    }

    fn default_of(def: &'static TemplateDef) -> Template {
        Template {
            def,
            name: def.name.into(),
            parts: Parts::of(def),
            updated_at: None,
            updated_by: None,
        }
    }
}

/// An edit: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
}

/// Why a save was refused.
#[derive(Debug)]
pub enum SaveError {
    /// The template does not render: one problem per part that has one.
    Template(Vec<TemplateError>),
    Store(StoreError),
}

impl From<StoreError> for SaveError {
    fn from(e: StoreError) -> Self {
        SaveError::Store(e)
    }
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> Self {
        SaveError::Store(e.into())
    }
}

pub(crate) fn require_staff(actor: &Actor) -> Result<()> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden("templates are for staff".into()))
    }
}

fn require_admin(actor: &Actor) -> Result<()> {
    if actor.role() == Role::Admin {
        Ok(())
    } else {
        Err(StoreError::Forbidden("only admins change templates".into()))
    }
}

fn def(key: &str) -> Result<&'static TemplateDef> {
    templates::default_for(key).ok_or(StoreError::NotFound("template"))
}

impl Store {
    /// Every template: §16's eleven in their order, then the extras.
    pub async fn list_templates(&self, actor: &Actor) -> Result<Vec<Template>> {
        require_staff(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT key, name, subject, text_body, html_body, updated_at, updated_by FROM templates",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<Template> = templates::all().map(Template::default_of).collect();
        for r in rows {
            let key: String = r.try_get("key")?;
            // A row whose key no release knows any more is left alone.
            if let Some(t) = out.iter_mut().find(|t| t.def.key == key) {
                *t = from_row(t.def, &r)?;
            }
        }
        Ok(out)
    }

    pub async fn template(&self, actor: &Actor, key: &str) -> Result<Template> {
        require_staff(actor)?;
        let mut conn = self.reader().await?;
        self.template_in(&mut conn, key).await
    }

    /// The template as it is now (edited copy or default), on `conn`.
    pub(crate) async fn template_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        key: &str,
    ) -> Result<Template> {
        let d = def(key)?;
        let row = sqlx::query(
            "SELECT key, name, subject, text_body, html_body, updated_at, updated_by \
             FROM templates WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(r) => from_row(d, &r),
            None => Ok(Template::default_of(d)),
        }
    }

    /// Validates and stores an edited copy (admins only).
    pub async fn save_template(
        &self,
        actor: &Actor,
        key: &str,
        input: TemplateInput,
        now: i64,
    ) -> std::result::Result<Template, SaveError> {
        require_admin(actor)?;
        let current = self.template(actor, key).await?;
        let name = input.name.unwrap_or(current.name);
        if name.trim().is_empty() {
            return Err(StoreError::invalid("name", "cannot be blank").into());
        }
        let parts = Parts {
            subject: input.subject.unwrap_or(current.parts.subject),
            text_body: input.text_body.unwrap_or(current.parts.text_body),
            html_body: input.html_body.unwrap_or(current.parts.html_body),
        };
        templates::validate(current.def, &parts).map_err(SaveError::Template)?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO templates (key, name, subject, text_body, html_body, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, subject = excluded.subject, \
             text_body = excluded.text_body, html_body = excluded.html_body, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(key)
        .bind(name.trim())
        .bind(&parts.subject)
        .bind(&parts.text_body)
        .bind(&parts.html_body)
        .bind(now)
        .bind(actor.id())
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(self.template(actor, key).await?)
    }

    /// Drops the edited copy, restoring the default (admins only).
    pub async fn reset_template(&self, actor: &Actor, key: &str) -> Result<Template> {
        require_admin(actor)?;
        let d = def(key)?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM templates WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Template::default_of(d))
    }
}

fn from_row(def: &'static TemplateDef, r: &sqlx::any::AnyRow) -> Result<Template> {
    Ok(Template {
        def,
        name: r.try_get("name")?,
        parts: Parts {
            subject: r.try_get("subject")?,
            text_body: r.try_get("text_body")?,
            html_body: r.try_get("html_body")?,
        },
        updated_at: Some(r.try_get("updated_at")?),
        updated_by: r.try_get("updated_by")?,
    })
}
