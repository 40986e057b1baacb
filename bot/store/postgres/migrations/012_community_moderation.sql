-- The community's own moderation, as bot/store/migrations/012_community_moderation.sql on SQLite.

CREATE TABLE community_roles (
    community TEXT NOT NULL,
    account   TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('muted', 'guest', 'member', 'mod', 'admin', 'owner')),
    title     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (community, account)
);

CREATE TABLE community_roles_read (
    community TEXT             PRIMARY KEY,
    read_at   DOUBLE PRECISION NOT NULL
);

CREATE TABLE muted_posts (
    post_id   BIGINT PRIMARY KEY REFERENCES posts (id),
    notes     TEXT   NOT NULL,
    muted_by  TEXT   NOT NULL,
    block_num BIGINT NOT NULL,
    muted_at  TEXT   NOT NULL
);
