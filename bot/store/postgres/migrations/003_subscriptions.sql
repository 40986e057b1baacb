-- Series subscriptions, as bot/store/migrations/003_subscriptions.sql on SQLite.

CREATE TABLE subscriptions (
    user_id    BIGINT NOT NULL,
    series_key TEXT   NOT NULL,
    series     TEXT   NOT NULL,
    delivery   TEXT   NOT NULL CHECK (delivery IN ('dm', 'here')),
    guild_id   BIGINT,
    channel_id BIGINT,
    created_at TEXT   NOT NULL,
    PRIMARY KEY (user_id, series_key)
);
CREATE INDEX subscriptions_series ON subscriptions (series_key);

CREATE TABLE dm_channels (
    user_id    BIGINT PRIMARY KEY,
    channel_id BIGINT NOT NULL
);

CREATE TABLE dm_closed (
    user_id BIGINT   PRIMARY KEY,
    since   TEXT     NOT NULL,
    told    SMALLINT NOT NULL DEFAULT 0
);
