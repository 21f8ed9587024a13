-- Search on the Users page (app/src/backend/search.rs). One organisation per
-- query; a query word of 1–2 characters is a prefix of a first name, last
-- name, username or email (B-tree ranges below), a word of 3+ characters is a
-- substring of search_text (trigram GIN index below). Never a full scan.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- Lets the trigram index hold organisation_id too, so one index scan finds the
-- matches of one organisation only. Ships with PostgreSQL (contrib), as
-- pg_trgm does.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Search keys compare byte by byte ("C"), as SQLite's BINARY does: a prefix
-- is then a range (key >= 'si' AND key < 'sj') that a B-tree index answers,
-- and both backends sort the list alike.
ALTER TABLE users ALTER COLUMN first_name_key TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN last_name_key  TYPE TEXT COLLATE "C";
ALTER TABLE users ALTER COLUMN search_text    TYPE TEXT COLLATE "C";

-- Search keys of the username and the email. search_text is
-- "<first key> <last key> <username key> <email key>" (users::search_text);
-- usernames are ASCII, so their key is lower(username) and has the username's
-- length, and the email key is what follows the third separator.
ALTER TABLE users ADD COLUMN username_key TEXT COLLATE "C"
    GENERATED ALWAYS AS (lower(username)) STORED;
ALTER TABLE users ADD COLUMN email_key TEXT COLLATE "C"
    GENERATED ALWAYS AS (substr(search_text, length(first_name_key) + length(last_name_key) + length(username) + 4)) STORED;

-- One index per sort order of the list, scoped by organisation and ending in
-- id (the final tie-breaker); each also serves prefix ranges on its leading key.
CREATE INDEX users_by_last_name  ON users (organisation_id, last_name_key, first_name_key, id);
CREATE INDEX users_by_first_name ON users (organisation_id, first_name_key, last_name_key, id);
CREATE INDEX users_by_username   ON users (organisation_id, username_key, id);
CREATE INDEX users_by_email      ON users (organisation_id, email_key, id);
CREATE INDEX users_by_state      ON users (organisation_id, state, last_name_key, first_name_key, id);
CREATE INDEX users_by_created    ON users (organisation_id, created_at, id);

-- "Activation expired" (pending, and no open welcome link left) probes this.
CREATE INDEX one_time_links_open_welcome ON one_time_links (user_id, expires_at)
    WHERE purpose = 'welcome' AND used_at IS NULL AND revoked_at IS NULL;

-- Substring search: search_text LIKE '%obri%' within one organisation.
CREATE INDEX users_search ON users USING gin (organisation_id, search_text gin_trgm_ops);
