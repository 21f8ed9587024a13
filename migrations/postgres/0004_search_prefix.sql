-- Searches made only of 1–2 character words (app/src/backend/search.rs,
-- `prefix_matches`) are answered from the four prefix indexes of 0002 alone,
-- by index-only scans: the matching ids, the page's sort keys (last and first
-- name), and, to keep the four ranges disjoint, the keys of the ranges before
-- (first name, last name, username, then email). users_by_first_name and
-- users_by_last_name hold both name keys already; the username and email
-- indexes get the keys they lack as INCLUDE columns, which are not part of
-- the index key: the order and the ranges these indexes serve are unchanged.
DROP INDEX users_by_username;
CREATE INDEX users_by_username ON users (organisation_id, username_key, id)
    INCLUDE (last_name_key, first_name_key);

DROP INDEX users_by_email;
CREATE INDEX users_by_email ON users (organisation_id, email_key, id)
    INCLUDE (last_name_key, first_name_key, username_key);
