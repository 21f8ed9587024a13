-- A REST call counts itself in api_request_windows (the per-token limit). As
-- a logged table, every call's commit waited for the write-ahead log to reach
-- the disk, one call at a time per token (its row is locked meanwhile), which
-- capped one busy token at about a thousand calls a second. The counts are
-- worth nothing after a minute: unlogged, a call's commit does not wait, and
-- a crash of the database (which empties unlogged tables) or a failover to a
-- standby (which does not receive them) starts every token's minute afresh.
ALTER TABLE api_request_windows SET UNLOGGED;
