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

-- Risk history sampled by day (average risk over 90 days, ARR by level
-- over 12 months) across all accounts.
CREATE INDEX health_scores_time ON health_scores (computed_at, organization_id);

-- Ticket volume and resolution time of the whole portfolio by week: both
-- answered from the index alone. The created index widens the existing
-- one (same leading column) instead of adding a second.
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets (created_at, deleted, organization_id);
CREATE INDEX tickets_solved ON tickets (solved_at, deleted, organization_id, created_at);
