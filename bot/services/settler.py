"""Settles each intent the bot signed, curators' votes and members' replies from Discord alike (each kind
joins through `kinds`), from what the chain says, whenever woken (a press, a new block) or now and then. The
rules are in settling.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from bot.hive.client import HiveClient
from bot.services.curation_keys import CurationKeys
from bot.services.settling import InFlight, Intent, IntentKind, settle_one, settle_seen
from bot.services.vote_intents import VoteIntents
from bot.store.store import Store

log = logging.getLogger("hivecord.settler")

IDLE_WAIT = 30.0  # seconds between looks while intents are open and nothing wakes the settler


class Settler:
    def __init__(self, store: Store, hive: HiveClient, keys: CurationKeys) -> None:
        self._hive = hive
        self._keys = keys
        self.kinds: list[IntentKind[Any]] = [VoteIntents(store, hive, keys)]
        self.wake = asyncio.Event()
        self.in_flight = InFlight()  # intents a command is broadcasting now: not sent again from here
        # Whether other processes share the database (bot/process/duties.py): their commands' intents
        # are in flight there, unknown to `in_flight` here.
        self.shared: Callable[[], bool] = lambda: False
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Settles open intents whenever woken or now and then; checks the curation keys with the chain until
        a node has answered, without holding up the intents already made."""
        keys_checked = False
        while not self._stopping:
            if not keys_checked:
                keys_checked = await self._keys.verify_all()
            await self.settle_due()
            idle = keys_checked and not any([await kind.has_open() for kind in self.kinds])
            await self._pause(3600.0 if idle else IDLE_WAIT)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)
        self.wake.clear()

    async def settle_due(self) -> int:
        """One pass over the open intents whose check is due, and over the others what the follower stored
        (a wake after new blocks lands them without waiting for their next look); returns how many settled."""
        settled = 0
        for kind in self.kinds:
            due = {intent.id for intent in await kind.open(time.time())}
            for intent in await kind.open(math.inf):
                ask = intent.id in due and not self._held(kind.name, intent)
                done = await (settle_one(self._hive, kind, intent) if ask else settle_seen(kind, intent))
                settled += done
        if settled:
            log.debug("settled %d intent(s)", settled)
        return settled

    def _held(self, kind: str, intent: Intent) -> bool:
        """Left to the command that signed it: here, or, with other processes, any intent younger than
        InFlight.HOLD (past its expiration), since it may be theirs. Such an intent is then only looked
        for on chain, never sent from here: one signed transaction is broadcast by one process."""
        if self.in_flight.held(kind, intent.id):
            return True
        return self.shared() and time.time() - intent.created_at < InFlight.HOLD
