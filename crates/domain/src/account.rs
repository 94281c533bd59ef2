//! Customer accounts (policies.md §1): the enumerations of an organization's
//! profile, money as integer cents, and the support tier derived from ACV.

use crate::{ParseError, string_enum};

/// US dollars as integer cents; never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

impl Money {
    pub fn from_dollars(d: i64) -> Self {
        Money(d * 100)
    }
    pub fn cents(self) -> i64 {
        self.0
    }
    /// Monthly fee for SLA credits: ACV / 12, rounded down to the cent.
    pub fn monthly_fee(self) -> Money {
        Money(self.0 / 12)
    }
}

string_enum! {
    /// Support tier (policies.md §1).
    Tier, "tier" {
        Enterprise => "enterprise",
        MidMarket => "mid_market",
        Starter => "starter",
    }
}

impl Tier {
    /// Enterprise above $100,000 ACV; Mid-Market from $25,000 to $100,000
    /// inclusive; Starter below $25,000.
    pub fn from_acv(acv: Money) -> Tier {
        if acv > Money::from_dollars(100_000) {
            Tier::Enterprise
        } else if acv >= Money::from_dollars(25_000) {
            Tier::MidMarket
        } else {
            Tier::Starter
        }
    }

    /// The tier in force: an admin's pin wins over the ACV rule.
    pub fn effective(acv: Option<Money>, pinned: Option<Tier>) -> Tier {
        pinned.unwrap_or_else(|| Tier::from_acv(acv.unwrap_or_default()))
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Enterprise => "Enterprise",
            Tier::MidMarket => "Mid-Market",
            Tier::Starter => "Starter",
        }
    }

    /// Accepts `mid_market`, `mid-market` and `Mid-Market` alike.
    pub fn parse_loose(s: &str) -> Result<Tier, ParseError> {
        Tier::parse(&s.replace('-', "_"))
    }
}

string_enum! {
    Industry, "industry" {
        Fintech => "fintech",
        Healthcare => "healthcare",
        Logistics => "logistics",
        Manufacturing => "manufacturing",
        Other => "other",
    }
}

string_enum! {
    CompanySize, "company size" {
        Under50 => "<50",
        From50To200 => "50-200",
        From200To1K => "200-1k",
        Over1K => "1k+",
    }
}

string_enum! {
    Region, "region" {
        Na => "na",
        Eu => "eu",
        Apac => "apac",
    }
}

string_enum! {
    AccountStatus, "account status" {
        Prospect => "prospect",
        Onboarding => "onboarding",
        Active => "active",
        AtRisk => "at-risk",
        Churned => "churned",
    }
}

/// `1234567` → `1,234,567`: the way money is written in reports.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_boundaries_follow_policy() {
        let t = |d| Tier::from_acv(Money::from_dollars(d));
        assert_eq!(t(0), Tier::Starter);
        assert_eq!(t(24_999), Tier::Starter);
        assert_eq!(Tier::from_acv(Money(2_499_999)), Tier::Starter);
        assert_eq!(t(25_000), Tier::MidMarket);
        assert_eq!(t(100_000), Tier::MidMarket);
        assert_eq!(Tier::from_acv(Money(10_000_001)), Tier::Enterprise);
        assert_eq!(
            Tier::effective(Some(Money::from_dollars(1)), Some(Tier::Enterprise)),
            Tier::Enterprise
        );
        assert_eq!(Tier::effective(None, None), Tier::Starter);
    }

    #[test]
    fn monthly_fee_is_a_twelfth() {
        assert_eq!(
            Money::from_dollars(120_000).monthly_fee(),
            Money::from_dollars(10_000)
        );
    }

    #[test]
    fn enums_parse_their_own_spelling() {
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()).unwrap(), *t);
        }
        assert_eq!(Tier::parse_loose("Mid-Market").unwrap(), Tier::MidMarket);
        assert_eq!(CompanySize::parse("1K+").unwrap(), CompanySize::Over1K);
        assert_eq!(
            AccountStatus::parse("at-risk").unwrap(),
            AccountStatus::AtRisk
        );
    }
}
