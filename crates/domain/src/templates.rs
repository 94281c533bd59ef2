//! Communication templates (policies.md §16): the eleven messages Steward
//! sends along an account's life — five for the implementation project, two
//! for risk and escalation, four help-desk replies — each a subject, a plain
//! text body and an HTML body written in Jinja syntax (minijinja). Beside
//! them, [`EXTRAS`] are defaults for the other e-mails Steward writes to
//! customers, editable the same way: the feedback loop's decision and
//! shipped notices (§11).
//!
//! Every template has a *schema*: the objects it may use (`account`,
//! `contact`, `project`, `ticket`, `report`, `agent`, `feedback`) and, for
//! each, the
//! fields of [`Object::fields`]. [`validate`] runs when a template is saved and
//! rejects syntax errors and any placeholder outside the schema
//! (`{{ account.nmae }}`, or `{{ ticket.id }}` in the welcome e-mail) with
//! its line and column, so a typo is an error at save time and never a
//! blank at send time. Rendering is strict as well: an undefined value is an
//! error, and the HTML body escapes every value.
//!
//! The wording is Steward's own; the defaults live here, and the store keeps
//! only edited copies (deleting an edit restores the default).

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// One of the objects a template can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    Account,
    Contact,
    Project,
    Ticket,
    Report,
    Agent,
    Feedback,
}

impl Object {
    pub const ALL: &'static [Object] = &[
        Object::Account,
        Object::Contact,
        Object::Project,
        Object::Ticket,
        Object::Report,
        Object::Agent,
        Object::Feedback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Object::Account => "account",
            Object::Contact => "contact",
            Object::Project => "project",
            Object::Ticket => "ticket",
            Object::Report => "report",
            Object::Agent => "agent",
            Object::Feedback => "feedback",
        }
    }

    fn parse(s: &str) -> Option<Object> {
        Object::ALL.iter().copied().find(|o| o.as_str() == s)
    }

    /// The placeholders under this object, as dotted paths below it.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Object::Account => &["name", "tier", "csm_name", "renewal_date"],
            Object::Contact => &["first_name", "name", "email"],
            Object::Project => &["name", "start_date", "go_live_date", "day", "phase"],
            Object::Ticket => &[
                "id",
                "subject",
                "status",
                "priority",
                "url",
                "requester.first_name",
                "requester.name",
            ],
            Object::Report => &["title", "period", "health", "summary", "url"],
            Object::Agent => &["name", "email"],
            // A feedback theme and the committee's standing decision on it
            // (§11); fields a decision does not use are empty strings.
            Object::Feedback => &[
                "title",
                "decision",
                "target_release",
                "revisit_on",
                "reason",
                "alternative",
            ],
        }
    }
}

/// A default template as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateDef {
    pub key: &'static str,
    pub name: &'static str,
    /// When it is sent, in §16's words.
    pub occasion: &'static str,
    pub objects: &'static [Object],
    pub subject: &'static str,
    pub text_body: &'static str,
    pub html_body: &'static str,
}

impl TemplateDef {
    pub fn allows(&self, o: Object) -> bool {
        self.objects.contains(&o)
    }
}

use Object::{
    Account as A, Agent as G, Contact as C, Feedback as F, Project as P, Report as R, Ticket as T,
};

/// The eleven templates of §16, in the order of an account's life.
pub const DEFAULTS: &[TemplateDef] = &[
    TemplateDef {
        key: "welcome",
        name: "Welcome",
        occasion: "on contract signature",
        objects: &[A, C, P, G],
        subject: "Welcome to Steward, {{ account.name }}",
        text_body: "Hi {{ contact.first_name }},\n\n\
Thank you for choosing us. I am {{ agent.name }}, your customer success manager, and I will be with you from kickoff to go-live and beyond.\n\n\
Your project \"{{ project.name }}\" starts on {{ project.start_date }} and we are aiming to go live on {{ project.go_live_date }}. The thirty working days fall into four stretches:\n\
- week 1: planning and assessment\n\
- weeks 2-3: technical setup and configuration\n\
- weeks 4-5: data migration, testing and validation\n\
- week 6: go-live and stabilisation\n\n\
I will send a short preparation list before kickoff. Reply to this e-mail or write to {{ agent.email }} whenever you need me.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>Thank you for choosing us. I am {{ agent.name }}, your customer success manager, and I will be with you from kickoff to go-live and beyond.</p>\n\
<p>Your project <strong>{{ project.name }}</strong> starts on {{ project.start_date }} and we are aiming to go live on {{ project.go_live_date }}. The thirty working days fall into four stretches:</p>\n\
<ul><li>week 1: planning and assessment</li><li>weeks 2&ndash;3: technical setup and configuration</li><li>weeks 4&ndash;5: data migration, testing and validation</li><li>week 6: go-live and stabilisation</li></ul>\n\
<p>I will send a short preparation list before kickoff. Reply to this e-mail or write to <a href=\"mailto:{{ agent.email }}\">{{ agent.email }}</a> whenever you need me.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "pre_kickoff",
        name: "Pre-kickoff preparation",
        occasion: "3 days before kickoff",
        objects: &[A, C, P, G],
        subject: "Getting ready for the {{ project.name }} kickoff",
        text_body: "Hi {{ contact.first_name }},\n\n\
Our kickoff for {{ project.name }} is on {{ project.start_date }}. To make the most of it, could you:\n\
1. confirm who will join from {{ account.name }} (sponsor, project lead, technical lead, data owner);\n\
2. share the goals you want to measure at day 30;\n\
3. list the systems we will connect to and who owns them.\n\n\
We will leave the meeting with a signed project charter and the plan for week 1.\n\n\
{{ agent.name }} ({{ agent.email }})\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>Our kickoff for <strong>{{ project.name }}</strong> is on {{ project.start_date }}. To make the most of it, could you:</p>\n\
<ol><li>confirm who will join from {{ account.name }} (sponsor, project lead, technical lead, data owner);</li><li>share the goals you want to measure at day 30;</li><li>list the systems we will connect to and who owns them.</li></ol>\n\
<p>We will leave the meeting with a signed project charter and the plan for week 1.</p>\n\
<p>{{ agent.name }} (<a href=\"mailto:{{ agent.email }}\">{{ agent.email }}</a>)</p>\n",
    },
    TemplateDef {
        key: "post_kickoff",
        name: "Post-kickoff summary",
        occasion: "the day after kickoff",
        objects: &[A, C, P, G],
        subject: "{{ project.name }}: kickoff summary and next steps",
        text_body: "Hi {{ contact.first_name }},\n\n\
Thank you for yesterday's kickoff. Where we stand: day {{ project.day }} of 30, phase \"{{ project.phase }}\", go-live planned for {{ project.go_live_date }}.\n\n\
Next steps: the current-state assessment tomorrow, then the implementation plan for sign-off on day 3. Our daily stand-up is at 10:30 ET.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>Thank you for yesterday's kickoff. Where we stand: day {{ project.day }} of 30, phase <em>{{ project.phase }}</em>, go-live planned for {{ project.go_live_date }}.</p>\n\
<p>Next steps: the current-state assessment tomorrow, then the implementation plan for sign-off on day 3. Our daily stand-up is at 10:30 ET.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "weekly_status",
        name: "Weekly status",
        occasion: "Fridays",
        objects: &[A, C, P, R, G],
        subject: "{{ project.name }} weekly status: {{ report.health }} ({{ report.period }})",
        text_body: "Hi {{ contact.first_name }},\n\n\
This week's status for {{ project.name }} (day {{ project.day }} of 30, {{ project.phase }}): {{ report.health }}.\n\n\
{{ report.summary }}\n\n\
The full report: {{ report.url }}\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>This week's status for <strong>{{ project.name }}</strong> (day {{ project.day }} of 30, {{ project.phase }}): <strong>{{ report.health }}</strong>.</p>\n\
<p>{{ report.summary }}</p>\n\
<p><a href=\"{{ report.url }}\">Read the full report</a></p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "post_go_live_30",
        name: "30-day post-go-live check-in",
        occasion: "30 days after go-live",
        objects: &[A, C, P, G],
        subject: "{{ account.name }}: thirty days live",
        text_body: "Hi {{ contact.first_name }},\n\n\
{{ project.name }} has been live since {{ project.go_live_date }}. Could we take thirty minutes to look back: adoption, the results against the goals we set at kickoff, and what you would like next?\n\n\
Your support team is ready for everything from here on; I remain your contact for the relationship.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p><strong>{{ project.name }}</strong> has been live since {{ project.go_live_date }}. Could we take thirty minutes to look back: adoption, the results against the goals we set at kickoff, and what you would like next?</p>\n\
<p>Your support team is ready for everything from here on; I remain your contact for the relationship.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "escalation_notification",
        name: "Escalation notification",
        occasion: "a P1/P2 blocker",
        objects: &[A, C, T, G],
        subject: "Escalated: #{{ ticket.id }} {{ ticket.subject }}",
        text_body: "Hi {{ contact.first_name }},\n\n\
We have escalated ticket #{{ ticket.id }} (\"{{ ticket.subject }}\", priority {{ ticket.priority }}) for {{ account.name }}. It now has senior attention and we will update you at every change.\n\n\
Follow it here: {{ ticket.url }}\n\n\
{{ agent.name }} ({{ agent.email }})\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>We have escalated ticket <strong>#{{ ticket.id }}</strong> (&ldquo;{{ ticket.subject }}&rdquo;, priority {{ ticket.priority }}) for {{ account.name }}. It now has senior attention and we will update you at every change.</p>\n\
<p><a href=\"{{ ticket.url }}\">Follow the ticket</a></p>\n\
<p>{{ agent.name }} (<a href=\"mailto:{{ agent.email }}\">{{ agent.email }}</a>)</p>\n",
    },
    TemplateDef {
        key: "monthly_risk_summary",
        name: "Monthly risk summary",
        occasion: "monthly",
        objects: &[A, C, R, G],
        subject: "{{ account.name }} risk summary, {{ report.period }}",
        text_body: "Hi {{ contact.first_name }},\n\n\
Here is {{ account.name }}'s risk summary for {{ report.period }}. Overall: {{ report.health }}.\n\n\
{{ report.summary }}\n\n\
Details and mitigations: {{ report.url }}\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ contact.first_name }},</p>\n\
<p>Here is {{ account.name }}'s risk summary for {{ report.period }}. Overall: <strong>{{ report.health }}</strong>.</p>\n\
<p>{{ report.summary }}</p>\n\
<p><a href=\"{{ report.url }}\">Details and mitigations</a></p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "reply_initial_response",
        name: "Help desk: initial response",
        occasion: "first reply to a new ticket",
        objects: &[A, T, G],
        subject: "Re: {{ ticket.subject }} [#{{ ticket.id }}]",
        text_body: "Hi {{ ticket.requester.first_name }},\n\n\
Thanks for reaching out. I have your request #{{ ticket.id }} (priority {{ ticket.priority }}) and I am looking into it now. I will come back to you with what I find or with the next questions.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ ticket.requester.first_name }},</p>\n\
<p>Thanks for reaching out. I have your request <strong>#{{ ticket.id }}</strong> (priority {{ ticket.priority }}) and I am looking into it now. I will come back to you with what I find or with the next questions.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "reply_escalated_engineering",
        name: "Help desk: escalated to engineering",
        occasion: "a ticket goes to engineering",
        objects: &[A, T, G],
        subject: "Re: {{ ticket.subject }} [#{{ ticket.id }}]",
        text_body: "Hi {{ ticket.requester.first_name }},\n\n\
I have reproduced the problem in #{{ ticket.id }} and handed it to our engineering team with everything you sent. I stay your contact and will tell you as soon as they have a fix or a workaround.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ ticket.requester.first_name }},</p>\n\
<p>I have reproduced the problem in <strong>#{{ ticket.id }}</strong> and handed it to our engineering team with everything you sent. I stay your contact and will tell you as soon as they have a fix or a workaround.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "reply_implementation_status",
        name: "Help desk: implementation status update",
        occasion: "a question about the project's progress",
        objects: &[A, P, T, G],
        subject: "Re: {{ ticket.subject }} [#{{ ticket.id }}]",
        text_body: "Hi {{ ticket.requester.first_name }},\n\n\
{{ project.name }} is on day {{ project.day }} of 30, in the \"{{ project.phase }}\" phase, and go-live is planned for {{ project.go_live_date }}. The weekly status report has the details; ask me about anything in it.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ ticket.requester.first_name }},</p>\n\
<p><strong>{{ project.name }}</strong> is on day {{ project.day }} of 30, in the <em>{{ project.phase }}</em> phase, and go-live is planned for {{ project.go_live_date }}. The weekly status report has the details; ask me about anything in it.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "reply_resolution",
        name: "Help desk: resolution and closing",
        occasion: "a ticket is solved",
        objects: &[A, T, G],
        subject: "Solved: {{ ticket.subject }} [#{{ ticket.id }}]",
        text_body: "Hi {{ ticket.requester.first_name }},\n\n\
We have solved #{{ ticket.id }}. If anything is still not right, just reply and the ticket reopens with everything we know. Otherwise it closes by itself in a few days.\n\n\
Thank you for your patience,\n\
{{ agent.name }}\n",
        html_body: "<p>Hi {{ ticket.requester.first_name }},</p>\n\
<p>We have solved <strong>#{{ ticket.id }}</strong>. If anything is still not right, just reply and the ticket reopens with everything we know. Otherwise it closes by itself in a few days.</p>\n\
<p>Thank you for your patience,<br>{{ agent.name }}</p>\n",
    },
];

/// Editable defaults beyond §16's eleven: the e-mails that tell every
/// requester of a feedback theme the product committee's decision and,
/// later, that it shipped (§11). `feedback.decision` is one of `roadmap`,
/// `backlog`, `known_limitation`, `defer`, `reject`.
pub const EXTRAS: &[TemplateDef] = &[
    TemplateDef {
        key: "feedback_decision",
        name: "Feedback: the committee's decision",
        occasion: "the product committee decides on a feedback theme",
        objects: &[C, F, G],
        subject: "Your feedback: {{ feedback.title }}",
        text_body: "Hello {{ contact.name }},\n\n\
Thank you for your feedback. Our product committee reviewed \"{{ feedback.title }}\": \
{% if feedback.decision == \"roadmap\" %}it is on our roadmap, targeted for release by {{ feedback.target_release }}.\
{% elif feedback.decision == \"backlog\" %}it is in our product backlog for the next 12 months.\
{% elif feedback.decision == \"known_limitation\" %}it is a known limitation of the product for now.\
{% elif feedback.decision == \"defer\" %}it was deferred; we will revisit it on {{ feedback.revisit_on }}.\
{% else %}it will not be built. Why: {{ feedback.reason }}. What we suggest instead: {{ feedback.alternative }}.{% endif %}\n\n\
We will write again when it ships.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hello {{ contact.name }},</p>\n\
<p>Thank you for your feedback. Our product committee reviewed &ldquo;{{ feedback.title }}&rdquo;: \
{% if feedback.decision == \"roadmap\" %}it is on our roadmap, targeted for release by <strong>{{ feedback.target_release }}</strong>.\
{% elif feedback.decision == \"backlog\" %}it is in our product backlog for the next 12 months.\
{% elif feedback.decision == \"known_limitation\" %}it is a known limitation of the product for now.\
{% elif feedback.decision == \"defer\" %}it was deferred; we will revisit it on {{ feedback.revisit_on }}.\
{% else %}it will not be built. Why: {{ feedback.reason }}. What we suggest instead: {{ feedback.alternative }}.{% endif %}</p>\n\
<p>We will write again when it ships.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
    TemplateDef {
        key: "feedback_shipped",
        name: "Feedback: shipped",
        occasion: "a feedback theme the committee accepted ships",
        objects: &[C, F, G],
        subject: "Shipped: {{ feedback.title }}",
        text_body: "Hello {{ contact.name }},\n\n\
\"{{ feedback.title }}\", which you asked for, has shipped. Thank you for helping us build it.\n\n\
{{ agent.name }}\n",
        html_body: "<p>Hello {{ contact.name }},</p>\n\
<p>&ldquo;{{ feedback.title }}&rdquo;, which you asked for, has shipped. Thank you for helping us build it.</p>\n\
<p>{{ agent.name }}</p>\n",
    },
];

/// Every editable template: §16's eleven, then [`EXTRAS`].
pub fn all() -> impl Iterator<Item = &'static TemplateDef> {
    DEFAULTS.iter().chain(EXTRAS)
}

/// The default template with this key.
pub fn default_for(key: &str) -> Option<&'static TemplateDef> {
    all().find(|d| d.key == key)
}

/// The three parts of a template, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parts {
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

impl Parts {
    pub fn of(d: &TemplateDef) -> Parts {
        Parts {
            subject: d.subject.into(),
            text_body: d.text_body.into(),
            html_body: d.html_body.into(),
        }
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template problem, located in the part that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// `subject`, `text_body` or `html_body`.
    pub field: &'static str,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Globals minijinja's builtins provide; they are not placeholders.
const GLOBALS: &[&str] = &["range", "dict", "namespace"];

fn environment(html: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(move |_| {
        if html {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// 1-based line and column (in characters) of a byte offset.
fn position(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn from_minijinja(field: &'static str, source: &str, e: &minijinja::Error) -> TemplateError {
    let (line, column) = match (e.range(), e.line()) {
        (Some(r), _) => position(source, r.start),
        (None, Some(l)) => (l, 1),
        (None, None) => (1, 1),
    };
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    TemplateError {
        field,
        line,
        column,
        message,
    }
}

/// Byte offset of the first occurrence of `path` as a whole dotted name.
fn locate(source: &str, path: &str) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = source.get(from..).and_then(|s| s.find(path)) {
        let at = from + i;
        let end = at + path.len();
        let before_ok = source[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !ident(c) && c != '.');
        let after_ok = source[end..].chars().next().is_none_or(|c| !ident(c));
        if before_ok && after_ok {
            return at;
        }
        from = at + 1;
    }
    // Written with spaces around the dots, say: fall back on the object.
    path.split('.')
        .next()
        .and_then(|root| source.find(root))
        .unwrap_or(0)
}

/// Why `path` is not a placeholder of `d`, if it is not.
fn check_path(d: &TemplateDef, path: &str) -> Option<String> {
    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
    if GLOBALS.contains(&root) {
        return None;
    }
    let available = || {
        d.objects
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(object) = Object::parse(root) else {
        return Some(format!(
            "unknown placeholder {path} (this template knows {})",
            available()
        ));
    };
    if !d.allows(object) {
        return Some(format!(
            "{root} is not available in the {} template (it knows {})",
            d.key,
            available()
        ));
    }
    if rest.is_empty() {
        return Some(format!(
            "{root} needs a field, one of: {}",
            object.fields().join(", ")
        ));
    }
    // Only whole fields: `{{ ticket.requester }}` would print a map.
    if object.fields().contains(&rest) {
        None
    } else {
        Some(format!(
            "unknown placeholder {path} ({root} has: {})",
            object.fields().join(", ")
        ))
    }
}

/// Checks one part: syntax, then every placeholder against the schema, then
/// a trial render against the sample context (which catches unknown
/// filters and other runtime errors in the branches it takes).
fn validate_part(d: &TemplateDef, field: &'static str, source: &str) -> Result<(), TemplateError> {
    let env = environment(field == "html_body");
    let tmpl = env
        .template_from_str(source)
        .map_err(|e| from_minijinja(field, source, &e))?;
    let mut unknown: Vec<(usize, String)> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter_map(|p| check_path(d, &p).map(|m| (locate(source, &p), m)))
        .collect();
    unknown.sort();
    if let Some((offset, message)) = unknown.into_iter().next() {
        let (line, column) = position(source, offset);
        return Err(TemplateError {
            field,
            line,
            column,
            message,
        });
    }
    tmpl.render(sample(d).to_value())
        .map(drop)
        .map_err(|e| from_minijinja(field, source, &e))
}

/// Validates all three parts of a template for `key`'s schema, reporting
/// every part that has a problem (the first problem in each).
pub fn validate(d: &TemplateDef, parts: &Parts) -> Result<(), Vec<TemplateError>> {
    let errors: Vec<TemplateError> = [
        ("subject", &parts.subject),
        ("text_body", &parts.text_body),
        ("html_body", &parts.html_body),
    ]
    .into_iter()
    .filter_map(|(f, s)| validate_part(d, f, s).err())
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The values a template is rendered with: one map per object, holding the
/// fields of [`Object::fields`] (nested for `ticket.requester`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub objects: BTreeMap<&'static str, serde_json::Value>,
}

impl Context {
    /// Sets `object.field` (a dotted field such as `requester.first_name`
    /// nests). Unknown objects are ignored: the schema, not the caller,
    /// decides what a template may use.
    pub fn set(&mut self, object: Object, field: &str, value: impl Into<serde_json::Value>) {
        let mut slot = self
            .objects
            .entry(object.as_str())
            .or_insert_with(|| serde_json::json!({}));
        let mut parts = field.split('.').peekable();
        while let Some(p) = parts.next() {
            let serde_json::Value::Object(map) = slot else {
                return;
            };
            if parts.peek().is_none() {
                map.insert(p.to_string(), value.into());
                return;
            }
            slot = map
                .entry(p.to_string())
                .or_insert_with(|| serde_json::json!({}));
        }
    }

    /// Overlays client-supplied values (`{"account": {"name": ...}}`);
    /// keys that are not objects of the schema are ignored.
    pub fn overlay_json(&mut self, v: &serde_json::Value) {
        let serde_json::Value::Object(map) = v else {
            return;
        };
        for (k, v) in map {
            if let Some(o) = Object::parse(k) {
                let slot = self
                    .objects
                    .entry(o.as_str())
                    .or_insert_with(|| serde_json::json!({}));
                overlay(slot, v);
            }
        }
    }

    /// Fills in every field of `d`'s objects the caller left out from the
    /// sample, so a preview always renders.
    pub fn complete_from(mut self, other: &Context) -> Context {
        for (k, v) in &other.objects {
            match self.objects.get_mut(k) {
                None => {
                    self.objects.insert(k, v.clone());
                }
                Some(mine) => merge(mine, v),
            }
        }
        self
    }

    fn to_value(&self) -> minijinja::Value {
        minijinja::Value::from(minijinja::value::Serde(&self.objects))
    }
}

fn overlay(mine: &mut serde_json::Value, theirs: &serde_json::Value) {
    match (mine, theirs) {
        (serde_json::Value::Object(m), serde_json::Value::Object(t)) => {
            for (k, v) in t {
                overlay(m.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn merge(mine: &mut serde_json::Value, defaults: &serde_json::Value) {
    if let (serde_json::Value::Object(m), serde_json::Value::Object(d)) = (mine, defaults) {
        for (k, v) in d {
            match m.get_mut(k) {
                None => {
                    m.insert(k.clone(), v.clone());
                }
                Some(existing) => merge(existing, v),
            }
        }
    }
}

/// A plausible context for `d`: what previews show and what validation
/// renders against.
pub fn sample(d: &TemplateDef) -> Context {
    let mut c = Context::default();
    for o in d.objects {
        match o {
            Object::Account => {
                c.set(A, "name", "Acme Logistics");
                c.set(A, "tier", "enterprise");
                c.set(A, "csm_name", "Dana Reyes");
                c.set(A, "renewal_date", "2027-03-31");
            }
            Object::Contact => {
                c.set(C, "first_name", "Sam");
                c.set(C, "name", "Sam Okafor");
                c.set(C, "email", "sam.okafor@acme.example");
            }
            Object::Project => {
                c.set(P, "name", "Acme rollout");
                c.set(P, "start_date", "2026-12-01");
                c.set(P, "go_live_date", "2027-01-12");
                c.set(P, "day", 12);
                c.set(P, "phase", "Data migration & setup");
            }
            Object::Ticket => {
                c.set(T, "id", 1234);
                c.set(T, "subject", "Exports time out");
                c.set(T, "status", "open");
                c.set(T, "priority", "high");
                c.set(T, "url", "https://steward.example/tickets/1234");
                c.set(T, "requester.first_name", "Sam");
                c.set(T, "requester.name", "Sam Okafor");
            }
            Object::Report => {
                c.set(R, "title", "Weekly status");
                c.set(R, "period", "week ending 2026-12-11");
                c.set(R, "health", "GREEN");
                c.set(R, "summary", "On track: data pipeline live in test.");
                c.set(R, "url", "https://steward.example/reports/1");
            }
            Object::Agent => {
                c.set(G, "name", "Dana Reyes");
                c.set(G, "email", "dana@steward.example");
            }
            Object::Feedback => {
                c.set(F, "title", "Single sign-on with Okta");
                c.set(F, "decision", "roadmap");
                c.set(F, "target_release", "2027-03-31");
                c.set(F, "revisit_on", "");
                c.set(F, "reason", "");
                c.set(F, "alternative", "");
            }
        }
    }
    c
}

/// Renders a (validated) template. Values missing from `ctx` are errors,
/// never blanks; the HTML body escapes every value.
pub fn render(parts: &Parts, ctx: &Context) -> Result<Rendered, TemplateError> {
    let value = ctx.to_value();
    let one = |field: &'static str, source: &str| -> Result<String, TemplateError> {
        let env = environment(field == "html_body");
        env.render_str(source, value.clone())
            .map_err(|e| from_minijinja(field, source, &e))
    };
    Ok(Rendered {
        subject: one("subject", &parts.subject)?.trim().to_string(),
        text: one("text_body", &parts.text_body)?,
        html: one("html_body", &parts.html_body)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome() -> &'static TemplateDef {
        default_for("welcome").unwrap()
    }

    #[test]
    fn eleven_defaults_all_valid_and_unique() {
        assert_eq!(DEFAULTS.len(), 11);
        let mut keys: Vec<_> = DEFAULTS.iter().map(|d| d.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 11);
        for d in DEFAULTS {
            validate(d, &Parts::of(d)).unwrap_or_else(|e| panic!("{}: {e:?}", d.key));
            let r = render(&Parts::of(d), &sample(d)).unwrap();
            assert!(!r.subject.is_empty() && !r.text.is_empty() && !r.html.is_empty());
        }
    }

    #[test]
    fn extras_are_valid_editable_defaults() {
        assert_eq!(all().count(), DEFAULTS.len() + EXTRAS.len());
        let mut keys: Vec<_> = all().map(|d| d.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all().count(), "keys are unique");
        for d in EXTRAS {
            validate(d, &Parts::of(d)).unwrap_or_else(|e| panic!("{}: {e:?}", d.key));
            assert_eq!(default_for(d.key), Some(d));
        }
        let d = default_for("feedback_decision").unwrap();
        let mut ctx = sample(d);
        let r = render(&Parts::of(d), &ctx).unwrap();
        assert_eq!(r.subject, "Your feedback: Single sign-on with Okta");
        assert!(
            r.text.contains("targeted for release by 2027-03-31."),
            "{}",
            r.text
        );
        ctx.set(F, "decision", "reject");
        ctx.set(F, "reason", "Out of <scope>");
        ctx.set(F, "alternative", "SAML");
        let r = render(&Parts::of(d), &ctx).unwrap();
        assert!(
            r.text
                .contains("Why: Out of <scope>. What we suggest instead: SAML.")
        );
        assert!(r.html.contains("Out of &lt;scope&gt;"));
        // The feedback object belongs to these two only.
        let mut p = Parts::of(default_for("welcome").unwrap());
        p.subject = "{{ feedback.title }}".into();
        assert!(validate(default_for("welcome").unwrap(), &p).is_err());
        let mut p = Parts::of(d);
        p.subject = "{{ feedback.titel }}".into();
        let e = validate(d, &p).unwrap_err();
        assert!(e[0].message.contains("feedback.titel"), "{}", e[0].message);
    }

    #[test]
    fn renders_and_escapes_html_only() {
        let d = default_for("reply_initial_response").unwrap();
        let mut ctx = sample(d);
        ctx.set(T, "requester.first_name", "<Bo & Co>");
        let r = render(&Parts::of(d), &ctx).unwrap();
        assert!(r.text.starts_with("Hi <Bo & Co>,"));
        assert!(r.html.contains("Hi &lt;Bo &amp; Co&gt;,"));
        assert_eq!(r.subject, "Re: Exports time out [#1234]");
    }

    #[test]
    fn unknown_field_is_rejected_with_position() {
        let mut p = Parts::of(welcome());
        p.text_body = "Hello\n  {{ account.nmae }}".into();
        let e = validate(welcome(), &p).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "text_body");
        assert_eq!((e[0].line, e[0].column), (2, 6));
        assert!(e[0].message.contains("account.nmae"), "{}", e[0].message);
        assert!(e[0].to_string().starts_with("line 2, column 6: "));
    }

    #[test]
    fn object_outside_schema_is_rejected() {
        let mut p = Parts::of(welcome());
        p.subject = "About {{ ticket.id }}".into();
        let e = validate(welcome(), &p).unwrap_err();
        assert_eq!(e[0].field, "subject");
        assert_eq!((e[0].line, e[0].column), (1, 10));
        assert!(e[0].message.contains("not available"), "{}", e[0].message);
    }

    #[test]
    fn unknown_names_in_conditions_and_bare_objects_are_rejected() {
        let mut p = Parts::of(welcome());
        p.text_body = "{% if acount.tier == 'x' %}x{% endif %}".into();
        assert!(validate(welcome(), &p).is_err());
        p.text_body = "{{ account }}".into();
        assert!(validate(welcome(), &p).is_err());
        p.text_body = "{% for i in range(2) %}{{ i }}{% endfor %}{{ account.name | upper }}".into();
        assert_eq!(validate(welcome(), &p), Ok(()));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let mut p = Parts::of(welcome());
        p.html_body = "<p>\n{{ account.name }\n</p>".into();
        let e = validate(welcome(), &p).unwrap_err();
        assert_eq!(e[0].field, "html_body");
        assert_eq!(e[0].line, 2);
        assert!(e[0].column > 1, "{:?}", e[0]);
        assert!(e[0].message.contains("syntax error"), "{}", e[0].message);
    }

    #[test]
    fn unknown_filter_is_rejected_at_save_time() {
        let mut p = Parts::of(welcome());
        p.subject = "{{ account.name | shout }}".into();
        let e = validate(welcome(), &p).unwrap_err();
        assert_eq!(e[0].field, "subject");
        assert!(e[0].message.contains("filter"), "{}", e[0].message);
    }

    #[test]
    fn missing_value_is_an_error_not_a_blank() {
        let d = welcome();
        let mut ctx = Context::default();
        ctx.set(A, "name", "Acme");
        assert!(render(&Parts::of(d), &ctx).is_err());
        let full = ctx.complete_from(&sample(d));
        let r = render(&Parts::of(d), &full).unwrap();
        assert_eq!(r.subject, "Welcome to Steward, Acme");
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position("ab\ncé{{", 6), (2, 3));
        assert_eq!(position("x", 0), (1, 1));
        assert_eq!(locate("{{ a.b }} {{ a.bc }}", "a.bc"), 13);
    }
}
