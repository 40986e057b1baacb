"""Series alerts through the fake Discord: one DM per subscriber, a mention when DMs are closed."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot_harness import ANIME_REALM_INFO, TOKEN, BotProcess, RequestCounter, bot_config, db_rows, delivery_settled
from tests.fakes.chain_gen import build_vote_vops
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode, load_seed_fixture
from tests.helpers import ANIME_REALM, SEED, SEED_FIRST, SEED_LAST


class Env:
    def __init__(self, fake: FakeDiscord, node: FakeHiveNode, config: Path, db: Path, reviews: int) -> None:
        self.fake, self.node, self.config, self.db, self.reviews = fake, node, config, db, reviews

    def dms(self, user_id: int) -> list[Any]:
        channel = self.fake.state.dm_channels.get(user_id)
        return self.fake.messages(channel) if channel is not None else []


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    blocks, _ = load_seed_fixture(SEED)
    node = FakeHiveNode(
        blocks, head=SEED_FIRST, vops=build_vote_vops(blocks), communities={ANIME_REALM: ANIME_REALM_INFO}
    )
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    reviews = fake.state.add_text_channel(fake.world.guild_id, "reviews").id
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST, requests_per_second=400.0)
    try:
        yield Env(fake, node, config, tmp_path / "hivecord.sqlite3", reviews)
    finally:
        await fake.stop()
        node.stop_thread()


def member(env: Env, name: str) -> int:
    user = env.fake.state.add_user(name)
    env.fake.state.add_member(env.fake.world.guild_id, user.id)
    return user.id


async def run(env: Env, user: int, command: str, options: dict[str, Any]) -> dict[str, Any]:
    handle = await env.fake.send_interaction(env.fake.world.guild_id, env.reviews, user, command, options)
    first = await handle.response(timeout=10)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=15)
        return {"embeds": answer.embeds, "handle": handle}
    return {**first["data"], "handle": handle}


async def test_subscribers_get_one_alert_and_closed_dms_one_mention(env: Env) -> None:
    fan, other, closed = member(env, "fan"), member(env, "other"), member(env, "closed")
    env.fake.close_dms(closed)
    bot = BotProcess(env.config, env.fake)
    await bot.start()
    try:
        handle = await env.fake.send_interaction(
            env.fake.world.guild_id,
            env.reviews,
            env.fake.world.admin_id,
            "feed add",
            {"community": ANIME_REALM, "channel": env.reviews, "votes": "off", "badges": False},
        )
        await handle.response(timeout=10)
        await handle.wait_followups(1, timeout=15)
        subscribed = await run(env, fan, "subscribe", {"series": "Metallic Rouge"})
        assert "You now follow" in json.dumps(subscribed["embeds"])
        await run(env, other, "subscribe", {"series": "Ergo Proxy"})  # only named in the review's body
        await run(env, closed, "subscribe", {"series": "metallic-rouge"})
        env.node.head = SEED_LAST + 5

        def mentioned() -> list[Any]:
            return [m for m in env.fake.messages(env.reviews) if f"<@{closed}>" in (m.content or "")]

        await env.fake.wait_for(lambda: env.dms(fan) and mentioned(), timeout=60)
        # Every review planned and every job sent: a duplicate would have been sent by now.
        await env.fake.wait_for(lambda: delivery_settled(env.db, SEED_LAST), timeout=60)
        told = await run(env, closed, "subscriptions", {})
        notice = await told["handle"].wait_followups(1, timeout=10)
    finally:
        assert await bot.stop() == 0, bot.log
    (dm,) = env.dms(fan)
    assert "Metallic Rouge" in dm.content and "Metallic Rouge" in dm.embeds[0]["title"]
    assert env.dms(other) == []
    (mention,) = mentioned()
    # The mention may ping its subscriber and no one else: no @everyone/@here, no role, no other user.
    assert_pings_only(mention.allowed_mentions, users=[closed])
    (dm_send,) = [
        r
        for r in env.fake.find_requests("POST", "/channels/{channel_id}/messages")
        if r.path == f"/channels/{dm.channel_id}/messages"
    ]
    assert_pings_only(dm_send.json.get("allowed_mentions"), users=[])
    assert "could not reach your DMs" in json.dumps([m.embeds for m in notice])
    assert not env.fake.violations


def assert_pings_only(allowed: dict[str, Any] | None, *, users: list[int]) -> None:
    """Exactly these users may be pinged: Discord's default without allowed_mentions pings everyone named."""
    assert allowed is not None, "without allowed_mentions Discord pings every mention in the content"
    assert set(allowed) <= {"parse", "users", "roles", "replied_user"}, allowed
    assert allowed.get("parse", []) == [], allowed  # "everyone", "roles" or "users" would parse the content
    assert allowed.get("roles", []) == [], allowed
    assert sorted(int(u) for u in allowed.get("users", [])) == sorted(users), allowed
    assert not allowed.get("replied_user"), allowed


@pytest.mark.slow
async def test_sigkill_during_a_500_subscriber_fan_out_alerts_each_once(env: Env) -> None:
    users = [member(env, f"sub{i}") for i in range(500)]
    # The subscriptions themselves are not under test here: written straight into the store.
    bot = BotProcess(env.config, env.fake)
    await bot.start()
    await bot.stop()
    with sqlite3.connect(env.db) as conn:
        conn.executemany(
            "INSERT INTO subscriptions VALUES"
            " (?, 'metallicrouge', 'Metallic Rouge', 'dm', ?, ?, '2026-11-23T00:00:00')",
            [(u, env.fake.world.guild_id, env.reviews) for u in users],
        )
    env.node.head = SEED_LAST + 5

    def alerted() -> int:
        return sum(1 for u in users if env.dms(u))

    # Cheap to poll, so the kill follows the fake's record closely: messages the fake made in DMs.
    dm_channels = env.fake.state.dm_channels.values()
    sent = RequestCounter(
        env.fake, "POST", "/channels/{channel_id}/messages", lambda r: int(r.path.split("/")[2]) in dm_channels
    )
    # The fake makes each message before its answer travels back, and the kill lands as the fake
    # records a message: the bot dies having sent an alert it never heard was made.
    env.fake.answer_delay = 0.01
    rng = random.Random(9)
    kills, at_kill = 0, []
    while True:
        bot = BotProcess(env.config, env.fake)
        target = sent() + rng.randint(20, 70)  # each life is killed after a random share of the fan-out
        await bot.start(wait_ready=False)
        if not await bot.kill_at(lambda: sent() >= target, unless=lambda: len(sent.paths) >= len(users)):  # noqa: B023
            await env.fake.wait_for(lambda: delivery_settled(env.db, SEED_LAST), timeout=60)
            assert await bot.stop() == 0, bot.log
            break
        kills += 1
        at_kill.append(alerted())
        # More messages made than members alerted: someone got an alert twice (fail now, not at the end).
        assert sent() <= at_kill[-1], f"an alert was sent twice by life {kills}"
    # The kills caught the fan-out part-way, again and again.
    assert kills >= 5 and len({n for n in at_kill if 0 < n < len(users)}) >= 5, at_kill
    counts = [len(env.dms(u)) for u in users]
    assert counts == [1] * len(users)
    assert db_rows(env.db, "SELECT count(*) FROM dm_channels") == [(len(users),)]
    assert not env.fake.violations
