-- Delivery lanes (a channel id, or -user_id for a member's DM lane) that Discord refused or that
-- failed: a lane without a row is healthy. Kept across restarts, so a restart never turns a
-- backoff into a tight loop or forgets a refusal.
CREATE TABLE lanes (
    lane_id    INTEGER PRIMARY KEY,
    state      TEXT    NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'backoff', 'refused')),
    failures   INTEGER NOT NULL DEFAULT 0,       -- failed tries in a row
    retry_at   REAL    NOT NULL DEFAULT 0,       -- wall time before which nothing is sent there
    reason     TEXT,                             -- the last failure, for logs and /status
    refused_at REAL                              -- wall time of the refusal (state 'refused')
) STRICT;

-- When a job was finished (done or dropped), so finished jobs can be pruned after a while, and
-- Discord's answer when it rejected one (400): counted in /status.
ALTER TABLE jobs ADD COLUMN finished_at REAL;
ALTER TABLE jobs ADD COLUMN error_status INTEGER;
ALTER TABLE jobs ADD COLUMN error_code INTEGER;
UPDATE jobs SET finished_at = CAST(strftime('%s', 'now') AS REAL) WHERE state != 'pending';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state != 'pending';

-- The last send of a feed that Discord rejected, and how many in a row with the same code: a
-- feed whose sends keep failing the same way is marked broken instead of reporting healthy.
ALTER TABLE feeds ADD COLUMN last_error TEXT;
ALTER TABLE feeds ADD COLUMN error_code INTEGER;
ALTER TABLE feeds ADD COLUMN error_streak INTEGER NOT NULL DEFAULT 0;
