-- Search speed, as bot/store/migrations/009_search_speed.sql on SQLite: the covering index of a
-- match's live check and community. SQLite's rebuild of its FTS5 table with prefix indexes has no
-- counterpart: the GIN index of 001 answers a prefix term itself.
CREATE INDEX posts_search ON posts (id, deleted, community);
