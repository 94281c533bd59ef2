//! The accounts list of the web app (issue 6): one page of accounts with
//! what a CS team scans for — tier, ACV, renewal, health level, CSM and
//! open tickets — in a bounded number of queries per page (the page, its
//! count, then one grouped query each for tickets and CSMs over the page's
//! ids), and an account's recent NPS answers.

use sqlx::Row;
use steward_domain::{Money, Tier, health::Level};

use crate::{
    Store,
    access::Actor,
    db::opt_str,
    error::Result,
    hub::may_read,
    sql::{Args, and_all},
};

/// Filters of the accounts list.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Part of the name, any case.
    pub name: Option<String>,
    pub tier: Option<Tier>,
    pub level: Option<Level>,
    pub page: i64,
    pub per_page: i64,
}

/// One row of the accounts list.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub acv_cents: Option<i64>,
    pub tier: Tier,
    pub renewal_date: Option<String>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub risk: Option<i64>,
    pub csm: Option<String>,
    pub open_tickets: i64,
}

/// One NPS answer of an account's contact.
#[derive(Debug, Clone, PartialEq)]
pub struct NpsAnswer {
    pub user_id: i64,
    pub score: i64,
    pub category: String,
    pub reason: String,
    pub answered_at: i64,
}

/// The tier rule of policies.md §1 as SQL over alias `o`.
fn tier_condition(tier: Tier, args: &mut Args) -> String {
    let pinned = args.text(tier.as_str());
    let acv = "COALESCE(o.acv_cents, 0)";
    let mid_low = Money::from_dollars(25_000).cents();
    let mid_high = Money::from_dollars(100_000).cents();
    let rule = match tier {
        Tier::Enterprise => format!("{acv} > {}", args.int(mid_high)),
        Tier::MidMarket => format!(
            "{acv} >= {} AND {acv} <= {}",
            args.int(mid_low),
            args.int(mid_high)
        ),
        Tier::Starter => format!("{acv} < {}", args.int(mid_low)),
    };
    format!("(o.tier_pinned = {pinned} OR (o.tier_pinned IS NULL AND {rule}))")
}

impl Store {
    /// A page of accounts by name, with the total count.
    pub async fn account_rows(
        &self,
        actor: &Actor,
        q: &AccountQuery,
    ) -> Result<(Vec<AccountRow>, i64)> {
        may_read(actor)?;
        let per_page = q.per_page.clamp(1, 100);
        let offset = (q.page.max(1) - 1) * per_page;
        let mut args = Args::default();
        let mut conds = Vec::new();
        if let Some(n) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            let n = n.to_lowercase().replace(['%', '_'], "");
            conds.push(format!("o.name_key LIKE {}", args.text(format!("%{n}%"))));
        }
        if let Some(t) = q.tier {
            conds.push(tier_condition(t, &mut args));
        }
        if let Some(l) = q.level {
            conds.push(format!("h.level = {}", args.text(l.as_str())));
        }
        let cond = and_all(&conds);
        let from = "organizations o LEFT JOIN health_current h ON h.organization_id = o.id";
        let mut conn = self.reader().await?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM {from} WHERE {cond}");
        let count: i64 = args
            .bind(sqlx::query(&count_sql))
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        let sql = format!(
            "SELECT o.id, o.name, o.acv_cents, o.tier_pinned, o.renewal_date, o.account_status, h.level, h.risk
             FROM {from} WHERE {cond} ORDER BY o.name_key, o.id LIMIT {per_page} OFFSET {offset}"
        );
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let acv: Option<i64> = r.try_get("acv_cents")?;
            let pinned = opt_str(r, "tier_pinned")?
                .map(|t| Tier::parse(&t))
                .transpose()?;
            out.push(AccountRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                acv_cents: acv,
                tier: Tier::effective(acv.map(Money), pinned),
                renewal_date: opt_str(r, "renewal_date")?,
                status: opt_str(r, "account_status")?,
                level: opt_str(r, "level")?,
                risk: r.try_get("risk")?,
                csm: None,
                open_tickets: 0,
            });
        }
        if out.is_empty() {
            return Ok((out, count));
        }
        let ids: Vec<i64> = out.iter().map(|a| a.id).collect();
        // Open tickets the viewer may read, per account of the page: a range
        // of migration 21's partial index each.
        let mut targs = Args::default();
        let sql = format!(
            "SELECT t.organization_id, COUNT(*) AS n FROM {}
             WHERE t.organization_id IN ({}) AND t.deleted = 0 AND t.status IN ('new', 'open', 'pending', 'hold')
             AND {} GROUP BY t.organization_id",
            self.indexed("tickets t", "tickets_open_organization"),
            targs.ints(&ids),
            actor.ticket_condition(&mut targs)
        );
        for r in targs.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let org: i64 = r.try_get("organization_id")?;
            let n: i64 = r.try_get("n")?;
            if let Some(a) = out.iter_mut().find(|a| a.id == org) {
                a.open_tickets = n;
            }
        }
        // The CSM: the owner of the account's latest project (as health.rs).
        let mut pargs = Args::default();
        let sql = format!(
            "SELECT p.organization_id, u.name FROM projects p JOIN users u ON u.id = p.owner_id
             WHERE p.id IN (SELECT MAX(id) FROM projects WHERE organization_id IN ({}) AND owner_id IS NOT NULL
                            GROUP BY organization_id)",
            pargs.ints(&ids)
        );
        for r in pargs.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let org: i64 = r.try_get("organization_id")?;
            let name: String = r.try_get("name")?;
            if let Some(a) = out.iter_mut().find(|a| a.id == org) {
                a.csm = Some(name);
            }
        }
        Ok((out, count))
    }

    /// The account's CSM by name: the owner of its latest project.
    pub async fn account_csm_name(&self, actor: &Actor, org: i64) -> Result<Option<String>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let row = sqlx::query(
            "SELECT u.name FROM projects p JOIN users u ON u.id = p.owner_id
             WHERE p.organization_id = $1 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    /// The account's latest NPS answers, newest first (at most `limit`).
    pub async fn account_nps_answers(
        &self,
        actor: &Actor,
        org: i64,
        limit: i64,
    ) -> Result<Vec<NpsAnswer>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT user_id, score, category, reason, answered_at FROM nps_responses
             WHERE organization_id = $1 ORDER BY answered_at DESC, id DESC LIMIT $2",
        )
        .bind(org)
        .bind(limit.clamp(1, 100))
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NpsAnswer {
                    user_id: r.try_get("user_id")?,
                    score: r.try_get("score")?,
                    category: r.try_get("category")?,
                    reason: r.try_get("reason")?,
                    answered_at: r.try_get("answered_at")?,
                })
            })
            .collect()
    }
}
