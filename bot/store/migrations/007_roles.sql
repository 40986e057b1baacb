-- Roles from Hive facts, and personal notices for linked authors.

-- One rule per role: which linked members the bot gives it to.
CREATE TABLE role_rules (
    role_id        INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('linked', 'subscriber', 'team', 'reputation')),
    community      TEXT,                         -- subscriber and team rules
    min_reputation REAL,                         -- reputation rules; an extra condition on the others
    created_by     INTEGER NOT NULL,
    created_at     TEXT    NOT NULL
) STRICT;
CREATE INDEX role_rules_guild ON role_rules (guild_id);

-- The Hive facts behind the rules, as last read in bulk. A failed read keeps the old facts, so a
-- node outage takes no role away.
CREATE TABLE community_facts (
    community TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('subscriber', 'team')),
    account   TEXT NOT NULL,
    PRIMARY KEY (community, kind, account)
) STRICT, WITHOUT ROWID;
CREATE TABLE account_facts (
    account    TEXT PRIMARY KEY,
    reputation REAL NOT NULL,
    read_at    TEXT NOT NULL
) STRICT;

-- The roles the bot has given or is giving ('granted'), or found the member gone for ('absent'):
-- what the rules want minus these rows is what gets queued, so nothing is queued twice.
CREATE TABLE role_grants (
    role_id  INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,
    state    TEXT    NOT NULL DEFAULT 'granted' CHECK (state IN ('granted', 'absent')),
    PRIMARY KEY (role_id, user_id)
) STRICT;
CREATE INDEX role_grants_user ON role_grants (user_id);

-- Set just before a job's request goes out: a retry of a job that may have reached Discord checks
-- first instead of repeating it (role changes carry no nonce).
ALTER TABLE jobs ADD COLUMN sent_at REAL;

-- Which personal notices a linked author wants by DM, and where they asked (for the record).
CREATE TABLE notify_prefs (
    user_id    INTEGER PRIMARY KEY,
    votes      INTEGER NOT NULL DEFAULT 0,
    badges     INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT    NOT NULL
) STRICT;
