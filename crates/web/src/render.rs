//! Steward objects as Zendesk JSON. Field names, value spellings and
//! timestamp formats follow the Zendesk Support API v2 so that existing
//! clients parse them unchanged; Steward's own fields are added beside them.
//! What a role may not see (policies.md §8: contractors never see billing or
//! contract data) is left out here, in one place.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use steward_domain::{Role, time::format_unix};
use steward_store::{Audit, Comment, Group, JobStatus, Organization, Ticket, TicketField, User};

fn ts(secs: i64) -> Value {
    Value::String(format_unix(secs))
}

fn opt_ts(secs: Option<i64>) -> Value {
    secs.map(ts).unwrap_or(Value::Null)
}

fn via(channel: &str) -> Value {
    json!({"channel": channel, "source": {"from": {}, "to": {}, "rel": null}})
}

/// `via` as Zendesk shapes it.
#[derive(Serialize)]
struct ViaOut<'a> {
    channel: &'a str,
    source: ViaSource,
}

#[derive(Serialize)]
struct ViaSource {
    from: Empty,
    to: Empty,
    rel: (),
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
pub struct FieldValue<'a> {
    id: i64,
    value: Option<&'a Value>,
}

/// A ticket in Zendesk's shape, serialized straight from the row's fields
/// (lists of 100 tickets are the hottest JSON the server writes; building
/// `serde_json::Value` maps for them cost more than the SQL).
#[derive(Serialize)]
pub struct TicketOut<'a> {
    id: i64,
    url: String,
    external_id: &'a Option<String>,
    via: ViaOut<'a>,
    created_at: String,
    updated_at: String,
    generated_timestamp: i64,
    #[serde(rename = "type")]
    ticket_type: Option<&'static str>,
    subject: &'a str,
    raw_subject: &'a str,
    description: &'a str,
    priority: &'static str,
    priority_code: &'static str,
    status: &'static str,
    recipient: (),
    requester_id: i64,
    submitter_id: i64,
    assignee_id: Option<i64>,
    organization_id: Option<i64>,
    group_id: Option<i64>,
    collaborator_ids: [i64; 0],
    follower_ids: &'a [i64],
    email_cc_ids: [i64; 0],
    forum_topic_id: (),
    problem_id: Option<i64>,
    has_incidents: bool,
    is_public: bool,
    due_at: Option<String>,
    tags: &'a [String],
    custom_fields: &'a [FieldValue<'a>],
    fields: &'a [FieldValue<'a>],
    /// `{id, score, comment}` or null; see [`TicketOut::with_satisfaction`].
    satisfaction_rating: Value,
    sharing_agreement_ids: [i64; 0],
    followup_ids: [i64; 0],
    brand_id: (),
    allow_channelback: bool,
    allow_attachments: bool,
    solved_at: Option<String>,
    workaround_provided: bool,
    /// SLA exclusions (policies.md §5) are staff bookkeeping about credits.
    #[serde(skip_serializing_if = "Option::is_none")]
    sla_exclusion: Option<Option<&'static str>>,
}

/// The custom field values a role may see, in field order.
pub fn field_values<'a>(
    t: &'a Ticket,
    fields: &'a BTreeMap<i64, TicketField>,
    role: Role,
) -> Vec<FieldValue<'a>> {
    fields
        .values()
        .filter(|f| !f.commercial || role.sees_commercials())
        .map(|f| FieldValue {
            id: f.id,
            value: t.custom_fields.get(&f.id),
        })
        .collect()
}

pub fn ticket_out<'a>(
    t: &'a Ticket,
    base: &str,
    custom: &'a [FieldValue<'a>],
    role: Role,
) -> TicketOut<'a> {
    TicketOut {
        id: t.id,
        url: format!("{base}/api/v2/tickets/{}.json", t.id),
        external_id: &t.external_id,
        via: ViaOut {
            channel: t.via.as_str(),
            source: ViaSource {
                from: Empty {},
                to: Empty {},
                rel: (),
            },
        },
        created_at: format_unix(t.created_at),
        updated_at: format_unix(t.updated_at),
        generated_timestamp: t.updated_at,
        ticket_type: t.ticket_type.map(|v| v.as_str()),
        subject: &t.subject,
        raw_subject: &t.subject,
        description: &t.description,
        priority: t.priority.as_str(),
        priority_code: t.priority.code(),
        status: t.status.as_str(),
        recipient: (),
        requester_id: t.requester_id,
        submitter_id: t.submitter_id,
        assignee_id: t.assignee_id,
        organization_id: t.organization_id,
        group_id: t.group_id,
        collaborator_ids: [],
        follower_ids: &t.follower_ids,
        email_cc_ids: [],
        forum_topic_id: (),
        problem_id: t.problem_id,
        has_incidents: false,
        is_public: t.is_public,
        due_at: t.due_at.map(format_unix),
        tags: &t.tags,
        custom_fields: custom,
        fields: custom,
        satisfaction_rating: Value::Null,
        sharing_agreement_ids: [],
        followup_ids: [],
        brand_id: (),
        allow_channelback: false,
        allow_attachments: true,
        solved_at: t.solved_at.map(format_unix),
        workaround_provided: t.workaround_provided,
        sla_exclusion: role.is_staff().then(|| t.sla_exclusion.map(|r| r.as_str())),
    }
}

impl TicketOut<'_> {
    /// Sets `satisfaction_rating` (read in one batch per page by callers).
    pub fn with_satisfaction(mut self, rating: Value) -> Self {
        self.satisfaction_rating = rating;
        self
    }
}

/// One ticket as a JSON value (for responses that add keys to it).
pub fn ticket(t: &Ticket, base: &str, fields: &BTreeMap<i64, TicketField>, role: Role) -> Value {
    let custom = field_values(t, fields, role);
    serde_json::to_value(ticket_out(t, base, &custom, role)).unwrap_or(Value::Null)
}

pub fn comment(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "type": "Comment",
        "author_id": c.author_id,
        "body": c.body,
        "html_body": c.html_body,
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "audit_id": c.audit_id,
        "via": via(c.via.as_str()),
        "created_at": ts(c.created_at),
        "metadata": {"system": {}, "custom": {}},
    })
}

pub fn audit(a: &Audit) -> Value {
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "created_at": ts(a.created_at),
        "author_id": a.author_id,
        "metadata": {"system": {}, "custom": {}},
        "via": via(a.via.as_str()),
        "events": a.events,
    })
}

pub fn user(u: &User, base: &str) -> Value {
    json!({
        "id": u.id,
        "url": format!("{base}/api/v2/users/{}.json", u.id),
        "name": u.name,
        "email": u.email,
        "created_at": ts(u.created_at),
        "updated_at": ts(u.updated_at),
        "time_zone": u.time_zone,
        "iana_time_zone": u.time_zone,
        "phone": u.phone,
        "shared_phone_number": null,
        "photo": null,
        "locale": u.locale,
        "locale_id": 1,
        "organization_id": u.organization_id,
        "role": u.role.zendesk_role(),
        "role_type": null,
        "custom_role_id": null,
        "steward_role": u.role.as_str(),
        "verified": u.verified,
        "external_id": u.external_id,
        "tags": u.tags,
        "alias": null,
        "active": u.active,
        "shared": false,
        "shared_agent": false,
        "last_login_at": opt_ts(u.last_login_at),
        "two_factor_auth_enabled": false,
        "signature": null,
        "details": u.details,
        "notes": u.notes,
        "restricted_agent": matches!(u.role, Role::Contractor | Role::Csm),
        "suspended": u.suspended,
        "moderator": false,
        "ticket_restriction": if u.role == Role::EndUser { json!("requested") } else { Value::Null },
        "only_private_comments": false,
        "report_csv": false,
        "user_fields": {},
    })
}

pub fn organization(o: &Organization, base: &str, role: Role) -> Value {
    let a = &o.account;
    let mut v = json!({
        "id": o.id,
        "url": format!("{base}/api/v2/organizations/{}.json", o.id),
        "name": o.name,
        "shared_tickets": o.shared_tickets,
        "shared_comments": o.shared_comments,
        "external_id": o.external_id,
        "created_at": ts(o.created_at),
        "updated_at": ts(o.updated_at),
        "domain_names": o.domain_names,
        "details": o.details,
        "notes": o.notes,
        "group_id": o.group_id,
        "tags": o.tags,
        "organization_fields": {},
        "tier": o.tier().as_str(),
        "tier_pinned": a.tier_pinned.map(|t| t.as_str()),
        "industry": a.industry.map(|x| x.as_str()),
        "company_size": a.company_size.map(|x| x.as_str()),
        "region": a.region.map(|x| x.as_str()),
        "account_status": a.status.map(|x| x.as_str()),
        "executive_sponsor": a.executive_sponsor,
        "technical_lead": a.technical_lead,
        "primary_use_case": a.primary_use_case,
        "last_health_check": a.last_health_check,
        "next_business_review": a.next_business_review,
    });
    if role.sees_commercials()
        && let Value::Object(map) = &mut v
    {
        for (k, val) in [
            ("acv_cents", json!(a.acv.map(|m| m.cents()))),
            (
                "monthly_spend_cents",
                json!(a.monthly_spend.map(|m| m.cents())),
            ),
            (
                "monthly_fee_cents",
                json!(a.acv.map(|m| m.monthly_fee().cents())),
            ),
            (
                "expansion_potential_cents",
                json!(a.expansion_potential.map(|m| m.cents())),
            ),
            ("contract_start", json!(a.contract_start)),
            ("contract_end", json!(a.contract_end)),
            ("renewal_date", json!(a.renewal_date)),
            ("finance_lead", json!(a.finance_lead)),
        ] {
            map.insert(k.into(), val);
        }
    }
    v
}

pub fn group(g: &Group, base: &str) -> Value {
    json!({
        "id": g.id,
        "url": format!("{base}/api/v2/groups/{}.json", g.id),
        "name": g.name,
        "description": g.description,
        "default": g.id == steward_store::groups::TECHNICAL_SUPPORT,
        "deleted": g.deleted,
        "is_public": true,
        "parent_id": g.parent_id,
        "created_at": ts(g.created_at),
        "updated_at": ts(g.updated_at),
    })
}

pub fn ticket_field(f: &TicketField, base: &str) -> Value {
    let options: Vec<Value> = f
        .options
        .iter()
        .map(|o| json!({"name": o, "value": o}))
        .collect();
    json!({
        "id": f.id,
        "url": format!("{base}/api/v2/ticket_fields/{}.json", f.id),
        "type": f.field_type,
        "title": f.title,
        "raw_title": f.title,
        "position": f.position,
        "active": true,
        "required": false,
        "removable": true,
        "custom_field_options": options,
        "commercial": f.commercial,
        "created_at": ts(f.created_at),
    })
}

pub fn job_status(j: &JobStatus, base: &str) -> Value {
    json!({
        "id": j.id,
        "url": format!("{base}/api/v2/job_statuses/{}.json", j.id),
        "job_type": j.job_type,
        "status": j.status,
        "total": j.total,
        "progress": j.progress,
        "message": j.message,
        "results": j.results,
    })
}
