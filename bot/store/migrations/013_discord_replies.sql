-- Replies from Discord (issue 18): members who let the bot post for them, and every reply the bot
-- signed for a member, from intent to chain.

-- A member's choice to post replies through the bot's account (granted on chain, used only while on).
CREATE TABLE reply_optins (
    user_id    INTEGER PRIMARY KEY,
    enabled    INTEGER NOT NULL,                 -- 1 after /reply enable, 0 after /reply disable
    changed_at REAL    NOT NULL
) STRICT;

-- Each reply's intent, stored with its signed transaction before the broadcast; settled from the chain
-- after a crash. The transaction holds signatures, never a key.
CREATE TABLE discord_replies (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,            -- the feed's channel that holds the thread
    thread_id       INTEGER NOT NULL,
    post_id         INTEGER NOT NULL,            -- the mirrored review the conversation is of
    user_id         INTEGER NOT NULL,            -- the member who posted
    author          TEXT    NOT NULL,            -- the member's linked account
    permlink        TEXT    NOT NULL,
    parent_author   TEXT    NOT NULL,
    parent_permlink TEXT    NOT NULL,
    message_id      INTEGER,                     -- the Discord copy: the bot's message, or the member's own
    own_message     INTEGER NOT NULL DEFAULT 0,  -- 1: message_id is the member's message (Post to Hive)
    trx_id          TEXT    NOT NULL,
    trx             TEXT    NOT NULL,
    expiration      TEXT    NOT NULL,            -- chain time, ISO 8601 UTC
    state           TEXT    NOT NULL CHECK (state IN ('signed', 'sent', 'landed', 'failed')),
    error           TEXT,
    created_at      REAL    NOT NULL,
    settled_at      REAL,
    next_check      REAL    NOT NULL DEFAULT 0,
    checks          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX discord_replies_once ON discord_replies (author, permlink) WHERE state != 'failed';
-- One Discord message is posted once: a second Post to Hive on it finds the first.
CREATE UNIQUE INDEX discord_replies_message ON discord_replies (message_id) WHERE state != 'failed' AND own_message = 1;
CREATE INDEX discord_replies_open ON discord_replies (state) WHERE state IN ('signed', 'sent');
CREATE INDEX discord_replies_member ON discord_replies (user_id, created_at);

-- The thread a command runs in names the mirrored post it belongs to.
CREATE INDEX threads_by_thread ON threads (thread_id);
