"""The bot on Discord: the real `hivecord run` against the loopback Hive node and the fake Discord."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.bot_harness import (
    BotProcess,
    RequestCounter,
    bot_config,
    comment_block,
    db_rows,
    delivery_settled,
)
from tests.fakes.discord.gateway import INTENT_GUILDS
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST, hivecord
from tests.world import World


async def add_feed(world: World, channel: int, user: int | None = None, **options: Any) -> dict[str, Any]:
    """Runs /feed add and returns the embed of the answer the user saw."""
    fake = world.fake
    handle = await fake.send_interaction(
        fake.world.guild_id,
        channel,
        user or fake.world.admin_id,
        "feed add",
        {"community": ANIME_REALM, "channel": channel, **options},
    )
    first = await handle.response(timeout=10)
    if first["type"] == 4:
        return first["data"]["embeds"][0]
    (answer,) = await handle.wait_followups(1, timeout=15)
    return answer.embeds[0]


def post_messages(world: World, channel: int) -> list[Any]:
    """The messages that mirror a post: a titled embed linking to the post on hive.blog."""
    return [
        m
        for m in world.fake.messages(channel)
        if m.embeds and m.embeds[0].get("title") and m.embeds[0].get("url", "").startswith("https://hive.blog/")
    ]


def walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in walk_strings(v)]
    return []


async def test_feed_mirrors_the_seed_review_edit_votes_and_badge(world: World) -> None:
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        answer = await add_feed(world, world.reviews, votes="all")
        assert "Feed added" in answer["title"], answer
        world.node.head = SEED_LAST + 220  # past the 10-minute vote window, in chain time

        def settled() -> bool:
            messages = world.fake.messages(world.reviews)
            texts = [json.dumps(m.embeds) for m in messages]
            return (
                any("It is not perfect" in t for t in texts)
                and any("9000" in t for t in texts)
                and any("miguelreads" in t for t in texts)
            )

        await world.fake.wait_for(settled, timeout=30)
    finally:
        assert await bot.stop() == 0, bot.log

    messages = world.fake.messages(world.reviews)
    posts = post_messages(world, world.reviews)
    assert len(posts) == 1, [m.embeds for m in messages]  # the review, once; no reply is mirrored
    review = posts[0].embeds[0]
    assert "Metallic Rouge" in review["title"]
    assert review["author"]["name"] == "@alienpunklord"
    assert (
        review["image"]["url"]
        == "https://files.peakd.com/file/peakd-hive/alienpunklord/23tGx1Tmetallic-rouge-cover.jpg"
    )
    assert {"name": "Series", "value": "Metallic Rouge", "inline": True} in review["fields"]
    assert "It is not perfect" in review["description"]
    votes_field = next(f["value"] for f in review["fields"] if f["name"] == "Votes")
    assert votes_field.startswith("3 votes"), votes_field  # the embed's count follows the chain
    assert posts[0].history, "the edit must edit the same message, not post another"

    others = [json.dumps(m.embeds) for m in messages if m is not posts[0]]
    votes = [t for t in others if "Votes on @" in t]
    assert len(votes) == 1  # votes:all gathers a window's votes into one message
    for voter in ("animerealm.cur", "reader01", "miguelreads"):
        assert voter in votes[0]
    badges = [t for t in others if "HiveBuzz" in t]
    assert len(badges) == 1 and "alienpunklord" in badges[0] and "9000" in badges[0]
    assert len(messages) == 3
    assert not world.fake.violations and not world.fake.unknown_requests


async def test_members_without_manage_server_are_refused(world: World) -> None:
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        answer = await add_feed(world, world.reviews, user=world.fake.world.member_id)
    finally:
        await bot.stop()
    assert "Manage Server" in answer["description"]
    assert db_rows(world.db, "SELECT * FROM feeds") == []


async def test_hostile_posts_ping_no_one_and_fit_discord(world: World) -> None:
    # Mentionable: /feed add takes only a role the admin could ping themselves.
    role = world.fake.state.add_role(world.fake.world.guild_id, "reviews-fans", permissions=0, mentionable=True).id
    hostile_title = "@everyone free tokens <@&123> [x](javascript:alert(1))"
    tags = json.dumps({"tags": [f"tag{i}" for i in range(40)], "image": ["javascript:alert(1)"]})
    blocks = {
        SEED_LAST + 10: comment_block(
            "mallory", "free-tokens", hostile_title, "@here <@1> [y](javascript:x) " * 50, tags
        ),
        SEED_LAST + 11: comment_block("mallory", "long", "T" * 300, "word " * 10_000, "{not json"),
    }
    # Served only once the head moves, after /feed add: a feed mirrors what happens from then on, so
    # blocks the follower stored before the feed existed would never be sent (a race under load).
    world.node.add_blocks(blocks, _raise_head=False)
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, role=role)
        world.node.head = SEED_LAST + 20
        await world.fake.wait_for(lambda: len(post_messages(world, world.reviews)) >= 3, timeout=30)
    finally:
        await bot.stop()
    assert not world.fake.violations, world.fake.violations
    sends = world.fake.find_requests("POST", "/channels/{channel_id}/messages")
    assert sends
    for request in sends:
        mentions = request.json["allowed_mentions"]
        assert mentions.get("parse") == [], mentions
        assert mentions.get("roles", []) in ([], [str(role)], [role]), mentions
        assert not mentions.get("users"), mentions
        for text in walk_strings(request.json.get("embeds", [])):
            assert "](" not in text, text  # no masked link survives, so no javascript: one either
            assert "<@&" not in text and "@everyone" not in text and "@here" not in text
        for embed in request.json.get("embeds", []):
            for url in (embed.get("url"), embed.get("image", {}).get("url"), embed.get("author", {}).get("url")):
                assert url is None or url.startswith(("https://", "http://"))


@pytest.mark.slow
async def test_sigkill_while_a_backlog_drains_delivers_each_post_once_in_order(world: World, tmp_path: Path) -> None:
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, votes="off", badges=False)
        await add_feed(world, world.second, votes="off", badges=False)
    finally:
        await bot.stop()
    # 200 new reviews wait on the chain while the bot is down.
    first = SEED_LAST + 1
    world.node.add_blocks(
        {
            first + i: comment_block(f"author{i % 7}", f"review-{i:03d}", f"Review number {i:03d}", f"Body {i}", "{}")
            for i in range(200)
        }
    )
    world.node.head = first + 205
    # Answers take 20 ms to come back, so many kills land after Discord posted a message and
    # before the bot heard of it: the resend must carry the same nonce and post nothing new.
    world.fake.answer_delay = 0.02
    rng = random.Random(5)
    kills = 0
    at_kill: list[int] = []
    total = 2 * 201

    def delivered() -> int:
        return sum(len(post_messages(world, c)) for c in (world.reviews, world.second))

    paths = {f"/channels/{c}/messages" for c in (world.reviews, world.second)}
    posted = RequestCounter(world.fake, "POST", "/channels/{channel_id}/messages", lambda r: r.path in paths)
    while True:
        bot = BotProcess(world.config, world.fake)
        target = posted() + rng.randint(10, 60)  # each life is killed after a random share of the backlog
        await bot.start(wait_ready=False)
        if not await bot.kill_at(lambda: posted() >= target, unless=lambda: delivered() >= total):  # noqa: B023
            await world.fake.wait_for(lambda: delivery_settled(world.db, first + 199), timeout=60)
            assert await bot.stop() == 0, bot.log
            break
        kills += 1
        at_kill.append(delivered())
    # The kills caught the drain part-way, again and again, not only before or after it.
    assert kills >= 5 and len({n for n in at_kill if 0 < n < total}) >= 5, at_kill
    for channel in (world.reviews, world.second):
        titles = [m.embeds[0]["title"] for m in post_messages(world, channel)]
        numbered = [t for t in titles if t.startswith("Review number")]
        assert numbered == [f"Review number {i:03d}" for i in range(200)], numbered
    assert not world.fake.violations


async def test_a_forbidden_channel_breaks_only_its_feed_and_429s_lose_nothing(world: World) -> None:
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, votes="off")
        await add_feed(world, world.second, votes="off")
        world.fake.fail_channel(world.reviews, 403, 50013)
        world.fake.fail_channel(world.second, 429, times=2, retry_after=0.3)
        world.node.head = SEED_LAST + 5
        await world.fake.wait_for(lambda: len(post_messages(world, world.second)) >= 1, timeout=30)
        await world.fake.wait_for(
            lambda: db_rows(world.db, "SELECT broken FROM feeds WHERE channel_id = ?", world.reviews)[0][0], timeout=60
        )
        handle = await world.fake.send_interaction(
            world.fake.world.guild_id, world.second, world.fake.world.admin_id, "feed list", {}
        )
        listing = json.dumps((await handle.response())["data"])
    finally:
        await bot.stop()
    assert "broken" in listing and "missing permissions" in listing
    assert len(post_messages(world, world.second)) == 1
    assert post_messages(world, world.reviews) == []
    assert world.fake.count_429 >= 2


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[hive]\nnodes = ["http://127.0.0.1:9"]\n')
    result = hivecord("run", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "DISCORD_TOKEN" in result.stderr


async def test_run_with_a_rejected_token_says_so_in_one_line(world: World) -> None:
    bot = BotProcess(world.config, world.fake, token="not-the-token")
    await bot.start(wait_ready=False)
    code = await bot.proc.wait()  # type: ignore[union-attr]
    await bot._reader
    lines = [line for line in bot.log.splitlines() if line.strip()]
    assert code == 2
    assert "Traceback" not in bot.log
    assert sum("rejected the token" in line for line in lines) == 1, bot.log


async def test_refused_intents_stop_the_bot_with_one_line(world: World) -> None:
    # Another server (or a future Discord) may refuse even the guilds intent: 4014 is final, so the bot
    # says so once and exits instead of identifying again and again.
    world.fake.gateway.refused_intents = INTENT_GUILDS
    before = len(world.fake.gateway.received)
    bot = BotProcess(world.config, world.fake)
    try:
        await bot.start(wait_ready=False)
        code = await bot.proc.wait()  # type: ignore[union-attr]
        await bot._reader
    finally:
        world.fake.gateway.refused_intents = 0
    lines = [line for line in bot.log.splitlines() if line.strip()]
    assert code == 2
    assert "Traceback" not in bot.log
    assert sum("refused the gateway intents" in line for line in lines) == 1, bot.log
    identifies = [f for f in world.fake.gateway.received[before:] if f.get("op") == 2]
    assert len(identifies) == 1


async def command(world: World, name: str, options: dict[str, Any], channel: int | None = None) -> str:
    """Runs a slash command as the admin; returns everything the user was shown, as JSON text."""
    fake = world.fake
    handle = await fake.send_interaction(
        fake.world.guild_id, channel or world.reviews, fake.world.admin_id, name, options
    )
    first = await handle.response(timeout=10)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=15)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


async def test_curator_votes_preview_status_remove_and_one_command_sync(world: World) -> None:
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews, votes="curators", curators="miguelreads")
        world.node.head = SEED_LAST + 5
        await world.fake.wait_for(
            lambda: sum("Votes on @" in json.dumps(m.embeds) for m in world.fake.messages(world.reviews)) >= 2,
            timeout=30,
        )
        status = await command(world, "status", {})
        preview = await command(world, "feed test", {"community": ANIME_REALM, "channel": world.second})
        nonsense = await command(world, "feed add", {"community": "anime realm please"})
        removed = await command(world, "feed remove", {"community": ANIME_REALM})
        listing = await command(world, "feed list", {})
    finally:
        assert await bot.stop() == 0
    # Curators mode: the team's animerealm.cur and the listed miguelreads, one message each; not reader01.
    votes = [json.dumps(m.embeds) for m in world.fake.messages(world.reviews) if "Votes on @" in json.dumps(m.embeds)]
    assert len(votes) == 2 and "animerealm.cur" in votes[0] and "miguelreads" in votes[1]
    assert not any("reader01" in v for v in votes)
    assert "Chain" in status and "Delivery backlog" in status and "1 feed(s)" in status
    assert "Preview posted" in preview
    (shown,) = post_messages(world, world.second)
    assert shown.embeds[0]["footer"]["text"].startswith("Preview")
    assert "is not a community id" in nonsense and "hive-158489" in nonsense
    assert "Removed 1 feed" in removed and "No feeds yet" in listing
    assert db_rows(world.db, "SELECT count(*) FROM feeds") == [(0,)]

    # A restart with the same commands does not sync them again.
    syncs = len(world.fake.find_requests("PUT", "/applications/{application_id}/commands"))
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    await bot.stop()
    assert len(world.fake.find_requests("PUT", "/applications/{application_id}/commands")) == syncs == 1
    assert not world.fake.violations


def bridge_post(
    author: str, permlink: str, title: str, created: str, pinned: bool = False, gray: bool = False
) -> dict[str, Any]:
    return {
        "author": author,
        "permlink": permlink,
        "category": ANIME_REALM,
        "community": ANIME_REALM,
        "depth": 0,
        "title": title,
        "body": f"{title}: a review body.",
        "json_metadata": {"tags": [ANIME_REALM, "anime"]},
        "created": created,
        "stats": {"is_pinned": pinned, "gray": gray},  # as bridge answers (see the real fixture)
    }


async def test_backfill_posts_recent_posts_from_bridge_oldest_first(world: World) -> None:
    # The newest two are hidden by the community: a muted account's (its roles are read only once the
    # community is followed, mid-run) and one bridge marks gray. Neither is backfilled.
    world.node.community_roles[ANIME_REALM].append(["spammer01", "muted", ""])
    world.node.ranked_posts = {
        ANIME_REALM: [
            bridge_post("spammer01", "buy-tokens", "Buy tokens", "2026-11-20T05:00:00"),
            bridge_post("d", "grayed", "Gray review", "2026-11-20T04:00:00", gray=True),
            bridge_post("rules", "community-rules", "Pinned rules", "2020-01-01T00:00:00", pinned=True),
            bridge_post("c", "third", "Third review", "2026-11-20T03:00:00"),
            bridge_post("b", "second", "Second review", "2026-11-20T02:00:00"),
            bridge_post("a", "first", "First review", "2026-11-20T01:00:00"),
        ]
    }
    # No community in the config: Anime Realm is followed only once /feed add asks for it, mid-run.
    config = bot_config(world.folder, world.node.url, world.fake, start_block=SEED_FIRST, hive={"communities": []})
    bot = BotProcess(config, world.fake)
    await bot.start()
    try:
        assert not db_rows(world.db, "SELECT 1 FROM community_roles")  # not followed: never read
        answer = await add_feed(world, world.reviews, backfill=2)
        # Read before the backfill and the follow, not when the roles loop next looks.
        assert db_rows(world.db, "SELECT role FROM community_roles WHERE account = 'spammer01'") == [("muted",)]
        await world.fake.wait_for(lambda: len(post_messages(world, world.reviews)) >= 2, timeout=60)
        # Every queued job sent: a third post (the pinned one, or a repeat) would be in by now.
        await world.fake.wait_for(lambda: delivery_settled(world.db, SEED_FIRST - 1), timeout=60)
    finally:
        await bot.stop()
    assert "2 recent post(s) queued" in answer["description"]
    titles = [m.embeds[0]["title"] for m in post_messages(world, world.reviews)]
    assert titles == ["Second review", "Third review"]
