-- Feed options for the conversation and for linked authors. Job actions and outbox kinds are
-- checked by the code's Literal types (bot/domain.py) from here on: a CHECK listing them would cost
-- a table rebuild for every new kind.
ALTER TABLE feeds ADD COLUMN threads TEXT NOT NULL DEFAULT 'off' CHECK (threads IN ('off', 'on', 'forum'));
ALTER TABLE feeds ADD COLUMN mute TEXT NOT NULL DEFAULT '[]';          -- JSON list of accounts kept out of threads
ALTER TABLE feeds ADD COLUMN mention_authors INTEGER NOT NULL DEFAULT 1;

CREATE TABLE jobs_005 (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL,
    feed_id      INTEGER REFERENCES feeds (id) ON DELETE CASCADE,
    action       TEXT    NOT NULL,
    post_id      INTEGER REFERENCES posts (id),
    badge_id     INTEGER REFERENCES badges (id),
    user_id      INTEGER,
    detail       TEXT,
    state        TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    message_id   INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    finished_at  REAL,
    error_status INTEGER,
    error_code   INTEGER
) STRICT;
INSERT INTO jobs_005 SELECT id, channel_id, feed_id, action, post_id, badge_id, user_id, detail, state,
    message_id, attempts, last_error, finished_at, error_status, error_code FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_005 RENAME TO jobs;
CREATE INDEX jobs_pending ON jobs (channel_id, id) WHERE state = 'pending';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state != 'pending';

CREATE TABLE outbox_005 (
    id        INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL,
    community TEXT,
    post_id   INTEGER REFERENCES posts (id),
    badge_id  INTEGER REFERENCES badges (id),
    voter     TEXT,
    weight    INTEGER,
    block_num INTEGER NOT NULL,
    at        TEXT    NOT NULL
) STRICT;
INSERT INTO outbox_005 SELECT id, kind, community, post_id, badge_id, voter, weight, block_num, at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_005 RENAME TO outbox;
CREATE INDEX outbox_post ON outbox (post_id);
