//! Automation rules (policies.md §7) as data: conditions over ticket fields
//! and the actions a rule takes, parsed once at the edge, evaluated as pure
//! functions here.
//!
//! A rule is a **trigger** (evaluated on every ticket change, in the
//! change's transaction) or an **automation** (time-based, evaluated by the
//! scheduler). Its JSON follows Zendesk's triggers and automations:
//!
//! ```json
//! {"conditions": {"all": [{"field": "group_id", "operator": "is", "value": 2},
//!                         {"field": "status", "operator": "is", "value": "open"},
//!                         {"field": "hours_in_status", "operator": "greater_than_or_equal", "value": 72}],
//!                 "any": []},
//!  "actions": [{"field": "raise_priority"},
//!              {"field": "create_task", "value": {"title": "Unblock #{{ticket.id}}", "owner": "CS Manager", "due_in_hours": 24}}]}
//! ```
//!
//! Every condition of `all` and at least one of `any` (when `any` is not
//! empty) must hold. Conditions (field: operators, value):
//!
//! | field | operators | value |
//! |---|---|---|
//! | `status` | `is`, `is_not`, `less_than`, `greater_than` (lifecycle order) | a status |
//! | `priority` | same, by severity | `urgent`..`low` or `P0`..`P3` |
//! | `group_id` | `is`, `is_not` — a root group also matches its subgroups | a group id or null |
//! | `type` | `is`, `is_not` | a ticket type or null |
//! | `tags` | `includes` (any of them), `not_includes` (none of them) | tags, as a list or space-separated |
//! | `organization.tier` | `is`, `is_not` | a tier, or null for no organization |
//! | `assignee_id` | `present`, `not_present`, `is`, `is_not` | a user id (for is / is_not) |
//! | `requester.role` | `is`, `is_not` | a role |
//! | `hours_since_created`, `hours_since_updated`, `hours_in_status` | `greater_than_or_equal` | whole hours |
//!
//! The three time conditions are what makes an automation: an automation
//! needs at least one in `all` (and may not use them in `any`), a trigger may
//! not use them at all. Because every time condition only ever turns true as
//! time passes, [`Conditions::true_from`] can say *when* a ticket that does
//! not change will start matching: the scheduler keeps that instant per
//! ticket instead of re-reading every ticket on every tick.
//!
//! Actions are `{"field": ..., "value": ...}`: `status`, `priority`,
//! `raise_priority` (one step, urgent stays urgent), `group_id`,
//! `assignee_id` (a user id, a contact title such as `"CS Manager"`,
//! `"available_agent"`, or null), `add_tags`, `add_follower` (user id or
//! contact title), `escalate` (one level up the §6 ladder),
//! `notify_channel` (`{channel, text}`: a Slack-compatible message through
//! the outbox), `create_task` (`{title, description, owner, due_in_hours,
//! priority}`), and `first_response_target` (minutes: the ticket's `due_at`
//! becomes its creation plus that many minutes, unless already earlier).
//! Texts, titles and channels may use the placeholders of [`PLACEHOLDERS`].

use serde_json::{Map, Value, json};

use crate::{Priority, Role, Status, TicketType, Tier, string_enum, ticket::normalize_tags};

string_enum! {
    /// Triggers run on ticket changes; automations on the clock.
    RuleKind, "rule kind" {
        Trigger => "trigger",
        Automation => "automation",
    }
}

/// Problems found in a rule, as (field path, message) for a 422's details.
pub type Problems = Vec<(String, String)>;

/// Longest rule title and template text.
const MAX_TITLE: usize = 255;
const MAX_TEXT: usize = 4_000;
/// Time conditions and task due dates reach at most ten years ahead.
const MAX_HOURS: i64 = 87_600;

/// Order comparison for the ordered fields (status, priority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Is,
    IsNot,
    LessThan,
    GreaterThan,
}

impl Cmp {
    fn parse(op: &str) -> Option<Cmp> {
        match op {
            "is" => Some(Cmp::Is),
            "is_not" => Some(Cmp::IsNot),
            "less_than" => Some(Cmp::LessThan),
            "greater_than" => Some(Cmp::GreaterThan),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Cmp::Is => "is",
            Cmp::IsNot => "is_not",
            Cmp::LessThan => "less_than",
            Cmp::GreaterThan => "greater_than",
        }
    }

    fn test<T: Ord>(self, actual: T, expected: T) -> bool {
        match self {
            Cmp::Is => actual == expected,
            Cmp::IsNot => actual != expected,
            Cmp::LessThan => actual < expected,
            Cmp::GreaterThan => actual > expected,
        }
    }
}

/// The instant a time condition counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Created,
    Updated,
    /// The last status change (or creation).
    Status,
}

impl Since {
    fn field(self) -> &'static str {
        match self {
            Since::Created => "hours_since_created",
            Since::Updated => "hours_since_updated",
            Since::Status => "hours_in_status",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Status(Cmp, Status),
    Priority(Cmp, Priority),
    /// `group: None` means "no group"; a root group matches its subgroups.
    Group {
        is: bool,
        group: Option<i64>,
    },
    Type {
        is: bool,
        ticket_type: Option<TicketType>,
    },
    /// `includes`: at least one of the tags; `not_includes`: none of them.
    Tags {
        includes: bool,
        tags: Vec<String>,
    },
    /// `tier: None` means "no organization".
    Tier {
        is: bool,
        tier: Option<Tier>,
    },
    /// `user: None` tests presence: `is` nobody = not present.
    Assignee {
        is: bool,
        user: Option<i64>,
    },
    RequesterRole {
        is: bool,
        role: Role,
    },
    /// At least `hours` whole hours since the instant.
    Elapsed {
        since: Since,
        hours: i64,
    },
}

/// What conditions are tested against: the ticket and what it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub status: Status,
    pub priority: Priority,
    pub group_id: Option<i64>,
    /// The root of `group_id` (itself for a root group).
    pub root_group: Option<i64>,
    pub ticket_type: Option<TicketType>,
    pub tags: Vec<String>,
    /// The organization's tier, `None` without an organization.
    pub tier: Option<Tier>,
    pub assignee_id: Option<i64>,
    pub requester_role: Role,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the ticket entered its current status.
    pub status_since: i64,
}

/// The instant from which a condition holds, `ALWAYS` for one that holds
/// whatever the time.
const ALWAYS: i64 = i64::MIN;

impl Condition {
    pub fn is_time_based(&self) -> bool {
        matches!(self, Condition::Elapsed { .. })
    }

    /// From when this condition holds if the ticket does not change:
    /// `Some(ALWAYS)` for a field condition that holds, `None` for one that
    /// does not, the instant N hours after the base for a time condition.
    fn true_from(&self, f: &Facts) -> Option<i64> {
        let eq = |is: bool, same: bool| is == same;
        let holds = match self {
            Condition::Status(c, s) => c.test(f.status, *s),
            Condition::Priority(c, p) => c.test(f.priority, *p),
            Condition::Group { is, group } => {
                let same = match group {
                    None => f.group_id.is_none(),
                    Some(g) => f.group_id == Some(*g) || f.root_group == Some(*g),
                };
                eq(*is, same)
            }
            Condition::Type { is, ticket_type } => eq(*is, f.ticket_type == *ticket_type),
            Condition::Tags { includes, tags } => {
                eq(*includes, tags.iter().any(|t| f.tags.contains(t)))
            }
            Condition::Tier { is, tier } => eq(*is, f.tier == *tier),
            Condition::Assignee { is, user } => eq(*is, f.assignee_id == *user),
            Condition::RequesterRole { is, role } => eq(*is, f.requester_role == *role),
            Condition::Elapsed { since, hours } => {
                let base = match since {
                    Since::Created => f.created_at,
                    Since::Updated => f.updated_at,
                    Since::Status => f.status_since,
                };
                return Some(base.saturating_add(hours.saturating_mul(3600)));
            }
        };
        holds.then_some(ALWAYS)
    }

    fn to_json(&self) -> Value {
        let (field, op, value) = match self {
            Condition::Status(c, s) => ("status", c.as_str(), json!(s.as_str())),
            Condition::Priority(c, p) => ("priority", c.as_str(), json!(p.as_str())),
            Condition::Group { is, group } => ("group_id", is_str(*is), json!(group)),
            Condition::Type { is, ticket_type } => {
                ("type", is_str(*is), json!(ticket_type.map(|t| t.as_str())))
            }
            Condition::Tags { includes, tags } => (
                "tags",
                if *includes {
                    "includes"
                } else {
                    "not_includes"
                },
                json!(tags.join(" ")),
            ),
            Condition::Tier { is, tier } => (
                "organization.tier",
                is_str(*is),
                json!(tier.map(|t| t.as_str())),
            ),
            Condition::Assignee { is, user: None } => (
                "assignee_id",
                if *is { "not_present" } else { "present" },
                Value::Null,
            ),
            Condition::Assignee { is, user } => ("assignee_id", is_str(*is), json!(user)),
            Condition::RequesterRole { is, role } => {
                ("requester.role", is_str(*is), json!(role.as_str()))
            }
            Condition::Elapsed { since, hours } => {
                (since.field(), "greater_than_or_equal", json!(hours))
            }
        };
        json!({"field": field, "operator": op, "value": value})
    }
}

fn is_str(is: bool) -> &'static str {
    if is { "is" } else { "is_not" }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions {
    pub all: Vec<Condition>,
    pub any: Vec<Condition>,
}

impl Conditions {
    /// The instant from which the conditions hold if the ticket stays as
    /// it is (`i64::MIN` when they hold whatever the time), or `None` when
    /// they cannot hold without a change to the ticket.
    pub fn true_from(&self, f: &Facts) -> Option<i64> {
        let mut all = ALWAYS;
        for c in &self.all {
            all = all.max(c.true_from(f)?);
        }
        if self.any.is_empty() {
            return Some(all);
        }
        let any = self.any.iter().filter_map(|c| c.true_from(f)).min()?;
        Some(all.max(any))
    }

    pub fn holds(&self, f: &Facts, now: i64) -> bool {
        self.true_from(f).is_some_and(|at| at <= now)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Condition> {
        self.all.iter().chain(&self.any)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "all": self.all.iter().map(Condition::to_json).collect::<Vec<_>>(),
            "any": self.any.iter().map(Condition::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Titles a rule may name instead of a user id. They resolve like the
/// escalation ladder's contacts (§6): the `escalation_contacts` setting,
/// else by role (CS Manager = the first admin, Implementation CSM = the
/// first CSM, Support Team = the first agent), else the CS Manager.
pub const CONTACTS: [&str; 8] = [
    "CS Manager",
    "Implementation CSM",
    "Support Team",
    "Finance",
    "VP Engineering",
    "VP Product",
    "CEO",
    "COO",
];

/// A person an action names: a user, or a contact title from [`CONTACTS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    User(i64),
    Contact(&'static str),
}

impl Person {
    fn to_json(&self) -> Value {
        match self {
            Person::User(id) => json!(id),
            Person::Contact(title) => json!(title),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Person(Person),
    /// The active agent with the fewest unsolved Technical Support tickets;
    /// only for tickets that have no assignee yet.
    AvailableAgent,
    Nobody,
}

/// Who owns a task a rule creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOwner {
    Person(Person),
    /// The ticket's assignee, or the CS Manager when it has none.
    Assignee,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTemplate {
    pub title: String,
    pub description: String,
    pub owner: TaskOwner,
    pub due_in_hours: Option<i64>,
    /// `None`: the ticket's priority.
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Status(Status),
    Priority(Priority),
    RaisePriority,
    Group(Option<i64>),
    Assignee(Assignee),
    AddTags(Vec<String>),
    AddFollower(Person),
    Escalate,
    Notify { channel: String, text: String },
    CreateTask(TaskTemplate),
    FirstResponseTarget { minutes: i64 },
}

impl Action {
    /// Whether the action changes ticket fields (applied together, as one
    /// audited change) rather than acting beside the ticket.
    pub fn changes_ticket(&self) -> bool {
        matches!(
            self,
            Action::Status(_)
                | Action::Priority(_)
                | Action::RaisePriority
                | Action::Group(_)
                | Action::Assignee(_)
                | Action::AddTags(_)
                | Action::AddFollower(_)
                | Action::FirstResponseTarget { .. }
        )
    }

    pub fn to_json(&self) -> Value {
        let (field, value) = match self {
            Action::Status(s) => ("status", json!(s.as_str())),
            Action::Priority(p) => ("priority", json!(p.as_str())),
            Action::RaisePriority => ("raise_priority", Value::Null),
            Action::Group(g) => ("group_id", json!(g)),
            Action::Assignee(Assignee::Person(p)) => ("assignee_id", p.to_json()),
            Action::Assignee(Assignee::AvailableAgent) => ("assignee_id", json!("available_agent")),
            Action::Assignee(Assignee::Nobody) => ("assignee_id", Value::Null),
            Action::AddTags(tags) => ("add_tags", json!(tags.join(" "))),
            Action::AddFollower(p) => ("add_follower", p.to_json()),
            Action::Escalate => ("escalate", Value::Null),
            Action::Notify { channel, text } => {
                ("notify_channel", json!({"channel": channel, "text": text}))
            }
            Action::CreateTask(t) => (
                "create_task",
                json!({
                    "title": t.title,
                    "description": t.description,
                    "owner": match &t.owner {
                        TaskOwner::Person(p) => p.to_json(),
                        TaskOwner::Assignee => json!("assignee"),
                    },
                    "due_in_hours": t.due_in_hours,
                    "priority": t.priority.map(|p| p.as_str()),
                }),
            ),
            Action::FirstResponseTarget { minutes } => ("first_response_target", json!(minutes)),
        };
        json!({"field": field, "value": value})
    }
}

/// One step more severe; urgent stays urgent.
pub fn raise(p: Priority) -> Priority {
    match p {
        Priority::Low => Priority::Normal,
        Priority::Normal => Priority::High,
        Priority::High | Priority::Urgent => Priority::Urgent,
    }
}

/// Placeholders a template may use, as `{{name}}`.
pub const PLACEHOLDERS: [&str; 10] = [
    "ticket.id",
    "ticket.subject",
    "ticket.priority",
    "ticket.status",
    "ticket.group",
    "ticket.assignee",
    "account.name",
    "account.slug",
    "account.tier",
    "rule.title",
];

/// The placeholders of a template, or the first malformed or unknown one.
fn placeholders(tpl: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "has a {{ without its closing }}".to_string())?;
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "uses the unknown placeholder {{{{{name}}}}} (known: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        out.push(name);
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Fills a template's placeholders; `value` answers for each known name.
pub fn render(tpl: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(tpl.len());
    let mut rest = tpl;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        out.push_str(&value(after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `acme-corp` for "Acme Corp": lower-case letters and digits joined by
/// dashes, as Slack channel names are.
pub fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

// ----- parsing ---------------------------------------------------------

struct Parser<'a> {
    problems: &'a mut Problems,
}

impl Parser<'_> {
    fn fail<T>(&mut self, path: &str, msg: impl Into<String>) -> Option<T> {
        self.problems.push((path.to_string(), msg.into()));
        None
    }

    fn id(&mut self, path: &str, v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64().filter(|i| *i > 0),
            Value::String(s) => s.trim().parse::<i64>().ok().filter(|i| *i > 0),
            _ => None,
        }
        .or_else(|| self.fail(path, "must be an id"))
    }

    fn opt_id(&mut self, path: &str, v: &Value) -> Option<Option<i64>> {
        match v {
            Value::Null => Some(None),
            v => self.id(path, v).map(Some),
        }
    }

    /// Whole hours (a number or a numeric string), 0..=MAX_HOURS.
    fn hours(&mut self, path: &str, v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .filter(|h| (0..=MAX_HOURS).contains(h))
        .or_else(|| {
            self.fail(
                path,
                format!("must be a whole number of hours from 0 to {MAX_HOURS}"),
            )
        })
    }

    fn text<'v>(&mut self, path: &str, v: &'v Value) -> Option<&'v str> {
        v.as_str().or_else(|| self.fail(path, "must be a string"))
    }

    fn parsed<T>(
        &mut self,
        path: &str,
        v: &Value,
        f: impl Fn(&str) -> Result<T, crate::ParseError>,
    ) -> Option<T> {
        let s = self.text(path, v)?;
        match f(s) {
            Ok(t) => Some(t),
            Err(e) => self.fail(path, e.0),
        }
    }

    fn opt_parsed<T>(
        &mut self,
        path: &str,
        v: &Value,
        f: impl Fn(&str) -> Result<T, crate::ParseError>,
    ) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            v => self.parsed(path, v, f).map(Some),
        }
    }

    fn tags(&mut self, path: &str, v: &Value) -> Option<Vec<String>> {
        let raw: Vec<&str> = match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => return self.fail(path, "must be tags (a list or a space-separated string)"),
        };
        let tags = normalize_tags(raw);
        if tags.is_empty() {
            return self.fail(path, "must name at least one tag");
        }
        Some(tags)
    }

    fn template(&mut self, path: &str, v: &Value, required: bool) -> Option<String> {
        let s = match v {
            Value::Null if !required => return Some(String::new()),
            v => self.text(path, v)?,
        };
        if required && s.trim().is_empty() {
            return self.fail(path, "cannot be blank");
        }
        if s.chars().count() > MAX_TEXT || s.contains('\0') {
            return self.fail(
                path,
                format!("must be text of at most {MAX_TEXT} characters"),
            );
        }
        if let Err(e) = placeholders(s) {
            return self.fail(path, e);
        }
        Some(s.to_string())
    }

    fn person(&mut self, path: &str, v: &Value) -> Option<Person> {
        if let Some(title) = v.as_str().and_then(contact) {
            return Some(Person::Contact(title));
        }
        if v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok()) {
            return self.id(path, v).map(Person::User);
        }
        self.fail(
            path,
            format!("must be a user id or one of: {}", CONTACTS.join(", ")),
        )
    }

    fn condition(&mut self, path: &str, v: &Value) -> Option<Condition> {
        let Some(obj) = v.as_object() else {
            return self.fail(path, "must be an object with field, operator and value");
        };
        let field_path = format!("{path}.field");
        let op_path = format!("{path}.operator");
        let value_path = format!("{path}.value");
        let field = obj.get("field").and_then(Value::as_str);
        let Some(field) = field else {
            return self.fail(&field_path, "is required");
        };
        let op = obj.get("operator").and_then(Value::as_str).unwrap_or("");
        let value = obj.get("value").unwrap_or(&Value::Null);
        let bad_op = |p: &mut Self, allowed: &str| -> Option<Condition> {
            p.fail(
                &op_path,
                format!("{op:?} is not an operator for {field} (use {allowed})"),
            )
        };
        let equality = |p: &mut Self| -> Option<bool> {
            match op {
                "is" => Some(true),
                "is_not" => Some(false),
                _ => bad_op(p, "is, is_not").map(|_| true),
            }
        };
        match field {
            "status" => {
                let Some(c) = Cmp::parse(op) else {
                    return bad_op(self, "is, is_not, less_than, greater_than");
                };
                let s = self.parsed(&value_path, value, Status::parse)?;
                Some(Condition::Status(c, s))
            }
            "priority" => {
                let Some(c) = Cmp::parse(op) else {
                    return bad_op(self, "is, is_not, less_than, greater_than");
                };
                let p = self.parsed(&value_path, value, Priority::parse_any)?;
                Some(Condition::Priority(c, p))
            }
            "group_id" => {
                let is = equality(self)?;
                let group = self.opt_id(&value_path, value)?;
                Some(Condition::Group { is, group })
            }
            "type" => {
                let is = equality(self)?;
                let ticket_type = self.opt_parsed(&value_path, value, TicketType::parse)?;
                Some(Condition::Type { is, ticket_type })
            }
            "tags" => {
                let includes = match op {
                    "includes" => true,
                    "not_includes" => false,
                    _ => return bad_op(self, "includes, not_includes"),
                };
                let tags = self.tags(&value_path, value)?;
                Some(Condition::Tags { includes, tags })
            }
            "organization.tier" => {
                let is = equality(self)?;
                let tier = self.opt_parsed(&value_path, value, Tier::parse_loose)?;
                Some(Condition::Tier { is, tier })
            }
            "assignee_id" => match op {
                "present" => Some(Condition::Assignee {
                    is: false,
                    user: None,
                }),
                "not_present" => Some(Condition::Assignee {
                    is: true,
                    user: None,
                }),
                "is" | "is_not" => {
                    let user = self.opt_id(&value_path, value)?;
                    Some(Condition::Assignee {
                        is: op == "is",
                        user,
                    })
                }
                _ => bad_op(self, "present, not_present, is, is_not"),
            },
            "requester.role" => {
                let is = equality(self)?;
                let role = self.parsed(&value_path, value, Role::parse)?;
                Some(Condition::RequesterRole { is, role })
            }
            "hours_since_created" | "hours_since_updated" | "hours_in_status" => {
                if op != "greater_than_or_equal" {
                    return bad_op(self, "greater_than_or_equal");
                }
                let since = match field {
                    "hours_since_created" => Since::Created,
                    "hours_since_updated" => Since::Updated,
                    _ => Since::Status,
                };
                let hours = self.hours(&value_path, value)?;
                Some(Condition::Elapsed { since, hours })
            }
            other => self.fail(
                &field_path,
                format!(
                    "{other:?} is not a condition field (known: status, priority, group_id, type, tags, \
                     organization.tier, assignee_id, requester.role, hours_since_created, \
                     hours_since_updated, hours_in_status)"
                ),
            ),
        }
    }

    fn action(&mut self, path: &str, v: &Value) -> Option<Action> {
        let Some(obj) = v.as_object() else {
            return self.fail(path, "must be an object with field and value");
        };
        let Some(field) = obj.get("field").and_then(Value::as_str) else {
            return self.fail(&format!("{path}.field"), "is required");
        };
        let vp = format!("{path}.value");
        let value = obj.get("value").unwrap_or(&Value::Null);
        match field {
            "status" => match self.parsed(&vp, value, Status::parse)? {
                Status::New => self.fail(&vp, "a rule cannot set a ticket back to new"),
                s => Some(Action::Status(s)),
            },
            "priority" => self
                .parsed(&vp, value, Priority::parse_any)
                .map(Action::Priority),
            "raise_priority" => Some(Action::RaisePriority),
            "group_id" => self.opt_id(&vp, value).map(Action::Group),
            "assignee_id" => match value {
                Value::Null => Some(Action::Assignee(Assignee::Nobody)),
                Value::String(s) if s == "available_agent" => {
                    Some(Action::Assignee(Assignee::AvailableAgent))
                }
                v => self
                    .person(&vp, v)
                    .map(|p| Action::Assignee(Assignee::Person(p))),
            },
            "add_tags" => self.tags(&vp, value).map(Action::AddTags),
            "add_follower" => self.person(&vp, value).map(Action::AddFollower),
            "escalate" => Some(Action::Escalate),
            "notify_channel" => {
                let Some(o) = value.as_object() else {
                    return self.fail(&vp, "must be {\"channel\": \"#name\", \"text\": \"...\"}");
                };
                let cp = format!("{vp}.channel");
                let channel = self.template(&cp, o.get("channel").unwrap_or(&Value::Null), true);
                let text = self.template(
                    &format!("{vp}.text"),
                    o.get("text").unwrap_or(&Value::Null),
                    true,
                );
                let channel = channel?;
                if !valid_channel(&channel) {
                    return self.fail(
                        &cp,
                        "must be a channel name such as #critical-alerts (lower-case letters, digits, - and _)",
                    );
                }
                Some(Action::Notify {
                    channel,
                    text: text?,
                })
            }
            "create_task" => {
                let Some(o) = value.as_object() else {
                    return self.fail(&vp, "must be {\"title\": \"...\", \"owner\": ..., \"due_in_hours\": N}");
                };
                self.task(&vp, o).map(Action::CreateTask)
            }
            "first_response_target" => match value.as_i64() {
                Some(m) if (1..=10_080).contains(&m) => {
                    Some(Action::FirstResponseTarget { minutes: m })
                }
                _ => self.fail(&vp, "must be a number of minutes from 1 to 10080"),
            },
            other => self.fail(
                &format!("{path}.field"),
                format!(
                    "{other:?} is not an action (known: status, priority, raise_priority, group_id, \
                     assignee_id, add_tags, add_follower, escalate, notify_channel, create_task, \
                     first_response_target)"
                ),
            ),
        }
    }

    fn task(&mut self, path: &str, o: &Map<String, Value>) -> Option<TaskTemplate> {
        let get = |k: &str| o.get(k).unwrap_or(&Value::Null);
        let title = self.template(&format!("{path}.title"), get("title"), true);
        let description = self.template(&format!("{path}.description"), get("description"), false);
        let op = format!("{path}.owner");
        let owner = match get("owner") {
            Value::Null => Some(TaskOwner::Assignee),
            Value::String(s) if s == "assignee" => Some(TaskOwner::Assignee),
            v => self.person(&op, v).map(TaskOwner::Person),
        };
        let due_in_hours = match get("due_in_hours") {
            Value::Null => Some(None),
            v => self.hours(&format!("{path}.due_in_hours"), v).map(Some),
        };
        let priority = self.opt_parsed(
            &format!("{path}.priority"),
            get("priority"),
            Priority::parse_any,
        );
        if title
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TITLE)
        {
            return self.fail(
                &format!("{path}.title"),
                format!("is too long (at most {MAX_TITLE} characters)"),
            );
        }
        Some(TaskTemplate {
            title: title?,
            description: description?,
            owner: owner?,
            due_in_hours: due_in_hours?,
            priority: priority?,
        })
    }
}

fn contact(s: &str) -> Option<&'static str> {
    CONTACTS
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(s.trim()))
}

/// `#name` where name is lower-case letters, digits, `-` and `_`, or
/// placeholders that render to such (checked before rendering).
fn valid_channel(c: &str) -> bool {
    let Some(name) = c.strip_prefix('#') else {
        return false;
    };
    let plain = render(name, |_| "x".to_string());
    !plain.is_empty()
        && plain.len() <= 80
        && plain
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
}

/// Parses a rule's `conditions` object for a rule of `kind`, reporting
/// every problem with its path.
pub fn parse_conditions(kind: RuleKind, v: &Value) -> Result<Conditions, Problems> {
    let mut problems = Problems::new();
    let mut p = Parser {
        problems: &mut problems,
    };
    let mut out = Conditions::default();
    match v.as_object() {
        None => {
            p.fail::<()>("conditions", "must be {\"all\": [...], \"any\": [...]}");
        }
        Some(o) => {
            for key in o.keys().filter(|k| *k != "all" && *k != "any") {
                p.fail::<()>(&format!("conditions.{key}"), "is not all or any");
            }
            for (name, list) in [("all", &mut out.all), ("any", &mut out.any)] {
                match o.get(name) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => {
                        for (i, c) in items.iter().enumerate() {
                            if let Some(c) = p.condition(&format!("conditions.{name}[{i}]"), c) {
                                list.push(c);
                            }
                        }
                    }
                    Some(_) => {
                        p.fail::<()>(&format!("conditions.{name}"), "must be a list");
                    }
                }
            }
        }
    }
    let timed_all = out.all.iter().any(Condition::is_time_based);
    let timed_any = out.any.iter().any(Condition::is_time_based);
    match kind {
        RuleKind::Trigger if timed_all || timed_any => {
            p.fail::<()>(
                "conditions",
                "time conditions (hours_...) belong to automations, not triggers",
            );
        }
        RuleKind::Automation if timed_any => {
            p.fail::<()>("conditions.any", "time conditions belong in all");
        }
        RuleKind::Automation if !timed_all && problems_empty(p.problems) => {
            p.fail::<()>(
                "conditions.all",
                "an automation needs a time condition (hours_since_created, hours_since_updated or hours_in_status)",
            );
        }
        _ => {}
    }
    if out.all.is_empty() && out.any.is_empty() && problems_empty(p.problems) {
        p.fail::<()>("conditions", "must have at least one condition");
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn problems_empty(p: &Problems) -> bool {
    p.is_empty()
}

/// Parses a rule's `actions` list, reporting every problem with its path.
pub fn parse_actions(v: &Value) -> Result<Vec<Action>, Problems> {
    let mut problems = Problems::new();
    let mut p = Parser {
        problems: &mut problems,
    };
    let mut out = Vec::new();
    match v {
        Value::Array(items) if !items.is_empty() => {
            for (i, a) in items.iter().enumerate() {
                if let Some(a) = p.action(&format!("actions[{i}]"), a) {
                    out.push(a);
                }
            }
        }
        Value::Array(_) => {
            p.fail::<()>("actions", "must list at least one action");
        }
        _ => {
            p.fail::<()>("actions", "must be a list of {field, value}");
        }
    }
    // A field set twice would leave the reader guessing which one wins.
    let single = |a: &Action| match a {
        Action::Status(_) => Some("status"),
        Action::Priority(_) | Action::RaisePriority => Some("priority"),
        Action::Group(_) => Some("group_id"),
        Action::Assignee(_) => Some("assignee_id"),
        Action::FirstResponseTarget { .. } => Some("first_response_target"),
        _ => None,
    };
    let mut seen = Vec::new();
    for a in &out {
        if let Some(f) = single(a) {
            if seen.contains(&f) {
                p.fail::<()>("actions", format!("set {f} more than once"));
            }
            seen.push(f);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

pub fn actions_to_json(actions: &[Action]) -> Value {
    Value::Array(actions.iter().map(Action::to_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            status: Status::Open,
            priority: Priority::High,
            group_id: Some(21),
            root_group: Some(2),
            ticket_type: None,
            tags: vec!["vip".into()],
            tier: Some(Tier::Enterprise),
            assignee_id: None,
            requester_role: Role::EndUser,
            created_at: 1_000,
            updated_at: 2_000,
            status_since: 1_500,
        }
    }

    fn conds(kind: RuleKind, v: Value) -> Conditions {
        parse_conditions(kind, &v).unwrap()
    }

    #[test]
    fn subgroups_match_their_root_but_not_the_reverse() {
        let f = facts();
        let c = |g: i64| {
            conds(
                RuleKind::Trigger,
                json!({"all": [{"field": "group_id", "operator": "is", "value": g}]}),
            )
        };
        assert!(c(2).holds(&f, 0));
        assert!(c(21).holds(&f, 0));
        assert!(!c(22).holds(&f, 0));
        let root_only = Facts {
            group_id: Some(2),
            ..facts()
        };
        assert!(!c(21).holds(&root_only, 0));
    }

    #[test]
    fn all_and_any() {
        let c = conds(
            RuleKind::Trigger,
            json!({"all": [{"field": "group_id", "operator": "is", "value": "2"}],
                   "any": [{"field": "priority", "operator": "is", "value": "P0"},
                           {"field": "priority", "operator": "is", "value": "high"}]}),
        );
        assert!(c.holds(&facts(), 0));
        let normal = Facts {
            priority: Priority::Normal,
            ..facts()
        };
        assert!(!c.holds(&normal, 0));
        let ordered = conds(
            RuleKind::Trigger,
            json!({"all": [{"field": "priority", "operator": "greater_than", "value": "normal"},
                           {"field": "status", "operator": "less_than", "value": "solved"},
                           {"field": "tags", "operator": "includes", "value": "x vip"},
                           {"field": "organization.tier", "operator": "is", "value": "Enterprise"},
                           {"field": "assignee_id", "operator": "not_present"},
                           {"field": "requester.role", "operator": "is", "value": "end-user"},
                           {"field": "type", "operator": "is", "value": null}]}),
        );
        assert!(ordered.holds(&facts(), 0));
        let assigned = Facts {
            assignee_id: Some(4),
            ..facts()
        };
        assert!(!ordered.holds(&assigned, 0));
    }

    #[test]
    fn time_conditions_say_when_they_turn_true() {
        let c = conds(
            RuleKind::Automation,
            json!({"all": [{"field": "status", "operator": "is", "value": "open"},
                           {"field": "hours_in_status", "operator": "greater_than_or_equal", "value": 72},
                           {"field": "hours_since_created", "operator": "greater_than_or_equal", "value": "1"}]}),
        );
        let f = facts();
        assert_eq!(c.true_from(&f), Some(1_500 + 72 * 3600));
        assert!(!c.holds(&f, 1_500 + 72 * 3600 - 1));
        assert!(c.holds(&f, 1_500 + 72 * 3600));
        let pending = Facts {
            status: Status::Pending,
            ..facts()
        };
        assert_eq!(c.true_from(&pending), None, "needs a change first");
    }

    #[test]
    fn kinds_constrain_time_conditions() {
        let timed = json!({"all": [{"field": "hours_since_updated", "operator": "greater_than_or_equal", "value": 2}]});
        let untimed = json!({"all": [{"field": "status", "operator": "is", "value": "open"}]});
        assert!(parse_conditions(RuleKind::Trigger, &timed).is_err());
        assert!(parse_conditions(RuleKind::Automation, &untimed).is_err());
        assert!(parse_conditions(RuleKind::Automation, &timed).is_ok());
        assert!(parse_conditions(RuleKind::Trigger, &json!({"all": [], "any": []})).is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let err = parse_conditions(
            RuleKind::Trigger,
            &json!({"all": [{"field": "colour", "operator": "is", "value": 1},
                            {"field": "status", "operator": "above", "value": "open"},
                            {"field": "priority", "operator": "is", "value": "critical"}],
                    "none": []}),
        )
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "conditions.none",
                "conditions.all[0].field",
                "conditions.all[1].operator",
                "conditions.all[2].value"
            ]
        );
        let err = parse_actions(&json!([
            {"field": "notify_channel", "value": {"channel": "critical", "text": "{{ticket.colour}}"}},
            {"field": "create_task", "value": {"owner": "Janitor"}},
            {"field": "priority", "value": "high"},
            {"field": "raise_priority"},
            {"field": "status", "value": "new"}
        ]))
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "actions[0].value.text",
                "actions[0].value.channel",
                "actions[1].value.title",
                "actions[1].value.owner",
                "actions[4].value",
                "actions"
            ]
        );
    }

    #[test]
    fn json_round_trips_to_the_canonical_form() {
        let conditions = json!({"all": [{"field": "priority", "operator": "is", "value": "P0"},
                                        {"field": "assignee_id", "operator": "present"}],
                                "any": [{"field": "tags", "operator": "includes", "value": ["A", "b"]}]});
        let c = parse_conditions(RuleKind::Trigger, &conditions).unwrap();
        let canonical = c.to_json();
        assert_eq!(canonical["all"][0]["value"], "urgent");
        assert_eq!(canonical["any"][0]["value"], "a b");
        assert_eq!(parse_conditions(RuleKind::Trigger, &canonical).unwrap(), c);
        let actions = json!([
            {"field": "assignee_id", "value": "cs manager"},
            {"field": "notify_channel", "value": {"channel": "#{{account.slug}}-implementation", "text": "#{{ticket.id}}"}},
            {"field": "create_task", "value": {"title": "Call {{account.name}}", "due_in_hours": 24}},
            {"field": "first_response_target", "value": 30},
            {"field": "escalate"}
        ]);
        let a = parse_actions(&actions).unwrap();
        assert_eq!(
            a[0],
            Action::Assignee(Assignee::Person(Person::Contact("CS Manager")))
        );
        assert_eq!(parse_actions(&actions_to_json(&a)).unwrap(), a);
    }

    #[test]
    fn templates_and_helpers() {
        let out = render("#{{ ticket.id }} for {{account.name}}", |k| match k {
            "ticket.id" => "7".into(),
            _ => "Acme".into(),
        });
        assert_eq!(out, "#7 for Acme");
        assert_eq!(slug("Acme Corp, Inc."), "acme-corp-inc");
        assert_eq!(raise(Priority::Low), Priority::Normal);
        assert_eq!(raise(Priority::Urgent), Priority::Urgent);
        assert!(placeholders("{{ticket.id").is_err());
    }
}
