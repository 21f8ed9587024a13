-- Nothing to do on SQLite: PostgreSQL's 0004 makes its username and email
-- prefix indexes covering for index-only scans; SQLite answers 1–2 character
-- searches with a MULTI-INDEX OR over the indexes of 0002 and needs no more.
-- This file keeps the migration numbers of both backends aligned.
SELECT 1;
