-- Roles from Hive facts and personal notices, as bot/store/migrations/007_roles.sql on SQLite.

CREATE TABLE role_rules (
    role_id        BIGINT           PRIMARY KEY,
    guild_id       BIGINT           NOT NULL,
    kind           TEXT             NOT NULL CHECK (kind IN ('linked', 'subscriber', 'team', 'reputation')),
    community      TEXT,
    min_reputation DOUBLE PRECISION,
    created_by     BIGINT           NOT NULL,
    created_at     TEXT             NOT NULL
);
CREATE INDEX role_rules_guild ON role_rules (guild_id);

CREATE TABLE community_facts (
    community TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('subscriber', 'team')),
    account   TEXT NOT NULL,
    PRIMARY KEY (community, kind, account)
);
CREATE TABLE account_facts (
    account    TEXT             PRIMARY KEY,
    reputation DOUBLE PRECISION NOT NULL,
    read_at    TEXT             NOT NULL
);

CREATE TABLE role_grants (
    role_id  BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    guild_id BIGINT NOT NULL,
    state    TEXT   NOT NULL DEFAULT 'granted' CHECK (state IN ('granted', 'absent')),
    PRIMARY KEY (role_id, user_id)
);
CREATE INDEX role_grants_user ON role_grants (user_id);

ALTER TABLE jobs ADD COLUMN sent_at DOUBLE PRECISION;

CREATE TABLE notify_prefs (
    user_id    BIGINT   PRIMARY KEY,
    votes      SMALLINT NOT NULL DEFAULT 0,
    badges     SMALLINT NOT NULL DEFAULT 0,
    updated_at TEXT     NOT NULL
);
