-- Communication templates (policies.md §16). The eleven defaults live in
-- code (steward_domain::templates); a row here is an admin's edited copy,
-- and deleting it restores the default.
CREATE TABLE templates (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT
);
