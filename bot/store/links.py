"""Links between Discord users and Hive accounts, and the /link codes that prove them: the SQL behind
/link, /verify, /unlink, /whois and the custom_json proofs the follower sees."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from bot.domain import Link, LinkChallenge, LinkChange, LinkProof
from bot.store.engine import Db, Row, SyncConn

_LINK_COLUMNS = "user_id, account, proof, proof_ref, linked_at"
_CHALLENGE_COLUMNS = "id, user_id, account, code, issued_at, expires_at, state"
# How far back /link requests count against a member's hourly allowance.
RATE_WINDOW = 3600.0

# Heard after the batch that made them committed: links the follower completed from custom_json ops.
ChainLinksListener = Callable[[Sequence[LinkChange]], Awaitable[None]]
ChallengeOutcome = Literal["opened", "too_many"]


def link_from_row(row: Row) -> Link:
    return Link(
        user_id=int(row["user_id"]),
        account=row["account"],
        proof=row["proof"],
        linked_at=row["linked_at"],
        proof_ref=row["proof_ref"],
    )


def challenge_from_row(row: Row) -> LinkChallenge:
    return LinkChallenge(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        account=row["account"],
        code=row["code"],
        issued_at=float(row["issued_at"]),
        expires_at=float(row["expires_at"]),
        state=row["state"],
    )


def codes_match(given: str, issued: str) -> bool:
    """Constant-time comparison: how long it takes says nothing about how much of a code was right."""
    return hmac.compare_digest(given.encode(), issued.encode())


def _pair(conn: SyncConn, link: Link) -> LinkChange:
    """Makes `link` the pairing of its user and of its account, ending any other pairing of either."""
    old = [
        link_from_row(r)
        for r in conn.execute(
            f"SELECT {_LINK_COLUMNS} FROM links WHERE user_id = ? OR account = ?", (link.user_id, link.account)
        ).fetchall()
    ]
    unchanged = any(o.user_id == link.user_id and o.account == link.account for o in old)
    conn.execute("DELETE FROM links WHERE user_id = ? OR account = ?", (link.user_id, link.account))
    conn.execute(
        f"INSERT INTO links ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        (link.user_id, link.account, link.proof, link.proof_ref, link.linked_at),
    )
    if unchanged:
        return LinkChange(linked=None)  # proven again: nothing moved
    return LinkChange(linked=link, unlinked=tuple(old))


def complete_on_chain(
    conn: SyncConn, *, user_id: int, account: str, code: str, chain_time: float, block_num: int, at: str
) -> LinkChange | None:
    """Inside a chain batch: links `user_id` to `account` when `code` is that member's open code for
    exactly that account and had not expired at `chain_time`. None when nothing was linked."""
    row = conn.execute(
        f"SELECT {_CHALLENGE_COLUMNS} FROM link_challenges WHERE user_id = ? AND state = 'open'", (user_id,)
    ).fetchone()
    if row is None:
        return None
    challenge = challenge_from_row(row)
    if challenge.account != account or not codes_match(code, challenge.code) or chain_time > challenge.expires_at:
        return None
    conn.execute("UPDATE link_challenges SET state = 'used' WHERE id = ?", (challenge.id,))
    return _pair(conn, Link(user_id, account, "custom_json", at, str(block_num)))


class LinkTables:
    """Named operations on links and /link codes."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._open_until = 0.0  # the latest expiry of an open code (unix seconds); 0 when none

    async def load(self) -> None:
        """Reads when the open codes expire (at start-up)."""
        async with self._db.reader.execute(
            "SELECT coalesce(max(expires_at), 0) AS until FROM link_challenges WHERE state = 'open'"
        ) as cur:
            row = await cur.fetchone()
        self._open_until = float(row["until"]) if row else 0.0

    def claims_until(self) -> str:
        """The chain time, as blocks write it, up to which a custom_json could use an open code ("" when no
        code is open): the follower reads no custom_json in later blocks."""
        if not self._open_until:
            return ""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self._open_until))

    async def account_of(self, user_id: int) -> str | None:
        async with self._db.reader.execute("SELECT account FROM links WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        return str(row["account"]) if row else None

    async def user_of(self, account: str) -> int | None:
        async with self._db.reader.execute("SELECT user_id FROM links WHERE account = ?", (account,)) as cur:
            row = await cur.fetchone()
        return int(row["user_id"]) if row else None

    async def of_user(self, user_id: int) -> Link | None:
        async with self._db.reader.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        return link_from_row(row) if row else None

    async def of_account(self, account: str) -> Link | None:
        async with self._db.reader.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE account = ?", (account,)) as cur:
            row = await cur.fetchone()
        return link_from_row(row) if row else None

    async def all_links(self) -> list[Link]:
        async with self._db.reader.execute(f"SELECT {_LINK_COLUMNS} FROM links ORDER BY user_id") as cur:
            return [link_from_row(r) for r in await cur.fetchall()]

    async def open_challenge(
        self, *, user_id: int, account: str, code: str, now: float, ttl: float, per_hour: int
    ) -> ChallengeOutcome:
        """Issues `code` for `account`, replacing the member's open code, unless they already asked
        `per_hour` times in the last hour."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM link_challenges WHERE issued_at < ?", (now - RATE_WINDOW,))
            async with conn.execute(
                "SELECT count(*) AS n FROM link_challenges WHERE user_id = ? AND issued_at >= ?",
                (user_id, now - RATE_WINDOW),
            ) as cur:
                row = await cur.fetchone()
            if row is not None and int(row["n"]) >= per_hour:
                return "too_many"
            await conn.execute(
                "UPDATE link_challenges SET state = 'replaced' WHERE user_id = ? AND state = 'open'", (user_id,)
            )
            await conn.execute(
                "INSERT INTO link_challenges (user_id, account, code, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, account, code, now, now + ttl),
            )
        self._open_until = max(self._open_until, now + ttl)
        return "opened"

    async def latest_challenge(self, user_id: int) -> LinkChallenge | None:
        """The member's most recent code, whatever its state."""
        async with self._db.reader.execute(
            f"SELECT {_CHALLENGE_COLUMNS} FROM link_challenges WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return challenge_from_row(row) if row else None

    async def complete(self, challenge: LinkChallenge, *, proof: LinkProof, at: str) -> LinkChange | None:
        """Uses `challenge` to link its member to its account, if it is still open (not used meanwhile by
        the chain or another /verify, nor replaced). None when it no longer was."""

        def use(conn: SyncConn) -> LinkChange | None:
            cur = conn.execute(
                "UPDATE link_challenges SET state = 'used' WHERE id = ? AND state = 'open'", (challenge.id,)
            )
            if cur.rowcount != 1:
                return None
            return _pair(conn, Link(challenge.user_id, challenge.account, proof, at))

        return await self._db.batch(use)

    async def unlink(self, user_id: int) -> Link | None:
        async with self._db.write() as conn:
            async with conn.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE user_id = ?", (user_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute("DELETE FROM links WHERE user_id = ?", (user_id,))
        return link_from_row(row)

    async def posts_mirrored(self, account: str, guild_id: int) -> int:
        """How many of `account`'s posts were mirrored into this server's feed channels."""
        async with self._db.reader.execute(
            "SELECT count(DISTINCT m.post_id) AS n FROM mirrors m JOIN posts p ON p.id = m.post_id"
            " WHERE p.author = ? AND m.channel_id IN (SELECT channel_id FROM feeds WHERE guild_id = ?)",
            (account, guild_id),
        ) as cur:
            row = await cur.fetchone()
        return int(row["n"]) if row else 0

    async def badges_of(self, account: str) -> list[str]:
        """The HiveBuzz badges seen awarded to `account`, newest first, each once."""
        async with self._db.reader.execute(
            "SELECT badge FROM badges WHERE recipient = ? GROUP BY badge ORDER BY max(id) DESC", (account,)
        ) as cur:
            return [str(r["badge"]) for r in await cur.fetchall()]
