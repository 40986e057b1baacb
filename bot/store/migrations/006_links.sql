-- Members are Hive accounts: one Discord user <-> one Hive account, proven without any key given to the bot.

CREATE TABLE links (
    user_id   INTEGER PRIMARY KEY,                  -- the Discord user
    account   TEXT    NOT NULL UNIQUE,              -- the Hive account they proved they hold
    proof     TEXT    NOT NULL CHECK (proof IN ('custom_json', 'signature')),
    proof_ref TEXT,                                 -- custom_json: the block it was seen in
    linked_at TEXT    NOT NULL                      -- ISO time: chain time for custom_json, wall time for a signature
) STRICT;

-- Every code /link issued in the last hour (older rows are pruned when a member asks again): the open
-- one proves ownership, the count of a member's rows in the last hour rate-limits /link.
CREATE TABLE link_challenges (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    account    TEXT    NOT NULL,                    -- the one account this code may link
    code       TEXT    NOT NULL,
    issued_at  REAL    NOT NULL,                    -- unix seconds
    expires_at REAL    NOT NULL,                    -- unix seconds; the chain path compares block time
    state      TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'used', 'replaced'))
) STRICT;
-- One open code per member: a new /link closes the previous one first.
CREATE UNIQUE INDEX link_challenges_open ON link_challenges (user_id) WHERE state = 'open';
CREATE INDEX link_challenges_issued ON link_challenges (user_id, issued_at);
