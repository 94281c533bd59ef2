-- Steward core schema, shared by SQLite and PostgreSQL.
--
-- Portability conventions (the store relies on them):
--   * __PK__ becomes the dialect's auto-increment BIGINT primary key;
--   * instants are BIGINT unix seconds (UTC), dates are TEXT 'YYYY-MM-DD';
--   * booleans are BIGINT 0/1, money is BIGINT cents;
--   * lists and maps are JSON in TEXT columns, except where a side table
--     exists to index them (ticket_tags, ticket_followers).

CREATE TABLE organizations (
    id __PK__,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,          -- lower(name): names are unique, case-insensitively
    external_id TEXT,
    details TEXT,
    notes TEXT,
    domain_names TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '',
    group_id BIGINT,
    shared_tickets BIGINT NOT NULL DEFAULT 0,
    shared_comments BIGINT NOT NULL DEFAULT 0,
    industry TEXT,
    company_size TEXT,
    region TEXT,
    acv_cents BIGINT,
    monthly_spend_cents BIGINT,
    contract_start TEXT,
    contract_end TEXT,
    renewal_date TEXT,
    account_status TEXT NOT NULL DEFAULT 'active',
    tier_pinned TEXT,
    executive_sponsor TEXT,
    technical_lead TEXT,
    finance_lead TEXT,
    primary_use_case TEXT,
    expansion_potential_cents BIGINT,
    last_health_check TEXT,
    next_business_review TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX organizations_external_id ON organizations (external_id);

CREATE TABLE users (
    id __PK__,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    role TEXT NOT NULL,
    organization_id BIGINT REFERENCES organizations (id),
    phone TEXT,
    external_id TEXT,
    details TEXT,
    notes TEXT,
    tags TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'America/New_York',
    locale TEXT NOT NULL DEFAULT 'en-US',
    active BIGINT NOT NULL DEFAULT 1,
    suspended BIGINT NOT NULL DEFAULT 0,
    verified BIGINT NOT NULL DEFAULT 0,
    password_hash TEXT,
    last_login_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_organization ON users (organization_id);
CREATE INDEX users_role ON users (role);
CREATE INDEX users_external_id ON users (external_id);

CREATE TABLE api_tokens (
    id __PK__,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_sha256 TEXT NOT NULL UNIQUE,      -- never the token itself
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE groups (
    id __PK__,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    parent_id BIGINT REFERENCES groups (id),
    deleted BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE ticket_fields (
    id __PK__,
    title TEXT NOT NULL,
    field_type TEXT NOT NULL,               -- text, integer, decimal, checkbox, tagger
    options TEXT,                           -- JSON array of values for tagger
    commercial BIGINT NOT NULL DEFAULT 0,   -- hidden from contractors (policies.md §8)
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE tickets (
    id __PK__,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    requester_id BIGINT NOT NULL REFERENCES users (id),
    submitter_id BIGINT NOT NULL REFERENCES users (id),
    organization_id BIGINT REFERENCES organizations (id),
    group_id BIGINT REFERENCES groups (id),
    assignee_id BIGINT REFERENCES users (id),
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    ticket_type TEXT,
    problem_id BIGINT REFERENCES tickets (id),
    tags TEXT NOT NULL DEFAULT '',          -- space-separated, as Zendesk; indexed by ticket_tags
    custom_fields TEXT NOT NULL DEFAULT '{}',
    via TEXT NOT NULL,
    external_id TEXT,
    due_at BIGINT,
    is_public BIGINT NOT NULL DEFAULT 1,
    deleted BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    solved_at BIGINT
);
CREATE INDEX tickets_requester ON tickets (requester_id, id);
CREATE INDEX tickets_organization ON tickets (organization_id, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, id);
CREATE INDEX tickets_group ON tickets (group_id, id);
CREATE INDEX tickets_status_priority ON tickets (status, priority, id);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE INDEX tickets_problem ON tickets (problem_id);
CREATE INDEX tickets_external_id ON tickets (external_id);

CREATE TABLE ticket_tags (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, ticket_id)
);

CREATE TABLE ticket_followers (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (ticket_id, user_id)
);

-- Exact visible-ticket counts without scanning a million rows: one row per
-- (group, shard), maintained in the transaction that creates, deletes or
-- regroups a ticket. Shards spread PostgreSQL row locks across writers.
CREATE TABLE ticket_counts (
    group_key BIGINT NOT NULL,              -- group id, 0 for no group
    shard BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (group_key, shard)
);

CREATE TABLE ticket_audits (
    id __PK__,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    author_id BIGINT NOT NULL,
    via TEXT NOT NULL,
    events TEXT NOT NULL,                   -- JSON array of Zendesk audit events
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_audits_ticket ON ticket_audits (ticket_id, id);

CREATE TABLE ticket_comments (
    id __PK__,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    audit_id BIGINT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    public BIGINT NOT NULL,
    body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    via TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

-- Bulk jobs (create_many, update_many) and their results, as Zendesk's
-- job_statuses.
CREATE TABLE job_statuses (
    id TEXT PRIMARY KEY,
    job_type TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    total BIGINT NOT NULL,
    progress BIGINT NOT NULL,
    results TEXT NOT NULL DEFAULT '[]',
    message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The outbox: every effect outside the database (e-mail, Slack, webhooks,
-- follow-ups) is a row written in the same transaction as its cause and
-- delivered at least once by a worker. idempotency_key is unique so a cause
-- enqueues an effect once, and receivers can de-duplicate on it.
CREATE TABLE outbox (
    id __PK__,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    available_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    locked_by TEXT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (delivered_at, available_at);
