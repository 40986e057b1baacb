-- The community's own moderation (issue 19): the roles hivemind serves, and posts its moderators muted.

-- bridge.list_community_roles as last read (an account not listed is a guest), with setRole ops the
-- follower applied since. A failed read keeps these rows.
CREATE TABLE community_roles (
    community TEXT NOT NULL,
    account   TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('muted', 'guest', 'member', 'mod', 'admin', 'owner')),
    title     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (community, account)
) STRICT, WITHOUT ROWID;

-- When each community's list was last read whole (wall time), so the period counts across restarts.
CREATE TABLE community_roles_read (
    community TEXT PRIMARY KEY,
    read_at   REAL NOT NULL
) STRICT;

-- A post a moderator muted with mutePost; unmutePost deletes its row.
CREATE TABLE muted_posts (
    post_id   INTEGER PRIMARY KEY REFERENCES posts (id),
    notes     TEXT    NOT NULL,
    muted_by  TEXT    NOT NULL,
    block_num INTEGER NOT NULL,
    muted_at  TEXT    NOT NULL
) STRICT;
