-- The web app's sign-in (issue 6): browser sessions, failed sign-ins for
-- throttling, and the customer portal's one-time sign-in links. Secrets are
-- stored as SHA-256 digests, like API tokens.

CREATE TABLE web_sessions (
    id __PK__,
    token_sha256 TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

CREATE TABLE login_failures (
    id __PK__,
    login_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (login_key, at);

CREATE TABLE portal_links (
    id __PK__,
    token_sha256 TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX portal_links_user ON portal_links (user_id, created_at);
