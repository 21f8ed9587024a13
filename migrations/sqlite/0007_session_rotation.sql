-- A change to what a person may do (their roles or profiles, or a role or
-- profile they hold) gives each of their live sessions a new id at its next
-- request (sessions::resolve). The replaced token keeps working for a short
-- grace, so requests the same browser already has in flight are not signed
-- out by the swap.
ALTER TABLE sessions ADD COLUMN rotation_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN previous_token_hash TEXT;
ALTER TABLE sessions ADD COLUMN previous_token_until INTEGER;
CREATE INDEX sessions_previous_token ON sessions (previous_token_hash) WHERE previous_token_hash IS NOT NULL;
