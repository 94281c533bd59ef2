-- Dashboards (policies.md §18).

-- The SLA report's results per month and account, so the SLA dashboard
-- does not decide a quarter's clocks on every page view. Rows are replaced
-- as a whole per month (`Store::refresh_sla_month`); `dashboard_sla_computed`
-- says when, for the time-to-live.
CREATE TABLE dashboard_sla_months (
    month TEXT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    tier TEXT NOT NULL,
    met BIGINT NOT NULL,
    missed BIGINT NOT NULL,
    excluded BIGINT NOT NULL,
    waived BIGINT NOT NULL,
    missed_first_reply BIGINT NOT NULL,
    missed_update BIGINT NOT NULL,
    missed_resolution BIGINT NOT NULL,
    credit_cents BIGINT NOT NULL,
    PRIMARY KEY (month, organization_id)
);

CREATE TABLE dashboard_sla_computed (
    month TEXT PRIMARY KEY,
    computed_at BIGINT NOT NULL
);

-- Daily roll-ups for the whole portfolio, by account segment (industry,
-- size, status as they stood when the day was rolled up; '' for none):
-- kind 'tickets' (n created, m solved, v seconds from creation to solve of
-- those solved that day) and kind 'risk' per level (n accounts, m sum of
-- their risk, v their ACV in cents), from each account's last history row
-- of the day. A closed day is rolled up once it is over and again a day
-- later (`dashboard_days_computed`); the running day is read live.
CREATE TABLE dashboard_days (
    kind TEXT NOT NULL,
    day BIGINT NOT NULL,
    industry TEXT NOT NULL,
    company_size TEXT NOT NULL,
    account_status TEXT NOT NULL,
    level TEXT NOT NULL,
    n BIGINT NOT NULL,
    m BIGINT NOT NULL,
    v BIGINT NOT NULL,
    PRIMARY KEY (kind, day, industry, company_size, account_status, level)
);

CREATE TABLE dashboard_days_computed (
    kind TEXT NOT NULL,
    day BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (kind, day)
);

-- Risk history sampled by day (average risk over 90 days, ARR by level
-- over 12 months) across all accounts.
CREATE INDEX health_scores_time ON health_scores (computed_at, organization_id);

-- Ticket volume and resolution time of the whole portfolio by week: both
-- answered from the index alone. The created index widens the existing
-- one (same leading column) instead of adding a second.
-- A CSM's accounts: their tickets created and solved in the period, from
-- the account index alone (migration 15's index, widened by solved_at).
DROP INDEX tickets_org_recent;
CREATE INDEX tickets_org_recent ON tickets (organization_id, deleted, created_at, solved_at);
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets (created_at, deleted, organization_id);
CREATE INDEX tickets_solved ON tickets (solved_at, deleted, organization_id, created_at);
