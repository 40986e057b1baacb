-- The Discord side: which community goes where, and what is owed to each channel.

CREATE TABLE communities (
    name       TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    team       TEXT NOT NULL DEFAULT '[]',      -- JSON list of accounts with a team role
    fetched_at TEXT NOT NULL
) STRICT;

CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    community     TEXT    NOT NULL,
    posts         INTEGER NOT NULL DEFAULT 1,
    votes         TEXT    NOT NULL DEFAULT 'curators' CHECK (votes IN ('off', 'curators', 'all')),
    curators      TEXT    NOT NULL DEFAULT '[]', -- JSON list of extra curator accounts
    badges        INTEGER NOT NULL DEFAULT 1,
    role_id       INTEGER,
    outbox_cursor INTEGER NOT NULL,              -- last outbox id planned for this feed
    broken        TEXT,                          -- why delivery stopped; NULL while healthy
    created_by    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    UNIQUE (channel_id, community)
) STRICT;
CREATE INDEX feeds_guild ON feeds (guild_id);

-- What is owed to a channel, in the order it must arrive (id order within a channel). Each job is
-- sent with the nonce "hc" + the database's salt + its id, and enforce_nonce: a resend after a
-- crash between Discord's answer and its record returns the message already made. A direct
-- message to a user waits in the lane -user_id: its DM channel is opened when it is sent.
CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    feed_id    INTEGER REFERENCES feeds (id) ON DELETE CASCADE,
    action     TEXT    NOT NULL CHECK (action IN ('post', 'edit', 'tombstone', 'vote', 'votes', 'badge', 'preview', 'alert')),
    post_id    INTEGER REFERENCES posts (id),
    badge_id   INTEGER REFERENCES badges (id),
    user_id    INTEGER,                          -- the subscriber of an alert
    detail     TEXT,                             -- JSON: the voters of a vote message
    state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    message_id INTEGER,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
) STRICT;
CREATE INDEX jobs_pending ON jobs (channel_id, id) WHERE state = 'pending';

-- The message that mirrors a post in a channel, so edits, deletes and vote counts find it.
CREATE TABLE mirrors (
    channel_id   INTEGER NOT NULL,
    post_id      INTEGER NOT NULL REFERENCES posts (id),
    message_id   INTEGER NOT NULL,
    refreshed_at REAL    NOT NULL DEFAULT 0,     -- wall time of the last vote-count refresh
    stale        INTEGER NOT NULL DEFAULT 0,     -- votes arrived since that refresh
    PRIMARY KEY (channel_id, post_id)
) STRICT;

-- Votes gathered for one message per post per window of chain time ("all" vote mode).
CREATE TABLE vote_windows (
    feed_id  INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    post_id  INTEGER NOT NULL REFERENCES posts (id),
    opens_at TEXT    NOT NULL,
    voters   TEXT    NOT NULL,                   -- JSON list of [voter, weight]
    PRIMARY KEY (feed_id, post_id)
) STRICT;
