-- Feed filters, as bot/store/migrations/011_feed_filters.sql on SQLite.
ALTER TABLE feeds ADD COLUMN filter_tags            TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_exclude_tags    TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_authors         TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_exclude_authors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_min_reputation  DOUBLE PRECISION;
