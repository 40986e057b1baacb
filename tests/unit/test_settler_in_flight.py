"""One signed transaction is broadcast by one hand at a time: while the command that signed an intent is
broadcasting it, the settler leaves it alone (no look at the chain, no second broadcast); released, or
after a crash (a new process holds nothing), the settler takes it over."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.hive.client import HiveClient
from bot.services.curation_keys import CurationKeys
from bot.services.reply_intents import ReplyIntents
from bot.services.settler import Settler
from bot.services.settling import InFlight
from bot.store.store import Store
from tests.fakes.hive import FakeHiveNode
from tests.unit.test_failed_reply_copy import intent


def test_a_mark_lapses_and_a_release_ends_it() -> None:
    now = [100.0]
    flight = InFlight(clock=lambda: now[0])
    flight.hold("reply", 1)
    assert flight.held("reply", 1) and not flight.held("vote", 1) and not flight.held("reply", 2)
    now[0] += InFlight.HOLD - 1
    assert flight.held("reply", 1)
    now[0] += 1
    assert not flight.held("reply", 1)  # a command that never released it: the settler takes over
    flight.hold("vote", 3)
    flight.release("vote", 3)
    assert not flight.held("vote", 3)


@asynccontextmanager
async def replies_settler(db_location: Path | str) -> AsyncIterator[tuple[FakeHiveNode, Store, Settler]]:
    """A settler of replies from Discord over a store and a loopback node that knows no transaction."""
    node = FakeHiveNode({})
    url = node.start_in_thread()
    store = await Store.open(db_location)
    try:
        async with HiveClient([url], timeout=2.0, backoff_base=0.01) as hive:
            settler = Settler(store, hive, CurationKeys(hive, {}, {}))
            settler.kinds.append(ReplyIntents(store, hive, "hivecord.bot"))
            yield node, store, settler
    finally:
        await store.close()
        node.stop_thread()


async def test_the_settler_leaves_an_intent_in_flight_to_its_command(db_location: Path | str) -> None:
    async with replies_settler(db_location) as (node, store, settler):
        reply = await store.discord_replies.record_intent(intent("re-in-flight"), time.time())
        assert reply is not None
        settler.in_flight.hold("reply", reply.id)
        await settler.settle_due()
        assert not node.calls  # not asked about, not sent: its command is broadcasting it
        settler.in_flight.release("reply", reply.id)
        await settler.settle_due()
        assert node.calls  # now the settler looks at the chain for it


async def test_with_other_processes_a_young_intent_is_left_to_whichever_signed_it(db_location: Path | str) -> None:
    async with replies_settler(db_location) as (node, store, settler):
        settler.shared = lambda: True  # another process may be broadcasting it: not held here
        young = await store.discord_replies.record_intent(intent("re-theirs"), time.time())
        assert young is not None
        await settler.settle_due()
        assert not node.calls  # neither asked about nor sent from here while it may be in flight there
        # Past InFlight.HOLD (its expiration with it), the settler looks for it on chain.
        old = await store.discord_replies.record_intent(intent("re-old"), time.time() - InFlight.HOLD - 1)
        assert old is not None
        await settler.settle_due()
        assert node.calls
