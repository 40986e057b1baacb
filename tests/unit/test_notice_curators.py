"""Whose upvote is a curator's for an author's /notify: the team's, or a curator a feed lists in a server
the author is a member of, asked server by server (those they were seen in first) until the first hit."""

from __future__ import annotations

from pathlib import Path

from bot.delivery.alerts import ask_order, member_of_any
from bot.delivery.planner import curated_in
from bot.domain import Feed
from bot.store.store import Store


def feed(guild: int, community: str, curators: tuple[str, ...]) -> Feed:
    return Feed(guild, guild, guild * 10, community, True, "curators", curators, False, None, 0, None)


def test_a_curator_counts_only_in_the_servers_whose_feeds_of_the_community_list_them() -> None:
    feeds = [
        feed(1, "hive-1", ("ann", "bob")),
        feed(2, "hive-1", ("bob",)),
        feed(3, "hive-2", ("cat",)),
        *(feed(10 + i, "hive-1", ("dan",)) for i in range(8)),
    ]
    found = curated_in(feeds, "hive-1")
    assert found["ann"] == [1] and found["bob"] == [1, 2] and "cat" not in found
    assert found["dan"] == list(range(10, 18))  # every server, not only the first few
    assert curated_in(feeds, "hive-9") == {}


async def test_an_author_only_in_the_sixth_server_is_found_and_the_asking_stops_there() -> None:
    asked: list[int] = []

    async def in_sixth(guild_id: int) -> bool:
        asked.append(guild_id)
        return guild_id == 15

    servers = list(range(10, 18))
    assert await member_of_any(ask_order(servers, set()), in_sixth)
    assert asked == [10, 11, 12, 13, 14, 15]
    asked.clear()
    assert not await member_of_any(ask_order(servers[:5], set()), in_sixth)  # in none of them
    assert asked == [10, 11, 12, 13, 14]
    asked.clear()
    # Seen there before (subscribed, given a role, replied): asked first, one read.
    assert await member_of_any(ask_order(servers, {15, 99}), in_sixth)
    assert asked == [15]


def test_the_servers_the_author_was_seen_in_are_asked_first_each_once() -> None:
    assert ask_order([3, 1, "2", 3, 5], {5, 2, 7}) == [2, 5, 3, 1]
    assert ask_order([], {1}) == []


async def test_the_servers_an_author_was_seen_in_come_from_the_store(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        assert await store.notices.known_guilds(7) == set()
        for guild, key in ((15, "frieren"), (None, "dandadan")):
            await store.subscriptions.subscribe(
                user_id=7, series_key=key, series=key, delivery="dm", guild_id=guild, channel_id=None, at="t", cap=25
            )
        await store.subscriptions.subscribe(
            user_id=8, series_key="x", series="x", delivery="dm", guild_id=16, channel_id=None, at="t", cap=25
        )
        assert await store.notices.known_guilds(7) == {15}
    finally:
        await store.close()
