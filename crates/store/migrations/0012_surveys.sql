-- Surveys (policies.md §10): Zendesk-style CSAT on solved tickets, and the
-- NPS program (campaigns, single-use survey tokens, responses,
-- unsubscribes). Instants are BIGINT unix seconds.

CREATE TABLE satisfaction_ratings (
    id __PK__,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    organization_id BIGINT REFERENCES organizations (id),
    requester_id BIGINT NOT NULL REFERENCES users (id),
    assignee_id BIGINT REFERENCES users (id),
    group_id BIGINT,
    score TEXT NOT NULL,                    -- offered, good, bad
    rating BIGINT,                          -- the 1-5 variant, when given
    comment TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (ticket_id)
);
CREATE INDEX satisfaction_ratings_org ON satisfaction_ratings (organization_id, created_at);
CREATE INDEX satisfaction_ratings_created ON satisfaction_ratings (created_at, id);

CREATE TABLE nps_campaigns (
    id __PK__,
    name TEXT NOT NULL,
    quarter TEXT NOT NULL,                  -- '2026-Q4'
    send_at BIGINT NOT NULL,
    audience TEXT NOT NULL DEFAULT '{}',    -- JSON: {"account_statuses": [..], "tiers": [..]}
    status TEXT NOT NULL DEFAULT 'draft',   -- draft, sent, closed
    sent_at BIGINT,
    reminded_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE survey_tokens (
    token_hash TEXT PRIMARY KEY,            -- hex sha256 of the token in the link
    campaign_id BIGINT NOT NULL REFERENCES nps_campaigns (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    reminded_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX survey_tokens_campaign ON survey_tokens (campaign_id, user_id);

CREATE TABLE nps_responses (
    id __PK__,
    campaign_id BIGINT NOT NULL REFERENCES nps_campaigns (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    score BIGINT NOT NULL,
    category TEXT NOT NULL,                 -- promoter, passive, detractor
    reason TEXT NOT NULL DEFAULT '',
    extended TEXT,                          -- JSON: the extended survey's answers
    answered_at BIGINT NOT NULL,
    UNIQUE (campaign_id, user_id)
);
CREATE INDEX nps_responses_org ON nps_responses (organization_id, answered_at);

CREATE TABLE survey_unsubscribes (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    at BIGINT NOT NULL
);
