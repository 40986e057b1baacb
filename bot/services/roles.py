"""Roles from Hive facts: the rules admins set, and keeping members' roles in line with them.

What the rules want is computed from the links and the Hive facts last read, and only the difference
from what was already given is queued (bot/store/roles.py); delivery sends each change in the role's
lane (bot/delivery/roles.py). Facts are re-read in bulk at most every `recheck_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.domain import RoleChanges, RoleKind, RoleRule
from bot.hive import facts
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.names import is_community
from bot.services import Refused, counted
from bot.store.store import Store

log = logging.getLogger("hivecord.roles")

FACTS_READ_AT = "role_facts_read_at"  # meta: wall time of the last bulk read
# A community's subscribers (or team) read for /roles set are used again for this long: a burst of
# /roles set, from one server or many, reads each list once (a subscriber list is many pages).
FACTS_FRESH_SECONDS = 300.0

# How a list read went: read and stored, no node answered, or a node said the community is unknown.
ListRead = Literal["read", "unavailable", "unknown"]


@dataclass(frozen=True, slots=True)
class RuleSet:
    created: bool
    changes: RoleChanges
    facts_read: bool  # False when Hive could not be read now: the next check reads them


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RoleService:
    def __init__(
        self,
        store: Store,
        hive: HiveClient,
        wake: Callable[[], None],
        *,
        recheck_seconds: float,
        release_lanes: Callable[[Sequence[int]], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_rules: int = 25,
    ) -> None:
        self._store = store
        self.max_rules = max_rules  # per server
        self._hive = hive
        self._wake = wake
        self.recheck_seconds = recheck_seconds
        self._release_lanes = release_lanes
        self._clock = clock
        # When each (community, kind) list was last read, and how it went; in memory: a restart costs
        # one read each. A read under way is shared by everyone who asks meanwhile.
        self._read_at: dict[tuple[str, str], tuple[float, ListRead]] = {}
        self._reading: dict[tuple[str, str], asyncio.Future[ListRead]] = {}
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()  # one reconciliation at a time
        self._tasks: set[asyncio.Task[None]] = set()

    # Rules, as admins manage them --------------------------------------------------------------

    async def set_rule(
        self,
        *,
        guild_id: int,
        role_id: int,
        kind: RoleKind,
        community: str | None,
        min_reputation: float | None,
        created_by: int,
    ) -> RuleSet:
        if kind in ("subscriber", "team"):
            if community is None or not is_community(community):
                raise Refused(f"`when:{kind}` needs `community:`, a community id like `hive-158489`.")
        else:
            community = None
        if kind == "reputation" and min_reputation is None:
            raise Refused("`when:reputation` needs `min_reputation:`, a reputation score like 50.")
        existing = await self._store.roles.rules_of_guild(guild_id)
        if len(existing) >= self.max_rules and role_id not in {r.role_id for r in existing}:
            raise self._full()  # early, before any node read; the store counts again as it writes
        rule = RoleRule(role_id, guild_id, kind, community, min_reputation, created_by, _now())
        facts_read = await self._read_facts([rule], check_community=True, fresh_for=FACTS_FRESH_SECONDS)
        created = await self._store.roles.set_rule(
            guild_id=guild_id,
            role_id=role_id,
            kind=kind,
            community=community,
            min_reputation=min_reputation,
            created_by=created_by,
            at=rule.created_at,
            max_rules=self.max_rules,
        )
        if created is None:
            raise self._full()
        # A role lane refused before (the role was above the bot, say) gets another try, paced.
        if self._release_lanes is not None:
            await self._release_lanes([role_id])
        return RuleSet(created, await self.reconcile(), facts_read)

    def _full(self) -> Refused:
        return Refused(
            f"This server already has {counted(self.max_rules, 'role rule', 'role rules')}, the most one server"
            " may have. `/roles remove` one you no longer need first, or change an existing rule with `/roles set`"
            " for its role."
        )

    async def remove_rule(self, guild_id: int, role_id: int) -> RoleChanges | None:
        """Drops the rule and takes the role back from the members the bot gave it to; None if no rule."""
        if not await self._store.roles.remove_rule(guild_id, role_id):
            return None
        return await self.reconcile()

    async def role_deleted(self, guild_id: int, role_id: int) -> bool:
        """The role was deleted in Discord: its rule and everything queued for it go, freeing its place
        under the cap. True when it had a rule."""
        if not await self._store.roles.forget_role(guild_id, role_id):
            return False
        log.info("role %d of server %d was deleted: its rule is removed", role_id, guild_id)
        return True

    async def rules(self, guild_id: int) -> list[tuple[RoleRule, int, str | None]]:
        """Each rule of the guild, the members given its role, and why Discord refuses it (None when fine)."""
        counts = await self._store.roles.granted_counts(guild_id)
        refusals = await self._store.roles.refusals(guild_id)
        return [
            (r, counts.get(r.role_id, 0), refusals.get(r.role_id))
            for r in await self._store.roles.rules_of_guild(guild_id)
        ]

    # Links (called by the link service) --------------------------------------------------------

    async def on_linked(self, user_id: int, account: str) -> None:
        """Roles the new link earns are queued at once; when a rule asks for a reputation, the
        account's is read in the background (the follower may be the one telling us) and then applied."""
        await self._store.roles.forget_absent(user_id)
        await self.reconcile(user_id)
        if any(r.min_reputation is not None for r in await self._store.roles.all_rules()):
            task = asyncio.create_task(self._reputation_of(user_id, account))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reputation_of(self, user_id: int, account: str) -> None:
        try:
            scores = await facts.reputations(self._hive, [account])
        except (HiveUnavailable, RpcError) as exc:
            log.warning("could not read the reputation of @%s (%s); the next check will", account, exc)
            return
        await self._store.roles.save_reputations(scores, _now())
        await self.reconcile(user_id)

    async def on_unlinked(self, user_id: int, _account: str) -> None:
        await self.reconcile(user_id)

    async def member_seen(self, guild_id: int, user_id: int) -> None:
        """The member used the bot in `guild_id`, so is there now: roles once found without them
        (they joined after their link) are given. The bot has no member events (a privileged
        intent), so this, and a new link, are how it learns of a member who joined later."""
        if await self._store.roles.was_absent(user_id, guild_id):
            log.info("member %d is in server %d now: their roles are tried again", user_id, guild_id)
            await self._store.roles.forget_absent(user_id, guild_id)
            await self.reconcile(user_id)

    # Facts and reconciliation ------------------------------------------------------------------

    async def reconcile(self, user_id: int | None = None) -> RoleChanges:
        async with self._lock:
            changes = await self._store.roles.reconcile(user_id)
        if changes.added or changes.removed:
            log.info("role changes queued: %d to give, %d to take back", changes.added, changes.removed)
            self._wake()
        return changes

    async def _read_facts(
        self, rules: list[RoleRule], *, check_community: bool = False, fresh_for: float = 0.0
    ) -> bool:
        """Reads the facts `rules` need and stores them; False when a node could not answer (the old
        facts stay). With check_community, a community Hive does not know is Refused. A list read
        less than `fresh_for` seconds ago is not read again, nor is one that failed then."""
        ok = True
        done: set[tuple[str, str]] = set()
        for rule in rules:
            if rule.community is None or rule.kind not in ("subscriber", "team"):
                continue
            key = (rule.community, rule.kind)
            if key in done:
                continue
            done.add(key)
            outcome = await self._read_list(key, check_community=check_community, fresh_for=fresh_for)
            if outcome == "unknown" and check_community:
                raise Refused(f"Hive has no community `{rule.community}`.")
            ok = ok and outcome == "read"
        if any(r.min_reputation is not None for r in rules):
            try:
                accounts = await self._store.roles.linked_accounts()
                await self._store.roles.save_reputations(await facts.reputations(self._hive, accounts), _now())
            except (HiveUnavailable, RpcError) as exc:
                log.warning("could not read reputations (%s); keeping what was known", exc)
                ok = False
        return ok

    async def _read_list(self, key: tuple[str, str], *, check_community: bool, fresh_for: float) -> ListRead:
        """One (community, kind) list read, shared: callers at once wait on the same read, and an
        outcome, a failure too, stands for `fresh_for` seconds, so a failing node is not asked again by
        every /roles set."""
        last = self._read_at.get(key)
        if last is not None and self._clock() - last[0] < fresh_for:
            return last[1]
        pending = self._reading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_list(key, check_community))
            self._reading[key] = pending
            pending.add_done_callback(lambda _done: self._reading.pop(key, None))
        # Shielded: one caller giving up (its interaction timed out) does not cancel the others' read.
        return await asyncio.shield(pending)

    async def _fetch_list(self, key: tuple[str, str], check_community: bool) -> ListRead:
        community, kind = key
        outcome: ListRead = "read"
        try:
            if kind == "team":
                accounts = await facts.team(self._hive, community)
            else:
                if check_community:
                    await facts.team(self._hive, community)  # says whether the community exists
                accounts = await facts.subscribers(self._hive, community)
        except RpcError:
            log.warning("could not read the %s of %s; keeping what was known", kind, community)
            outcome = "unknown"
        except HiveUnavailable:
            outcome = "unavailable"
        else:
            await self._store.roles.save_community_facts(community, kind, accounts)
        self._read_at[key] = (self._clock(), outcome)
        return outcome

    async def recheck(self) -> RoleChanges:
        """One bulk re-read of every rule's facts, then the roles brought in line with them."""
        rules = await self._store.roles.all_rules()
        if rules:
            await self._read_facts(rules)
        await self._store.db.set_meta(FACTS_READ_AT, str(time.time()))
        return await self.reconcile()

    async def run(self) -> None:
        """Re-checks the Hive facts every `recheck_seconds` (counted across restarts) until stopped.

        First, the roles are brought in line with the links as stored: a link made or ended just
        before a kill was committed, but its listener (on_linked / on_unlinked) never ran."""
        await self.reconcile()
        while not self._stop.is_set():
            last = await self._store.db.get_meta(FACTS_READ_AT)
            due = (float(last) if last else 0.0) + self.recheck_seconds - time.time()
            if due > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), due)
                continue
            await self.recheck()

    def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
