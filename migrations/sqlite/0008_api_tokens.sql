-- API users' bearer tokens (SQLite). The token is shown once; only its
-- SHA-256 is stored, with a short prefix that lists can show. A token stops
-- working when it is revoked, when it expires, and when its API user is
-- deactivated (which revokes it: reactivation brings none back).
CREATE TABLE api_tokens (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),
    name             TEXT    NOT NULL,
    -- The token's first characters ("gat_1a2b3c4d"), to tell tokens apart.
    prefix           TEXT    NOT NULL,
    token_hash       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by       INTEGER REFERENCES users (id),
    expires_at       INTEGER,
    -- Written at most once a minute (the first request of each window).
    last_used_at     INTEGER,
    revoked_at       INTEGER,
    revoked_by       INTEGER REFERENCES users (id),
    revoke_reason    TEXT
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
-- A live token's name tells it apart from the API user's other live tokens.
CREATE UNIQUE INDEX api_tokens_name_key ON api_tokens (user_id, lower(name)) WHERE revoked_at IS NULL;

-- Requests per token per minute, for throttling that holds across replicas.
CREATE TABLE api_request_windows (
    token_id      INTEGER NOT NULL REFERENCES api_tokens (id),
    window_start  INTEGER NOT NULL,
    requests      INTEGER NOT NULL,
    PRIMARY KEY (token_id, window_start)
);

-- What a program did with a token is recorded with the token.
ALTER TABLE audit_log ADD COLUMN actor_token_id INTEGER REFERENCES api_tokens (id);

-- A token just made, sealed, waiting to be shown once in the session that made it.
ALTER TABLE sessions ADD COLUMN api_token_to_show BLOB;
