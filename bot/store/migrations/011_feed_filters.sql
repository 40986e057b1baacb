-- Feed filters (issue 19): which new posts a feed mirrors. Tag and account lists are JSON lists of
-- lowercase names; an empty list and a NULL minimum filter nothing.
ALTER TABLE feeds ADD COLUMN filter_tags            TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_exclude_tags    TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_authors         TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_exclude_authors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN filter_min_reputation  REAL;                -- Hive's displayed score

-- Authors' reputations are kept in account_facts (007) beside linked members': the follower reads
-- them for new posts of a community a feed filters by reputation, and the planner reads them there.