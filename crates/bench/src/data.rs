//! Deterministic synthetic tickets with a realistic shape for search: a
//! few dozen product areas and symptoms (common words), a long tail of
//! rarer words drawn with a Zipf-like law (names of modules, customers'
//! jargon), order numbers that are nearly unique, tags that follow the
//! area, and creation times that grow with the ticket number, as they do
//! in a real help desk (so `created>DATE` selects the newest ids).

use rand::{Rng, SeedableRng, rngs::StdRng};
use steward_domain::{Priority, Status, TicketType, Via};
use steward_store::groups::{BILLING_ADMIN, ESCALATIONS, IMPLEMENTATION, TECHNICAL_SUPPORT};

pub const DAY: i64 = 86_400;
/// Tickets span the last two years.
pub const SPAN_DAYS: i64 = 730;
const SEED: u64 = 0x5754_4557_4152_4442;

/// (area word, group, tag)
const AREAS: &[(&str, i64, &str)] = &[
    ("dashboard", TECHNICAL_SUPPORT, "platform"),
    ("api", TECHNICAL_SUPPORT, "api"),
    ("export", TECHNICAL_SUPPORT, "platform"),
    ("login", TECHNICAL_SUPPORT, "sso"),
    ("sso", TECHNICAL_SUPPORT, "sso"),
    ("webhook", TECHNICAL_SUPPORT, "integration"),
    ("report", TECHNICAL_SUPPORT, "performance"),
    ("mobile", TECHNICAL_SUPPORT, "mobile"),
    ("integration", TECHNICAL_SUPPORT, "integration"),
    ("search", TECHNICAL_SUPPORT, "platform"),
    ("reconciliation", TECHNICAL_SUPPORT, "performance"),
    ("scheduler", TECHNICAL_SUPPORT, "platform"),
    ("notification", TECHNICAL_SUPPORT, "integration"),
    ("upload", TECHNICAL_SUPPORT, "platform"),
    ("permissions", TECHNICAL_SUPPORT, "security"),
    ("import", IMPLEMENTATION, "migration"),
    ("migration", IMPLEMENTATION, "migration"),
    ("onboarding", IMPLEMENTATION, "onboarding"),
    ("training", IMPLEMENTATION, "training"),
    ("sandbox", IMPLEMENTATION, "uat"),
    ("workflow", IMPLEMENTATION, "go-live"),
    ("invoice", BILLING_ADMIN, "invoice"),
    ("billing", BILLING_ADMIN, "billing"),
    ("subscription", BILLING_ADMIN, "subscription"),
    ("seats", BILLING_ADMIN, "subscription"),
    ("refund", BILLING_ADMIN, "billing"),
    ("ledger", ESCALATIONS, "data-loss"),
    ("outage", ESCALATIONS, "outage"),
    ("security", ESCALATIONS, "security"),
];

const SYMPTOMS: &[&str] = &[
    "fails",
    "timeout",
    "slow",
    "error",
    "crash",
    "missing",
    "duplicate",
    "stuck",
    "delayed",
    "rejected",
    "blank",
    "wrong",
    "broken",
    "locked",
    "expired",
    "mismatch",
    "intermittent",
    "corrupted",
];

const CONTEXTS: &[&str] = &[
    "after the upgrade",
    "since yesterday",
    "for all users",
    "in production",
    "when opening attachments",
    "during monthly close",
    "after nightly sync",
    "for eu customers",
    "for the admin team",
    "with large files",
    "in the batch job",
    "on the new release",
    "for some users",
    "behind the proxy",
];

const FILLER: &[&str] = &[
    "we",
    "noticed",
    "this",
    "today",
    "and",
    "it",
    "affects",
    "our",
    "team",
    "please",
    "advise",
    "the",
    "issue",
    "started",
    "around",
    "morning",
    "again",
    "users",
    "see",
    "an",
    "message",
    "when",
    "they",
    "try",
    "to",
    "open",
    "page",
    "could",
    "you",
    "check",
    "logs",
    "urgent",
    "thanks",
    "help",
    "still",
    "happening",
    "after",
    "restart",
    "cache",
    "browser",
    "chrome",
    "safari",
    "screenshot",
    "attached",
    "time",
    "zone",
    "customer",
    "account",
    "finance",
    "blocking",
    "deadline",
];

/// Tags added to some tickets besides the area's.
const EXTRA_TAGS: &[&str] = &[
    "vip",
    "eu",
    "renewal",
    "churn-risk",
    "beta",
    "exec-visibility",
    "procurement",
    "follow-up",
];

/// Tags the search benchmark asks for.
pub const SEARCH_TAGS: &[&str] = &["vip", "sso", "invoice", "outage", "churn-risk"];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tos", "vel", "dar", "qui", "zen", "bro", "fal", "nik", "por", "sta",
    "gu", "mex",
];

/// Size of the long-tail vocabulary.
pub const RARE_WORDS: usize = 20_000;

/// The rare word of rank `r` (0 is the most frequent): syllables spelling
/// `r + 256` in base 16, so every rank has its own word.
pub fn rare_word(r: usize) -> String {
    let mut v = r + 256;
    let mut parts = Vec::new();
    while v > 0 {
        parts.push(SYLLABLES[v % 16]);
        v /= 16;
    }
    parts.reverse();
    parts.concat()
}

/// A Zipf-like rank in `0..RARE_WORDS`: log-uniform, so rank `r` has
/// probability roughly proportional to `1 / (r + 1)`.
fn zipf_rank(rng: &mut StdRng) -> usize {
    let u: f64 = rng.r#gen();
    let r = ((RARE_WORDS as f64 + 1.0).ln() * u).exp() - 1.0;
    (r as usize).min(RARE_WORDS - 1)
}

/// One ticket to create, referring to people by position in the lists the
/// filler set up.
#[derive(Debug, Clone)]
pub struct Spec {
    pub subject: String,
    pub description: String,
    pub customer: usize,
    pub agent: Option<usize>,
    pub group: i64,
    pub priority: Priority,
    pub status: Status,
    pub ticket_type: TicketType,
    pub tags: Vec<String>,
    pub via: Via,
    pub created_at: i64,
}

/// Ticket number `k` of `total` ending at `now` (same `k`, same ticket).
pub fn ticket(k: usize, total: usize, now: i64, customers: usize, agents: usize) -> Spec {
    let mut rng = StdRng::seed_from_u64(SEED ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Position in time grows with k; more volume recently (age shrinks
    // faster than linearly towards the newest tickets).
    let f = (k as f64 + 0.5) / total.max(1) as f64;
    let age = ((1.0 - f.min(1.0)).powf(1.3) * (SPAN_DAYS * DAY) as f64) as i64;
    let created_at = now - age - rng.gen_range(0..600);

    let (area, group, area_tag) = AREAS[rng.gen_range(0..AREAS.len())];
    let symptom = SYMPTOMS[rng.gen_range(0..SYMPTOMS.len())];
    let context = CONTEXTS[rng.gen_range(0..CONTEXTS.len())];
    let mut chars = area.chars();
    let area_cap = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    let subject = format!("{area_cap} {symptom} {context}");

    let mut words: Vec<String> = Vec::with_capacity(40);
    for _ in 0..rng.gen_range(14..30) {
        words.push(FILLER[rng.gen_range(0..FILLER.len())].to_string());
    }
    for _ in 0..3 {
        let at = rng.gen_range(0..=words.len());
        words.insert(at, rare_word(zipf_rank(&mut rng)));
    }
    let order = rng.gen_range(100_000..1_000_000);
    let description = format!(
        "{subject}.\n\n{}. Reference order {order}, module {}.",
        words.join(" "),
        rare_word(zipf_rank(&mut rng))
    );

    let priority = match (group, rng.gen_range(0..100)) {
        (ESCALATIONS, 0..40) => Priority::Urgent,
        (ESCALATIONS, _) => Priority::High,
        (_, 0..4) => Priority::Urgent,
        (_, 4..24) => Priority::High,
        (_, 24..74) => Priority::Normal,
        _ => Priority::Low,
    };
    // Old tickets are done; the last month is still in flight.
    let days = age / DAY;
    let status = match (days, rng.gen_range(0..100)) {
        (d, r) if d > 30 && r < 92 => Status::Solved,
        (d, r) if d > 30 && r < 95 => Status::Pending,
        (d, r) if d > 30 && r < 97 => Status::Hold,
        (d, _) if d > 30 => Status::Open,
        (_, 0..15) => Status::New,
        (_, 15..50) => Status::Open,
        (_, 50..65) => Status::Pending,
        (_, 65..70) => Status::Hold,
        _ => Status::Solved,
    };
    let agent = (status != Status::New && agents > 0).then(|| rng.gen_range(0..agents));
    let ticket_type = match rng.gen_range(0..10) {
        0..5 => TicketType::Question,
        5..8 => TicketType::Incident,
        _ => TicketType::Task,
    };
    let mut tags = vec![area_tag.to_string()];
    if rng.gen_range(0..100) < 30 {
        tags.push(EXTRA_TAGS[rng.gen_range(0..EXTRA_TAGS.len())].to_string());
    }
    let via = match rng.gen_range(0..10) {
        0..5 => Via::Email,
        5..8 => Via::Web,
        _ => Via::Api,
    };
    Spec {
        subject,
        description,
        customer: rng.gen_range(0..customers.max(1)),
        agent,
        group,
        priority,
        status,
        ticket_type,
        tags,
        via,
        created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_deterministic_and_ordered_in_time() {
        let a = ticket(10, 1000, 1_800_000_000, 5, 3);
        let b = ticket(10, 1000, 1_800_000_000, 5, 3);
        assert_eq!(a.description, b.description);
        let late = ticket(990, 1000, 1_800_000_000, 5, 3);
        assert!(late.created_at > a.created_at);
        assert_ne!(rare_word(0), rare_word(1));
        assert_eq!(rare_word(5), "lokavel");
    }
}
