-- Search speed (issue 11).
--
-- Search joins each full-text match to its post only to check that the post is live and, with a
-- community filter, where it was posted. Covering, so that check never reads the post row: its
-- deleted flag sits after the body, in overflow pages (a third of a search's time at 100,000 reviews).
CREATE INDEX posts_search ON posts (id, deleted, community);

-- The full-text index again, with prefix indexes for 4- and 5-character prefixes: a prefix term
-- ("chai*", bot/search.py MIN_PREFIX) otherwise merges the lists of every indexed word starting
-- with it (300 ms for "chai*" over 100,000 reviews; 1 ms with the prefix index). The same words
-- as before, through search_text() as the triggers index them, so every search finds what it did.
-- Run once at start-up: about three minutes at 100,000 reviews on a busy 2-core machine, and the
-- index grows from ~140 to ~360 MB there.
DROP TRIGGER posts_fts_insert;
DROP TRIGGER posts_fts_delete;
DROP TRIGGER posts_fts_update;
DROP TABLE posts_fts;
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    title, series, tags, body,
    content = 'posts', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '4 5'
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
INSERT INTO posts_fts (rowid, title, series, tags, body)
    SELECT id, search_text(title), search_text(series), search_text(tags), search_text(body) FROM posts;
