"""A community's own moderation: the roles hivemind serves (community_roles) and the posts its
moderators muted (muted_posts); a reply they muted is hidden in place (replies.deleted = MUTED_REPLY)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.store.engine import Conn, Db, SyncConn

# A condition on a posts row: neither the post nor its author is muted by its community. For what is
# chosen from the store to show (a backfill, a /feed test preview).
NOT_MUTED = (
    " posts.id NOT IN (SELECT post_id FROM muted_posts) AND posts.author NOT IN"
    " (SELECT account FROM community_roles WHERE community = posts.community AND role = 'muted')"
)


# replies.deleted of a reply the community's moderators muted: hidden like a deleted one (every "live"
# query reads deleted = 0), but still on chain, so unmutePost brings it back (0); 1 is deleted on chain.
MUTED_REPLY = 2
# A setRole the follower applied is kept over a list hivemind serves that disagrees, for this long after
# its block: hivemind lags the chain by seconds, so a list read later than this has seen the op (and a
# disagreement then is hivemind's own ruling, which wins).
PATIENCE = 600.0


async def muted_notes(conn: Conn) -> dict[int, str]:
    """Every muted post's id and its moderators' notes: a handful, read once per planning pass."""
    async with conn.execute("SELECT post_id, notes FROM muted_posts") as cur:
        return {int(r[0]): str(r[1]) for r in await cur.fetchall()}


@dataclass(frozen=True, slots=True)
class RoleOp:
    """A setRole the follower applied: `set_at` is its block's time (unix seconds)."""

    community: str
    account: str
    role: str
    set_at: float


class ChainModeration:
    """The follower's moderation statements, inside the batch's transaction (see ChainWriter)."""

    def __init__(self, conn: SyncConn) -> None:
        self._conn = conn
        self.roles_set: list[RoleOp] = []  # applied in this batch, in chain order

    def role(self, community: str, account: str) -> str:
        """The account's stored role in the community; "guest" when none is listed."""
        row = self._conn.execute(
            "SELECT role FROM community_roles WHERE community = ? AND account = ?", (community, account)
        ).fetchone()
        return str(row[0]) if row else "guest"

    def set_role(self, community: str, account: str, role: str, *, set_at: float) -> None:
        """A setRole op applied (its block's time `set_at`, unix seconds): the title hivemind gave stays;
        the op is told to the roles' refresh once the batch commits (`roles_set`), so a list hivemind
        serves before it has seen the op does not undo it (ModerationTables.replace_roles)."""
        self._conn.execute(
            "INSERT INTO community_roles (community, account, role) VALUES (?, ?, ?)"
            " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role",
            (community, account, role),
        )
        self.roles_set.append(RoleOp(community, account, role, set_at))

    def mute_post(self, post_id: int, *, notes: str, actor: str, block_num: int, at: str) -> bool:
        """False when the post is muted already (hivemind refuses a second mute)."""
        cur = self._conn.execute(
            "INSERT INTO muted_posts (post_id, notes, muted_by, block_num, muted_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (post_id) DO NOTHING",
            (post_id, notes, actor, block_num, at),
        )
        return cur.rowcount == 1

    def unmute_post(self, post_id: int) -> bool:
        """False when the post was not muted."""
        return self._conn.execute("DELETE FROM muted_posts WHERE post_id = ?", (post_id,)).rowcount == 1

    def muted_reply_ref(self, author: str, permlink: str) -> tuple[int, int, str] | None:
        """(reply id, root post id, community) of a reply the moderators muted (the newest of that key)."""
        row = self._conn.execute(
            "SELECT r.id, r.post_id, p.community FROM replies r JOIN posts p ON p.id = r.post_id"
            " WHERE r.author = ? AND r.permlink = ? AND r.deleted = ? ORDER BY r.id DESC LIMIT 1",
            (author, permlink, MUTED_REPLY),
        ).fetchone()
        return (int(row[0]), int(row[1]), str(row[2])) if row else None

    def unmute_reply(self, reply_id: int) -> bool:
        """The muted reply live again; False when it was not muted (or its key is live again)."""
        cur = self._conn.execute(
            "UPDATE replies SET deleted = 0 WHERE id = ? AND deleted = ? AND NOT EXISTS (SELECT 1 FROM replies"
            " l WHERE l.author = replies.author AND l.permlink = replies.permlink AND l.deleted = 0)",
            (reply_id, MUTED_REPLY),
        )
        return cur.rowcount == 1


class ModerationTables:
    """Named operations on community_roles and muted_posts, for the roles' refresh and delivery."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def replace_roles(
        self,
        community: str,
        rows: Sequence[tuple[str, str, str]],
        read_at: float,
        recent: Mapping[str, tuple[str, float]] | None = None,
    ) -> set[str]:
        """The community's roles as hivemind listed them now, in place of the stored ones, at once; but a
        setRole the follower applied recently (`recent`: account -> role, its block's time) keeps its role
        where the list disagrees, for PATIENCE after its block. Returns the accounts so kept: hivemind has
        not caught up with them yet (the caller reads again soon); the others in `recent` are settled."""
        listed = {account: role for account, role, _ in rows}
        kept = {
            account
            for account, (role, at) in (recent or {}).items()
            if listed.get(account, "guest") != role and read_at - at <= PATIENCE
        }
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM community_roles WHERE community = ?", (community,))
            await conn.executemany(
                "INSERT INTO community_roles (community, account, role, title) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role, title = excluded.title",
                [(community, account, role, title) for account, role, title in rows],
            )
            await conn.executemany(
                "INSERT INTO community_roles (community, account, role) VALUES (?, ?, ?)"
                " ON CONFLICT (community, account) DO UPDATE SET role = excluded.role",
                [(community, account, (recent or {})[account][0]) for account in sorted(kept)],
            )
            await conn.execute(
                "INSERT INTO community_roles_read (community, read_at) VALUES (?, ?)"
                " ON CONFLICT (community) DO UPDATE SET read_at = excluded.read_at",
                (community, read_at),
            )
        return kept

    async def roles_read_at(self, community: str) -> float | None:
        """When the community's list was last read whole (wall time), or None if never."""
        async with self._db.reader.execute(
            "SELECT read_at FROM community_roles_read WHERE community = ?", (community,)
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row else None

    async def is_muted(self, post_id: int) -> bool:
        """Whether the community's moderators muted the post."""
        return await self.mute_notes(post_id) is not None

    async def is_muted_account(self, community: str, account: str) -> bool:
        """Whether the community lists the account as muted (its role 'muted')."""
        async with self._db.reader.execute(
            "SELECT 1 FROM community_roles WHERE community = ? AND account = ? AND role = 'muted'", (community, account)
        ) as cur:
            return await cur.fetchone() is not None

    async def mute_notes(self, post_id: int) -> str | None:
        """The moderators' notes on a muted post; None when it is not muted."""
        async with self._db.reader.execute("SELECT notes FROM muted_posts WHERE post_id = ?", (post_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None
