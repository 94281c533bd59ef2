-- Escalation ladder (policies.md §6).

-- Each (ticket, level) escalates once; `report` holds the escalation report
-- of §6 as JSON (computed fields plus the free-text ones people fill in).
CREATE TABLE escalations (
    id __PK__,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    level BIGINT NOT NULL,
    from_level BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    contact TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (ticket_id, level)
);

-- Time-based escalation triggers (P0 open 1 h, ...): one row per ticket and
-- trigger with its due instant; fired rows keep their firing time so a
-- trigger never fires twice, even across reschedules.
CREATE TABLE ticket_timers (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    fired_at BIGINT,
    PRIMARY KEY (ticket_id, kind)
);
CREATE INDEX ticket_timers_due ON ticket_timers (due_at) WHERE fired_at IS NULL;

-- Platform incidents: a problem linked to tickets of 2+ accounts.
CREATE TABLE war_rooms (
    id __PK__,
    problem_id BIGINT NOT NULL UNIQUE REFERENCES tickets (id),
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    cadence_secs BIGINT NOT NULL,
    next_update_due BIGINT,
    participants TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX war_rooms_due ON war_rooms (next_update_due) WHERE closed_at IS NULL;

CREATE TABLE war_room_updates (
    id __PK__,
    war_room_id BIGINT NOT NULL REFERENCES war_rooms (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX war_room_updates_room ON war_room_updates (war_room_id, id);

-- Root-cause analyses owed for solved P0 tickets (due 24 h after solve).
CREATE TABLE rcas (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    due_at BIGINT NOT NULL,
    submitted_at BIGINT,
    author_id BIGINT,
    body TEXT,
    reminded BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rcas_due ON rcas (due_at) WHERE submitted_at IS NULL AND reminded = 0;
