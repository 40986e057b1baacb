"""Curation from Discord: each server's curator rules, and every vote the bot signed, from intent to chain."""

from __future__ import annotations

from typing import Any

from bot.domain import CastVote, CurationRule, VoteState
from bot.store.engine import Db, Row
from bot.store.intents import insert_signed
from bot.store.jobs import insert_job

_VOTE_COLUMNS = (
    "id, community, voter, post_id, author, permlink, weight, guild_id, user_id, trx_id, trx, expiration,"
    " state, error, created_at, checks"
)
_RULE_COLUMNS = "guild_id, community, role_id, weight, daily_cap, audit_channel"


def _vote(row: Row) -> CastVote:
    return CastVote(**{key: row[key] for key in row.keys()})  # noqa: SIM118  (a Row is not a mapping)


def _rule(row: Row) -> CurationRule:
    return CurationRule(**{key: row[key] for key in row.keys()})  # noqa: SIM118


class CurationTables:
    def __init__(self, db: Db) -> None:
        self._db = db

    # Rules ---------------------------------------------------------------------------------------

    async def set_rule(self, rule: CurationRule, at: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                f"INSERT INTO curation_rules ({_RULE_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, community) DO UPDATE SET role_id = excluded.role_id,"
                " weight = excluded.weight, daily_cap = excluded.daily_cap,"
                " audit_channel = excluded.audit_channel, updated_at = excluded.updated_at",
                (rule.guild_id, rule.community, rule.role_id, rule.weight, rule.daily_cap, rule.audit_channel, at),
            )

    async def remove_rule(self, guild_id: int, community: str) -> bool:
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM curation_rules WHERE guild_id = ? AND community = ?", (guild_id, community)
            )
            return bool(cur.rowcount > 0)

    async def rule(self, guild_id: int, community: str) -> CurationRule | None:
        async with self._db.reader.execute(
            f"SELECT {_RULE_COLUMNS} FROM curation_rules WHERE guild_id = ? AND community = ?", (guild_id, community)
        ) as cur:
            row = await cur.fetchone()
        return _rule(row) if row else None

    async def rules(self, guild_id: int) -> list[CurationRule]:
        async with self._db.reader.execute(
            f"SELECT {_RULE_COLUMNS} FROM curation_rules WHERE guild_id = ? ORDER BY community", (guild_id,)
        ) as cur:
            return [_rule(r) for r in await cur.fetchall()]

    # Votes ---------------------------------------------------------------------------------------

    async def record_intent(self, fields: dict[str, Any], created_at: float) -> tuple[CastVote, bool]:
        """Stores a signed vote before it is broadcast: (the vote, True), or (the vote already made for that
        post by that account, False). The unique index makes two presses at once one vote."""
        async with self._db.write() as conn:
            vote_id = await insert_signed(conn, "curation_votes", fields, created_at)
            made = vote_id is not None
            async with conn.execute(
                f"SELECT {_VOTE_COLUMNS} FROM curation_votes WHERE "
                + ("id = ?" if made else "voter = ? AND author = ? AND permlink = ? AND state != 'failed'"),
                (vote_id,) if made else (fields["voter"], fields["author"], fields["permlink"]),
            ) as found:
                row = await found.fetchone()
        assert row is not None
        return _vote(row), made

    async def vote_on(self, voter: str, author: str, permlink: str) -> CastVote | None:
        """The vote (not failed) the account made on the post from Discord, if any."""
        async with self._db.reader.execute(
            f"SELECT {_VOTE_COLUMNS} FROM curation_votes"
            " WHERE voter = ? AND author = ? AND permlink = ? AND state != 'failed'",
            (voter, author, permlink),
        ) as cur:
            row = await cur.fetchone()
        return _vote(row) if row else None

    async def vote(self, vote_id: int) -> CastVote | None:
        async with self._db.reader.execute(
            f"SELECT {_VOTE_COLUMNS} FROM curation_votes WHERE id = ?", (vote_id,)
        ) as cur:
            row = await cur.fetchone()
        return _vote(row) if row else None

    async def curator_votes_since(self, guild_id: int, user_id: int, since: float) -> int:
        async with self._db.reader.execute(
            "SELECT count(*) FROM curation_votes WHERE guild_id = ? AND user_id = ? AND created_at >= ?"
            " AND state != 'failed'",
            (guild_id, user_id, since),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def account_votes_since(self, voter: str, since: float) -> int:
        async with self._db.reader.execute(
            "SELECT count(*) FROM curation_votes WHERE voter = ? AND created_at >= ? AND state != 'failed'",
            (voter, since),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def settle(self, vote_id: int, state: VoteState, at: float, error: str | None = None) -> bool:
        """Moves an open vote on; a landed or failed vote is final and gets its audit report (in the
        server's audit channel, if it has one) in the same transaction. False when it was final already."""
        final = state in ("landed", "failed")
        async with self._db.write() as conn:
            cur = await conn.execute(
                "UPDATE curation_votes SET state = ?, error = coalesce(?, error), settled_at = ?"
                " WHERE id = ? AND state IN ('signed', 'sent')",
                (state, error, at if final else None, vote_id),
            )
            if cur.rowcount == 0:
                return False
            if final:
                async with conn.execute(
                    "SELECT r.audit_channel FROM curation_votes v JOIN curation_rules r"
                    " ON r.guild_id = v.guild_id AND r.community = v.community WHERE v.id = ?",
                    (vote_id,),
                ) as found:
                    row = await found.fetchone()
                if row is not None and row["audit_channel"]:
                    await insert_job(conn, int(row["audit_channel"]), "audit", detail={"vote": vote_id})
        return True

    async def open_votes(self, now: float) -> list[CastVote]:
        """Votes not yet settled whose next look at the chain is due."""
        async with self._db.reader.execute(
            f"SELECT {_VOTE_COLUMNS} FROM curation_votes WHERE state IN ('signed', 'sent') AND next_check <= ?"
            " ORDER BY id",
            (now,),
        ) as cur:
            return [_vote(r) for r in await cur.fetchall()]

    async def has_open_votes(self) -> bool:
        async with self._db.reader.execute(
            "SELECT 1 FROM curation_votes WHERE state IN ('signed', 'sent') LIMIT 1"
        ) as cur:
            return await cur.fetchone() is not None

    async def check_later(self, vote_id: int, at: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE curation_votes SET next_check = ?, checks = checks + 1 WHERE id = ?", (at, vote_id)
            )

    async def chain_weight(self, post_id: int, voter: str) -> int | None:
        """The weight of `voter`'s vote on the post as the follower stored it from the chain."""
        async with self._db.reader.execute(
            "SELECT weight FROM votes WHERE post_id = ? AND voter = ?", (post_id, voter)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def log(self, guild_id: int, offset: int, limit: int) -> tuple[list[CastVote], int]:
        """A page of the server's votes, newest first, and how many there are."""
        async with self._db.reader.execute(
            f"SELECT {_VOTE_COLUMNS} FROM curation_votes WHERE guild_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        ) as cur:
            votes = [_vote(r) for r in await cur.fetchall()]
        async with self._db.reader.execute(
            "SELECT count(*) FROM curation_votes WHERE guild_id = ?", (guild_id,)
        ) as cur:
            row = await cur.fetchone()
        return votes, int(row[0]) if row else 0

    async def pressed_by(self, voter: str, post_id: int) -> int | None:
        """The member whose press made `voter`'s vote on the post, for the vote's relay."""
        async with self._db.reader.execute(
            "SELECT user_id FROM curation_votes WHERE voter = ? AND post_id = ? AND state != 'failed'"
            " ORDER BY id DESC LIMIT 1",
            (voter, post_id),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None
