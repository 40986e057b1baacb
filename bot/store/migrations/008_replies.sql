-- The conversation of a post: every reply in its tree (replies to replies too), each with its root
-- post. One row per reply generation, like posts: a permlink may be reused after a delete.
CREATE TABLE replies (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES posts (id),   -- the root post of the tree
    author          TEXT    NOT NULL,
    permlink        TEXT    NOT NULL,
    parent_author   TEXT    NOT NULL,
    parent_permlink TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_block   INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    edits           INTEGER NOT NULL DEFAULT 0,
    deleted         INTEGER NOT NULL DEFAULT 0,
    deleted_block   INTEGER
) STRICT;
CREATE UNIQUE INDEX replies_live ON replies (author, permlink) WHERE deleted = 0;
CREATE INDEX replies_post ON replies (post_id);

-- The reply an outbox row or a job is about.
ALTER TABLE outbox ADD COLUMN reply_id INTEGER REFERENCES replies (id);
ALTER TABLE jobs ADD COLUMN reply_id INTEGER REFERENCES replies (id);

-- The thread that holds a post's conversation in a feed's channel: started on the mirrored message
-- (a text channel) or the forum post itself. Its id is the id of the message it starts from.
-- 'locked' or 'gone' (deleted) threads take no more replies.
CREATE TABLE threads (
    channel_id INTEGER NOT NULL,
    post_id    INTEGER NOT NULL REFERENCES posts (id),
    thread_id  INTEGER NOT NULL,
    forum      INTEGER NOT NULL DEFAULT 0,                     -- a forum post: its starter is the mirror
    state      TEXT    NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'locked', 'gone')),
    PRIMARY KEY (channel_id, post_id)
) STRICT;

-- The message that shows a reply in a thread, so its edit and delete find it.
CREATE TABLE reply_messages (
    channel_id INTEGER NOT NULL,                               -- the feed's channel
    reply_id   INTEGER NOT NULL REFERENCES replies (id),
    message_id INTEGER NOT NULL,
    PRIMARY KEY (channel_id, reply_id)
) STRICT;
