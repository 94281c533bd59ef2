-- SQLite: seeded rows are dated when the migration runs.
UPDATE kb_categories SET created_at = CAST(strftime('%s', 'now') AS INTEGER), updated_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE created_at = 0;
UPDATE kb_articles SET created_at = CAST(strftime('%s', 'now') AS INTEGER), updated_at = CAST(strftime('%s', 'now') AS INTEGER), published_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE created_at = 0;

-- FTS5 over title and body, kept in step with kb_articles by the store in
-- the transaction of each write (rowid = article id). Unlike the ticket
-- index, this one stems (porter): readers type "configure" and expect
-- "configuration". bm25() weights the title column above the body.
CREATE VIRTUAL TABLE kb_articles_fts USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2');
INSERT INTO kb_articles_fts (rowid, title, body) SELECT id, title, body FROM kb_articles;
