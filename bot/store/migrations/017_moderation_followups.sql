-- Issue 19's follow-ups: replies the community's moderators muted, and the setRole ops hivemind may not
-- list yet when its roles are read.

-- A reply (a comment in a kept post's tree) a moderator muted with mutePost; unmutePost deletes its row.
CREATE TABLE muted_replies (
    reply_id  INTEGER PRIMARY KEY REFERENCES replies (id),
    notes     TEXT    NOT NULL,
    muted_by  TEXT    NOT NULL,
    block_num INTEGER NOT NULL,
    muted_at  TEXT    NOT NULL
) STRICT;

-- The latest setRole the follower applied to each account, with its block's time (unix seconds). hivemind
-- applies blocks a little after the chain: a list read soon after that disagrees is taken as not having
-- seen the op yet, and the applied role stays until hivemind agrees or the op is old (store/moderation.py).
CREATE TABLE community_role_ops (
    community TEXT    NOT NULL,
    account   TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    block_num INTEGER NOT NULL,
    set_at    REAL    NOT NULL,
    PRIMARY KEY (community, account)
) STRICT, WITHOUT ROWID;
