-- PostgreSQL full-text search: tsvector columns with GIN indexes, using the
-- 'simple' configuration so that matching behaves as SQLite's unicode61
-- tokenizer does (no stemming, no stop words); punctuation that unicode61 treats as a
-- separator is turned into spaces first (translate) for the same reason: one suite, same answers.
ALTER TABLE tickets ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX tickets_search ON tickets USING GIN (search_vector);
ALTER TABLE users ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', translate(coalesce(name, ''), '@.-_/:+', '       ') || ' ' || translate(coalesce(email, ''), '@.-_/:+', '       ') || ' ' || translate(coalesce(notes, ''), '@.-_/:+', '       '))
) STORED;
CREATE INDEX users_search ON users USING GIN (search_vector);
ALTER TABLE organizations ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', translate(coalesce(name, '') || ' ' || coalesce(details, '') || ' ' || coalesce(notes, ''), '@.-_/:+', '       '))
) STORED;
CREATE INDEX organizations_search ON organizations USING GIN (search_vector);
