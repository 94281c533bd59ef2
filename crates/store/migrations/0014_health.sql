-- Churn risk and health (issue 5; policies.md §9).

-- Flags a CSM sets on an account (a flag factor, or a computed one the
-- data cannot see), with a note and an optional expiry.
CREATE TABLE risk_flags (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    factor_key TEXT NOT NULL,
    note TEXT NOT NULL,
    set_by BIGINT NOT NULL REFERENCES users (id),
    set_at BIGINT NOT NULL,
    expires_at BIGINT,
    cleared_at BIGINT
);
CREATE INDEX risk_flags_org ON risk_flags (organization_id);

-- The score in force per account, with its factors and evidence.
CREATE TABLE health_current (
    organization_id BIGINT PRIMARY KEY REFERENCES organizations (id),
    risk BIGINT NOT NULL,
    health BIGINT NOT NULL,
    level TEXT NOT NULL,
    raw BIGINT NOT NULL,
    factors TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    level_since BIGINT NOT NULL
);
CREATE INDEX health_current_level ON health_current (level, risk);

-- History for trends: a row when the score changes, and at least one a day.
CREATE TABLE health_scores (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    risk BIGINT NOT NULL,
    level TEXT NOT NULL,
    factors TEXT NOT NULL,
    computed_at BIGINT NOT NULL
);
CREATE INDEX health_scores_org ON health_scores (organization_id, computed_at);

-- Accounts whose inputs changed since their score was computed.
CREATE TABLE health_dirty (
    organization_id BIGINT PRIMARY KEY,
    since BIGINT NOT NULL
);

-- Playbooks started, so re-entering a level within 30 days adds nothing.
CREATE TABLE playbook_runs (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    level TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    task_ids TEXT NOT NULL
);
CREATE INDEX playbook_runs_org ON playbook_runs (organization_id, level, started_at);

CREATE TABLE interventions (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    primary_issue TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    started_on TEXT NOT NULL,
    target_date TEXT,
    progress_pct BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    notes TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX interventions_org ON interventions (organization_id);
