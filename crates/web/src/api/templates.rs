//! `/api/v2/templates`: the eleven communication templates of policies.md
//! §16 and the extra editable defaults (the feedback notices of §11,
//! `feedback_decision` and `feedback_shipped`). Staff read them and preview them; admins edit them (`PUT`, checked
//! against the template's schema: a syntax error or an unknown placeholder
//! is a 422 naming the part, line and column) and reset them to the default
//! (`DELETE`).
//!
//! `POST /api/v2/templates/{key}/preview` renders a template to
//! `{"preview": {"subject", "text", "html"}}`. Values come from
//! `{"ticket_id": n}` (the ticket, its requester and account) or
//! `{"organization_id": n}` (the account), the signed-in agent, and
//! `{"context": {"account": {...}, ...}}`, in rising precedence; whatever is
//! still missing comes from the template's sample context. A `template`
//! object previews unsaved edits, validated like a save.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{
    templates::{self, Context, Object, Parts, TemplateError},
    time::format_unix,
};
use steward_store::templates::{SaveError, Template, TemplateInput};

use super::Routes;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, JsonBody, require_admin, require_staff},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/templates", get(list)),
        (
            "/api/v2/templates/{key}",
            get(show).put(update).delete(reset),
        ),
        ("/api/v2/templates/{key}/preview", post(preview)),
    ]
}

/// `welcome.json` names the same template as `welcome`.
fn key_of(raw: &str) -> &str {
    raw.strip_suffix(".json").unwrap_or(raw)
}

fn template_json(t: &Template) -> Value {
    let objects: serde_json::Map<String, Value> = t
        .def
        .objects
        .iter()
        .map(|o| (o.as_str().to_string(), json!(o.fields())))
        .collect();
    json!({
        "key": t.def.key,
        "name": t.name,
        "occasion": t.def.occasion,
        "subject": t.parts.subject,
        "text_body": t.parts.text_body,
        "html_body": t.parts.html_body,
        "placeholders": objects,
        "default": t.is_default(),
        "updated_at": t.updated_at.map(format_unix),
        "updated_by_id": t.updated_by,
    })
}

/// 422 `RecordInvalid`, one detail per part: "line L, column C: ...".
fn invalid_template(errors: &[TemplateError]) -> ApiError {
    let mut e = ApiError::invalid(
        errors
            .iter()
            .map(|e| (e.field.to_string(), e.to_string()))
            .collect(),
    );
    let mut details = serde_json::Map::new();
    for err in errors {
        details.insert(
            err.field.to_string(),
            json!([{"description": err.to_string(), "error": "InvalidValue"}]),
        );
    }
    e.details = Some(Value::Object(details));
    e
}

async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let all = state.store.list_templates(&actor).await?;
    let items: Vec<Value> = all.iter().map(template_json).collect();
    Ok(Json(json!({"count": items.len(), "templates": items})))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let t = state.store.template(&actor, key_of(&key)).await?;
    Ok(Json(json!({"template": template_json(&t)})))
}

fn template_input(body: &Value) -> ApiResult<TemplateInput> {
    let mut r = Reader::new(envelope(body, "template")?, "template")?;
    let mut input = TemplateInput {
        name: r.line("name").flatten(),
        ..TemplateInput::default()
    };
    for (k, slot) in [
        ("subject", &mut input.subject),
        ("text_body", &mut input.text_body),
        ("html_body", &mut input.html_body),
    ] {
        match r.text(k) {
            Some(None) => r.error(k, "cannot be null"),
            v => *slot = v.flatten(),
        }
    }
    r.finish()?;
    Ok(input)
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    require_admin(&actor)?;
    let input = template_input(&body)?;
    let t = state
        .store
        .save_template(&actor, key_of(&key), input, state.now())
        .await
        .map_err(|e| match e {
            SaveError::Template(errors) => invalid_template(&errors),
            SaveError::Store(e) => e.into(),
        })?;
    Ok(Json(json!({"template": template_json(&t)})))
}

async fn reset(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    require_admin(&actor)?;
    let t = state.store.reset_template(&actor, key_of(&key)).await?;
    Ok(Json(json!({"template": template_json(&t)})))
}

fn id_field(body: &Value, k: &str) -> ApiResult<Option<i64>> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid(vec![(k.into(), "must be an id".into())])),
    }
}

/// The account fields of an organization.
async fn fill_account(state: &AppState, ctx: &mut Context, org_id: i64) -> ApiResult<()> {
    let org = state.store.org(org_id).await?;
    ctx.set(Object::Account, "name", org.name.clone());
    ctx.set(Object::Account, "tier", org.tier().as_str());
    if let Some(r) = &org.account.renewal_date {
        ctx.set(Object::Account, "renewal_date", r.clone());
    }
    Ok(())
}

async fn preview(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    if !body.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    let current = state.store.template(&actor, key_of(&key)).await?;
    let def = current.def;
    let mut parts = current.parts;
    if body.get("template").is_some() {
        let input = template_input(&body)?;
        parts = Parts {
            subject: input.subject.unwrap_or(parts.subject),
            text_body: input.text_body.unwrap_or(parts.text_body),
            html_body: input.html_body.unwrap_or(parts.html_body),
        };
        templates::validate(def, &parts).map_err(|e| invalid_template(&e))?;
    }

    let org_id = id_field(&body, "organization_id")?;
    let mut ctx = match id_field(&body, "ticket_id")? {
        // The ticket, its requester, account and current project, as a
        // reply from the ticket page renders (tickets the agent may not
        // read are not found, as everywhere).
        Some(id) => {
            state
                .store
                .ticket_template_context(
                    &actor,
                    id,
                    &super::portal_ticket_url(&state, &headers, id),
                    state.now(),
                )
                .await?
        }
        None => {
            let mut ctx = Context::default();
            let me = &actor.user;
            ctx.set(Object::Agent, "name", me.name.clone());
            if let Some(email) = &me.email {
                ctx.set(Object::Agent, "email", email.clone());
            }
            ctx
        }
    };
    if let Some(id) = org_id {
        fill_account(&state, &mut ctx, id).await?;
    }
    if let Some(c) = body.get("context") {
        if !c.is_object() {
            return Err(ApiError::invalid(vec![(
                "context".into(),
                "must be an object".into(),
            )]));
        }
        ctx.overlay_json(c);
    }
    let ctx = ctx.complete_from(&templates::sample(def));
    let r = templates::render(&parts, &ctx).map_err(|e| invalid_template(&[e]))?;
    Ok(Json(json!({"preview": {
        "subject": r.subject,
        "text": r.text,
        "html": r.html,
    }})))
}
