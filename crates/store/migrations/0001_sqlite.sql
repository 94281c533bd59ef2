-- SQLite full-text indexes (FTS5), kept in step with their tables by the
-- store in the same transaction as each write. rowid = the row's id.
CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE users_fts USING fts5(name, email, notes, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE organizations_fts USING fts5(name, details, notes, tokenize = 'unicode61 remove_diacritics 2');
