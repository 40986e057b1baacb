-- Feed options for the conversation, as bot/store/migrations/005_feed_threads.sql on SQLite. There
-- the jobs and outbox tables are rebuilt to drop their CHECKs on action and kind (the code's Literal
-- types check them from here on); here the constraints are dropped in place, same columns, same order.
ALTER TABLE feeds ADD COLUMN threads TEXT NOT NULL DEFAULT 'off' CHECK (threads IN ('off', 'on', 'forum'));
ALTER TABLE feeds ADD COLUMN mute TEXT NOT NULL DEFAULT '[]';
ALTER TABLE feeds ADD COLUMN mention_authors SMALLINT NOT NULL DEFAULT 1;

ALTER TABLE jobs DROP CONSTRAINT jobs_action_check;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
