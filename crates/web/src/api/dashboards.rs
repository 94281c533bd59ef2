//! Dashboards (policies.md §18): the five dashboards as JSON, each tile's
//! table as CSV and its chart as SVG drawn on the server.
//!
//! - `GET /api/v2/dashboards`: the dashboards, their tiles and filters.
//! - `GET /api/v2/dashboards/{name}?period=30|90&industry=&size=&status=`
//!   (`sla`: `?months=1..12&tier=`): `{"dashboard": {name, title,
//!   generated_at, filters, tiles: [{key, title, chart, table: {columns,
//!   rows}, note}]}}`.
//! - `GET /api/v2/dashboards/{name}/{tile}.csv`: the tile's table as CSV
//!   (`text/csv`, a header of column keys); `.svg`: its chart
//!   (`image/svg+xml`); `.json` or no suffix: the tile alone.
//!
//! Admins and viewers see every account, CSMs their own (accounts they own
//! a project of); everyone else gets 403. A filter value that is not one of
//! §1's is a 400 naming the parameter; an unknown dashboard or tile a 404.

use axum::{
    Json,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::{AccountStatus, CompanySize, Industry, Tier};
use steward_store::dashboards::{DASHBOARDS, DashboardName, Filters, Period, SlaFilters};

use super::Routes;
use crate::{
    AppState, charts,
    error::{ApiError, ApiResult},
    extract::{Auth, Params},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/dashboards", get(list)),
        ("/api/v2/dashboards/{name}", get(show)),
        ("/api/v2/dashboards/{name}/{tile}", get(tile)),
    ]
}

fn parse<T>(
    params: &Params,
    key: &str,
    f: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> ApiResult<Option<T>> {
    params
        .get(key)
        .map(|v| {
            f(v.trim())
                .ok_or_else(|| ApiError::bad_request(format!("{key}: {v} is not one of {allowed}")))
        })
        .transpose()
}

fn list_of<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ")
}

/// The filters of the query string (400 on a value that is not allowed).
pub(crate) fn filters(params: &Params) -> ApiResult<(Filters, SlaFilters)> {
    let f = Filters {
        period: parse(params, "period", Period::parse, "30, 90")?.unwrap_or_default(),
        industry: parse(
            params,
            "industry",
            |s| Industry::parse(s).ok(),
            &list_of(Industry::ALL, Industry::as_str),
        )?,
        size: parse(
            params,
            "size",
            |s| CompanySize::parse(&s.to_lowercase()).ok(),
            &list_of(CompanySize::ALL, CompanySize::as_str),
        )?,
        status: parse(
            params,
            "status",
            |s| AccountStatus::parse(s).ok(),
            &list_of(AccountStatus::ALL, AccountStatus::as_str),
        )?,
    };
    let sla = SlaFilters {
        months: parse(
            params,
            "months",
            |s| s.parse::<u8>().ok().filter(|m| (1..=12).contains(m)),
            "1 to 12",
        )?
        .unwrap_or(SlaFilters::default().months),
        tier: parse(
            params,
            "tier",
            |s| Tier::parse_loose(s).ok(),
            &list_of(Tier::ALL, Tier::as_str),
        )?,
    };
    Ok((f, sla))
}

fn name_of(raw: &str) -> ApiResult<DashboardName> {
    DashboardName::parse(raw.strip_suffix(".json").unwrap_or(raw)).ok_or_else(ApiError::not_found)
}

async fn list(State(_): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    if !matches!(
        actor.role(),
        steward_domain::Role::Admin | steward_domain::Role::Viewer | steward_domain::Role::Csm
    ) {
        return Err(ApiError::forbidden(
            "dashboards are for admins, viewers and CSMs",
        ));
    }
    let dashboards: Vec<Value> = DASHBOARDS
        .iter()
        .filter_map(|(n, _)| DashboardName::parse(n))
        .map(|d| {
            let filters: &[&str] = if d == DashboardName::Sla {
                &["months", "tier"]
            } else {
                &["period", "industry", "size", "status"]
            };
            json!({
                "name": d.as_str(),
                "title": d.title(),
                "url": format!("/api/v2/dashboards/{}", d.as_str()),
                "filters": filters,
                "tiles": d.tiles().iter().map(|t| json!({
                    "key": t,
                    "csv": format!("/api/v2/dashboards/{}/{t}.csv", d.as_str()),
                    "svg": format!("/api/v2/dashboards/{}/{t}.svg", d.as_str()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({"dashboards": dashboards})))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let name = name_of(&name)?;
    let (f, sla) = filters(&params)?;
    let d = state
        .store
        .dashboard(&actor, name, &f, &sla, state.now())
        .await?;
    Ok(Json(json!({"dashboard": d})))
}

async fn tile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((name, tile)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let name = name_of(&name)?;
    let (key, format) = match tile.rsplit_once('.') {
        Some((k, ext @ ("csv" | "svg" | "json"))) => (k, ext),
        Some(_) => return Err(ApiError::not_found()),
        None => (tile.as_str(), "json"),
    };
    if !name.tiles().contains(&key) {
        return Err(ApiError::not_found());
    }
    let (f, sla) = filters(&params)?;
    let d = state
        .store
        .dashboard(&actor, name, &f, &sla, state.now())
        .await?;
    let t = d.tile(key).ok_or_else(ApiError::not_found)?;
    Ok(match format {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-{key}.csv\"", name.as_str()),
                ),
            ],
            t.table.csv(),
        )
            .into_response(),
        "svg" => (
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            charts::tile_svg(t),
        )
            .into_response(),
        _ => Json(json!({"tile": t, "filters": d.filters})).into_response(),
    })
}
