//! `steward report sla` as text: the SLA report of policies.md §5 (the
//! JSON form is the API's `sla_report`, printed as is).

use std::fmt::Write;

use steward_domain::{
    credits::CreditRule,
    sla_report::{AccountReport, Achievement, Outcome, SlaReport},
};

/// `$1,234.56`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let grouped = steward_domain::account::group_thousands(c / 100);
    format!("{sign}${grouped}.{:02}", c % 100)
}

/// `99.50 %` from basis points.
pub fn percent(bp: i64) -> String {
    format!("{}.{:02} %", bp / 100, bp % 100)
}

fn achievement_line(a: &Achievement) -> String {
    let value = a.achievement_bp.map_or("n/a".to_string(), percent);
    match (a.target_bp, a.meets_target) {
        (Some(t), Some(true)) => format!("{value} (target {}, met)", percent(t)),
        (Some(t), _) => format!("{value} (target {}, BELOW TARGET)", percent(t)),
        _ => value,
    }
}

fn counts(a: &Achievement) -> String {
    format!(
        "{} metrics: {} met, {} missed, {} excluded, {} waived, {} open",
        a.metrics, a.met, a.missed, a.excluded, a.waived, a.open
    )
}

fn rule(r: CreditRule) -> &'static str {
    match r {
        CreditRule::None => "no misses",
        CreditRule::PerMiss => "per miss",
        CreditRule::RepeatFloor => "2+ misses: max(floor, sum)",
        CreditRule::FirstMissOnly => "first miss only",
    }
}

fn account(out: &mut String, a: &AccountReport) {
    let _ = writeln!(
        out,
        "\n{} (organization {}) - {}, {} {} to {}",
        a.name,
        a.organization_id,
        a.tier.label(),
        match a.period.kind {
            steward_domain::sla_report::PeriodKind::Month => "month",
            steward_domain::sla_report::PeriodKind::QuarterToDate => "quarter to date",
        },
        a.period.start,
        a.period.end
    );
    let _ = writeln!(out, "  monthly fee   {}", dollars(a.monthly_fee_cents));
    let _ = writeln!(out, "  achievement   {}", achievement_line(&a.achievement));
    let _ = writeln!(out, "  {}", counts(&a.achievement));
    for (title, outcome) in [
        ("misses", Outcome::Missed),
        ("waived (force majeure)", Outcome::Waived),
    ] {
        let lines: Vec<_> = a.metrics.iter().filter(|l| l.outcome == outcome).collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {title}:");
        for l in lines {
            let _ = write!(
                out,
                "    ticket {} {} #{} ({}) breached {}",
                l.ticket_id,
                l.metric.as_str(),
                l.instance,
                l.priority.code(),
                l.breached_at.as_deref().unwrap_or("-"),
            );
            if let Some(k) = l.miss_kind {
                let _ = write!(out, " - {} miss", k.as_str());
            }
            if let Some(w) = l.force_majeure_id {
                let _ = write!(out, " - force-majeure event {w}");
            }
            out.push('\n');
        }
    }
    if !a.exclusions.is_empty() {
        let _ = writeln!(out, "  exclusions:");
        for e in &a.exclusions {
            let _ = writeln!(
                out,
                "    ticket {}: {} ({})",
                e.ticket_id,
                e.reason.as_str(),
                e.label
            );
        }
    }
    let _ = writeln!(out, "  credits:");
    for c in &a.credits {
        let cr = &c.credit;
        let _ = writeln!(
            out,
            "    {}: {} credited miss(es) of {}, {} ({}{}) = {}",
            c.month,
            cr.credited_misses,
            cr.misses,
            percent(cr.percent_bp),
            rule(cr.rule),
            if cr.capped { ", capped at 100 %" } else { "" },
            dollars(cr.amount_cents)
        );
    }
    let _ = writeln!(
        out,
        "  quarter {}: {} miss(es){}",
        a.quarter.quarter,
        a.quarter.misses,
        a.quarter
            .action
            .map(|x| format!(" - {}", x.label()))
            .unwrap_or_default()
    );
}

/// The report as plain text, for a terminal or an e-mail.
pub fn sla_text(r: &SlaReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SLA report {} ({}), as of {}",
        r.month, r.quarter, r.as_of
    );
    let _ = writeln!(out, "\nPortfolio");
    for t in &r.portfolio.tiers {
        let _ = writeln!(
            out,
            "  {:<11} {} account(s), {}; achievement {}; {} below target; {} with quarter action; credits {} (this month {})",
            t.tier.label(),
            t.accounts,
            counts(&t.achievement),
            achievement_line(&t.achievement),
            t.accounts_below_target,
            t.accounts_with_quarter_action,
            dollars(t.credit_cents),
            dollars(t.month_credit_cents),
        );
    }
    let _ = writeln!(
        out,
        "  Total       {}; credits {} (this month {})",
        counts(&r.portfolio.totals),
        dollars(r.portfolio.credit_cents),
        dollars(r.portfolio.month_credit_cents),
    );
    if !r.force_majeure.is_empty() {
        let _ = writeln!(out, "\nForce-majeure events");
        for w in &r.force_majeure {
            let _ = writeln!(
                out,
                "  {} {} to {}: {} ({}), {} metric(s) waived",
                w.id,
                w.starts_at,
                w.ends_at,
                w.description,
                w.kind.label(),
                w.waived
            );
        }
    }
    for a in &r.accounts {
        account(&mut out, a);
    }
    if r.accounts.is_empty() {
        let _ = writeln!(
            out,
            "\nNo customer account had an SLA metric in the period."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_percentages_read_naturally() {
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(150_000), "$1,500.00");
        assert_eq!(dollars(123_456_789), "$1,234,567.89");
        assert_eq!(dollars(-5), "-$0.05");
        assert_eq!(percent(9_950), "99.50 %");
        assert_eq!(percent(1_500), "15.00 %");
    }
}
