-- PostgreSQL's 0016 makes api_request_windows unlogged, so that counting a
-- REST call does not wait for the disk. SQLite needs nothing: in WAL mode
-- with synchronous = NORMAL (db.rs) no commit waits for the disk.
SELECT 1;
