-- Gatehouse foundation schema (PostgreSQL). Times are Unix seconds (BIGINT),
-- the same representation as on SQLite. Nothing is ever deleted.

CREATE TABLE organisations (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                    TEXT   NOT NULL,
    welcome_link_hours      BIGINT NOT NULL DEFAULT 72 CHECK (welcome_link_hours BETWEEN 1 AND 720),
    password_link_minutes   BIGINT NOT NULL DEFAULT 60 CHECK (password_link_minutes BETWEEN 5 AND 1440),
    created_at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX organisations_name_key ON organisations (lower(name));

CREATE TABLE users (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id     BIGINT NOT NULL REFERENCES organisations (id),
    kind                TEXT   NOT NULL CHECK (kind IN ('person', 'api')),
    state               TEXT   NOT NULL CHECK (state IN ('pending', 'active', 'deactivated')),
    first_name          TEXT   NOT NULL,
    last_name           TEXT   NOT NULL,
    email               TEXT   NOT NULL,
    email_normalized    TEXT   NOT NULL,
    username            TEXT   NOT NULL,
    initials            TEXT   NOT NULL,
    -- Search keys (domain::search_key: lower-case, accents removed), written by
    -- the application with the fields they come from.
    first_name_key      TEXT   NOT NULL,
    last_name_key       TEXT   NOT NULL,
    search_text         TEXT   NOT NULL,
    password_hash       TEXT,
    is_platform_admin   BIGINT NOT NULL DEFAULT 0 CHECK (is_platform_admin IN (0, 1)),
    created_at          BIGINT NOT NULL,
    created_by          BIGINT REFERENCES users (id),
    activated_at        BIGINT,
    deactivated_at      BIGINT,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key    ON users (organisation_id, email_normalized);
CREATE UNIQUE INDEX users_initials_key ON users (organisation_id, initials);
CREATE INDEX users_organisation ON users (organisation_id, state);

-- Roles are named sets of permissions (the catalogue is in the code:
-- domain::Permission); an account's permissions are the union of its roles'.
CREATE TABLE roles (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  BIGINT NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name_key ON roles (organisation_id, lower(name));

CREATE TABLE role_permissions (
    role_id     BIGINT NOT NULL REFERENCES roles (id),
    permission  TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id     BIGINT NOT NULL REFERENCES users (id),
    role_id     BIGINT NOT NULL REFERENCES roles (id),
    granted_at  BIGINT NOT NULL,
    granted_by  BIGINT REFERENCES users (id),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE sessions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash      TEXT   NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    end_reason      TEXT,
    client_address  TEXT   NOT NULL,
    user_agent      TEXT   NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE one_time_links (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose          TEXT   NOT NULL CHECK (purpose IN ('platform_setup', 'organisation_setup', 'welcome', 'set_password', 'email_change')),
    token_hash       TEXT   NOT NULL,
    organisation_id  BIGINT REFERENCES organisations (id),
    user_id          BIGINT REFERENCES users (id),
    new_email        TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT,
    revoked_at       BIGINT
);
CREATE UNIQUE INDEX one_time_links_token_hash_key ON one_time_links (token_hash);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose) WHERE used_at IS NULL AND revoked_at IS NULL;

-- Attempts that are throttled (failed sign-ins, password-reset requests),
-- kept in the database so the limits hold across replicas.
CREATE TABLE throttle_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    client_address  TEXT    NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX throttle_events_key ON throttle_events (kind, key, client_address, at);
CREATE INDEX throttle_events_client ON throttle_events (kind, client_address, at);

CREATE TABLE audit_log (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                  BIGINT NOT NULL,
    organisation_id     BIGINT REFERENCES organisations (id),
    actor_user_id       BIGINT REFERENCES users (id),
    target_user_id      BIGINT REFERENCES users (id),
    action              TEXT   NOT NULL,
    detail              TEXT   NOT NULL DEFAULT '',
    client_address      TEXT   NOT NULL
);
CREATE INDEX audit_log_organisation ON audit_log (organisation_id, at);
CREATE INDEX audit_log_target ON audit_log (target_user_id, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE email_outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  BIGINT REFERENCES organisations (id),
    recipient        TEXT   NOT NULL,
    subject          TEXT   NOT NULL,
    body_text        TEXT   NOT NULL,
    body_html        TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    locked_until     BIGINT,
    sent_at          BIGINT
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;
