-- Knowledge base (policies.md §17): the seven categories, articles in
-- Markdown with draft/published status, tags, view counts and helpful
-- votes (one per voter; changing one's mind replaces the vote). Instants
-- are BIGINT unix seconds. Full-text search is per dialect
-- (0018_kb_sqlite.sql, 0018_kb_postgres.sql), over title and body.

CREATE TABLE kb_categories (
    id __PK__,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE kb_articles (
    id __PK__,
    category_id BIGINT NOT NULL REFERENCES kb_categories (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',              -- Markdown source
    status TEXT NOT NULL DEFAULT 'draft',       -- draft, published
    author_id BIGINT REFERENCES users (id),     -- NULL: shipped with Steward
    tags TEXT NOT NULL DEFAULT '',              -- lower case, space-separated
    view_count BIGINT NOT NULL DEFAULT 0,
    vote_sum BIGINT NOT NULL DEFAULT 0,         -- helpful minus not helpful
    vote_count BIGINT NOT NULL DEFAULT 0,       -- helpful plus not helpful
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT                         -- last time it was published
);
-- Lists by category and by status walk these in id order.
CREATE INDEX kb_articles_category ON kb_articles (category_id, status, id);
CREATE INDEX kb_articles_status ON kb_articles (status, id);

-- One row per (article, voter): a user (`user:<id>`) or an anonymous
-- visitor of the portal (`visitor:<key>`, a key the web UI keeps in a
-- cookie). The article's vote_sum and vote_count are recounted from here in
-- the transaction of every vote.
CREATE TABLE kb_votes (
    id __PK__,
    article_id BIGINT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    value BIGINT NOT NULL,                      -- 1 helpful, -1 not helpful
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (article_id, voter)
);
