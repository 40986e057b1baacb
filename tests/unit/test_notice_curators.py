"""Whose upvote is a curator's for an author's /notify: the team's, or a curator a feed lists in a server."""

from __future__ import annotations

from bot.delivery.planner import CURATOR_SERVERS, curated_in
from bot.domain import Feed


def feed(guild: int, community: str, curators: tuple[str, ...]) -> Feed:
    return Feed(guild, guild, guild * 10, community, True, "curators", curators, False, None, 0, None)


def test_a_curator_counts_only_in_the_servers_whose_feeds_of_the_community_list_them() -> None:
    feeds = [
        feed(1, "hive-1", ("ann", "bob")),
        feed(2, "hive-1", ("bob",)),
        feed(3, "hive-2", ("cat",)),
        *(feed(10 + i, "hive-1", ("dan",)) for i in range(CURATOR_SERVERS + 3)),
    ]
    found = curated_in(feeds, "hive-1")
    assert found["ann"] == [1] and found["bob"] == [1, 2] and "cat" not in found
    assert len(found["dan"]) == CURATOR_SERVERS  # the membership reads at send time stay bounded
    assert curated_in(feeds, "hive-9") == {}
