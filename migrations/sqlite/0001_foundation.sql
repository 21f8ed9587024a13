-- Gatehouse foundation schema (SQLite). Times are Unix seconds (INTEGER).
-- Nothing is ever deleted: accounts change state instead.

CREATE TABLE organisations (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    TEXT    NOT NULL,
    welcome_link_hours      INTEGER NOT NULL DEFAULT 72 CHECK (welcome_link_hours BETWEEN 1 AND 720),
    password_link_minutes   INTEGER NOT NULL DEFAULT 60 CHECK (password_link_minutes BETWEEN 5 AND 1440),
    created_at              INTEGER NOT NULL
);
CREATE UNIQUE INDEX organisations_name_key ON organisations (lower(name));

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id     INTEGER NOT NULL REFERENCES organisations (id),
    kind                TEXT    NOT NULL CHECK (kind IN ('person', 'api')),
    state               TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'deactivated')),
    first_name          TEXT    NOT NULL,
    last_name           TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    email_normalized    TEXT    NOT NULL,
    username            TEXT    NOT NULL,
    initials            TEXT    NOT NULL,
    -- Search keys (domain::search_key: lower-case, accents removed), written by
    -- the application with the fields they come from.
    first_name_key      TEXT    NOT NULL,
    last_name_key       TEXT    NOT NULL,
    search_text         TEXT    NOT NULL,
    password_hash       TEXT,
    is_platform_admin   INTEGER NOT NULL DEFAULT 0 CHECK (is_platform_admin IN (0, 1)),
    created_at          INTEGER NOT NULL,
    created_by          INTEGER REFERENCES users (id),
    activated_at        INTEGER,
    deactivated_at      INTEGER,
    updated_at          INTEGER NOT NULL
);
-- Case-insensitive uniqueness, deactivated accounts included. Usernames are
-- ASCII by rule, so lower() folds them on both backends; SQLite's lower()
-- folds only ASCII, so emails keep a lower-cased copy written by the
-- application (Email::normalized), and initials are stored upper-cased.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key    ON users (organisation_id, email_normalized);
CREATE UNIQUE INDEX users_initials_key ON users (organisation_id, initials);
CREATE INDEX users_organisation ON users (organisation_id, state);

-- Roles are named sets of permissions (the catalogue is in the code:
-- domain::Permission); an account's permissions are the union of its roles'.
CREATE TABLE roles (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_name_key ON roles (organisation_id, lower(name));

CREATE TABLE role_permissions (
    role_id     INTEGER NOT NULL REFERENCES roles (id),
    permission  TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id     INTEGER NOT NULL REFERENCES users (id),
    role_id     INTEGER NOT NULL REFERENCES roles (id),
    granted_at  INTEGER NOT NULL,
    granted_by  INTEGER REFERENCES users (id),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    client_address  TEXT    NOT NULL,
    user_agent      TEXT    NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- One-time links: platform and organisation setup, welcome, set-password and
-- email-change emails. Only the SHA-256 of the token is stored.
CREATE TABLE one_time_links (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose          TEXT    NOT NULL CHECK (purpose IN ('platform_setup', 'organisation_setup', 'welcome', 'set_password', 'email_change')),
    token_hash       TEXT    NOT NULL,
    organisation_id  INTEGER REFERENCES organisations (id),
    user_id          INTEGER REFERENCES users (id),
    new_email        TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER,
    revoked_at       INTEGER
);
CREATE UNIQUE INDEX one_time_links_token_hash_key ON one_time_links (token_hash);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose) WHERE used_at IS NULL AND revoked_at IS NULL;

-- Attempts that are throttled (failed sign-ins, password-reset requests),
-- kept in the database so the limits hold across replicas.
CREATE TABLE throttle_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    client_address  TEXT    NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX throttle_events_key ON throttle_events (kind, key, client_address, at);
CREATE INDEX throttle_events_client ON throttle_events (kind, client_address, at);

CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  INTEGER NOT NULL,
    organisation_id     INTEGER REFERENCES organisations (id),
    actor_user_id       INTEGER REFERENCES users (id),
    target_user_id      INTEGER REFERENCES users (id),
    action              TEXT    NOT NULL,
    detail              TEXT    NOT NULL DEFAULT '',
    client_address      TEXT    NOT NULL
);
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, at);
CREATE INDEX audit_log_target ON audit_log (target_user_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Mail leaves through this table, written in the same transaction as the
-- change that caused it; a worker delivers it with retries.
CREATE TABLE email_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  INTEGER REFERENCES organisations (id),
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body_text        TEXT    NOT NULL,
    body_html        TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    locked_until     INTEGER,
    sent_at          INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;
