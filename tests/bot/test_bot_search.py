"""/search through the fake Discord: the real `hivecord run` over the seed review plus 40 generated ones.

One bot process serves the whole module (ingesting takes a few seconds; every test only reads,
or posts into its own channel), so the file stays fast.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.hive.events import ChainEvent, PostCreated, PostDeleted
from bot.ingest.ledger import apply_events
from bot.store.store import Store
from tests.bot_harness import TOKEN, BotProcess, bot_config, comment_block
from tests.fakes.chain_gen import SERIES
from tests.fakes.discord import FakeDiscord, InteractionHandle, StoredMessage
from tests.fakes.hive import FakeHiveNode
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.pg import drop_database, new_database
from tests.world import post_count, running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

GENERATED = 40  # more than 25 series and authors, so autocomplete has to cut; eight pages of "lighthouse"
FIRST_GENERATED = SEED_LAST + 1
HOSTILE_TITLE = "@everyone free tokens <@&123> [x](javascript:alert(1)) **bold**"
EPHEMERAL = 64
ERROR_RED = 0xE74C3C


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    db: Path | str  # the SQLite file, or the PostgreSQL database's URL
    channel: int


def stored_posts(db: Path | str) -> int:
    """Rows in posts, on either engine (0 before the schema exists)."""
    if isinstance(db, Path):
        return post_count(db)

    async def count() -> int:
        import asyncpg

        conn = await asyncpg.connect(db)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM posts"))
        except asyncpg.UndefinedTableError:
            return 0
        finally:
            await conn.close()

    # From a thread: the module's event loop is running this test.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, count()).result()


def generated_reviews() -> dict[int, dict[str, Any]]:
    blocks = {}
    for i in range(GENERATED):
        name, tag, kind = SERIES[i % len(SERIES)]
        title = HOSTILE_TITLE if i == 7 else f"{name} review: the lighthouse episode"
        body = (
            f"![cover](https://files.peakd.com/file/{tag}.jpg)\n\n# My take on {name}\n\n"
            f"Review number {i}. The **lighthouse** scene stays with me. <b>@here</b> [link](javascript:x)\n\n"
            + "Filler about pacing and music. "
            * 20
        )
        meta = json.dumps({"tags": [ANIME_REALM, kind, tag, "review"]})
        blocks[FIRST_GENERATED + i] = comment_block(f"reader{i:02d}", f"lighthouse-{i:02d}", title, body, meta)
    return blocks


# Every check on both engines: /search on PostgreSQL is its own full-text search (issue 20).
@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("search")
    db: Path | str = tmp_path / "hivecord.sqlite3"
    if request.param == "postgresql":
        db = new_database()
        request.addfinalizer(lambda: drop_database(str(db)))
    node, _ = seed_node()
    node.add_blocks(generated_reviews(), _raise_head=False)
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    channel = fake.state.add_text_channel(fake.world.guild_id, "reviews").id
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST, db=db.name if isinstance(db, Path) else db)
    try:
        async with running_bot(config, fake) as bot:
            node.head = FIRST_GENERATED + GENERATED + 20
            await fake.wait_for(lambda: stored_posts(db) >= 1 + GENERATED, timeout=60)
            yield World(fake, node, bot, db, channel)
    finally:
        await fake.stop()
        node.stop_thread()


async def search(world: World, options: dict[str, Any], user: int | None = None) -> InteractionHandle:
    fake = world.fake
    return await fake.send_interaction(
        fake.world.guild_id, world.channel, user or fake.world.member_id, "search", options
    )


async def answer(handle: InteractionHandle) -> dict[str, Any]:
    """The embed the user saw; the answer must be an ephemeral message, sent at once."""
    body = await handle.response(timeout=10)
    assert body["type"] == 4, body
    assert body["data"]["flags"] & EPHEMERAL, body
    (embed,) = body["data"]["embeds"]
    return dict(embed)


def components(message: StoredMessage) -> dict[str, dict[str, Any]]:
    """The message's buttons by label and its select menu (as "select")."""
    found = {}
    for row in message.components:
        for item in row["components"]:
            found["select" if item["type"] == 3 else item["label"]] = item
    return found


def assert_clean(world: World) -> None:
    assert not world.fake.violations, world.fake.violations
    assert not world.fake.unknown_requests


async def test_finds_the_review_on_page_one_with_the_match_in_bold(world: World) -> None:
    embed = await answer(await search(world, {"query": "mars machines"}))
    first = embed["description"].split("\n\n")[0]
    assert "Metallic Rouge" in first
    assert "(https://hive.blog/hive-158489/@alienpunklord/review-metallic-rouge-mars-machines-and-meaning)" in first
    assert "@alienpunklord · Metallic Rouge · " in first
    assert "**" in first.split("\n", 2)[2]  # the excerpt bolds what matched
    assert embed["footer"]["text"].startswith("Page 1 of 1 · 1 review")
    for query in ('"mars machines"', "metal*", "métallic ROUGE", "MACHINES"):
        again = await answer(await search(world, {"query": query}))
        assert "alienpunklord" in again["description"], (query, again)
    assert_clean(world)


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(", "*", "'; DROP TABLE posts; --", 'title:"x" OR {a}', "-"])
async def test_hostile_queries_answer_normally(world: World, query: str) -> None:
    embed = await answer(await search(world, {"query": query}))
    assert embed.get("color") != ERROR_RED, embed
    assert "went wrong" not in json.dumps(embed)
    assert stored_posts(world.db) == 1 + GENERATED  # the posts table is still there, whole
    assert_clean(world)


async def test_no_results_suggest_the_closest_series(world: World) -> None:
    embed = await answer(await search(world, {"query": "metalic rouge"}))
    assert embed["title"] == "No results"
    assert "**Metallic Rouge**" in embed["description"]
    assert_clean(world)


async def test_paging_belongs_to_the_caller(world: World) -> None:
    fake = world.fake
    caller, other = fake.world.member_id, fake.world.admin_id
    handle = await search(world, {"query": "lighthouse", "sort": "newest"}, user=caller)
    first = await answer(handle)
    assert first["footer"]["text"].startswith(f"Page 1 of 8 · {GENERATED} reviews")
    assert "**1. [" in first["description"] and "**6. [" not in first["description"]
    original = await handle.wait_original()
    before = (json.dumps(original.embeds), len(original.history))
    buttons = components(original)
    assert buttons["«"]["disabled"] and buttons["‹"]["disabled"] and buttons["1 / 8"]["disabled"]

    intruder = await handle.click(buttons["›"]["custom_id"], user_id=other)
    refused = await intruder.response(timeout=10)
    assert refused["type"] == 4 and refused["data"]["flags"] & EPHEMERAL
    assert "not yours; run /search yourself" in refused["data"]["content"]
    assert (json.dumps(original.embeds), len(original.history)) == before  # the caller's page is untouched

    turned = await handle.click(buttons["›"]["custom_id"], user_id=caller)
    assert (await turned.response(timeout=10))["type"] == 7  # the same message, edited
    page_two = await handle.wait_original(lambda m: "Page 2 of 8" in json.dumps(m.embeds))
    assert "**6. [" in page_two.embeds[0]["description"]
    last = await handle.click(components(page_two)["»"]["custom_id"], user_id=caller)
    await last.response(timeout=10)
    page_eight = await handle.wait_original(lambda m: "Page 8 of 8" in json.dumps(m.embeds))
    assert components(page_eight)["›"]["disabled"]
    # Newest first: the first generated review is the oldest, so it ends the last page.
    assert "**40. [" in page_eight.embeds[0]["description"] and "@reader00" in page_eight.embeds[0]["description"]
    assert_clean(world)


async def test_chain_text_in_results_is_inert(world: World) -> None:
    embed = await answer(await search(world, {"query": "free tokens"}))
    text = json.dumps(embed)
    assert "@reader07" in text and "lighthouse" in text
    for bad in ("@everyone", "@here", "<@&123>", "](javascript", "<b>", " **bold**"):
        assert bad not in text, bad
    assert_clean(world)


async def test_post_here_shares_the_full_review_publicly(world: World) -> None:
    fake = world.fake
    caller = fake.world.member_id
    handle = await search(world, {"query": "mars machines"}, user=caller)
    await answer(handle)
    picker = components(await handle.wait_original())["select"]
    option = picker["options"][0]
    assert option["label"].startswith("1. Review Metallic Rouge")
    before = len(fake.messages(world.channel))

    intruder = await handle.click(
        picker["custom_id"], user_id=fake.world.admin_id, component_type=3, values=[option["value"]]
    )
    assert "not yours" in (await intruder.response(timeout=10))["data"]["content"]
    assert len(fake.messages(world.channel)) == before

    picked = await handle.click(picker["custom_id"], user_id=caller, component_type=3, values=[option["value"]])
    told = await picked.response(timeout=10)
    assert told["type"] == 4 and told["data"]["flags"] & EPHEMERAL and "Posted" in json.dumps(told["data"])
    public = await fake.wait_for(lambda: fake.messages(world.channel)[before:] or None, timeout=10)
    (shared,) = public
    assert not shared.ephemeral
    review = shared.embeds[0]
    assert "Metallic Rouge" in review["title"] and review["url"].startswith(
        "https://hive.blog/hive-158489/@alienpunklord/"
    )
    assert review["author"]["name"] == "@alienpunklord"
    assert {"name": "Series", "value": "Metallic Rouge", "inline": True} in review["fields"]
    assert f"<@{caller}>" in shared.content
    assert shared.allowed_mentions is not None and shared.allowed_mentions.get("parse") == []
    assert not shared.allowed_mentions.get("users")
    assert_clean(world)


async def autocomplete(world: World, options: dict[str, Any], focused: str) -> list[dict[str, Any]]:
    fake = world.fake
    handle = await fake.send_autocomplete(
        fake.world.guild_id, world.channel, fake.world.member_id, "search", options, focused
    )
    body = await handle.response(timeout=10)
    assert body["type"] == 8, body
    choices = body["data"]["choices"]
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(choice["value"]) <= 100, choice
    return list(choices)


async def test_autocomplete_offers_at_most_25_short_choices(world: World) -> None:
    authors = await autocomplete(world, {"query": "x", "author": "read"}, "author")
    assert len(authors) == 25 and all(c["name"].startswith("@reader") for c in authors)
    everyone = await autocomplete(world, {"query": "x", "author": ""}, "author")
    assert len(everyone) == 25
    assert await autocomplete(world, {"query": "x", "author": "no such person!"}, "author") == []
    series = await autocomplete(world, {"query": "x", "series": ""}, "series")
    assert len(series) == 25
    metal = await autocomplete(world, {"query": "x", "series": "metalic roug"}, "series")
    assert metal[0]["name"] == "Metallic Rouge"
    frieren = await autocomplete(world, {"query": "x", "series": "FRIEREN"}, "series")
    assert frieren[0]["name"].startswith("Frieren")
    await autocomplete(world, {"query": "x", "series": "ü" * 200}, "series")
    assert_clean(world)


async def test_filters_narrow_and_picked_series_work(world: World) -> None:
    by_author = await answer(await search(world, {"query": "lighthouse", "author": "@Reader03"}))
    assert by_author["footer"]["text"].startswith("Page 1 of 1 · 1 review") and "@reader03" in by_author["description"]
    by_series = await answer(await search(world, {"query": "rouge", "series": "Metallic Rouge"}))
    assert "alienpunklord" in by_series["description"] and "series Metallic Rouge" in by_series["footer"]["text"]
    in_community = await answer(await search(world, {"query": "lighthouse", "community": ANIME_REALM}))
    assert f"{GENERATED} reviews" in in_community["footer"]["text"]
    assert_clean(world)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"author": "not an account!!"}, "is not a Hive account name"),
        ({"author": "nobodyhere"}, "No stored review is by @nobodyhere"),
        ({"series": "!!! ???"}, "has no letters or digits"),
        ({"series": "Metalic Rogue"}, "Did you mean **Metallic Rouge**"),
        ({"community": "anime realm"}, "is not a community id"),
    ],
)
async def test_wrong_input_gets_a_plain_sentence(world: World, options: dict[str, Any], expected: str) -> None:
    embed = await answer(await search(world, {"query": "lighthouse", **options}))
    assert expected in embed["description"], embed
    assert "went wrong" not in embed["description"]
    assert_clean(world)


# -- the store's side of /search, on a real SQLite file ---------------------------------------------


async def test_the_store_ranks_only_the_newest_window_of_matches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "window.sqlite3")
    meta = json.dumps({"tags": [ANIME_REALM, "anime", "metallicrouge", "review"]})
    other = json.dumps({"tags": [ANIME_REALM, "anime", "frieren", "review"]})
    events: list[ChainEvent] = [
        PostCreated(
            10, "2026-01-01T00:00:00", "old", "a", ANIME_REALM, "Metallic Rouge: rouge in the title", "x", meta
        ),
        *(
            PostCreated(20 + i, "2026-01-02T00:00:00", f"writer{i}", "b", ANIME_REALM, f"Frieren {i}", "rouge", other)
            for i in range(5)
        ),
        PostCreated(40, "2026-01-03T00:00:00", "gone", "c", ANIME_REALM, "Rouge rouge rouge", "rouge", meta),
        PostDeleted(41, "2026-01-03T00:00:03", "gone", "c"),
    ]
    try:
        await store.chain_batch(lambda tx: apply_events(tx, events))
        everything, more = await store.posts.search_ids('"rouge"', window=10)
        assert (
            not more and len(everything) == 6 and everything[0] == 1
        )  # the title match first; the deleted post absent
        newest, more = await store.posts.search_ids('"rouge"', newest_first=True, window=3)
        assert more and newest == [6, 5, 4]
        ranked, more = await store.posts.search_ids('"rouge"', window=3)
        assert more and sorted(ranked) == [4, 5, 6]  # the old title match is outside the window
        assert (await store.posts.search_ids('"rouge"', author="writer2"))[0] == [4]
        assert (await store.posts.search_ids('"rouge"', series_key="metallicrouge"))[0] == [1]
        assert (await store.posts.search_ids(None, series_key="frieren", window=2)) == ([6, 5], True)
        assert (await store.posts.search_ids('"rouge"', community="hive-000000"))[0] == []
        assert [p.author for p in await store.posts.live_posts([4, 7, 1])] == ["writer2", "old"]
        assert await store.posts.has_author("old") and not await store.posts.has_author("gone")
    finally:
        await store.close()


async def test_post_here_without_send_permission_says_what_is_missing(world: World) -> None:
    fake = world.fake
    caller = fake.world.member_id
    handle = await fake.send_interaction(
        fake.world.guild_id, fake.world.no_send_id, caller, "search", {"query": "mars machines"}
    )
    await answer(handle)
    picker = components(await handle.wait_original())["select"]
    picked = await handle.click(
        picker["custom_id"], user_id=caller, component_type=3, values=[picker["options"][0]["value"]]
    )
    told = await picked.response(timeout=10)
    assert told["data"]["flags"] & EPHEMERAL
    assert "I'm missing **Send Messages" in json.dumps(told["data"]["embeds"])
    assert fake.messages(fake.world.no_send_id) == []
    assert_clean(world)
