-- Throttling counts each attempt before judging it, with a conditional
-- update of one row per counter (backend/throttle.rs), instead of counting
-- events after the fact, which a burst of parallel attempts could all pass.
CREATE TABLE throttle_counters (
    kind          TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX throttle_counters_last_at ON throttle_counters (last_at);

DROP TABLE throttle_events;
