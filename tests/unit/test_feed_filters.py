"""Feed filters, the pure parts: the one decision (FeedFilter.passes, and its account part for a badge),
/feed add's words for a filter and their refusals; on the real store, the server caps' defaults, the
filtered pick of backfill and which feed's filter a subscriber's mention in a server follows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.config.load import Config, parse_config
from bot.config.settings import LimitsConfig
from bot.domain import NO_FILTER, FeedFilter
from bot.services import Refused, counted
from bot.services.feed_filters import MAX_TEXT, describe_filter, feed_filter
from bot.services.feeds import FeedRequest, FeedService
from bot.store.store import Store


def defaults() -> Config:
    """The settings when nothing is set: the declarations' defaults, read from an empty document."""
    return parse_config({})

GUILD = 7


@pytest.mark.parametrize(
    ("kept", "author", "tags", "reputation", "passes"),
    [
        (FeedFilter(tags=("manga", "shonen")), "a", ("Manga", "review"), None, True),  # any of, any case
        (FeedFilter(tags=("manga",)), "a", ("anime",), None, False),
        (FeedFilter(tags=("manga",)), "a", (), None, False),  # no tags: not "any of" the wanted
        (FeedFilter(exclude_tags=("nsfw",)), "a", ("anime", "nsfw"), None, False),
        (FeedFilter(tags=("manga",), exclude_tags=("spoilers",)), "a", ("manga", "spoilers"), None, False),
        (FeedFilter(authors=("reader01",)), "Reader01", (), None, True),
        (FeedFilter(authors=("reader01",)), "reader02", (), None, False),
        (FeedFilter(exclude_authors=("spammer01",)), "spammer01", ("manga",), 70.0, False),
        (FeedFilter(min_reputation=40.0), "a", (), 39.99, False),
        (FeedFilter(min_reputation=40.0), "a", (), 40.0, True),
        (FeedFilter(min_reputation=-5.0), "a", (), -2.0, True),
        # A reputation the nodes did not tell lets the post through: a hiccup loses nothing.
        (FeedFilter(min_reputation=40.0), "a", (), None, True),
        (NO_FILTER, "anyone", (), -20.0, True),
    ],
)
def test_passes(kept: FeedFilter, author: str, tags: tuple[str, ...], reputation: float | None, passes: bool) -> None:
    assert kept.passes(author, tags, reputation) is passes


def test_the_words_are_read_as_hive_spells_them() -> None:
    made = feed_filter(
        tags="Manga, #shonen manga",
        exclude_tags="nsfw",
        authors="@Reader01, reader02,reader01",
        exclude_authors=" spammer.bot ",
        min_reputation=40.123,
    )
    assert made == FeedFilter(("manga", "shonen"), ("nsfw",), ("reader01", "reader02"), ("spammer.bot",), 40.12)
    assert feed_filter() == NO_FILTER and feed_filter().empty
    assert feed_filter(tags=" , ") == NO_FILTER


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"tags": "anime, <@&123>"}, "is not a Hive tag"),
        ({"tags": "-anime"}, "is not a Hive tag"),
        ({"tags": "x" * 25}, "is not a Hive tag"),
        ({"exclude_tags": "hive-158489"}, "is a community id, not a tag"),
        ({"tags": ", ".join(f"t{i}" for i in range(11))}, "At most 10 tags in `tags`"),
        ({"authors": "ab"}, "is not a Hive account name"),
        ({"exclude_authors": "Robert'); DROP TABLE feeds;--"}, "is not a Hive account name"),
        ({"authors": ", ".join(f"acct{i:03d}" for i in range(51))}, "At most 50 accounts in `authors`"),
        ({"tags": "a" * (MAX_TEXT + 1)}, "is too long"),
        ({"authors": "reader01", "exclude_authors": "@reader01"}, "`reader01` is both wanted and excluded"),
        ({"tags": "manga", "exclude_tags": "manga"}, "`manga` is both wanted and excluded"),
        ({"min_reputation": 101.0}, "from -100 to 100"),
        ({"min_reputation": math.nan}, "from -100 to 100"),
        ({"min_reputation": -math.inf}, "from -100 to 100"),
    ],
)
def test_nonsense_gets_a_clear_answer(options: dict[str, object], words: str) -> None:
    with pytest.raises(Refused) as refused:
        feed_filter(**options)  # type: ignore[arg-type]
    text = str(refused.value)
    assert words in text, text
    assert "<@" not in text and "'" not in text  # a bad entry is quoted back defused


def test_described_in_full_or_cut_to_a_few_names() -> None:
    long = FeedFilter(authors=tuple(f"author{i:02d}" for i in range(50)), min_reputation=25.5)
    full = describe_filter(long)
    assert full[0].startswith("authors: author00, ") and full[0].endswith("author49")
    assert full[1] == "authors' reputation at least 25.5"
    assert describe_filter(long, shown=5)[0] == "authors: author00, author01, author02, author03, author04 +45 more"
    assert describe_filter(NO_FILTER) == []


async def test_a_cap_of_one_is_worded_in_the_singular(db_location: Path | str) -> None:
    assert [counted(n, "feed", "feeds") for n in (0, 1, 2)] == ["0 feeds", "1 feed", "2 feeds"]
    store = await Store.open(db_location)
    try:
        # The curators are counted before Hive or the follower are asked anything.
        feeds = FeedService(store, None, None, lambda: None, None, max_curators=1)  # type: ignore[arg-type]
        request = FeedRequest(GUILD, 1, "hive-158489", True, "curators", ("ann01", "bob02"), True, None, 1, 0)
        with pytest.raises(Refused, match="at most 1 curator, and you named 2"):
            await feeds.add(request)
    finally:
        await store.close()


def test_the_caps_default_to_50_feeds_25_role_rules_and_50_curators() -> None:
    assert defaults().limits == LimitsConfig(feeds_per_server=50, role_rules_per_server=25, curators_per_feed=50)


async def test_the_51st_feed_of_a_server_is_refused_by_the_store_and_updates_still_pass(
    db_location: Path | str,
) -> None:
    cap = defaults().limits.feeds_per_server
    store = await Store.open(db_location)
    try:

        async def add(channel: int, guild: int = GUILD, *, posts: bool = True) -> object:
            return await store.feeds.upsert_feed(
                guild_id=guild, channel_id=channel, community="hive-158489", posts=posts, votes="off", curators=(),
                badges=False, role_id=None, created_by=1, at="2026-12-01T00:00:00", max_feeds=cap,
            )  # fmt: skip

        for channel in range(1, cap + 1):
            assert await add(channel) is not None
        assert await add(cap + 1) is None  # the 51st
        assert await add(1, posts=False) is not None  # one the server has is still changed
        assert await add(cap + 1, guild=GUILD + 1) is not None  # another server has its own count
        assert len(await store.feeds.feeds_of_guild(GUILD)) == cap
    finally:
        await store.close()


async def test_backfill_queues_the_latest_posts_that_pass_oldest_first(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        async with store.db.write() as conn:
            for i in range(12):
                tags = json.dumps(["manga"] if i % 3 == 0 else ["anime"])
                await conn.execute(
                    "INSERT INTO posts (author, permlink, community, title, body, json_metadata, tags, created_block,"
                    " created_at, updated_block, updated_at) VALUES (?, ?, 'hive-158489', ?, '', '{}', ?, ?, ?, ?, ?)",
                    (f"author{i}", f"p{i}", f"Post {i}", tags, i, f"2026-12-01T00:00:{i:02d}", i, "x"),
                )
        saved = await store.feeds.upsert_feed(
            guild_id=GUILD, channel_id=5, community="hive-158489", posts=True, votes="off", curators=(), badges=False,
            role_id=None, created_by=1, at="2026-12-01T00:00:00", feed_filter=FeedFilter(tags=("manga",)),
        )  # fmt: skip
        assert saved is not None
        feed, _created = saved
        assert await store.jobs.backfill(feed, 3) == 3
        async with store.db.reader.execute(
            "SELECT p.title FROM jobs j JOIN posts p ON p.id = j.post_id ORDER BY j.id"
        ) as cur:
            assert [r[0] for r in await cur.fetchall()] == ["Post 3", "Post 6", "Post 9"]
        assert await store.jobs.backfill(feed, 3) == 1  # Post 0 is all that is left to pass
        latest = await store.posts.latest_passing("hive-158489", FeedFilter(exclude_tags=("anime",)))
        assert latest is not None and latest.title == "Post 9"
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("kept", "recipient", "reputation", "passes"),
    [
        (FeedFilter(tags=("manga",), exclude_tags=("anime",)), "anyone", None, True),  # a badge has no tags
        (FeedFilter(authors=("reader01",), tags=("manga",)), "Reader01", None, True),
        (FeedFilter(authors=("reader01",)), "reader02", None, False),
        (FeedFilter(exclude_authors=("spammer01",)), "spammer01", 70.0, False),
        (FeedFilter(min_reputation=40.0, tags=("manga",)), "a", 39.0, False),
        (FeedFilter(min_reputation=40.0), "a", None, True),  # unknown: let through, as for a post
    ],
)
def test_a_badge_is_judged_by_its_recipient(
    kept: FeedFilter, recipient: str, reputation: float | None, passes: bool
) -> None:
    assert kept.of_account.passes(recipient, (), reputation) is passes


async def test_a_mention_in_a_server_follows_the_filter_of_the_feed_it_goes_through(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    community = "hive-158489"
    try:
        async with store.db.write() as conn:
            for i, tag in enumerate(("manga", "anime")):
                await conn.execute(
                    "INSERT INTO posts (author, permlink, community, title, body, json_metadata, tags, created_block,"
                    " created_at, updated_block, updated_at) VALUES ('a', ?, ?, '', '', '{}', ?, 1, 'x', 1, 'x')",
                    (f"p{i}", community, json.dumps([tag])),
                )
        manga, anime = 1, 2

        async def feed(channel: int, feed_filter: FeedFilter) -> None:
            await store.feeds.upsert_feed(
                guild_id=GUILD, channel_id=channel, community=community, posts=True, votes="off", curators=(),
                badges=False, role_id=None, created_by=1, at="x", feed_filter=feed_filter,
            )  # fmt: skip

        async def lane(post: int, guild: int | None = GUILD) -> int | None:
            return await store.feeds.alert_lane(guild, community, post, 99)

        assert (await lane(anime), await lane(anime, None)) == (99, 99)  # no feed to follow: the member's channel
        await feed(5, FeedFilter(tags=("manga",)))
        await feed(6, NO_FILTER)
        assert (await lane(manga), await lane(anime)) == (5, None)  # the first feed's channel, and its filter
        async with store.db.write() as conn:
            await conn.execute("UPDATE feeds SET broken = 'gone' WHERE channel_id = 5")
        assert (await lane(manga), await lane(anime)) == (6, 6)  # the healthy one's channel and filter
        async with store.db.write() as conn:
            await conn.execute("UPDATE feeds SET broken = 'gone' WHERE channel_id = 6")
        # None healthy: the member's channel, and still the filter of the server's first feed.
        assert (await lane(manga), await lane(anime)) == (99, None)
        assert await lane(anime, GUILD + 1) == 99  # another server's feeds are not this one's word
    finally:
        await store.close()
