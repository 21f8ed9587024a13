-- Recovery codes are stored as keyed hashes (HMAC-SHA256 under the server
-- key, backend/two_factor.rs); codes made before keep their bare SHA-256,
-- marked here, until they are used or replaced.
ALTER TABLE recovery_codes ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0 CHECK (keyed IN (0, 1));

-- A delivered email keeps no readable link: the worker blanks its bodies
-- once it is sent (backend/mail/outbox.rs), and housekeeping removes sent
-- rows after a while. These are the ones sent before.
UPDATE email_outbox SET body_text = '', body_html = '' WHERE sent_at IS NOT NULL;
