"""The link use cases on the real store and a loopback node, with the clock in the test's hand: codes
expire, a new /link replaces the open code, /link is rate-limited, and listeners hear every change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from beemgraphenebase.account import PrivateKey
from beemgraphenebase.ecdsasig import sign_message

from bot.hive.client import HiveClient
from bot.hive.identity import signed_text
from bot.services import Refused
from bot.services.links import CODE_MINUTES, LINKS_PER_HOUR, LinkService
from bot.store.chain_writer import ChainWriter
from bot.store.store import Store
from tests.fakes.hive import FakeHiveNode, hive_account

KEY = PrivateKey()
USER = 4242


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def service(db_location: Path | str) -> AsyncIterator[tuple[LinkService, Clock, Store]]:
    node = FakeHiveNode({})
    node.accounts["alice"] = hive_account("alice", [(str(KEY.pubkey), 1)])
    url = node.start_in_thread()
    store = await Store.open(db_location)
    clock = Clock()
    try:
        async with HiveClient([url]) as hive:
            yield LinkService(store, hive, clock=clock), clock, store
    finally:
        await store.close()
        node.stop_thread()


async def test_codes_expire_are_replaced_and_are_rate_limited(service: tuple[LinkService, Clock, Store]) -> None:
    links, clock, store = service
    heard: list[tuple[str, int, str]] = []

    async def linked(user: int, account: str) -> None:
        heard.append(("linked", user, account))

    async def unlinked(user: int, account: str) -> None:
        heard.append(("unlinked", user, account))

    links.on_linked(linked)
    links.on_unlinked(unlinked)

    first = await links.start(USER, "alice")
    clock.now += CODE_MINUTES * 60 + 1
    with pytest.raises(Refused, match="expired"):
        await links.verify(USER, sign_message(first.text_to_sign, str(KEY)).hex())

    # A new /link replaces the open code: the old one proves nothing any more, on chain either.
    second = await links.start(USER, "alice")
    replaced = await store.chain_batch(
        lambda tx: tx.complete_link(user_id=USER, account="alice", code=first.code, chain_time=0, block_num=1, at="")
    )
    assert not replaced and await links.account_of(USER) is None
    assert second.text_to_sign == signed_text("alice", USER, second.code)
    link = await links.verify(USER, sign_message(second.text_to_sign, str(KEY)).hex())
    assert (link.account, link.proof) == ("alice", "signature")
    assert heard == [("linked", USER, "alice")]

    # Two codes so far this hour; three more, then a clear refusal.
    for _ in range(LINKS_PER_HOUR - 2):
        await links.start(USER, "alice")
    with pytest.raises(Refused, match=f"{LINKS_PER_HOUR} link codes in the last hour"):
        await links.start(USER, "alice")
    clock.now += 3600
    await links.start(USER, "alice")

    await links.unlink(USER)
    assert heard[-1] == ("unlinked", USER, "alice") and await links.all_links() == []


async def test_a_link_made_on_chain_is_part_of_its_batch(service: tuple[LinkService, Clock, Store]) -> None:
    links, _clock, store = service
    opened = await links.start(USER, "alice")

    def claim(tx: ChainWriter) -> bool:
        return tx.complete_link(user_id=USER, account="alice", code=opened.code, chain_time=0, block_num=7, at="t")

    def crashes(tx: ChainWriter) -> None:
        claim(tx)
        raise RuntimeError("killed mid-batch")

    def late(tx: ChainWriter) -> bool:
        expired = opened.expires_at + 1  # chain time decides: broadcast after the code expired
        return tx.complete_link(user_id=USER, account="alice", code=opened.code, chain_time=expired, block_num=8, at="")

    assert not await store.chain_batch(late)
    with pytest.raises(RuntimeError):
        await store.chain_batch(crashes)
    # Rolled back with the batch: nothing linked, and the code is still open for the replay.
    assert await links.account_of(USER) is None
    assert await store.chain_batch(claim) and not await store.chain_batch(claim)
    assert await links.user_of("alice") == USER
