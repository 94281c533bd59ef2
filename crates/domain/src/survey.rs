//! The NPS survey's pure parts (policies.md §10): quarters, the kinds and
//! audience rules of a campaign, the extended survey per category with its
//! validation, and the public pages (NPS and the weekly pulse), rendered with minijinja and HTML
//! auto-escaping (no external assets, a viewport meta tag for phones, a
//! label on every input).
//!
//! Extended survey (§10), by category:
//! - promoters: what they like most (from a list), other feedback,
//!   testimonial willingness — all optional;
//! - passives: top-3 improvements, what would raise the score, renewal
//!   likelihood — optional;
//! - detractors: main reason, what would earn a higher rating (**required**),
//!   renewal likelihood, open to a call with the VP Product.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};
use serde::Serialize;

use crate::{AccountStatus, ParseError, Tier, nps::Category, string_enum};

string_enum! {
    /// What a campaign asks: the quarterly NPS question (with its extended
    /// survey) or the weekly pulse (`crate::pulse`).
    CampaignKind, "campaign kind" {
        Nps => "nps",
        Pulse => "pulse",
    }
}

/// A quarter such as `2026-Q4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    pub q: u8,
}

impl Quarter {
    pub fn parse(s: &str) -> Result<Quarter, ParseError> {
        let bad = || ParseError::new(format!("{s} is not a quarter such as 2026-Q4"));
        let (y, q) = s.trim().split_once("-Q").ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let q: u8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Quarter { year, q })
    }

    /// The quarter a calendar month (1–12) falls in.
    pub fn of_month(year: i32, month: i8) -> Quarter {
        Quarter {
            year,
            q: ((month.clamp(1, 12) - 1) / 3 + 1) as u8,
        }
    }

    pub fn previous(self) -> Quarter {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }

    /// This quarter and the three before it, oldest first.
    pub fn last_four(self) -> [Quarter; 4] {
        let q3 = self;
        let q2 = q3.previous();
        let q1 = q2.previous();
        [q1.previous(), q1, q2, q3]
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

/// Who a campaign goes to: active end-user contacts of accounts whose
/// status and tier match (empty tiers = every tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Audience {
    #[serde(default = "default_statuses")]
    pub account_statuses: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
}

fn default_statuses() -> Vec<String> {
    vec![AccountStatus::Active.as_str().to_string()]
}

impl Default for Audience {
    fn default() -> Self {
        Audience {
            account_statuses: default_statuses(),
            tiers: vec![],
        }
    }
}

impl Audience {
    /// Parses the spellings (so stored rules are canonical).
    pub fn parse(statuses: &[String], tiers: &[String]) -> Result<Audience, ParseError> {
        let account_statuses = if statuses.is_empty() {
            default_statuses()
        } else {
            statuses
                .iter()
                .map(|s| AccountStatus::parse(s).map(|v| v.as_str().to_string()))
                .collect::<Result<_, _>>()?
        };
        let tiers = tiers
            .iter()
            .map(|s| Tier::parse_loose(s).map(|v| v.as_str().to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Audience {
            account_statuses,
            tiers,
        })
    }

    pub fn matches(&self, status: &str, tier: Tier) -> bool {
        self.account_statuses.iter().any(|s| s == status)
            && (self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier.as_str()))
    }
}

/// §10's "time live" segment of a response: whole months from the
/// account's start (`YYYY-MM-DD`) to the answer (unix seconds), bucketed
/// 0–3, 3–6, 6–12, 12+; `unknown` without a start date.
pub fn time_live_segment(start: Option<&str>, answered_at: i64) -> &'static str {
    let Some(start) = start.and_then(|s| crate::time::parse_date(s).ok()) else {
        return "unknown";
    };
    let Ok(at) = jiff::Timestamp::from_second(answered_at) else {
        return "unknown";
    };
    let day = jiff::tz::TimeZone::UTC.to_datetime(at).date();
    let mut months = (i64::from(day.year()) - i64::from(start.year())) * 12
        + i64::from(day.month())
        - i64::from(start.month());
    if day.day() < start.day() {
        months -= 1;
    }
    match months {
        i64::MIN..=2 => "0-3 months",
        3..=5 => "3-6 months",
        6..=11 => "6-12 months",
        _ => "12+ months",
    }
}

/// One question of the extended survey.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `choice` (one of `options`) or `yesno`.
    pub kind: &'static str,
    pub options: &'static [&'static str],
    pub required: bool,
}

const fn q(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    options: &'static [&'static str],
    required: bool,
) -> Question {
    Question {
        name,
        label,
        kind,
        options,
        required,
    }
}

const LIKED: &[&str] = &[
    "Ease of use",
    "Support",
    "Features",
    "Reliability",
    "Value for money",
    "Implementation team",
];
const RENEWAL: &[&str] = &[
    "Very likely",
    "Likely",
    "Unsure",
    "Unlikely",
    "Very unlikely",
];

/// The extended survey of a category (§10).
pub fn extended_questions(c: Category) -> &'static [Question] {
    const PROMOTER: &[Question] = &[
        q(
            "liked_most",
            "What do you like most?",
            "choice",
            LIKED,
            false,
        ),
        q(
            "other_feedback",
            "Anything else you would like to tell us?",
            "text",
            &[],
            false,
        ),
        q(
            "testimonial",
            "Would you be willing to give a testimonial?",
            "yesno",
            &[],
            false,
        ),
    ];
    const PASSIVE: &[Question] = &[
        q(
            "improvements",
            "The top 3 improvements you would like",
            "text",
            &[],
            false,
        ),
        q(
            "raise_score",
            "What would raise your score?",
            "text",
            &[],
            false,
        ),
        q(
            "renewal_likelihood",
            "How likely are you to renew?",
            "choice",
            RENEWAL,
            false,
        ),
    ];
    const DETRACTOR: &[Question] = &[
        q(
            "main_reason",
            "The main reason for your score",
            "text",
            &[],
            false,
        ),
        q(
            "higher_rating",
            "What would earn a higher rating from you?",
            "text",
            &[],
            true,
        ),
        q(
            "renewal_likelihood",
            "How likely are you to renew?",
            "choice",
            RENEWAL,
            false,
        ),
        q(
            "vp_call",
            "Would you be open to a call with our VP of Product?",
            "yesno",
            &[],
            false,
        ),
    ];
    match c {
        Category::Promoter => PROMOTER,
        Category::Passive => PASSIVE,
        Category::Detractor => DETRACTOR,
    }
}

/// Checks the extended answers of a category: unknown fields are ignored,
/// blanks dropped, choices must be listed ones, required ones present.
/// Errors are (field, message) pairs.
pub fn validate_extended(
    c: Category,
    form: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    let mut errors = vec![];
    for qn in extended_questions(c) {
        let v = form.get(qn.name).map(|s| s.trim()).unwrap_or_default();
        if v.is_empty() {
            if qn.required {
                errors.push((
                    qn.name.to_string(),
                    "Please answer this question.".to_string(),
                ));
            }
            continue;
        }
        let ok = match qn.kind {
            "choice" => qn.options.contains(&v),
            "yesno" => matches!(v, "yes" | "no"),
            _ => v.chars().count() <= 5_000,
        };
        if ok {
            out.insert(qn.name.to_string(), v.to_string());
        } else {
            errors.push((
                qn.name.to_string(),
                "Please pick one of the options.".to_string(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

const LAYOUT: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;line-height:1.5;color:#222}
fieldset{border:0;padding:0;margin:0 0 1rem}
.scale{display:flex;flex-wrap:wrap;gap:.25rem}
.scale label{display:inline-flex;flex-direction:column;align-items:center;min-width:2.4rem;padding:.3rem;border:1px solid #ccc;border-radius:.3rem}
textarea,select{width:100%;box-sizing:border-box;font:inherit}
textarea{min-height:5rem}
button{font:inherit;padding:.6rem 1.2rem}
.error{color:#b00020}
</style>
</head>
<body>
<h1>{{ title }}</h1>
{{ body }}
</body>
</html>
"#;

const QUESTION: &str = r#"<p>Hello {{ name }}, thank you for taking a minute for us.</p>
<form method="post" action="/s/{{ token }}">
<fieldset>
<legend>How likely are you to recommend {{ product }} to a friend or colleague? (0 = not at all likely, 10 = extremely likely)</legend>
{% if errors.score %}<p class="error" id="score-error">{{ errors.score }}</p>{% endif %}
<div class="scale">
{% for n in range(11) %}<label for="score-{{ n }}">{{ n }}<input type="radio" id="score-{{ n }}" name="score" value="{{ n }}"{% if score == n %} checked{% endif %}></label>
{% endfor %}</div>
</fieldset>
<p><label for="reason">What is the main reason for your score?</label><br>
<textarea id="reason" name="reason">{{ reason }}</textarea></p>
<button type="submit">Send</button>
</form>
<p><small><a href="/s/{{ token }}/unsubscribe">Stop receiving these surveys</a></small></p>
"#;

const EXTENDED: &str = r#"<p>Thank you! Your answer has been recorded.</p>
<p>If you have two more minutes, these questions help us most:</p>
<form method="post" action="/s/{{ token }}/more">
{% if errors %}<p class="error">Please check the questions marked below.</p>{% endif %}
{% for q in questions %}
<p><label for="{{ q.name }}">{{ q.label }}{% if q.required %} (required){% endif %}</label><br>
{% if errors[q.name] %}<span class="error">{{ errors[q.name] }}</span><br>{% endif %}
{% if q.kind == "choice" %}<select id="{{ q.name }}" name="{{ q.name }}"><option value="">—</option>{% for o in q.options %}<option{% if values[q.name] == o %} selected{% endif %}>{{ o }}</option>{% endfor %}</select>
{% elif q.kind == "yesno" %}<select id="{{ q.name }}" name="{{ q.name }}"><option value="">—</option><option value="yes"{% if values[q.name] == "yes" %} selected{% endif %}>Yes</option><option value="no"{% if values[q.name] == "no" %} selected{% endif %}>No</option></select>
{% else %}<textarea id="{{ q.name }}" name="{{ q.name }}"{% if q.required %} required{% endif %}>{{ values[q.name] }}</textarea>
{% endif %}</p>
{% endfor %}
<button type="submit">Send</button>
</form>
"#;

const PULSE: &str = r#"<p>Hello {{ name }}, five quick questions about {{ product }} this week.</p>
<form method="post" action="/s/{{ token }}">
{% if errors %}<p class="error">Please check the questions marked below.</p>{% endif %}
{% for q in scales %}<fieldset>
<legend>{{ q.label }}</legend>
{% if errors[q.name] %}<p class="error" id="{{ q.name }}-error">{{ errors[q.name] }}</p>{% endif %}
<div class="scale">
{% for n in range(q.min, q.max + 1) %}<label for="{{ q.name }}-{{ n }}">{{ n }}<input type="radio" id="{{ q.name }}-{{ n }}" name="{{ q.name }}" value="{{ n }}"{% if values[q.name] == n|string %} checked{% endif %}></label>
{% endfor %}</div>
</fieldset>
{% endfor %}{% for t in texts %}<p><label for="{{ t[0] }}">{{ t[1] }}</label><br>
{% if errors[t[0]] %}<span class="error">{{ errors[t[0]] }}</span><br>{% endif %}
<textarea id="{{ t[0] }}" name="{{ t[0] }}">{{ values[t[0]] }}</textarea></p>
{% endfor %}<button type="submit">Send</button>
</form>
<p><small><a href="/s/{{ token }}/unsubscribe">Stop receiving these surveys</a></small></p>
"#;

const MESSAGE: &str = r#"<p>{{ message }}</p>
"#;

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("question.html", QUESTION)?;
    env.add_template("extended.html", EXTENDED)?;
    env.add_template("pulse.html", PULSE)?;
    env.add_template("message.html", MESSAGE)?;
    Ok(env)
}

/// Renders a page's body (auto-escaped), then puts it in the layout. The
/// layout is filled by plain replacement: its only variables are the
/// escaped title and the already-escaped body.
fn page(name: &str, title: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    let env = environment()?;
    let body = env.get_template(name)?.render(ctx)?;
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Ok(LAYOUT
        .replace("{{ title }}", &title)
        .replace("{{ body }}", &body))
}

/// The first page: the 0–10 question and the reason.
pub fn question_page(
    token: &str,
    name: &str,
    score: Option<u8>,
    reason: &str,
    errors: &BTreeMap<String, String>,
) -> Result<String, minijinja::Error> {
    page(
        "question.html",
        "A quick question",
        context! { token, name, product => "Steward", score, reason, errors },
    )
}

/// The extended survey of a category, with the values and errors of a
/// refused post.
pub fn extended_page(
    token: &str,
    c: Category,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Result<String, minijinja::Error> {
    let questions = minijinja::Value::from(minijinja::value::Serde(extended_questions(c)));
    page(
        "extended.html",
        "Thank you",
        context! { token, questions, values, errors },
    )
}

/// The weekly pulse (`crate::pulse`): three scales and two texts, with the
/// values and errors of a refused post.
pub fn pulse_page(
    token: &str,
    name: &str,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Result<String, minijinja::Error> {
    let scales = minijinja::Value::from(minijinja::value::Serde(crate::pulse::SCALES));
    let texts = minijinja::Value::from(minijinja::value::Serde(crate::pulse::TEXTS));
    page(
        "pulse.html",
        "Your weekly pulse",
        context! { token, name, product => "Steward", scales, texts, values, errors },
    )
}

/// A page with a title and a sentence (done, expired, unknown, ...).
pub fn message_page(title: &str, message: &str) -> Result<String, minijinja::Error> {
    page("message.html", title, context! { message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        let q = Quarter::parse("2026-Q1").unwrap();
        assert_eq!(q.to_string(), "2026-Q1");
        assert_eq!(q.previous().to_string(), "2025-Q4");
        let four: Vec<String> = q.last_four().iter().map(|q| q.to_string()).collect();
        assert_eq!(four, ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]);
        assert!(Quarter::parse("2026-Q5").is_err());
        assert!(Quarter::parse("Q4").is_err());
        assert_eq!(Quarter::of_month(2026, 10).to_string(), "2026-Q4");
    }

    #[test]
    fn time_live_buckets() {
        let at = crate::time::parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
        assert_eq!(time_live_segment(None, at), "unknown");
        assert_eq!(time_live_segment(Some("2026-08-03"), at), "0-3 months");
        assert_eq!(time_live_segment(Some("2026-08-02"), at), "3-6 months");
        assert_eq!(time_live_segment(Some("2026-05-02"), at), "6-12 months");
        assert_eq!(time_live_segment(Some("2025-11-02"), at), "12+ months");
        assert_eq!(time_live_segment(Some("2025-11-03"), at), "6-12 months");
    }

    #[test]
    fn detractors_must_say_what_would_earn_a_higher_rating() {
        let empty = BTreeMap::new();
        let errs = validate_extended(Category::Detractor, &empty).unwrap_err();
        assert_eq!(errs[0].0, "higher_rating");
        assert!(
            validate_extended(Category::Promoter, &empty)
                .unwrap()
                .is_empty()
        );
        let mut form = BTreeMap::new();
        form.insert("liked_most".to_string(), "Not listed".to_string());
        assert!(validate_extended(Category::Promoter, &form).is_err());
    }

    #[test]
    fn pages_escape_and_label() {
        let html = question_page("tok", "<b>Ann</b>", None, "", &BTreeMap::new()).unwrap();
        assert!(html.contains("&lt;b&gt;Ann"));
        assert!(html.contains(r#"<meta name="viewport""#), "{html}");
        assert!(html.contains(r#"<label for="reason">"#));
        let mut errors = BTreeMap::new();
        errors.insert(
            "higher_rating".to_string(),
            "Please answer this question.".to_string(),
        );
        let html = extended_page("tok", Category::Detractor, &BTreeMap::new(), &errors).unwrap();
        assert!(html.contains("Please answer this question."));
        assert!(html.contains(r#"<label for="vp_call">"#));
        let mut values = BTreeMap::new();
        values.insert("meets_needs".to_string(), "4".to_string());
        values.insert("friction".to_string(), "<script>".to_string());
        let mut errors = BTreeMap::new();
        errors.insert(
            "ease_of_use".to_string(),
            "Please answer this question.".to_string(),
        );
        let html = pulse_page("tok", "Ann", &values, &errors).unwrap();
        assert!(html.contains(r#"action="/s/tok""#), "{html}");
        assert!(html.contains(r#"id="meets_needs-4" name="meets_needs" value="4" checked"#));
        assert!(!html.contains(r#"value="3" checked"#));
        assert!(html.contains(r#"<label for="recommend-10">"#));
        assert!(!html.contains(r#"id="ease_of_use-0""#), "1-5 scale");
        assert!(html.contains(r#"<label for="valuable_features">"#));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("Please answer this question."));
        assert!(
            message_page("Expired", "This link has expired.")
                .unwrap()
                .contains("expired")
        );
    }
}
