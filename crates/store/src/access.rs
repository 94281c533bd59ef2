//! Who may see and change what (policies.md §8), as data the queries use.
//!
//! Staff permissions are stated over the four root groups and extend to
//! their subgroups:
//!
//! | role | reads | writes |
//! |---|---|---|
//! | admin | everything | everything |
//! | viewer | everything | nothing |
//! | csm | Implementation, Technical Support | Implementation |
//! | agent | Technical Support, Escalations, ungrouped (triage) | the same |
//! | contractor | Technical Support | Technical Support |
//!
//! A ticket without a group is treated as part of the support triage queue.
//! End users see the tickets they requested, plus their organization's when
//! the organization shares tickets; they never see another organization's.

use steward_domain::Role;

use crate::{
    groups::{ESCALATIONS, IMPLEMENTATION, TECHNICAL_SUPPORT},
    sql::Args,
    users::User,
};

/// The authenticated user a store call acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// Whether the user's organization shares tickets among its people.
    pub org_shares_tickets: bool,
}

/// Root groups a role may touch, and whether ungrouped tickets count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Nothing,
    Roots {
        roots: &'static [i64],
        ungrouped: bool,
    },
}

impl Scope {
    pub fn allows(self, root: Option<i64>) -> bool {
        match (self, root) {
            (Scope::All, _) => true,
            (Scope::Nothing, _) => false,
            (Scope::Roots { ungrouped, .. }, None) => ungrouped,
            (Scope::Roots { roots, .. }, Some(r)) => roots.contains(&r),
        }
    }
}

impl Actor {
    /// Steward itself, acting as an administrator for background work
    /// (the worker's dashboard warm-up); it is no stored user (id 0).
    pub fn system(now: i64) -> Actor {
        Actor {
            user: User {
                id: 0,
                name: "Steward".into(),
                email: None,
                role: Role::Admin,
                organization_id: None,
                phone: None,
                external_id: None,
                details: None,
                notes: None,
                tags: Vec::new(),
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                active: true,
                suspended: false,
                verified: true,
                last_login_at: None,
                created_at: now,
                updated_at: now,
            },
            org_shares_tickets: false,
        }
    }

    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn read_scope(&self) -> Scope {
        match self.user.role {
            Role::Admin | Role::Viewer => Scope::All,
            Role::Csm => Scope::Roots {
                roots: &[IMPLEMENTATION, TECHNICAL_SUPPORT],
                ungrouped: false,
            },
            Role::Agent => Scope::Roots {
                roots: &[TECHNICAL_SUPPORT, ESCALATIONS],
                ungrouped: true,
            },
            Role::Contractor => Scope::Roots {
                roots: &[TECHNICAL_SUPPORT],
                ungrouped: false,
            },
            Role::EndUser => Scope::Nothing,
        }
    }

    pub fn write_scope(&self) -> Scope {
        match self.user.role {
            Role::Admin => Scope::All,
            Role::Viewer | Role::EndUser => Scope::Nothing,
            Role::Csm => Scope::Roots {
                roots: &[IMPLEMENTATION],
                ungrouped: false,
            },
            // Agents and contractors write where they read.
            Role::Agent | Role::Contractor => self.read_scope(),
        }
    }

    /// SQL condition (over alias `t`) selecting the tickets this actor may read.
    pub(crate) fn ticket_condition(&self, args: &mut Args) -> String {
        if self.user.role == Role::EndUser {
            let me = args.int(self.user.id);
            return match (self.org_shares_tickets, self.user.organization_id) {
                (true, Some(org)) => format!(
                    "(t.requester_id = {me} OR t.organization_id = {})",
                    args.int(org)
                ),
                _ => format!("t.requester_id = {me}"),
            };
        }
        match self.read_scope() {
            Scope::All => "1 = 1".into(),
            Scope::Nothing => "1 = 0".into(),
            Scope::Roots { roots, ungrouped } => {
                let list = args.ints(roots);
                let null = if ungrouped {
                    " OR t.group_id IS NULL"
                } else {
                    ""
                };
                format!(
                    "(t.group_id IN (SELECT id FROM groups WHERE id IN ({list}) OR parent_id IN ({list})){null})"
                )
            }
        }
    }

    /// Whether this end user may read a ticket with these parties.
    pub fn end_user_sees(&self, requester_id: i64, organization_id: Option<i64>) -> bool {
        requester_id == self.user.id
            || (self.org_shares_tickets
                && organization_id.is_some()
                && organization_id == self.user.organization_id)
    }
}
