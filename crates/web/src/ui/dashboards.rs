//! The dashboards of policies.md §18 as pages: every tile's chart drawn on
//! the server as SVG (`crate::charts`), its data as a table beside it, and
//! a CSV download of that table under the same filters. Who may see which
//! accounts is the store's rule (admins and viewers everything, CSMs their
//! own accounts, other roles nothing), as for `/api/v2/dashboards`.

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use minijinja::{Value, context};
use steward_domain::{AccountStatus, CompanySize, Industry, Role, Tier};
use steward_store::dashboards::{Cell, DashboardName};

use super::{
    page::{UiError, page},
    session::Staff,
};
use crate::{AppState, charts, extract::Params};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboards", get(index))
        .route("/dashboards/{name}", get(show))
        .route("/dashboards/{name}/{tile}", get(csv))
}

const NAMES: [DashboardName; 5] = [
    DashboardName::CustomerHealth,
    DashboardName::Implementation,
    DashboardName::CsmKpis,
    DashboardName::ChurnRisk,
    DashboardName::Sla,
];

fn may_see(s: &steward_store::sessions::WebSession) -> Result<(), UiError> {
    match s.actor.role() {
        Role::Admin | Role::Viewer | Role::Csm => Ok(()),
        _ => Err(UiError::forbidden(
            "Dashboards are for CS managers, CSMs and executives.",
        )),
    }
}

fn list() -> Vec<Value> {
    NAMES
        .iter()
        .map(|d| context! { name => d.as_str(), title => d.title() })
        .collect()
}

async fn index(Staff(s): Staff) -> Result<Response, UiError> {
    may_see(&s)?;
    page(
        &s,
        "dashboards.html",
        "Dashboards",
        context! { nav => "dashboards", dashboards => list() },
    )
}

fn options(values: &[&'static str]) -> Vec<Value> {
    values
        .iter()
        .map(|v| context! { value => *v, label => *v })
        .collect()
}

fn query_string(params: &Params) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for k in ["period", "industry", "size", "status", "months", "tier"] {
        if let Some(v) = params.get(k) {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    may_see(&s)?;
    let name = DashboardName::parse(&name).ok_or_else(UiError::not_found)?;
    let (f, sla) = crate::api::dashboards::filters(&params)
        .map_err(|e| UiError::bad_request(e.description))?;
    let d = state
        .store
        .dashboard(&s.actor, name, &f, &sla, state.now())
        .await?;
    let qs = query_string(&params);
    let tiles: Vec<Value> = d
        .tiles
        .iter()
        .map(|t| {
            let rows: Vec<Vec<String>> = t
                .table
                .rows
                .iter()
                .map(|r| r.iter().map(Cell::text).collect())
                .collect();
            context! {
                key => t.key,
                title => t.title.clone(),
                note => t.note.clone(),
                // Drawn by our chart module, which escapes every text it
                // writes; trusted markup.
                svg => Value::from_safe_string(charts::tile_svg(t)),
                columns => t.table.columns.iter().map(|c| c.label).collect::<Vec<_>>(),
                rows,
                csv => format!("/dashboards/{}/{}.csv{}{}", d.name, t.key, if qs.is_empty() { "" } else { "?" }, qs),
            }
        })
        .collect();
    let sla_dashboard = name == DashboardName::Sla;
    page(
        &s,
        "dashboard.html",
        d.title,
        context! {
            nav => "dashboards",
            dashboards => list(),
            name => d.name,
            tiles,
            sla_dashboard,
            filters => context! {
                period => f.period.days(),
                industry => f.industry.map(|v| v.as_str()),
                size => f.size.map(|v| v.as_str()),
                status => f.status.map(|v| v.as_str()),
                months => sla.months,
                tier => sla.tier.map(|t| t.as_str()),
            },
            industries => options(&Industry::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            sizes => options(&CompanySize::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            statuses => options(&AccountStatus::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            tiers => options(&Tier::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        },
    )
}

/// `GET /dashboards/{name}/{tile}.csv`: the tile's table, as the page's
/// filters computed it.
async fn csv(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path((name, tile)): Path<(String, String)>,
    params: Params,
) -> Result<Response, UiError> {
    may_see(&s)?;
    let name = DashboardName::parse(&name).ok_or_else(UiError::not_found)?;
    let key = tile.strip_suffix(".csv").ok_or_else(UiError::not_found)?;
    if !name.tiles().contains(&key) {
        return Err(UiError::not_found());
    }
    let (f, sla) = crate::api::dashboards::filters(&params)
        .map_err(|e| UiError::bad_request(e.description))?;
    let d = state
        .store
        .dashboard(&s.actor, name, &f, &sla, state.now())
        .await?;
    let t = d.tile(key).ok_or_else(UiError::not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-{key}.csv\"", d.name),
            ),
        ],
        t.table.csv(),
    )
        .into_response())
}
