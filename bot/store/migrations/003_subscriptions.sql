-- Members who want to hear of new reviews of a series.

CREATE TABLE subscriptions (
    user_id    INTEGER NOT NULL,
    series_key TEXT    NOT NULL,
    series     TEXT    NOT NULL,                 -- the name as the member chose it
    delivery   TEXT    NOT NULL CHECK (delivery IN ('dm', 'here')),
    guild_id   INTEGER,                          -- where they subscribed: the fallback when DMs are closed
    channel_id INTEGER,                          -- the channel they subscribed in
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, series_key)
) STRICT;
CREATE INDEX subscriptions_series ON subscriptions (series_key);

-- Opened once, reused: a repeat alert costs one request.
CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL
) STRICT;

-- Members whose DMs refused an alert (50007), until they are told and subscribe again.
CREATE TABLE dm_closed (
    user_id INTEGER PRIMARY KEY,
    since   TEXT    NOT NULL,
    told    INTEGER NOT NULL DEFAULT 0
) STRICT;
