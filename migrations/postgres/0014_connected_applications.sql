-- Connected applications: Gatehouse as an OpenID Connect provider (PostgreSQL).

-- Keys that sign ID tokens and logout tokens. The private key is sealed with
-- the server key; the public half is published at /oauth/jwks while the key
-- signs and, once retired, until every token it signed has expired.
CREATE TABLE signing_keys (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kid              TEXT    NOT NULL,
    algorithm        TEXT    NOT NULL CHECK (algorithm IN ('RS256', 'EdDSA')),
    private_key      BYTEA   NOT NULL,
    public_jwk       TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    retired_at       BIGINT,
    published_until  BIGINT
);
CREATE UNIQUE INDEX signing_keys_kid_key ON signing_keys (kid);
-- One signing key per algorithm at a time; replicas starting together make
-- one between them.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (algorithm) WHERE retired_at IS NULL;

-- An organisation's applications. A confidential one proves itself with a
-- secret (only its SHA-256 is kept); a public one (a single-page or mobile
-- app) with PKCE alone. URI lists hold one exact address per line.
CREATE TABLE applications (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id           BIGINT  NOT NULL REFERENCES organisations (id),
    client_id                 TEXT    NOT NULL,
    name                      TEXT    NOT NULL,
    client_kind               TEXT    NOT NULL CHECK (client_kind IN ('confidential', 'public')),
    secret_hash               TEXT,
    secret_set_at             BIGINT,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    backchannel_logout_uri    TEXT,
    -- 'everyone' in the organisation, or 'chosen': holders of the roles and
    -- profiles in application_roles and application_profiles.
    audience                  TEXT    NOT NULL CHECK (audience IN ('everyone', 'chosen')),
    requires_two_factor       BIGINT  NOT NULL DEFAULT 0,
    id_token_algorithm        TEXT    NOT NULL CHECK (id_token_algorithm IN ('RS256', 'EdDSA')),
    access_token_seconds      BIGINT  NOT NULL,
    refresh_token_seconds     BIGINT  NOT NULL,
    created_at                BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL,
    disabled_at               BIGINT
);
CREATE UNIQUE INDEX applications_client_id_key ON applications (client_id);
CREATE UNIQUE INDEX applications_name_key ON applications (organisation_id, lower(name));

CREATE TABLE application_roles (
    application_id  BIGINT  NOT NULL REFERENCES applications (id),
    role_id         BIGINT  NOT NULL REFERENCES roles (id),
    PRIMARY KEY (application_id, role_id)
);

CREATE TABLE application_profiles (
    application_id  BIGINT  NOT NULL REFERENCES applications (id),
    profile_id      BIGINT  NOT NULL REFERENCES profiles (id),
    PRIMARY KEY (application_id, profile_id)
);

-- A person signed in to an application from one Gatehouse session. It ends
-- with that session (or alone, signed out of the application); its tokens
-- work only while it lasts. `sid` is the session id the application is told.
CREATE TABLE application_sessions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  BIGINT  NOT NULL REFERENCES applications (id),
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    session_id      BIGINT  NOT NULL REFERENCES sessions (id),
    sid             TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT  NOT NULL,
    ended_at        BIGINT,
    end_reason      TEXT
);
CREATE UNIQUE INDEX application_sessions_sid_key ON application_sessions (sid);
CREATE UNIQUE INDEX application_sessions_live ON application_sessions (application_id, session_id) WHERE ended_at IS NULL;
CREATE INDEX application_sessions_user ON application_sessions (user_id, created_at);
CREATE INDEX application_sessions_session ON application_sessions (session_id) WHERE ended_at IS NULL;

-- Authorization codes: single use, a minute or so, bound to the application,
-- the redirect URI and the PKCE challenge. Only the SHA-256 is kept.
CREATE TABLE authorization_codes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash       TEXT    NOT NULL,
    application_id  BIGINT  NOT NULL REFERENCES applications (id),
    session_id      BIGINT  NOT NULL REFERENCES sessions (id),
    redirect_uri    TEXT    NOT NULL,
    code_challenge  TEXT    NOT NULL,
    scope           TEXT    NOT NULL,
    nonce           TEXT,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    used_at         BIGINT,
    -- What the code was exchanged into, so a replay can revoke it.
    application_session_id BIGINT  REFERENCES application_sessions (id)
);
CREATE UNIQUE INDEX authorization_codes_code_hash_key ON authorization_codes (code_hash);

-- Access and refresh tokens (opaque; only the SHA-256 is kept). A refresh
-- token is used once: it is replaced, and a replaced one coming back ends
-- its application session, every token with it.
CREATE TABLE application_tokens (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_session_id  BIGINT  NOT NULL REFERENCES application_sessions (id),
    kind                    TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash              TEXT    NOT NULL,
    scope                   TEXT    NOT NULL,
    created_at              BIGINT  NOT NULL,
    expires_at              BIGINT  NOT NULL,
    -- A refresh token's use (it was replaced), or either kind's revocation.
    spent_at                BIGINT
);
CREATE UNIQUE INDEX application_tokens_token_hash_key ON application_tokens (token_hash);
CREATE INDEX application_tokens_session ON application_tokens (application_session_id);

-- Back-channel logout notices, written in the transaction that ended the
-- application session and delivered by a worker like mail: they survive a
-- restart, wait for an application that is down, and go once across replicas.
CREATE TABLE logout_outbox (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_session_id  BIGINT  NOT NULL REFERENCES application_sessions (id),
    created_at              BIGINT  NOT NULL,
    next_attempt_at         BIGINT  NOT NULL,
    attempts                BIGINT  NOT NULL DEFAULT 0,
    last_error              TEXT,
    locked_until            BIGINT,
    sent_at                 BIGINT,
    given_up_at             BIGINT
);
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;

-- Whether a session's person proved a second factor (amr and acr in ID tokens).
ALTER TABLE sessions ADD COLUMN second_factor BIGINT  NOT NULL DEFAULT 0;

-- A new application secret, sealed, waiting to be shown once in the session
-- that made it, and which application it is for.
ALTER TABLE sessions ADD COLUMN application_secret_to_show BYTEA;
ALTER TABLE sessions ADD COLUMN application_secret_for BIGINT REFERENCES applications (id);

-- The Administrator role holds every permission (see 0009), this new one too.
INSERT INTO role_permissions (role_id, permission)
SELECT r.id, 'applications.manage' FROM roles r
WHERE r.name = 'Administrator'
  AND NOT EXISTS (
      SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.permission = 'applications.manage'
  );
