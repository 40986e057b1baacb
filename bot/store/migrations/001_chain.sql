-- The chain side: what the follower writes. One row per post generation (a permlink may be reused
-- after a delete, so only live rows are unique by author/permlink).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE posts (
    id             INTEGER PRIMARY KEY,
    author         TEXT    NOT NULL,
    permlink       TEXT    NOT NULL,
    community      TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    json_metadata  TEXT    NOT NULL,
    tags           TEXT    NOT NULL,            -- JSON list of strings
    series         TEXT,
    series_key     TEXT,
    image          TEXT,
    created_block  INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,            -- block time, ISO 8601 UTC
    updated_block  INTEGER NOT NULL,
    updated_at     TEXT    NOT NULL,
    edits          INTEGER NOT NULL DEFAULT 0,
    deleted        INTEGER NOT NULL DEFAULT 0,
    deleted_block  INTEGER
    -- The vote count and pending payout are read from votes: rewriting a post row (body and all)
    -- on every vote cost more than the rest of a batch together.
) STRICT;
CREATE UNIQUE INDEX posts_live ON posts (author, permlink) WHERE deleted = 0;
-- Covering, so the list of series (autocomplete, suggestions) never reads the post rows.
CREATE INDEX posts_series ON posts (series_key, series);
CREATE INDEX posts_community ON posts (community);
CREATE INDEX posts_created ON posts (created_at);
CREATE INDEX posts_author ON posts (author);

-- Full-text index over what users search. External content keeps one copy of each body. The
-- indexed text goes through search_text() (registered by the store): unicode61 knows Unicode 6.1
-- only, so a newer emoji glued to a word ("🤖Mars") would otherwise hide the word.
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    title, series, tags, body,
    content = 'posts', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, title, series, tags, body)
    VALUES (new.id, search_text(new.title), search_text(new.series), search_text(new.tags), search_text(new.body));
END;
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, series, tags, body)
    VALUES ('delete', old.id, search_text(old.title), search_text(old.series), search_text(old.tags), search_text(old.body));
END;
CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, series, tags, body ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, series, tags, body)
    VALUES ('delete', old.id, search_text(old.title), search_text(old.series), search_text(old.tags), search_text(old.body));
    INSERT INTO posts_fts (rowid, title, series, tags, body)
    VALUES (new.id, search_text(new.title), search_text(new.series), search_text(new.tags), search_text(new.body));
END;

-- Current vote of each voter on a post; a re-vote replaces it, weight 0 is a removed vote.
CREATE TABLE votes (
    post_id        INTEGER NOT NULL REFERENCES posts (id),
    voter          TEXT    NOT NULL,
    weight         INTEGER NOT NULL,
    rshares        INTEGER,
    pending_payout TEXT,
    block_num      INTEGER NOT NULL,
    voted_at       TEXT    NOT NULL,
    PRIMARY KEY (post_id, voter)
) STRICT;

CREATE TABLE badges (
    id          INTEGER PRIMARY KEY,
    recipient   TEXT    NOT NULL,
    badge       TEXT    NOT NULL,
    image_url   TEXT    NOT NULL,
    achievement TEXT    NOT NULL,
    next_target TEXT,
    notice      TEXT    NOT NULL UNIQUE,        -- permlink of the hivebuzz notice
    block_num   INTEGER NOT NULL,
    awarded_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX badges_recipient ON badges (recipient);

-- Everything the chain produced that Discord may want to hear about, in chain order. Delivery
-- reads it forward; ids are assigned in the same transaction that moves the cursor.
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL CHECK (kind IN ('post_created', 'post_edited', 'post_deleted', 'vote', 'badge')),
    community TEXT,
    post_id   INTEGER REFERENCES posts (id),
    badge_id  INTEGER REFERENCES badges (id),
    voter     TEXT,
    weight    INTEGER,
    block_num INTEGER NOT NULL,
    at        TEXT    NOT NULL                  -- block time: vote digests are windowed in chain time
) STRICT;
CREATE INDEX outbox_post ON outbox (post_id);
