-- Mail that cannot be delivered is visible (issue 13): which account a
-- message is about and what kind it is, so the account's page can say
-- whether its email is waiting, sent, being retried or failed; whether the
-- last failure was the server's or this message's; and when the worker
-- gave up on it (refused for good, or its link has expired by then).
ALTER TABLE email_outbox ADD COLUMN given_up_at INTEGER;
ALTER TABLE email_outbox ADD COLUMN user_id INTEGER REFERENCES users (id);
ALTER TABLE email_outbox ADD COLUMN kind TEXT;
ALTER TABLE email_outbox ADD COLUMN last_failure TEXT;
CREATE INDEX email_outbox_user ON email_outbox (user_id, id) WHERE user_id IS NOT NULL;
