//! The OpenAPI 3.1 document at `/api/v2/openapi.json`, built from one table
//! of routes. A unit test checks that every routed path is in the table, so
//! the document cannot fall behind the router.

use axum::Json;
use serde_json::{Map, Value, json};

/// (method, path, tag, summary, success status)
const ROUTES: &[(&str, &str, &str, &str, u16)] = &[
    (
        "get",
        "/api/v2/tickets",
        "Tickets",
        "List tickets (offset or cursor pagination)",
        200,
    ),
    (
        "post",
        "/api/v2/tickets",
        "Tickets",
        "Create a ticket; returns the ticket and its audit",
        201,
    ),
    (
        "get",
        "/api/v2/tickets/count",
        "Tickets",
        "Count visible tickets",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/show_many",
        "Tickets",
        "Show up to 100 tickets by ?ids=",
        200,
    ),
    (
        "post",
        "/api/v2/tickets/create_many",
        "Tickets",
        "Create up to 100 tickets; returns a job status",
        200,
    ),
    (
        "put",
        "/api/v2/tickets/update_many",
        "Tickets",
        "Update up to 100 tickets; returns a job status",
        200,
    ),
    (
        "delete",
        "/api/v2/tickets/destroy_many",
        "Tickets",
        "Delete up to 100 tickets by ?ids=; returns a job status",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/{id}",
        "Tickets",
        "Show a ticket",
        200,
    ),
    (
        "put",
        "/api/v2/tickets/{id}",
        "Tickets",
        "Update a ticket; ticket.comment adds a reply or internal note",
        200,
    ),
    (
        "delete",
        "/api/v2/tickets/{id}",
        "Tickets",
        "Delete a ticket (soft delete)",
        204,
    ),
    (
        "get",
        "/api/v2/tickets/{id}/comments",
        "Tickets",
        "List a ticket's comments",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/{id}/audits",
        "Tickets",
        "List a ticket's audits and their events",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/{id}/incidents",
        "Tickets",
        "List the incidents linked to a problem",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/tickets",
        "Tickets",
        "List an organization's tickets",
        200,
    ),
    (
        "get",
        "/api/v2/users/{id}/tickets/requested",
        "Tickets",
        "List tickets a user requested",
        200,
    ),
    (
        "get",
        "/api/v2/users/{id}/tickets/assigned",
        "Tickets",
        "List tickets assigned to a user",
        200,
    ),
    ("get", "/api/v2/users", "Users", "List users (?role=)", 200),
    ("post", "/api/v2/users", "Users", "Create a user", 201),
    (
        "get",
        "/api/v2/users/me",
        "Users",
        "The authenticated user",
        200,
    ),
    (
        "get",
        "/api/v2/users/show_many",
        "Users",
        "Show users by ?ids=",
        200,
    ),
    (
        "get",
        "/api/v2/users/search",
        "Users",
        "Search users (?query= or ?external_id=)",
        200,
    ),
    (
        "post",
        "/api/v2/users/create_or_update",
        "Users",
        "Create a user or update the one with the same email/external_id",
        200,
    ),
    ("get", "/api/v2/users/{id}", "Users", "Show a user", 200),
    ("put", "/api/v2/users/{id}", "Users", "Update a user", 200),
    (
        "delete",
        "/api/v2/users/{id}",
        "Users",
        "Deactivate a user",
        200,
    ),
    (
        "put",
        "/api/v2/users/{id}/password",
        "Users",
        "Set a user's password",
        200,
    ),
    (
        "post",
        "/api/v2/users/{id}/password",
        "Users",
        "Set a user's password",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/users",
        "Users",
        "List an organization's users",
        200,
    ),
    (
        "get",
        "/api/v2/organizations",
        "Organizations",
        "List organizations (customer accounts)",
        200,
    ),
    (
        "post",
        "/api/v2/organizations",
        "Organizations",
        "Create an organization",
        201,
    ),
    (
        "get",
        "/api/v2/organizations/show_many",
        "Organizations",
        "Show organizations by ?ids=",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}",
        "Organizations",
        "Show an organization with its account profile and tier",
        200,
    ),
    (
        "put",
        "/api/v2/organizations/{id}",
        "Organizations",
        "Update an organization",
        200,
    ),
    (
        "delete",
        "/api/v2/organizations/{id}",
        "Organizations",
        "Delete an unused organization",
        204,
    ),
    (
        "get",
        "/api/v2/groups",
        "Groups",
        "List groups and subgroups",
        200,
    ),
    ("post", "/api/v2/groups", "Groups", "Create a group", 201),
    ("get", "/api/v2/groups/{id}", "Groups", "Show a group", 200),
    (
        "put",
        "/api/v2/groups/{id}",
        "Groups",
        "Update a group",
        200,
    ),
    (
        "delete",
        "/api/v2/groups/{id}",
        "Groups",
        "Delete a group",
        204,
    ),
    (
        "get",
        "/api/v2/ticket_fields",
        "Ticket fields",
        "List custom ticket fields",
        200,
    ),
    (
        "get",
        "/api/v2/ticket_fields/{id}",
        "Ticket fields",
        "Show a custom ticket field",
        200,
    ),
    (
        "get",
        "/api/v2/search",
        "Search",
        "Search tickets, users and organizations with the Zendesk query syntax",
        200,
    ),
    (
        "get",
        "/api/v2/search/count",
        "Search",
        "Count search results",
        200,
    ),
    (
        "get",
        "/api/v2/job_statuses/{id}",
        "Job statuses",
        "Show the outcome of a bulk request",
        200,
    ),
    (
        "get",
        "/api/v2/outbox",
        "Outbox",
        "Admins: the newest outbound messages (?kind=email) with delivery status",
        200,
    ),
    (
        "get",
        "/api/v2/slas/policies",
        "SLA",
        "The SLA policy table (Zendesk shape plus Steward's definition)",
        200,
    ),
    (
        "put",
        "/api/v2/slas/policies",
        "SLA",
        "Replace the SLA policy table",
        200,
    ),
    (
        "get",
        "/api/v2/calendars",
        "SLA",
        "Business-hours calendars with their holidays",
        200,
    ),
    (
        "get",
        "/api/v2/calendars/{name}",
        "SLA",
        "One calendar",
        200,
    ),
    (
        "put",
        "/api/v2/calendars/{name}",
        "SLA",
        "Create or change a calendar (zone, weekly hours, holidays)",
        200,
    ),
    (
        "delete",
        "/api/v2/calendars/{name}",
        "SLA",
        "Remove an admin-defined calendar (a built-in reverts to its default)",
        204,
    ),
    (
        "get",
        "/api/v2/escalation_contacts",
        "Escalation",
        "Who each escalation ladder title reaches, and the ladders per tier",
        200,
    ),
    (
        "put",
        "/api/v2/escalation_contacts",
        "Escalation",
        "Replace the escalation contacts (user ids per title)",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/communications",
        "Customer hub",
        "An account's communication log",
        200,
    ),
    (
        "post",
        "/api/v2/organizations/{id}/communications",
        "Customer hub",
        "Log a communication (action items and follow-ups become tasks)",
        201,
    ),
    (
        "get",
        "/api/v2/communications/{id}",
        "Customer hub",
        "One logged communication",
        200,
    ),
    (
        "put",
        "/api/v2/communications/{id}",
        "Customer hub",
        "Change a logged communication",
        200,
    ),
    (
        "delete",
        "/api/v2/communications/{id}",
        "Customer hub",
        "Remove a logged communication",
        204,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/contacts",
        "Customer hub",
        "An account's people with their contact roles",
        200,
    ),
    (
        "put",
        "/api/v2/users/{id}/contact_roles",
        "Customer hub",
        "Set a contact's roles on their account",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/timeline",
        "Customer hub",
        "Everything that happened to an account, newest first",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/metrics",
        "Baseline metrics",
        "Every baseline metric of an account: latest value, week-1 and running 7-day baselines, RAG, trend",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/measurements",
        "Baseline metrics",
        "A series of measurements (?metric=&field=&label=&from=&to=&limit=), oldest first",
        200,
    ),
    (
        "post",
        "/api/v2/organizations/{id}/measurements",
        "Baseline metrics",
        "Record a batch of measurements (all or nothing, at most 5000); returns them and any red alerts raised",
        201,
    ),
    (
        "post",
        "/api/v2/organizations/{id}/measurements/import",
        "Baseline metrics",
        "Import measurements from CSV (metric,field,value,measured_at[,label]); errors name the line",
        201,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/baseline_plan",
        "Baseline metrics",
        "The account's baseline plan: measures, frequency, owners, thresholds, go-live, sign-off",
        200,
    ),
    (
        "put",
        "/api/v2/organizations/{id}/baseline_plan",
        "Baseline metrics",
        "Save the baseline plan; a change clears an earlier sign-off",
        200,
    ),
    (
        "post",
        "/api/v2/organizations/{id}/baseline_plan/sign_off",
        "Baseline metrics",
        "Sign the baseline plan off (records who and when)",
        200,
    ),
    (
        "get",
        "/api/v2/organizations/{id}/metric_alerts",
        "Baseline metrics",
        "Alerts raised when a metric turned red, newest first",
        200,
    ),
    (
        "get",
        "/api/v2/channels",
        "Notifications",
        "Slack-compatible channels and their webhook URLs",
        200,
    ),
    (
        "put",
        "/api/v2/channels",
        "Notifications",
        "Replace the channel webhook map",
        200,
    ),
    (
        "get",
        "/api/v2/incremental/ticket_metric_events",
        "SLA",
        "Stream SLA metric events from start_time, cursor paginated",
        200,
    ),
    (
        "get",
        "/api/v2/slas/force_majeure",
        "SLA",
        "Force-majeure events (policies.md §5): breaches inside a window are not misses",
        200,
    ),
    (
        "post",
        "/api/v2/slas/force_majeure",
        "SLA",
        "Declare a force-majeure event {kind, description, starts_at, ends_at} (admins)",
        201,
    ),
    (
        "get",
        "/api/v2/slas/force_majeure/{id}",
        "SLA",
        "One force-majeure event",
        200,
    ),
    (
        "delete",
        "/api/v2/slas/force_majeure/{id}",
        "SLA",
        "Withdraw a force-majeure event (admins)",
        204,
    ),
    (
        "get",
        "/api/v2/slas/reports",
        "SLA",
        "SLA report for ?month=YYYY-MM[&organization_id=N]: metrics, misses, exclusions, waivers, achievement, credits",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/{id}/escalations",
        "Escalation",
        "A ticket's escalations with their reports",
        200,
    ),
    (
        "put",
        "/api/v2/escalations/{id}",
        "Escalation",
        "Complete the free-text fields of an escalation report",
        200,
    ),
    (
        "get",
        "/api/v2/war_rooms",
        "Escalation",
        "Platform incidents (war rooms)",
        200,
    ),
    (
        "get",
        "/api/v2/war_rooms/{id}",
        "Escalation",
        "One war room with its updates log",
        200,
    ),
    (
        "post",
        "/api/v2/war_rooms/{id}/updates",
        "Escalation",
        "Post a war-room status update",
        200,
    ),
    (
        "get",
        "/api/v2/tickets/{id}/rca",
        "Escalation",
        "The root-cause analysis owed for a solved P0",
        200,
    ),
    (
        "put",
        "/api/v2/tickets/{id}/rca",
        "Escalation",
        "Submit the root-cause analysis",
        200,
    ),
    (
        "get",
        "/api/v2/triggers",
        "Rules",
        "List triggers (rules run on every ticket change)",
        200,
    ),
    (
        "post",
        "/api/v2/triggers",
        "Rules",
        "Create a trigger (admins)",
        201,
    ),
    (
        "get",
        "/api/v2/triggers/{id}",
        "Rules",
        "Show a trigger",
        200,
    ),
    (
        "put",
        "/api/v2/triggers/{id}",
        "Rules",
        "Update a trigger (admins)",
        200,
    ),
    (
        "delete",
        "/api/v2/triggers/{id}",
        "Rules",
        "Delete a trigger (admins)",
        204,
    ),
    (
        "get",
        "/api/v2/automations",
        "Rules",
        "List automations (time-based rules)",
        200,
    ),
    (
        "post",
        "/api/v2/automations",
        "Rules",
        "Create an automation (admins)",
        201,
    ),
    (
        "get",
        "/api/v2/automations/{id}",
        "Rules",
        "Show an automation",
        200,
    ),
    (
        "put",
        "/api/v2/automations/{id}",
        "Rules",
        "Update an automation (admins)",
        200,
    ),
    (
        "delete",
        "/api/v2/automations/{id}",
        "Rules",
        "Delete an automation (admins)",
        204,
    ),
    (
        "get",
        "/api/v2/tasks",
        "Tasks",
        "List tasks (?owner_id=, ticket_id=, organization_id=, status=)",
        200,
    ),
    ("post", "/api/v2/tasks", "Tasks", "Create a task", 201),
    ("get", "/api/v2/tasks/{id}", "Tasks", "Show a task", 200),
    ("put", "/api/v2/tasks/{id}", "Tasks", "Update a task", 200),
    (
        "delete",
        "/api/v2/tasks/{id}",
        "Tasks",
        "Delete a task",
        204,
    ),
    (
        "get",
        "/api/v2/templates",
        "Templates",
        "List the eleven communication templates (policies.md §16)",
        200,
    ),
    (
        "get",
        "/api/v2/templates/{key}",
        "Templates",
        "Show a template with its placeholders",
        200,
    ),
    (
        "put",
        "/api/v2/templates/{key}",
        "Templates",
        "Edit a template (admins); 422 names line and column of a bad placeholder",
        200,
    ),
    (
        "delete",
        "/api/v2/templates/{key}",
        "Templates",
        "Reset a template to its default (admins)",
        200,
    ),
    (
        "post",
        "/api/v2/templates/{key}/preview",
        "Templates",
        "Render a template from sample values, a ticket_id or an organization_id",
        200,
    ),
    ("get", "/api/v2/openapi.json", "Meta", "This document", 200),
];

pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, status) in ROUTES {
        let mut op = json!({
            "summary": summary,
            "tags": [tag],
            "responses": {
                status.to_string(): {"description": "Success"},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "422": {"$ref": "#/components/responses/Error"},
            },
        });
        if path.contains("{id}") {
            op["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        }
        if path.contains("{name}") {
            op["parameters"] = json!([{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}]);
        }
        if *path == "/api/v2/slas/reports" {
            op["parameters"] = json!([
                {"name": "month", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
                {"name": "organization_id", "in": "query", "required": false, "schema": {"type": "integer"}},
            ]);
        }
        if let Value::Object(entry) = paths.entry(path.to_string()).or_insert_with(|| json!({})) {
            entry.insert(method.to_string(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Steward API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Zendesk Support API v2 compatible help desk API, plus Steward's own customer-success objects. Every path also answers with a .json suffix.",
        },
        "servers": [{"url": "/"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "email/token:API_TOKEN or email:password"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string", "examples": ["RecordNotFound", "RecordInvalid", "TooManyValues"]},
                        "description": {"type": "string"},
                        "details": {"type": "object"},
                    },
                },
            },
            "responses": {
                "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        },
    })
}

pub(super) async fn serve() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented() {
        let documented: Vec<&str> = ROUTES.iter().map(|r| r.1).collect();
        let routed = super::super::tickets::routes()
            .into_iter()
            .chain(super::super::users::routes())
            .chain(super::super::orgs::routes())
            .chain(super::super::groups::routes())
            .chain(super::super::search::routes())
            .chain(super::super::slas::routes())
            .chain(super::super::sla_reports::routes())
            .chain(super::super::escalations::routes())
            .chain(super::super::hub::routes())
            .chain(super::super::metrics::routes())
            .chain(super::super::rules::routes())
            .chain(super::super::tasks::routes())
            .chain(super::super::templates::routes())
            .chain(super::super::jobs::routes())
            .map(|(p, _)| p);
        for path in routed {
            assert!(
                documented.contains(&path),
                "{path} is routed but missing from the OpenAPI document"
            );
        }
        assert!(document()["paths"]["/api/v2/tickets"]["post"]["summary"].is_string());
    }
}
