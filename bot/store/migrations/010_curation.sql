-- Curation from Discord (issue 17): who may vote from each server, and every vote the bot signed.

-- A server's curators for one community: their role, the default weight, each curator's daily cap
-- and where each vote is reported.
CREATE TABLE curation_rules (
    guild_id      INTEGER NOT NULL,
    community     TEXT    NOT NULL,
    role_id       INTEGER NOT NULL,
    weight        INTEGER NOT NULL,             -- basis points, 100..10000
    daily_cap     INTEGER NOT NULL,
    audit_channel INTEGER,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, community)
) STRICT;

-- Each vote's intent, stored with its signed transaction before the broadcast; settled from the
-- chain after a crash. The transaction holds signatures, never a key.
CREATE TABLE curation_votes (
    id            INTEGER PRIMARY KEY,
    community     TEXT    NOT NULL,
    voter         TEXT    NOT NULL,             -- the community's curation account
    post_id       INTEGER NOT NULL,
    author        TEXT    NOT NULL,
    permlink      TEXT    NOT NULL,
    weight        INTEGER NOT NULL,             -- basis points
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,             -- the curator who pressed
    trx_id        TEXT    NOT NULL,
    trx           TEXT    NOT NULL,
    expiration    TEXT    NOT NULL,             -- chain time, ISO 8601 UTC
    state         TEXT    NOT NULL CHECK (state IN ('signed', 'sent', 'landed', 'failed')),
    error         TEXT,
    created_at    REAL    NOT NULL,
    settled_at    REAL,
    next_check    REAL    NOT NULL DEFAULT 0,   -- when the chain is next asked about an unsettled vote
    checks        INTEGER NOT NULL DEFAULT 0
) STRICT;
-- One vote per post and account: a second press, from any server, finds the first.
CREATE UNIQUE INDEX curation_votes_once ON curation_votes (voter, author, permlink) WHERE state != 'failed';
CREATE INDEX curation_votes_open ON curation_votes (state) WHERE state IN ('signed', 'sent');
CREATE INDEX curation_votes_curator ON curation_votes (guild_id, user_id, created_at);
CREATE INDEX curation_votes_account ON curation_votes (voter, created_at);
CREATE INDEX curation_votes_guild ON curation_votes (guild_id, id);
