-- Search on the Users page (app/src/backend/search.rs). One organisation per
-- query; a query word of 1–2 characters is a prefix of a first name, last
-- name, username or email (B-tree ranges below), a word of 3+ characters is a
-- substring of search_text (FTS5 trigram index below). Never a full scan.

-- Search keys of the username and the email. search_text is
-- "<first key> <last key> <username key> <email key>" (users::search_text);
-- usernames are ASCII, so their key is lower(username) and has the username's
-- length, and the email key is what follows the third separator. Virtual: only
-- the indexes below store them.
ALTER TABLE users ADD COLUMN username_key TEXT
    GENERATED ALWAYS AS (lower(username)) VIRTUAL;
ALTER TABLE users ADD COLUMN email_key TEXT
    GENERATED ALWAYS AS (substr(search_text, length(first_name_key) + length(last_name_key) + length(username) + 4)) VIRTUAL;

-- One index per sort order of the list, scoped by organisation; each also
-- serves prefix ranges on its leading key. SQLite appends the rowid (id), the
-- final tie-breaker of every order, to each index entry.
CREATE INDEX users_by_last_name  ON users (organisation_id, last_name_key, first_name_key);
CREATE INDEX users_by_first_name ON users (organisation_id, first_name_key, last_name_key);
CREATE INDEX users_by_username   ON users (organisation_id, username_key);
CREATE INDEX users_by_email      ON users (organisation_id, email_key);
CREATE INDEX users_by_state      ON users (organisation_id, state, last_name_key, first_name_key);
CREATE INDEX users_by_created    ON users (organisation_id, created_at);

-- "Activation expired" (pending, and no open welcome link left) probes this.
CREATE INDEX one_time_links_open_welcome ON one_time_links (user_id, expires_at)
    WHERE purpose = 'welcome' AND used_at IS NULL AND revoked_at IS NULL;

-- Substring search: a trigram index of search_text, plus the organisation as a
-- token ("<42>") so that one MATCH finds the rows of one organisation only.
-- Contentless (the text lives in users), with deletes allowed (SQLite 3.43+;
-- sqlx bundles 3.46). Kept in step by the triggers below.
CREATE VIRTUAL TABLE users_search USING fts5 (
    organisation,
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

CREATE TRIGGER users_search_insert AFTER INSERT ON users
BEGIN
    INSERT INTO users_search (rowid, organisation, search_text)
    VALUES (new.id, '<' || new.organisation_id || '>', new.search_text);
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF organisation_id, search_text ON users
BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
    INSERT INTO users_search (rowid, organisation, search_text)
    VALUES (new.id, '<' || new.organisation_id || '>', new.search_text);
END;

-- Accounts are never deleted; should one be, its entry goes too.
CREATE TRIGGER users_search_delete AFTER DELETE ON users
BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
END;

INSERT INTO users_search (rowid, organisation, search_text)
SELECT id, '<' || organisation_id || '>', search_text FROM users;
