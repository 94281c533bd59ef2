//! Automation rules (policies.md §7): triggers run when tickets change,
//! automations on the clock. Listed with their state; activated and
//! deactivated with one button; created and edited as the same JSON
//! document the API takes (`{"title", "description", "active", "position",
//! "conditions": {"all": [...], "any": [...]}, "actions": [...]}`), every
//! problem listed next to the editor.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use serde_json::{Value as Json, json};
use steward_domain::automation::{self, RuleKind};
use steward_store::{
    automation::{Rule, RuleInput},
    sessions::WebSession,
};

use super::{Admin, admin_page, done, notice, path_id, require_admin};
use crate::{
    AppState,
    extract::Params,
    ui::{page::UiError, session::Posted},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", get(list))
        .route("/admin/rules/{kind}", post(create))
        .route("/admin/rules/{kind}/new", get(new))
        .route("/admin/rules/{kind}/{id}", get(show).post(update))
        .route("/admin/rules/{kind}/{id}/active", post(set_active))
}

fn kind_of(raw: &str) -> Result<RuleKind, UiError> {
    match raw {
        "triggers" => Ok(RuleKind::Trigger),
        "automations" => Ok(RuleKind::Automation),
        _ => Err(UiError::not_found()),
    }
}

fn plural(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Trigger => "triggers",
        RuleKind::Automation => "automations",
    }
}

fn rule_row(r: &Rule) -> Value {
    context! {
        id => r.id, title => r.title.clone(), description => r.description.clone(), active => r.active,
        position => r.position, conditions => r.conditions.all.len() + r.conditions.any.len(),
        actions => r.actions.len(), updated_at => r.updated_at, kind => plural(r.kind),
    }
}

fn document(r: &Rule) -> String {
    serde_json::to_string_pretty(&json!({
        "title": r.title,
        "description": r.description,
        "active": r.active,
        "position": r.position,
        "conditions": r.conditions.to_json(),
        "actions": automation::actions_to_json(&r.actions),
    }))
    .unwrap_or_default()
}

/// `[{"field", "operator", "value"}]` as lines: `priority is urgent`,
/// `add_tags: vip`.
fn readable(list: &Json) -> Vec<String> {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        Json::Null => "nothing".into(),
        other => other.to_string(),
    };
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|c| {
                    let field = text(&c["field"]);
                    match c.get("operator") {
                        Some(op) => format!(
                            "{field} {} {}",
                            text(op).replace('_', " "),
                            text(&c["value"])
                        ),
                        None => format!("{field}: {}", text(&c["value"])),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn list(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let triggers: Vec<Value> = state
        .store
        .rules(RuleKind::Trigger)
        .await?
        .iter()
        .map(rule_row)
        .collect();
    let automations: Vec<Value> = state
        .store
        .rules(RuleKind::Automation)
        .await?
        .iter()
        .map(rule_row)
        .collect();
    admin_page(
        &s,
        "admin_rules.html",
        "Automation rules",
        "rules",
        StatusCode::OK,
        context! { triggers, automations, notice => notice(&params) },
    )
}

#[allow(clippy::too_many_arguments)]
fn editor(
    s: &WebSession,
    kind: RuleKind,
    rule: Option<&Rule>,
    doc: String,
    problems: Vec<(String, String)>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let title = match rule {
        Some(r) => format!("Rule: {}", r.title),
        None => format!("New {}", kind.as_str()),
    };
    let problems: Vec<Value> = problems
        .into_iter()
        .map(|(path, message)| context! { path, message })
        .collect();
    admin_page(
        s,
        "admin_rule.html",
        &title,
        "rules",
        status,
        context! {
            kind => plural(kind), kind_name => kind.as_str(), rule => rule.map(rule_row),
            all => rule.map(|r| readable(&r.conditions.to_json()["all"])),
            any => rule.map(|r| readable(&r.conditions.to_json()["any"])),
            actions => rule.map(|r| readable(&automation::actions_to_json(&r.actions))),
            doc, problems, notice,
        },
    )
}

async fn show(
    State(state): State<AppState>,
    Admin(s): Admin,
    Path((kind, id)): Path<(String, String)>,
    params: Params,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let r = state.store.rule(kind, path_id(&id)?).await?;
    editor(
        &s,
        kind,
        Some(&r),
        document(&r),
        vec![],
        notice(&params),
        StatusCode::OK,
    )
}

async fn new(Admin(s): Admin, Path(kind): Path<String>) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let skeleton = json!({
        "title": "",
        "description": "",
        "active": true,
        "conditions": {"all": [], "any": []},
        "actions": [],
    });
    let doc = serde_json::to_string_pretty(&skeleton).unwrap_or_default();
    editor(&s, kind, None, doc, vec![], None, StatusCode::OK)
}

/// Reads the editor's document; `creating` requires title, conditions and
/// actions (as the API does). Every problem is reported at once.
fn rule_input(
    doc: &str,
    kind: RuleKind,
    creating: bool,
) -> Result<RuleInput, Vec<(String, String)>> {
    let v: Json = serde_json::from_str(doc)
        .map_err(|e| vec![("rule".to_string(), format!("is not valid JSON: {e}"))])?;
    let Some(o) = v.as_object() else {
        return Err(vec![("rule".into(), "must be a JSON object".into())]);
    };
    let mut problems = Vec::new();
    let known = [
        "title",
        "description",
        "active",
        "position",
        "conditions",
        "actions",
    ];
    for k in o.keys().filter(|k| !known.contains(&k.as_str())) {
        problems.push((k.clone(), "is not a field of a rule".into()));
    }
    let text = |k: &str, problems: &mut Vec<(String, String)>| match o.get(k) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.trim().to_string()),
        Some(_) => {
            problems.push((k.to_string(), "must be text".into()));
            None
        }
    };
    let mut input = RuleInput {
        title: text("title", &mut problems).filter(|t| !t.is_empty()),
        description: text("description", &mut problems),
        ..Default::default()
    };
    match o.get("active") {
        None | Some(Json::Null) => {}
        Some(Json::Bool(b)) => input.active = Some(*b),
        Some(_) => problems.push(("active".into(), "must be true or false".into())),
    }
    match o.get("position") {
        None | Some(Json::Null) => {}
        Some(p) => match p.as_i64() {
            Some(p) => input.position = Some(p),
            None => problems.push(("position".into(), "must be a whole number".into())),
        },
    }
    if creating && input.title.is_none() {
        problems.push(("title".into(), "is required".into()));
    }
    match o.get("conditions") {
        Some(c) => match automation::parse_conditions(kind, c) {
            Ok(c) => input.conditions = Some(c),
            Err(p) => problems.extend(p),
        },
        None if creating => problems.push(("conditions".into(), "is required".into())),
        None => {}
    }
    match o.get("actions") {
        Some(a) => match automation::parse_actions(a) {
            Ok(a) => input.actions = Some(a),
            Err(p) => problems.extend(p),
        },
        None if creating => problems.push(("actions".into(), "is required".into())),
        None => {}
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(problems)
    }
}

fn store_problem(e: steward_store::StoreError) -> Result<Vec<(String, String)>, UiError> {
    match e {
        steward_store::StoreError::Invalid { field, message } => Ok(vec![(field, message)]),
        other => Err(other.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let kind = kind_of(&kind)?;
    let doc = p.fields.raw("rule").to_string();
    let problems = match rule_input(&doc, kind, true) {
        Ok(input) => match state.store.create_rule(kind, input, state.now()).await {
            Ok(r) => {
                return Ok(done(
                    &format!("/admin/rules/{}/{}", plural(kind), r.id),
                    &format!("The {} {} was created.", kind.as_str(), r.title),
                ));
            }
            Err(e) => store_problem(e)?,
        },
        Err(p) => p,
    };
    editor(
        &p.session,
        kind,
        None,
        doc,
        problems,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

async fn update(
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let kind = kind_of(&kind)?;
    let id = path_id(&id)?;
    let current = state.store.rule(kind, id).await?;
    let doc = p.fields.raw("rule").to_string();
    let problems = match rule_input(&doc, kind, false) {
        Ok(input) => match state.store.update_rule(kind, id, input, state.now()).await {
            Ok(r) => {
                return Ok(done(
                    &format!("/admin/rules/{}/{id}", plural(kind)),
                    &format!("{} was saved.", r.title),
                ));
            }
            Err(e) => store_problem(e)?,
        },
        Err(p) => p,
    };
    editor(
        &p.session,
        kind,
        Some(&current),
        doc,
        problems,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

async fn set_active(
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let kind = kind_of(&kind)?;
    let id = path_id(&id)?;
    let active = match p.fields.get("active") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(UiError::bad_request("active must be true or false")),
    };
    let input = RuleInput {
        active: Some(active),
        ..Default::default()
    };
    let r = state
        .store
        .update_rule(kind, id, input, state.now())
        .await?;
    let what = if active { "active" } else { "inactive" };
    Ok(done("/admin/rules", &format!("{} is now {what}.", r.title)))
}
