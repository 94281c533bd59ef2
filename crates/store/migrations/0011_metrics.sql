-- Baseline metrics (policies.md §14): measurements per account over time,
-- the signed-off baseline plan, and the alerts raised when a series turns
-- red. Values are DOUBLE PRECISION (REAL affinity in SQLite): they are
-- measurements, not money, and sqlx's Any driver reads both as f64.

CREATE TABLE measurements (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    metric TEXT NOT NULL,
    field TEXT NOT NULL,
    label TEXT,                             -- process name, ticket category, ...
    value DOUBLE PRECISION NOT NULL,
    measured_at BIGINT NOT NULL,
    source TEXT NOT NULL,                   -- api, csv, computed
    created_at BIGINT NOT NULL
);
CREATE INDEX measurements_series ON measurements (organization_id, metric, field, measured_at);

CREATE TABLE baseline_plans (
    organization_id BIGINT PRIMARY KEY REFERENCES organizations (id),
    plan TEXT NOT NULL,                     -- JSON: items (metric, field, frequency, owner, thresholds), time zone
    go_live_on TEXT,
    signed_off_by BIGINT REFERENCES users (id),
    signed_off_at BIGINT,
    updated_by BIGINT NOT NULL REFERENCES users (id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE metric_alerts (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    metric TEXT NOT NULL,
    field TEXT NOT NULL,
    label TEXT,
    value DOUBLE PRECISION NOT NULL,
    measured_at BIGINT NOT NULL,
    measurement_id BIGINT NOT NULL REFERENCES measurements (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX metric_alerts_org ON metric_alerts (organization_id, created_at);
