-- Delivery lanes and finished jobs, as bot/store/migrations/004_lanes.sql on SQLite.
CREATE TABLE lanes (
    lane_id    BIGINT           PRIMARY KEY,
    state      TEXT             NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'backoff', 'refused')),
    failures   INTEGER          NOT NULL DEFAULT 0,
    retry_at   DOUBLE PRECISION NOT NULL DEFAULT 0,
    reason     TEXT,
    refused_at DOUBLE PRECISION
);

ALTER TABLE jobs ADD COLUMN finished_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN error_status INTEGER;
ALTER TABLE jobs ADD COLUMN error_code INTEGER;
-- Whole seconds, as SQLite's CAST(strftime('%s', 'now') AS REAL).
UPDATE jobs SET finished_at = floor(extract(epoch FROM now())) WHERE state != 'pending';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state != 'pending';

ALTER TABLE feeds ADD COLUMN last_error TEXT;
ALTER TABLE feeds ADD COLUMN error_code INTEGER;
ALTER TABLE feeds ADD COLUMN error_streak INTEGER NOT NULL DEFAULT 0;
