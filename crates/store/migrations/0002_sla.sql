-- SLA engine (policies.md §2, §4).

-- Admin-editable configuration documents (SLA policy table, calendar
-- holidays, channel webhooks), as JSON. A missing key means "the shipped
-- default", which lives in code.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- §4: P0's workaround target is met when this is set (or on solve).
ALTER TABLE tickets ADD COLUMN workaround_provided BIGINT NOT NULL DEFAULT 0;

-- One clock per ticket, metric and instance (periodic updates get a new
-- instance per public agent reply). `clock` is the domain's Clock as JSON;
-- `next_due` is the next warn or breach instant the scheduler must fire,
-- NULL when nothing is pending — the scheduler reads only due rows through
-- the partial index, so its cost follows what is due, not what is open.
CREATE TABLE ticket_metrics (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    metric TEXT NOT NULL,
    instance BIGINT NOT NULL,
    clock TEXT NOT NULL,
    next_due BIGINT,
    PRIMARY KEY (ticket_id, metric, instance)
);
CREATE INDEX ticket_metrics_due ON ticket_metrics (next_due) WHERE next_due IS NOT NULL;

-- The SLA audit: every apply/activate/pause/fulfill/warn/breach, as
-- Zendesk's ticket metric events. `sla` describes the target on apply_sla.
CREATE TABLE ticket_metric_events (
    id __PK__,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    metric TEXT NOT NULL,
    instance_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    time BIGINT NOT NULL,
    sla TEXT
);
CREATE INDEX ticket_metric_events_ticket ON ticket_metric_events (ticket_id, id);
CREATE INDEX ticket_metric_events_time ON ticket_metric_events (time, id);
