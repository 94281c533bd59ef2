-- SLA exclusions and force majeure (policies.md §5).

-- Why a ticket is excluded from SLA misses and credits: one of the nine
-- reasons of §5 in snake_case (domain::exclusions::ExclusionReason), NULL
-- when the ticket counts. Its clocks and metric events are kept either way.
ALTER TABLE tickets ADD COLUMN sla_exclusion TEXT;

-- Force-majeure events: a breach whose instant falls in [starts_at, ends_at)
-- is not a miss, for every account. The report reads the windows that
-- overlap a quarter, hence the index on the start.
CREATE TABLE force_majeure_events (
    id __PK__,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX force_majeure_events_starts ON force_majeure_events (starts_at);
