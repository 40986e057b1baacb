"""The followed communities' roles as hivemind serves them (bridge.list_community_roles): read again every
period, and soon after the follower applies a setRole, so the stored list stays true to hivemind.

A node that fails or answers nonsense costs one log line: the old list is kept, and that community is
asked again after a wait that doubles up to the period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable

from bot.hive.client import HiveClient
from bot.hive.moderation import read_roles
from bot.hive.rpc import BadAnswer, HiveUnavailable, RpcError
from bot.process.backoff import Backoff
from bot.store.moderation import RoleOp
from bot.store.store import Store

log = logging.getLogger("hivecord.moderation")

PAGE = 1000  # the most hivemind lists a call; a community's roles nearly always fit one
MAX_PAGES = 10
DEADLINE = 30.0
RETRY_FIRST = 30.0  # the first wait after a failed read; it doubles up to the period
AFTER_ROLE_OP = 15.0  # hivemind applies a block's ops a few seconds after the chain has it
LOOK_EVERY = 60.0  # a community followed since (a new feed) is read within this


class CommunityRoles:
    """Keeps community_roles in line with hivemind; `run` is a supervised background loop."""

    def __init__(
        self,
        store: Store,
        hive: HiveClient,
        communities: Callable[[], Iterable[str]],
        *,
        refresh_seconds: float,
        after_role_op: float = AFTER_ROLE_OP,
        retry_first: float = RETRY_FIRST,
        deadline: float = DEADLINE,
    ) -> None:
        self._store = store
        self._hive = hive
        self._communities = communities
        self.refresh_seconds = refresh_seconds
        self.after_role_op = after_role_op
        self.retry_first = retry_first
        self.deadline = deadline
        self._sooner: dict[str, float] = {}  # community -> when (monotonic) it is read, before its period ends
        self._failing: dict[str, Backoff] = {}
        # setRoles applied since (community -> account -> role, block time) that hivemind has not listed
        # yet: kept over its list until it does (store/moderation.py). In memory: a restart reads the
        # list at its period, by when hivemind has long seen them.
        self._recent: dict[str, dict[str, tuple[str, float]]] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._reading = asyncio.Lock()  # run() and the follower's first read never ask twice at once

    def role_ops_seen(self, ops: Iterable[RoleOp]) -> None:
        """The follower applied setRole ops: hivemind's list is read again soon after (once for many ops;
        a community whose reads fail keeps its backoff), and until it lists them their roles stay."""
        at = time.monotonic() + self.after_role_op
        for op in ops:
            self._recent.setdefault(op.community, {})[op.account] = (op.role, op.set_at)
        for community in {op.community for op in ops}:
            if community not in self._failing:
                self._sooner[community] = min(self._sooner.get(community, math.inf), at)
        self._wake.set()

    async def read_unread(self, communities: Iterable[str]) -> None:
        """Reads the roles of each community never read yet: the follower awaits this before its first
        batch, so a first run knows the moderators before their first mutePost. A failure is logged and
        left to run()'s retries."""
        for community in sorted(set(communities)):
            async with self._reading:
                if await self._store.moderation.roles_read_at(community) is None and community not in self._failing:
                    await self.refresh(community)

    async def followed(self, community: str) -> None:
        """A community just followed (a new feed): its roles are read now if never read, before its first
        posts are backfilled or followed, and the loop is woken to count it in (a failed read retries
        there, with its backoff)."""
        await self.read_unread([community])
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the pass: a setRole told meanwhile wakes the next wait at once
            wait = LOOK_EVERY
            for community in sorted(set(self._communities())):
                async with self._reading:
                    due = await self._due_in(community)
                    if due <= 0:
                        await self.refresh(community)
                        due = await self._due_in(community)
                wait = min(wait, due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._until_woken(), max(wait, 0.01))

    async def _until_woken(self) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            wake.cancel()

    async def _due_in(self, community: str) -> float:
        """Seconds until the community's next read; 0 or less: now."""
        if community in self._sooner:
            return self._sooner[community] - time.monotonic()
        read_at = await self._store.moderation.roles_read_at(community)
        return 0.0 if read_at is None else read_at + self.refresh_seconds - time.time()

    async def refresh(self, community: str) -> bool:
        """One read of the community's roles into the store; False (old list kept) when it failed."""
        started = time.monotonic()
        try:
            rows = await self._read(community)
        except (HiveUnavailable, RpcError, BadAnswer) as exc:
            reason = str(exc)[:300]
        else:
            if rows is not None:
                recent = dict(self._recent.get(community, {}))
                kept = await self._store.moderation.replace_roles(community, rows, time.time(), recent)
                # Those hivemind agrees with (or has long seen) are settled; a setRole told meanwhile stays.
                now = self._recent.pop(community, {})
                left = {a: op for a, op in now.items() if a in kept or recent.get(a) != op}
                if left:
                    self._recent[community] = left
                if self._sooner.get(community, math.inf) <= started:
                    del self._sooner[community]  # a setRole told during the read keeps its own read
                if kept:
                    # hivemind has not listed a setRole applied since: read again until it agrees.
                    again = time.monotonic() + self.after_role_op
                    self._sooner[community] = min(self._sooner.get(community, math.inf), again)
                self._failing.pop(community, None)
                muted = sum(1 for _, role, _ in rows if role == "muted")
                log.debug("roles of %s read: %d listed, %d muted, %d newer setRole(s) kept",
                          community, len(rows), muted, len(kept))  # fmt: skip
                return True
            reason = "the answer is not a list of [account, role, title]"
        backoff = self._failing.setdefault(community, Backoff(self.refresh_seconds, first=self.retry_first))
        delay = backoff.next()
        self._sooner[community] = time.monotonic() + delay
        log.warning(
            "could not read the roles of %s (%s); keeping the roles stored; trying again in %g s",
            community,
            reason,
            delay,
        )
        return False

    async def _read(self, community: str) -> list[tuple[str, str, str]] | None:
        rows: list[tuple[str, str, str]] = []
        last = ""
        for _ in range(MAX_PAGES):
            params: dict[str, object] = {"community": community, "limit": PAGE}
            if last:
                params["last"] = last
            answer = await self._hive.call("bridge.list_community_roles", params, deadline=self.deadline)
            page = read_roles(answer)
            if page is None:
                return None
            rows += page
            if len(page) < PAGE or page[-1][0] == last:
                return rows
            last = page[-1][0]
        log.warning("%s lists over %d roles; only the first %d are kept", community, len(rows), len(rows))
        return rows
