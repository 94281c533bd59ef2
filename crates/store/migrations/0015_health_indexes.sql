-- Indexes the churn-risk model reads through (issue 5; health-bench in
-- BENCHMARKS.md): an account's tickets of the last 30 days as a range, for
-- one account or all of them, and escalations by time.
CREATE INDEX tickets_org_recent ON tickets (organization_id, deleted, created_at);
CREATE INDEX escalations_created ON escalations (created_at);
