-- Two-factor authentication: TOTP (RFC 6238) and recovery codes (PostgreSQL).

-- One row per person who has started or finished enrolling. Secrets are
-- stored as nonce ‖ AES-256-GCM ciphertext under the server's key
-- (setting `two_factor_key`), never in the clear.
CREATE TABLE two_factor (
    user_id         BIGINT PRIMARY KEY REFERENCES users (id),
    secret          BYTEA,
    enrolled_at     BIGINT,
    -- The newest 30-second step whose code was accepted: a code works once.
    last_step       BIGINT,
    -- A secret shown on the enrolment page, not yet confirmed by a code.
    pending_secret  BYTEA,
    pending_since   BIGINT,
    CHECK ((secret IS NULL) = (enrolled_at IS NULL)),
    CHECK ((pending_secret IS NULL) = (pending_since IS NULL))
);

-- Single-use recovery codes; only their SHA-256 is stored.
CREATE TABLE recovery_codes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    code_hash   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);

-- A session opened with a password by someone who has enrolled waits for
-- the authentication code. (Whether a person must enrol first is worked out
-- from their permissions on every request, so it is not stored.)
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'complete' CHECK (stage IN ('complete', 'code_required'));
-- Recovery codes just made, encrypted like secrets, until their page shows them once.
ALTER TABLE sessions ADD COLUMN recovery_codes_to_show BYTEA;
