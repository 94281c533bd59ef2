-- Feedback loop (policies.md §11) and Customer Advisory Board (§12), issue 5.

-- A theme groups duplicate feedback. Merging a theme into another keeps the
-- row and points it at the survivor (merged_into_id), so old links resolve.
CREATE TABLE feedback_themes (
    id __PK__,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',     -- open, decided, shipped
    merged_into_id BIGINT REFERENCES feedback_themes (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE feedback_items (
    id __PK__,
    organization_id BIGINT REFERENCES organizations (id),
    user_id BIGINT REFERENCES users (id),   -- the requester, told of decisions
    source TEXT NOT NULL,
    category TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    text TEXT NOT NULL,
    theme_id BIGINT REFERENCES feedback_themes (id),
    ticket_id BIGINT REFERENCES tickets (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Read by the churn-risk model ("proactive feedback in the last 90 days").
CREATE INDEX feedback_items_org ON feedback_items (organization_id, created_at);
CREATE INDEX feedback_items_theme ON feedback_items (theme_id);
CREATE INDEX feedback_items_created ON feedback_items (created_at);
-- One item per ticket tagged `feedback`; NULLs (items not from tickets) do
-- not collide in either database.
CREATE UNIQUE INDEX feedback_items_ticket ON feedback_items (ticket_id);

CREATE TABLE feedback_decisions (
    id __PK__,
    theme_id BIGINT NOT NULL REFERENCES feedback_themes (id),
    decision TEXT NOT NULL,
    target_release TEXT,
    revisit_on TEXT,
    reason TEXT,
    alternative TEXT,
    decided_at BIGINT NOT NULL,
    decided_by BIGINT NOT NULL REFERENCES users (id)
);
CREATE INDEX feedback_decisions_theme ON feedback_decisions (theme_id, decided_at);

CREATE TABLE cab_members (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    user_id BIGINT REFERENCES users (id),
    term_start TEXT NOT NULL,
    term_end TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',   -- active, ended
    reference BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX cab_members_term ON cab_members (status, term_end);

CREATE TABLE cab_meetings (
    id __PK__,
    quarter_date TEXT NOT NULL UNIQUE,
    agenda TEXT NOT NULL DEFAULT '',
    agenda_due TEXT NOT NULL,
    prep_call_on TEXT NOT NULL,
    held_at BIGINT,
    summary TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
