//! Customer-hub vocabulary (policies.md §13): communication log entries and
//! the roles a customer's people play on their account.

use crate::string_enum;

string_enum! {
    /// The kind of a logged communication (§13's communication log).
    CommunicationKind, "communication type" {
        Email => "email",
        Call => "call",
        Meeting => "meeting",
        Message => "message",
        Training => "training",
        Escalation => "escalation",
    }
}

string_enum! {
    Sentiment, "sentiment" {
        Positive => "positive",
        Neutral => "neutral",
        Negative => "negative",
    }
}

string_enum! {
    /// Roles a customer's contact holds on the account (issue 4: executive
    /// sponsor, technical lead, data owner, finance/procurement, project
    /// lead). A person may hold several.
    ContactRole, "contact role" {
        ExecutiveSponsor => "executive_sponsor",
        TechnicalLead => "technical_lead",
        DataOwner => "data_owner",
        FinanceProcurement => "finance_procurement",
        ProjectLead => "project_lead",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_parse_their_spellings() {
        for k in CommunicationKind::ALL {
            assert_eq!(CommunicationKind::parse(k.as_str()).unwrap(), *k);
        }
        assert!(Sentiment::parse("ecstatic").is_err());
        assert_eq!(
            ContactRole::parse("Finance_Procurement").unwrap(),
            ContactRole::FinanceProcurement
        );
    }
}
