-- A platform administrator works in one organisation at a time, chosen on the
-- Organisations or Users page; it is a property of the session, so every
-- replica sees it. NULL means the person's own organisation. Only honoured
-- while the account is still a platform administrator (sessions::resolve).
ALTER TABLE sessions ADD COLUMN working_organisation_id BIGINT REFERENCES organisations (id);
