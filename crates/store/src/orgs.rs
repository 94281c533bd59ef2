//! Organizations: the customer accounts of policies.md §1. The tier is not
//! stored: it is derived from ACV on every read unless an admin pinned it.

use sqlx::{Row, any::AnyRow};
use steward_domain::{
    AccountStatus, CompanySize, Industry, Money, Region, Tier, ticket::normalize_tags,
};

use crate::{
    Store,
    db::{Dialect, Tx, flag, opt_str},
    error::{Result, StoreError},
    page::{self, Page, PageRequest, Sort},
    sql::{Args, and_all},
    users::split_tags,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub external_id: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub domain_names: Vec<String>,
    pub tags: Vec<String>,
    pub group_id: Option<i64>,
    pub shared_tickets: bool,
    pub shared_comments: bool,
    pub account: Account,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The customer-success profile of an account (policies.md §1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    pub industry: Option<Industry>,
    pub company_size: Option<CompanySize>,
    pub region: Option<Region>,
    pub acv: Option<Money>,
    pub monthly_spend: Option<Money>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
    pub renewal_date: Option<String>,
    pub status: Option<AccountStatus>,
    pub tier_pinned: Option<Tier>,
    pub executive_sponsor: Option<String>,
    pub technical_lead: Option<String>,
    pub finance_lead: Option<String>,
    pub primary_use_case: Option<String>,
    pub expansion_potential: Option<Money>,
    pub last_health_check: Option<String>,
    pub next_business_review: Option<String>,
}

impl Account {
    pub fn tier(&self) -> Tier {
        Tier::effective(self.acv, self.tier_pinned)
    }
}

impl Organization {
    pub fn tier(&self) -> Tier {
        self.account.tier()
    }
}

const ORG_COLUMNS: &str = "o.id, o.name, o.external_id, o.details, o.notes, o.domain_names, o.tags, \
    o.group_id, o.shared_tickets, o.shared_comments, o.industry, o.company_size, o.region, o.acv_cents, \
    o.monthly_spend_cents, o.contract_start, o.contract_end, o.renewal_date, o.account_status, \
    o.tier_pinned, o.executive_sponsor, o.technical_lead, o.finance_lead, o.primary_use_case, \
    o.expansion_potential_cents, o.last_health_check, o.next_business_review, o.created_at, o.updated_at";

fn parse_opt<T>(
    s: Option<String>,
    f: fn(&str) -> Result<T, steward_domain::ParseError>,
) -> Result<Option<T>> {
    Ok(s.map(|v| f(&v)).transpose()?)
}

fn org_from_row(r: &AnyRow) -> Result<Organization> {
    let money =
        |c: &str| -> Result<Option<Money>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(Money)) };
    Ok(Organization {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        external_id: opt_str(r, "external_id")?,
        details: opt_str(r, "details")?,
        notes: opt_str(r, "notes")?,
        domain_names: serde_json::from_str(&r.try_get::<String, _>("domain_names")?)?,
        tags: split_tags(&r.try_get::<String, _>("tags")?),
        group_id: r.try_get("group_id")?,
        shared_tickets: flag(r, "shared_tickets")?,
        shared_comments: flag(r, "shared_comments")?,
        account: Account {
            industry: parse_opt(opt_str(r, "industry")?, Industry::parse)?,
            company_size: parse_opt(opt_str(r, "company_size")?, CompanySize::parse)?,
            region: parse_opt(opt_str(r, "region")?, Region::parse)?,
            acv: money("acv_cents")?,
            monthly_spend: money("monthly_spend_cents")?,
            contract_start: opt_str(r, "contract_start")?,
            contract_end: opt_str(r, "contract_end")?,
            renewal_date: opt_str(r, "renewal_date")?,
            status: parse_opt(opt_str(r, "account_status")?, AccountStatus::parse)?,
            tier_pinned: parse_opt(opt_str(r, "tier_pinned")?, Tier::parse)?,
            executive_sponsor: opt_str(r, "executive_sponsor")?,
            technical_lead: opt_str(r, "technical_lead")?,
            finance_lead: opt_str(r, "finance_lead")?,
            primary_use_case: opt_str(r, "primary_use_case")?,
            expansion_potential: money("expansion_potential_cents")?,
            last_health_check: opt_str(r, "last_health_check")?,
            next_business_review: opt_str(r, "next_business_review")?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Organization fields to set. Outer `None` = leave as is; for nullable
/// fields `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub details: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub domain_names: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub group_id: Option<Option<i64>>,
    pub shared_tickets: Option<bool>,
    pub shared_comments: Option<bool>,
    pub industry: Option<Option<Industry>>,
    pub company_size: Option<Option<CompanySize>>,
    pub region: Option<Option<Region>>,
    pub acv: Option<Option<Money>>,
    pub monthly_spend: Option<Option<Money>>,
    pub contract_start: Option<Option<String>>,
    pub contract_end: Option<Option<String>>,
    pub renewal_date: Option<Option<String>>,
    pub status: Option<AccountStatus>,
    pub tier_pinned: Option<Option<Tier>>,
    pub executive_sponsor: Option<Option<String>>,
    pub technical_lead: Option<Option<String>>,
    pub finance_lead: Option<Option<String>>,
    pub primary_use_case: Option<Option<String>>,
    pub expansion_potential: Option<Option<Money>>,
    pub last_health_check: Option<Option<String>>,
    pub next_business_review: Option<Option<String>>,
}

impl OrgInput {
    fn apply(self, o: &mut Organization) -> Result<()> {
        if let Some(n) = self.name {
            let n = n.trim().to_string();
            if n.is_empty() {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            o.name = n;
        }
        macro_rules! set {
            ($target:expr; $($f:ident),*) => { $( if let Some(v) = self.$f { $target.$f = v; } )* };
        }
        set!(o; external_id, details, notes, domain_names, group_id, shared_tickets, shared_comments);
        set!(o.account; industry, company_size, region, acv, monthly_spend, contract_start, contract_end,
            renewal_date, tier_pinned, executive_sponsor, technical_lead, finance_lead, primary_use_case,
            expansion_potential, last_health_check, next_business_review);
        if let Some(s) = self.status {
            o.account.status = Some(s);
        }
        if let Some(t) = self.tags {
            o.tags = normalize_tags(t);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub ids: Option<Vec<i64>>,
    /// End users see only their own organization.
    pub only_id: Option<i64>,
}

impl Store {
    pub async fn create_org(&self, input: OrgInput, now: i64) -> Result<Organization> {
        let mut tx = self.begin().await?;
        let org = self.create_org_tx(&mut tx, input, now).await?;
        self.commit(tx).await?;
        Ok(org)
    }

    pub(crate) async fn create_org_tx(
        &self,
        tx: &mut Tx,
        input: OrgInput,
        now: i64,
    ) -> Result<Organization> {
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| StoreError::invalid("name", "is required"))?
            .to_string();
        // Insert the unique key first so that a duplicate name fails here;
        // `save_org` then writes every other field.
        let row = sqlx::query(
            "INSERT INTO organizations (name, name_key, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(&name)
        .bind(name.to_lowercase())
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| duplicate_name(e.into()))?;
        let id: i64 = row.try_get("id")?;
        let mut org = self.org_tx(tx, id).await?;
        org.account.status = Some(AccountStatus::Active);
        self.save_org(tx, org, input, now).await
    }

    pub async fn update_org(&self, id: i64, input: OrgInput, now: i64) -> Result<Organization> {
        let mut tx = self.begin().await?;
        let org = self.org_tx(&mut tx, id).await?;
        let org = self.save_org(&mut tx, org, input, now).await?;
        self.commit(tx).await?;
        Ok(org)
    }

    async fn save_org(
        &self,
        tx: &mut Tx,
        mut o: Organization,
        input: OrgInput,
        now: i64,
    ) -> Result<Organization> {
        input.apply(&mut o)?;
        for d in [
            &o.account.contract_start,
            &o.account.contract_end,
            &o.account.renewal_date,
            &o.account.last_health_check,
            &o.account.next_business_review,
        ]
        .into_iter()
        .flatten()
        {
            steward_domain::time::parse_date(d).map_err(|e| StoreError::invalid("date", e.0))?;
        }
        if let Some(g) = o.group_id {
            self.ensure_group_exists(tx, g).await?;
        }
        let a = &o.account;
        sqlx::query(
            "UPDATE organizations SET name = $1, name_key = $2, external_id = $3, details = $4, notes = $5,
                domain_names = $6, tags = $7, group_id = $8, shared_tickets = $9, shared_comments = $10,
                industry = $11, company_size = $12, region = $13, acv_cents = $14, monthly_spend_cents = $15,
                contract_start = $16, contract_end = $17, renewal_date = $18, account_status = $19,
                tier_pinned = $20, executive_sponsor = $21, technical_lead = $22, finance_lead = $23,
                primary_use_case = $24, expansion_potential_cents = $25, last_health_check = $26,
                next_business_review = $27, updated_at = $28
             WHERE id = $29",
        )
        .bind(&o.name)
        .bind(o.name.to_lowercase())
        .bind(&o.external_id)
        .bind(&o.details)
        .bind(&o.notes)
        .bind(serde_json::to_string(&o.domain_names)?)
        .bind(o.tags.join(" "))
        .bind(o.group_id)
        .bind(i64::from(o.shared_tickets))
        .bind(i64::from(o.shared_comments))
        .bind(a.industry.map(|v| v.as_str()))
        .bind(a.company_size.map(|v| v.as_str()))
        .bind(a.region.map(|v| v.as_str()))
        .bind(a.acv.map(Money::cents))
        .bind(a.monthly_spend.map(Money::cents))
        .bind(&a.contract_start)
        .bind(&a.contract_end)
        .bind(&a.renewal_date)
        .bind(a.status.unwrap_or(AccountStatus::Active).as_str())
        .bind(a.tier_pinned.map(|v| v.as_str()))
        .bind(&a.executive_sponsor)
        .bind(&a.technical_lead)
        .bind(&a.finance_lead)
        .bind(&a.primary_use_case)
        .bind(a.expansion_potential.map(Money::cents))
        .bind(&a.last_health_check)
        .bind(&a.next_business_review)
        .bind(now)
        .bind(o.id)
        .execute(&mut **tx)
        .await
        .map_err(|e| duplicate_name(e.into()))?;
        if self.dialect == Dialect::Sqlite {
            sqlx::query("DELETE FROM organizations_fts WHERE rowid = $1")
                .bind(o.id)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO organizations_fts (rowid, name, details, notes)
                 SELECT id, name, coalesce(details, ''), coalesce(notes, '') FROM organizations WHERE id = $1",
            )
            .bind(o.id)
            .execute(&mut **tx)
            .await?;
        }
        self.org_tx(tx, o.id).await
    }

    pub async fn org(&self, id: i64) -> Result<Organization> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| org_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("organization"))
    }

    pub(crate) async fn org_tx(&self, tx: &mut Tx, id: i64) -> Result<Organization> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.map(|r| org_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("organization"))
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<Organization>> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.name_key = $1");
        let row = sqlx::query(&sql)
            .bind(name.trim().to_lowercase())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| org_from_row(&r)).transpose()
    }

    pub(crate) async fn ensure_org_exists(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let found = sqlx::query("SELECT id FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        found.map(|_| ()).ok_or_else(|| {
            StoreError::invalid(
                "organization_id",
                format!("organization {id} does not exist"),
            )
        })
    }

    pub async fn orgs_by_ids(&self, ids: &[i64]) -> Result<Vec<Organization>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = Args::default();
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id IN ({}) ORDER BY o.id",
            args.ints(ids)
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter().map(org_from_row).collect()
    }

    pub async fn list_orgs(
        &self,
        filter: &OrgFilter,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<Organization>> {
        let mut args = Args::default();
        let mut conds = Vec::new();
        if let Some(id) = filter.only_id {
            conds.push(format!("o.id = {}", args.int(id)));
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                return Ok(Page {
                    items: vec![],
                    count: Some(0),
                    has_more: false,
                    has_prev: false,
                });
            }
            conds.push(format!("o.id IN ({})", args.ints(ids)));
        }
        let cond = and_all(&conds);
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: ORG_COLUMNS,
            from: "organizations o",
            cond: &cond,
            args: &args,
            alias: "o.",
        };
        let out = page::fetch_counted(&mut conn, &listing, sort, page).await?;
        let items = out
            .items
            .iter()
            .map(org_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    /// Whether any organization or ticket exists (the demo loads only into
    /// an empty database).
    pub async fn has_customer_data(&self) -> Result<bool> {
        let mut conn = self.reader().await?;
        let row =
            sqlx::query("SELECT 1 AS x FROM organizations UNION ALL SELECT 1 FROM tickets LIMIT 1")
                .fetch_optional(&mut *conn)
                .await?;
        Ok(row.is_some())
    }

    /// Deletes an organization that no ticket or user refers to; Zendesk
    /// would orphan them, Steward refuses so that no history is lost.
    pub async fn delete_org(&self, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        self.org_tx(&mut tx, id).await?;
        let used = sqlx::query(
            "SELECT 1 AS x FROM tickets WHERE organization_id = $1 UNION ALL SELECT 1 FROM users WHERE organization_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if used.is_some() {
            return Err(StoreError::invalid(
                "organization",
                "has users or tickets; move them first",
            ));
        }
        if self.dialect == Dialect::Sqlite {
            sqlx::query("DELETE FROM organizations_fts WHERE rowid = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(())
    }
}

fn duplicate_name(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid("name", "has already been taken")
    } else {
        e
    }
}
