-- Dashboards (policies.md §18), second part: what the benchmark on
-- 1,000,000 tickets showed the first part lacked (BENCHMARKS.md,
-- "Dashboards"). Migration 19 had already been merged, so this is a new one.

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

-- A CSM's accounts: their tickets created and solved in the period, from
-- the account index alone (migration 15's index, widened by solved_at).
DROP INDEX tickets_org_recent;
CREATE INDEX tickets_org_recent ON tickets (organization_id, deleted, created_at, solved_at);
