-- An email change tells the old address, with a link that undoes it
-- ('email_change_undo', its new_email holding the address to go back to).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE one_time_links_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose          TEXT    NOT NULL CHECK (purpose IN ('platform_setup', 'organisation_setup', 'welcome', 'set_password', 'email_change', 'email_change_undo')),
    token_hash       TEXT    NOT NULL,
    organisation_id  INTEGER REFERENCES organisations (id),
    user_id          INTEGER REFERENCES users (id),
    new_email        TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER,
    revoked_at       INTEGER
);
INSERT INTO one_time_links_new
    (id, purpose, token_hash, organisation_id, user_id, new_email, created_at, expires_at, used_at, revoked_at)
SELECT id, purpose, token_hash, organisation_id, user_id, new_email, created_at, expires_at, used_at, revoked_at
FROM one_time_links;
DROP TABLE one_time_links;
ALTER TABLE one_time_links_new RENAME TO one_time_links;
CREATE UNIQUE INDEX one_time_links_token_hash_key ON one_time_links (token_hash);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX one_time_links_open_welcome ON one_time_links (user_id, expires_at)
    WHERE purpose = 'welcome' AND used_at IS NULL AND revoked_at IS NULL;
