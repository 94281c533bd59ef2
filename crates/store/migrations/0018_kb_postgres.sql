-- PostgreSQL: seeded rows are dated when the migration runs.
UPDATE kb_categories SET created_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), updated_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) WHERE created_at = 0;
UPDATE kb_articles SET created_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), updated_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), published_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) WHERE created_at = 0;
-- Categories carry explicit ids; move the identity sequence past them.
SELECT setval(pg_get_serial_sequence('kb_categories', 'id'), 7);

-- Full-text search over title (weight A) and body (weight D), stemmed with
-- the 'english' configuration (its Snowball stemmer and stop words; the
-- store drops the same stop words from queries so that SQLite's porter
-- FTS5 index answers alike). A generated column, so no write can forget it.
ALTER TABLE kb_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'D')
) STORED;
CREATE INDEX kb_articles_search ON kb_articles USING GIN (search_vector);
