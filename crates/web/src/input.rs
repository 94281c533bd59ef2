//! Parsing request bodies into the store's typed inputs.
//!
//! Every field is checked for its JSON type and its domain (enum values,
//! e-mail syntax, dates); all problems of a body are reported together as
//! one 422 `RecordInvalid` with `details` per field. Unknown keys are
//! ignored, as Zendesk does, so that clients may send whole objects back.

use serde_json::{Map, Value};
use steward_domain::{
    AccountStatus, CompanySize, Email, ExclusionReason, Industry, Money, ParseError, Priority,
    Region, Role, Status, TicketType, Tier, Via, time::parse_rfc3339,
};
use steward_store::{GroupInput, NewComment, OrgInput, RequesterRef, TicketInput, UserInput};

use crate::error::ApiError;

/// Longest accepted single-line text (subjects, names).
const MAX_LINE: usize = 1_024;

pub struct Reader<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    errors: Vec<(String, String)>,
}

/// The object under `key` in a body (`{"ticket": {...}}`), or a 400.
pub fn envelope<'a>(body: &'a Value, key: &str) -> Result<&'a Value, ApiError> {
    match body.get(key) {
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(ApiError::invalid(vec![(
            key.to_string(),
            "must be an object".into(),
        )])),
        None => Err(ApiError::bad_request(format!(
            "the body must be {{\"{key}\": {{...}}}}"
        ))),
    }
}

impl<'a> Reader<'a> {
    pub fn new(v: &'a Value, prefix: &str) -> Result<Reader<'a>, ApiError> {
        match v {
            Value::Object(obj) => Ok(Reader {
                obj,
                prefix: prefix.to_string(),
                errors: Vec::new(),
            }),
            _ => Err(ApiError::invalid(vec![(
                prefix.to_string(),
                "must be an object".into(),
            )])),
        }
    }

    fn name(&self, k: &str) -> String {
        if self.prefix.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.prefix)
        }
    }

    pub fn error(&mut self, k: &str, msg: impl Into<String>) {
        let name = self.name(k);
        self.errors.push((name, msg.into()));
    }

    pub fn has(&self, k: &str) -> bool {
        self.obj.contains_key(k)
    }

    pub fn raw(&self, k: &str) -> Option<&'a Value> {
        self.obj.get(k)
    }

    /// Absent → `None`; `null` → `Some(None)`; a string → `Some(Some(s))`.
    pub fn string(&mut self, k: &str, max: usize) -> Option<Option<String>> {
        match self.obj.get(k)? {
            Value::Null => Some(None),
            Value::String(s) if s.contains('\0') => {
                self.error(k, "must not contain NUL characters");
                None
            }
            Value::String(s) if s.chars().count() > max => {
                self.error(k, format!("is too long (at most {max} characters)"));
                None
            }
            Value::String(s) => Some(Some(s.clone())),
            Value::Number(n) => Some(Some(n.to_string())),
            _ => {
                self.error(k, "must be a string");
                None
            }
        }
    }

    pub fn line(&mut self, k: &str) -> Option<Option<String>> {
        self.string(k, MAX_LINE)
    }

    pub fn text(&mut self, k: &str) -> Option<Option<String>> {
        self.string(k, 65_536)
    }

    /// Integers (or strings holding one), `null` clears.
    pub fn int(&mut self, k: &str) -> Option<Option<i64>> {
        match self.obj.get(k)? {
            Value::Null => Some(None),
            Value::Number(n) if n.as_i64().is_some() => Some(n.as_i64()),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Some(s.trim().parse().ok()),
            _ => {
                self.error(k, "must be an integer");
                None
            }
        }
    }

    /// A finite number (or a string holding one); `null` clears.
    pub fn float(&mut self, k: &str) -> Option<Option<f64>> {
        let v = match self.obj.get(k)? {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match v.filter(|v| v.is_finite()) {
            Some(v) => Some(Some(v)),
            None => {
                self.error(k, "must be a number");
                None
            }
        }
    }

    /// A non-negative amount of money in cents.
    pub fn cents(&mut self, k: &str) -> Option<Option<Money>> {
        match self.int(k)? {
            Some(v) if v < 0 => {
                self.error(k, "must not be negative");
                None
            }
            v => Some(v.map(Money)),
        }
    }

    pub fn boolean(&mut self, k: &str) -> Option<bool> {
        match self.obj.get(k)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.error(k, "must be true or false");
                None
            }
        }
    }

    /// A string parsed by `f`; `null` clears.
    pub fn parsed<T>(
        &mut self,
        k: &str,
        f: impl Fn(&str) -> Result<T, ParseError>,
    ) -> Option<Option<T>> {
        match self.string(k, MAX_LINE)? {
            None => Some(None),
            Some(s) => match f(&s) {
                Ok(v) => Some(Some(v)),
                Err(e) => {
                    self.error(k, e.0);
                    None
                }
            },
        }
    }

    pub fn date(&mut self, k: &str) -> Option<Option<String>> {
        self.parsed(k, |s| {
            steward_domain::time::parse_date(s).map(|d| d.to_string())
        })
    }

    pub fn instant(&mut self, k: &str) -> Option<Option<i64>> {
        self.parsed(k, parse_rfc3339)
    }

    pub fn strings(&mut self, k: &str) -> Option<Vec<String>> {
        match self.obj.get(k)? {
            Value::Null => Some(Vec::new()),
            Value::Array(items) => {
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) if !s.contains('\0') && s.len() <= MAX_LINE => {
                            out.push(s.clone())
                        }
                        _ => {
                            self.error(k, "must be a list of strings");
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::String(s) if !s.contains('\0') => Some(vec![s.clone()]),
            _ => {
                self.error(k, "must be a list of strings");
                None
            }
        }
    }

    pub fn ints(&mut self, k: &str) -> Option<Vec<i64>> {
        match self.obj.get(k)? {
            Value::Null => Some(Vec::new()),
            Value::Array(items) if items.iter().all(|i| i.as_i64().is_some()) => {
                Some(items.iter().filter_map(Value::as_i64).collect())
            }
            _ => {
                self.error(k, "must be a list of integers");
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }

    /// Folds a nested reader's errors into this one.
    fn absorb(&mut self, other: Reader<'_>) {
        self.errors.extend(other.errors);
    }
}

/// `ticket` object of a create or update request.
pub fn ticket(v: &Value, creating: bool) -> Result<TicketInput, ApiError> {
    let mut r = Reader::new(v, "ticket")?;
    let mut t = TicketInput {
        subject: r.line("subject").flatten(),
        ..Default::default()
    };
    t.comment = match r.raw("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.contains('\0') => Some(NewComment {
            body: s.clone(),
            ..Default::default()
        }),
        Some(c @ Value::Object(_)) => {
            let mut cr = Reader::new(c, "ticket.comment")?;
            let body = cr.text("body").flatten().unwrap_or_default();
            let html_body = cr.text("html_body").flatten();
            let public = cr.boolean("public");
            let author_id = cr.int("author_id").flatten();
            r.absorb(cr);
            Some(NewComment {
                body,
                html_body,
                public,
                author_id,
                template: None,
            })
        }
        Some(_) => {
            r.error("comment", "must be an object with a body");
            None
        }
    };
    if creating
        && t.comment.is_none()
        && let Some(Some(d)) = r.text("description")
    {
        t.comment = Some(NewComment {
            body: d,
            ..Default::default()
        });
    }
    if let Some(Some(id)) = r.int("requester_id") {
        t.requester = Some(RequesterRef::Id(id));
    }
    match r.raw("requester") {
        None | Some(Value::Null) => {}
        Some(req @ Value::Object(_)) => {
            let mut rr = Reader::new(req, "ticket.requester")?;
            let name = rr.line("name").flatten();
            match rr.parsed("email", Email::parse).flatten() {
                Some(email) => t.requester = Some(RequesterRef::Person { name, email }),
                None if !rr.has("email") => rr.error("email", "is required"),
                None => {}
            }
            r.absorb(rr);
        }
        Some(_) => r.error("requester", "must be an object with name and email"),
    }
    t.submitter_id = r.int("submitter_id").flatten();
    t.organization_id = r.int("organization_id");
    t.group_id = r.int("group_id");
    t.assignee_id = r.int("assignee_id");
    // A null priority means "no special urgency": Steward always has one.
    t.priority = r
        .parsed("priority", Priority::parse_any)
        .map(|p| p.unwrap_or(Priority::Normal));
    t.status = match r.parsed("status", Status::parse) {
        Some(None) => {
            r.error("status", "cannot be empty");
            None
        }
        s => s.flatten(),
    };
    t.ticket_type = r.parsed("type", TicketType::parse);
    t.problem_id = r.int("problem_id");
    t.tags = r.strings("tags");
    t.additional_tags = r.strings("additional_tags").unwrap_or_default();
    t.remove_tags = r.strings("remove_tags").unwrap_or_default();
    t.external_id = r.line("external_id");
    t.due_at = r.instant("due_at");
    t.follower_ids = r.ints("follower_ids");
    if let Some(list) = r.raw("followers") {
        match list.as_array() {
            Some(items) => {
                for it in items {
                    let id = it.get("user_id").and_then(Value::as_i64);
                    let action = it.get("action").and_then(Value::as_str).unwrap_or("put");
                    match (id, action) {
                        (Some(id), "put") => t.followers_add.push(id),
                        (Some(id), "delete") => t.followers_remove.push(id),
                        _ => r.error(
                            "followers",
                            "each entry needs user_id and action put or delete",
                        ),
                    }
                }
            }
            None => r.error("followers", "must be a list"),
        }
    }
    for key in ["custom_fields", "fields"] {
        match r.raw(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for it in items {
                    match (it.get("id").and_then(Value::as_i64), it.get("value")) {
                        (Some(id), Some(v)) => t.custom_fields.push((id, v.clone())),
                        (Some(id), None) => t.custom_fields.push((id, Value::Null)),
                        _ => r.error(key, "each entry needs an id and a value"),
                    }
                }
            }
            Some(_) => r.error(key, "must be a list of {id, value}"),
        }
    }
    t.via = match r.raw("via") {
        Some(Value::Object(o)) => o
            .get("channel")
            .and_then(Value::as_str)
            .and_then(|c| Via::parse(c).ok())
            // `rule` marks changes automation rules make (they skip triggers).
            .filter(|v| *v != Via::Rule),
        _ => None,
    };
    if creating {
        t.created_at = r.instant("created_at").flatten();
    }
    t.workaround_provided = r.boolean("workaround_provided");
    // policies.md §5: one of the nine exclusion reasons, or null to count again.
    t.sla_exclusion = r.parsed("sla_exclusion", ExclusionReason::parse);
    if r.boolean("safe_update") == Some(true) {
        match r.instant("updated_stamp").flatten() {
            Some(s) => t.updated_stamp = Some(s),
            None => r.error("updated_stamp", "is required with safe_update"),
        }
    }
    r.finish()?;
    Ok(t)
}

/// Zendesk's `role` (admin, agent, end-user) or any Steward role; a
/// `steward_role` field, when present, wins.
fn role(r: &mut Reader<'_>) -> Option<Role> {
    let zendesk = r.parsed("role", |s| match s.trim().to_ascii_lowercase().as_str() {
        "end_user" | "enduser" => Ok(Role::EndUser),
        other => Role::parse(other),
    });
    let steward = r.parsed("steward_role", Role::parse);
    steward.flatten().or(zendesk.flatten())
}

pub fn user(v: &Value) -> Result<UserInput, ApiError> {
    let mut r = Reader::new(v, "user")?;
    let u = UserInput {
        name: r.line("name").flatten(),
        email: r.parsed("email", Email::parse).flatten(),
        role: role(&mut r),
        organization_id: r.int("organization_id"),
        phone: r.line("phone"),
        external_id: r.line("external_id"),
        details: r.text("details"),
        notes: r.text("notes"),
        tags: r.strings("tags"),
        time_zone: r
            .parsed("time_zone", |s| {
                jiff::tz::TimeZone::get(s)
                    .map(|_| s.to_string())
                    .map_err(|_| ParseError::new(format!("{s} is not an IANA time zone")))
            })
            .flatten(),
        locale: r.line("locale").flatten(),
        suspended: r.boolean("suspended"),
        verified: r.boolean("verified"),
    };
    r.finish()?;
    Ok(u)
}

pub fn organization(v: &Value) -> Result<OrgInput, ApiError> {
    // Steward's account fields may also come inside `organization_fields`.
    let mut merged = v.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(extra)) = v.get("organization_fields") {
        for (k, val) in extra {
            merged.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
    let merged = Value::Object(merged);
    let mut r = Reader::new(if v.is_object() { &merged } else { v }, "organization")?;
    let o = OrgInput {
        name: r.line("name").flatten(),
        external_id: r.line("external_id"),
        details: r.text("details"),
        notes: r.text("notes"),
        domain_names: r.strings("domain_names"),
        tags: r.strings("tags"),
        group_id: r.int("group_id"),
        shared_tickets: r.boolean("shared_tickets"),
        shared_comments: r.boolean("shared_comments"),
        industry: r.parsed("industry", Industry::parse),
        company_size: r.parsed("company_size", CompanySize::parse),
        region: r.parsed("region", Region::parse),
        acv: r.cents("acv_cents"),
        monthly_spend: r.cents("monthly_spend_cents"),
        contract_start: r.date("contract_start"),
        contract_end: r.date("contract_end"),
        renewal_date: r.date("renewal_date"),
        status: r.parsed("account_status", AccountStatus::parse).flatten(),
        tier_pinned: r.parsed("tier_pinned", Tier::parse_loose),
        executive_sponsor: r.line("executive_sponsor"),
        technical_lead: r.line("technical_lead"),
        finance_lead: r.line("finance_lead"),
        primary_use_case: r.text("primary_use_case"),
        expansion_potential: r.cents("expansion_potential_cents"),
        last_health_check: r.date("last_health_check"),
        next_business_review: r.date("next_business_review"),
    };
    r.finish()?;
    Ok(o)
}

pub fn group(v: &Value) -> Result<GroupInput, ApiError> {
    let mut r = Reader::new(v, "group")?;
    let g = GroupInput {
        name: r.line("name").flatten(),
        description: r.text("description"),
        parent_id: r.int("parent_id"),
    };
    r.finish()?;
    Ok(g)
}
