//! The communication templates of policies.md §16: listed, edited with a
//! live preview against sample data, checked when saved (a syntax error or
//! an unknown placeholder re-renders the form with status 422 and the
//! store's message next to the part that has it; nothing is saved), and
//! reset to the default.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use steward_domain::templates::{self, Context, Object, Parts, TemplateError};
use steward_store::{
    sessions::WebSession,
    templates::{SaveError, Template, TemplateInput},
};

use super::{Admin, Errors, admin_page, done, notice, require_admin};
use crate::{
    AppState,
    extract::Params,
    ui::{
        page::{UiError, render},
        session::Posted,
    },
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/templates", get(list))
        .route("/admin/templates/{key}", get(show).post(save))
        .route("/admin/templates/{key}/preview", post(preview))
        .route("/admin/templates/{key}/reset", post(reset))
}

async fn list(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let items: Vec<Value> = state
        .store
        .list_templates(&s.actor)
        .await?
        .iter()
        .map(|t| {
            context! {
                key => t.def.key, name => t.name.clone(), occasion => t.def.occasion,
                subject => t.parts.subject.clone(), default => t.is_default(), updated_at => t.updated_at,
            }
        })
        .collect();
    admin_page(
        &s,
        "admin_templates.html",
        "Templates",
        "templates",
        StatusCode::OK,
        context! { templates => items, notice => notice(&params) },
    )
}

/// The sample values a preview uses: the signed-in admin as the agent,
/// the template's sample data for everything else.
fn sample_context(s: &WebSession, t: &Template) -> Context {
    let mut ctx = Context::default();
    let me = &s.actor.user;
    if t.def.allows(Object::Agent) {
        ctx.set(Object::Agent, "name", me.name.clone());
        if let Some(e) = &me.email {
            ctx.set(Object::Agent, "email", e.clone());
        }
    }
    ctx.complete_from(&templates::sample(t.def))
}

/// The rendered preview, or the problems that prevent one.
fn preview_value(s: &WebSession, t: &Template, parts: &Parts) -> Value {
    let checked = templates::validate(t.def, parts)
        .and_then(|()| templates::render(parts, &sample_context(s, t)).map_err(|e| vec![e]));
    match checked {
        Ok(r) => context! { ok => true, subject => r.subject, html => r.html, text => r.text },
        Err(errors) => {
            context! { ok => false, problems => errors.iter().map(|e| format!("{}: {e}", part_label(e.field))).collect::<Vec<_>>() }
        }
    }
}

fn part_label(field: &str) -> &'static str {
    match field {
        "subject" => "Subject",
        "html_body" => "HTML body",
        "text_body" => "Text body",
        _ => "Template",
    }
}

fn errors_of(errors: &[TemplateError]) -> Errors {
    errors
        .iter()
        .map(|e| (e.field.to_string(), e.to_string()))
        .collect()
}

/// The parts as posted; a part left out keeps its current text.
fn posted_parts(p: &Posted, t: &Template) -> (String, Parts) {
    let f = &p.fields;
    let keep = |k: &str, cur: &str| {
        if f.0.iter().any(|(name, _)| name == k) {
            f.raw(k).replace("\r\n", "\n")
        } else {
            cur.to_string()
        }
    };
    let name = f
        .get("name")
        .map(str::to_string)
        .unwrap_or_else(|| t.name.clone());
    (
        name,
        Parts {
            subject: keep("subject", &t.parts.subject),
            text_body: keep("text_body", &t.parts.text_body),
            html_body: keep("html_body", &t.parts.html_body),
        },
    )
}

fn editor(
    s: &WebSession,
    t: &Template,
    name: &str,
    parts: &Parts,
    errors: Errors,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let placeholders: Vec<Value> = t
        .def
        .objects
        .iter()
        .map(|o| {
            context! {
                object => o.as_str(),
                fields => o.fields().iter().map(|f| format!("{{{{ {}.{f} }}}}", o.as_str())).collect::<Vec<_>>(),
            }
        })
        .collect();
    admin_page(
        s,
        "admin_template.html",
        &format!("Template: {}", t.name),
        "templates",
        status,
        context! {
            key => t.def.key, occasion => t.def.occasion, default => t.is_default(), updated_at => t.updated_at,
            name, subject => parts.subject.clone(), html_body => parts.html_body.clone(), text_body => parts.text_body.clone(),
            placeholders, preview => preview_value(s, t, parts), errors, notice,
        },
    )
}

async fn show(
    State(state): State<AppState>,
    Admin(s): Admin,
    Path(key): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    let t = state.store.template(&s.actor, &key).await?;
    editor(
        &s,
        &t,
        &t.name,
        &t.parts,
        Errors::new(),
        notice(&params),
        StatusCode::OK,
    )
}

/// Saves, or with `preview` set (the no-script Preview button) shows the
/// preview of the unsaved edits without saving.
async fn save(
    State(state): State<AppState>,
    Path(key): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let t = state.store.template(&s.actor, &key).await?;
    let (name, parts) = posted_parts(&p, &t);
    if p.fields.get("preview").is_some() {
        let errors = templates::validate(t.def, &parts)
            .err()
            .map(|e| errors_of(&e))
            .unwrap_or_default();
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return editor(s, &t, &name, &parts, errors, None, status);
    }
    let input = TemplateInput {
        name: Some(name.clone()),
        subject: Some(parts.subject.clone()),
        text_body: Some(parts.text_body.clone()),
        html_body: Some(parts.html_body.clone()),
    };
    match state
        .store
        .save_template(&s.actor, &key, input, state.now())
        .await
    {
        Ok(saved) => Ok(done(
            &format!("/admin/templates/{}", saved.def.key),
            &format!("{} was saved.", saved.name),
        )),
        Err(SaveError::Template(errors)) => editor(
            s,
            &t,
            &name,
            &parts,
            errors_of(&errors),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(SaveError::Store(steward_store::StoreError::Invalid { field, message })) => editor(
            s,
            &t,
            &name,
            &parts,
            super::error(&field, message),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(SaveError::Store(e)) => Err(e.into()),
    }
}

/// The live preview: an HTML fragment for `#preview` (the editor posts
/// itself here as the admin types).
async fn preview(
    State(state): State<AppState>,
    Path(key): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let t = state.store.template(&s.actor, &key).await?;
    let (_, parts) = posted_parts(&p, &t);
    render(
        StatusCode::OK,
        "admin_template_preview.html",
        context! { preview => preview_value(s, &t, &parts) },
    )
}

async fn reset(
    State(state): State<AppState>,
    Path(key): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let t = state.store.reset_template(&s.actor, &key).await?;
    Ok(done(
        &format!("/admin/templates/{}", t.def.key),
        &format!("{} is back to the default text.", t.name),
    ))
}
