-- Customer hub (issue 4): the communication log and contact roles.

CREATE TABLE communications (
    id __PK__,
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    topic TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    attendees TEXT NOT NULL DEFAULT '[]',
    action_item_task_ids TEXT NOT NULL DEFAULT '[]',
    follow_up_on TEXT,
    follow_up_task_id BIGINT,
    sentiment TEXT,
    author_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX communications_org ON communications (organization_id, occurred_at);

-- The roles a customer's contact holds on the account.
CREATE TABLE contact_roles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
