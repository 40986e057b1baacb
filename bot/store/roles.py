"""Role rules, the Hive facts they read, the grants made, and the queue of role changes: the SQL behind /roles."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from bot.domain import Job, JobAction, RoleChanges, RoleKind, RoleRule
from bot.store.engine import Conn, Db, Row
from bot.store.jobs import insert_job

_RULE_COLUMNS = "role_id, guild_id, kind, community, min_reputation, created_by, created_at"

# Which (guild, member, role) the rules want now: linked members meeting each rule's Hive fact.
_DESIRED = """
    SELECT r.guild_id, l.user_id, r.role_id FROM role_rules r, links l
    WHERE (r.kind IN ('linked', 'reputation')
           OR (r.kind IN ('subscriber', 'team') AND EXISTS (SELECT 1 FROM community_facts f
               WHERE f.community = r.community AND f.kind = r.kind AND f.account = l.account)))
      AND (r.min_reputation IS NULL OR EXISTS (SELECT 1 FROM account_facts a
           WHERE a.account = l.account AND a.reputation >= r.min_reputation))
      AND (CAST(:user AS BIGINT) IS NULL OR l.user_id = :user)
"""


def rule_from_row(row: Row) -> RoleRule:
    return RoleRule(
        role_id=row["role_id"],
        guild_id=row["guild_id"],
        kind=row["kind"],
        community=row["community"],
        min_reputation=row["min_reputation"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def _pending_untried(conn: Conn, role_id: int, user_id: int, action: JobAction) -> int | None:
    async with conn.execute(
        "SELECT id FROM jobs WHERE channel_id = ? AND user_id = ? AND action = ? AND state = 'pending'"
        " AND sent_at IS NULL ORDER BY id DESC LIMIT 1",
        (role_id, user_id, action),
    ) as cur:
        row = await cur.fetchone()
    return int(row["id"]) if row else None


async def _supersede(conn: Conn, job_id: int) -> None:
    await conn.execute(
        "UPDATE jobs SET state = 'dropped', last_error = 'superseded before it was sent', finished_at = ? WHERE id = ?",
        (time.time(), job_id),
    )


class RoleTables:
    def __init__(self, db: Db) -> None:
        self._db = db

    # Rules -------------------------------------------------------------------------------------

    async def set_rule(
        self,
        *,
        guild_id: int,
        role_id: int,
        kind: RoleKind,
        community: str | None,
        min_reputation: float | None,
        created_by: int,
        at: str,
        max_rules: int | None = None,
    ) -> bool | None:
        """Adds or replaces the rule of a role; True when it is new. None, changing nothing, when it
        would be new and the guild already has `max_rules`."""
        async with self._db.write() as conn:
            async with conn.execute("SELECT 1 FROM role_rules WHERE role_id = ?", (role_id,)) as cur:
                existed = await cur.fetchone() is not None
            if not existed and max_rules is not None:
                # Counted in the write transaction: /roles set run at once many times cannot pass the cap.
                async with conn.execute("SELECT count(*) FROM role_rules WHERE guild_id = ?", (guild_id,)) as cur:
                    row = await cur.fetchone()
                if row is not None and int(row[0]) >= max_rules:
                    return None
            await conn.execute(
                f"INSERT INTO role_rules ({_RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (role_id) DO UPDATE SET kind = excluded.kind, community = excluded.community,"
                " min_reputation = excluded.min_reputation, created_by = excluded.created_by,"
                " created_at = excluded.created_at",
                (role_id, guild_id, kind, community, min_reputation, created_by, at),
            )
        return not existed

    async def remove_rule(self, guild_id: int, role_id: int) -> bool:
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM role_rules WHERE guild_id = ? AND role_id = ?", (guild_id, role_id))
            return bool(cur.rowcount > 0)

    async def forget_role(self, guild_id: int, role_id: int) -> bool:
        """The role was deleted in Discord: its rule, its grants, its unsent changes and its lane go,
        with nothing to take back (the role is gone from everyone). True when it had a rule."""
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM role_rules WHERE guild_id = ? AND role_id = ?", (guild_id, role_id))
            had_rule = bool(cur.rowcount > 0)
            await conn.execute("DELETE FROM role_grants WHERE guild_id = ? AND role_id = ?", (guild_id, role_id))
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = 'the role was deleted', finished_at = ?"
                " WHERE channel_id = ? AND action IN ('role_add', 'role_remove') AND state = 'pending'",
                (time.time(), role_id),
            )
            await conn.execute("DELETE FROM lanes WHERE lane_id = ?", (role_id,))
        return had_rule

    async def rules_of_guild(self, guild_id: int) -> list[RoleRule]:
        async with self._db.reader.execute(
            f"SELECT {_RULE_COLUMNS} FROM role_rules WHERE guild_id = ? ORDER BY created_at, role_id", (guild_id,)
        ) as cur:
            return [rule_from_row(r) for r in await cur.fetchall()]

    async def all_rules(self) -> list[RoleRule]:
        async with self._db.reader.execute(f"SELECT {_RULE_COLUMNS} FROM role_rules ORDER BY role_id") as cur:
            return [rule_from_row(r) for r in await cur.fetchall()]

    async def granted_counts(self, guild_id: int) -> dict[int, int]:
        """Members holding (or being given) each rule role of the guild."""
        async with self._db.reader.execute(
            "SELECT role_id, count(*) AS n FROM role_grants WHERE guild_id = ? AND state = 'granted' GROUP BY role_id",
            (guild_id,),
        ) as cur:
            return {int(r["role_id"]): int(r["n"]) for r in await cur.fetchall()}

    async def refusals(self, guild_id: int) -> dict[int, str]:
        """Why Discord refuses role changes, for each rule role of the guild whose lane it refused."""
        async with self._db.reader.execute(
            "SELECT l.lane_id, l.reason FROM lanes l JOIN role_rules r ON r.role_id = l.lane_id"
            " WHERE r.guild_id = ? AND l.state = 'refused'",
            (guild_id,),
        ) as cur:
            return {int(r["lane_id"]): str(r["reason"] or "refused") for r in await cur.fetchall()}

    # Facts -------------------------------------------------------------------------------------

    async def linked_accounts(self) -> list[str]:
        async with self._db.reader.execute("SELECT account FROM links ORDER BY account") as cur:
            return [str(r["account"]) for r in await cur.fetchall()]

    async def save_community_facts(self, community: str, kind: str, accounts: Iterable[str]) -> None:
        """Replaces what is known of a community's subscribers or team with a fresh read."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM community_facts WHERE community = ? AND kind = ?", (community, kind))
            await conn.executemany(
                "INSERT INTO community_facts (community, kind, account) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(community, kind, a) for a in accounts],
            )

    async def save_reputations(self, scores: Mapping[str, float], at: str) -> None:
        async with self._db.write() as conn:
            await conn.executemany(
                "INSERT INTO account_facts (account, reputation, read_at) VALUES (?, ?, ?) ON CONFLICT (account)"
                " DO UPDATE SET reputation = excluded.reputation, read_at = excluded.read_at",
                [(a, s, at) for a, s in scores.items()],
            )

    async def reputations_wanted(self, accounts: Iterable[str], read_before: str) -> list[str]:
        """Of `accounts`, those whose reputation is unknown here or was read before `read_before`."""
        names = sorted(set(accounts))
        fresh: set[str] = set()
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            async with self._db.reader.execute(
                f"SELECT account FROM account_facts WHERE read_at >= ? AND account IN ({', '.join('?' * len(chunk))})",
                (read_before, *chunk),
            ) as cur:
                fresh.update(str(r[0]) for r in await cur.fetchall())
        return [n for n in names if n not in fresh]

    # Grants ------------------------------------------------------------------------------------

    async def reconcile(self, user_id: int | None = None) -> RoleChanges:
        """Queues the difference between what the rules want and what was given, in one transaction.

        A change that undoes one still waiting unsent cancels it instead of queueing both: no flapping.
        """
        added = removed = 0
        params = {"user": user_id}
        async with self._db.write() as conn:
            async with conn.execute(
                f"WITH desired AS ({_DESIRED}) SELECT d.guild_id, d.user_id, d.role_id FROM desired d"
                " WHERE NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.role_id = d.role_id AND g.user_id = d.user_id)",
                params,
            ) as cur:
                adds = await cur.fetchall()
            async with conn.execute(
                f"WITH desired AS ({_DESIRED}) SELECT g.guild_id, g.user_id, g.role_id, g.state FROM role_grants g"
                " WHERE (CAST(:user AS BIGINT) IS NULL OR g.user_id = :user) AND NOT EXISTS"
                " (SELECT 1 FROM desired d WHERE d.role_id = g.role_id AND d.user_id = g.user_id)",
                params,
            ) as cur:
                removes = await cur.fetchall()
            for row in adds:
                guild, user, role = int(row["guild_id"]), int(row["user_id"]), int(row["role_id"])
                await conn.execute(
                    "INSERT INTO role_grants (role_id, user_id, guild_id) VALUES (?, ?, ?)", (role, user, guild)
                )
                undone = await _pending_untried(conn, role, user, "role_remove")
                if undone is not None:
                    await _supersede(conn, undone)
                else:
                    await insert_job(conn, role, "role_add", user_id=user, detail={"guild_id": guild})
                    added += 1
            for row in removes:
                guild, user, role = int(row["guild_id"]), int(row["user_id"]), int(row["role_id"])
                await conn.execute("DELETE FROM role_grants WHERE role_id = ? AND user_id = ?", (role, user))
                if row["state"] == "absent":
                    continue  # not a member there: nothing to take back
                undone = await _pending_untried(conn, role, user, "role_add")
                if undone is not None:
                    await _supersede(conn, undone)
                else:
                    await insert_job(conn, role, "role_remove", user_id=user, detail={"guild_id": guild})
                    removed += 1
        return RoleChanges(added, removed)

    async def forget_absent(self, user_id: int, guild_id: int | None = None) -> None:
        """The member linked again (or was seen in `guild_id`): grants once found without a member
        are tried afresh."""
        where = "user_id = ? AND state = 'absent'" + (" AND guild_id = ?" if guild_id is not None else "")
        args = (user_id,) if guild_id is None else (user_id, guild_id)
        async with self._db.write() as conn:
            await conn.execute(f"DELETE FROM role_grants WHERE {where}", args)

    async def was_absent(self, user_id: int, guild_id: int) -> bool:
        """Whether a grant in `guild_id` found the member not there (a read, for every interaction)."""
        async with self._db.reader.execute(
            "SELECT 1 FROM role_grants WHERE user_id = ? AND guild_id = ? AND state = 'absent' LIMIT 1",
            (user_id, guild_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def sending(self, job_id: int) -> bool:
        """Marks a pending job as about to be sent; False when it is no longer pending (superseded)."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET sent_at = ? WHERE id = ? AND state = 'pending'", (time.time(), job_id)
            )
            return bool(cur.rowcount > 0)

    async def may_have_been_sent(self, job_id: int) -> bool:
        async with self._db.reader.execute("SELECT sent_at FROM jobs WHERE id = ?", (job_id,)) as cur:
            row = await cur.fetchone()
        return row is not None and row["sent_at"] is not None

    async def member_absent(self, job: Job, reason: str) -> None:
        """The member is not in the server: the change is dropped and the grant remembered as absent."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE jobs SET state = 'dropped', last_error = ?, finished_at = ? WHERE id = ?",
                (reason, time.time(), job.id),
            )
            await conn.execute(
                "UPDATE role_grants SET state = 'absent' WHERE role_id = ? AND user_id = ?",
                (job.channel_id, job.user_id),
            )
