"""Series alerts through the fake Discord: one DM per subscriber, a mention when DMs are closed."""

from __future__ import annotations

import json
import random
import sqlite3
from typing import Any

import pytest

from tests.bot_harness import BotProcess, RequestCounter, db_rows, delivery_settled
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import World


@pytest.fixture
def world_options() -> dict[str, Any]:
    return {"channels": ("reviews",), "requests_per_second": 400.0}


def member(world: World, name: str) -> int:
    user = world.fake.state.add_user(name)
    world.fake.state.add_member(world.fake.world.guild_id, user.id)
    return user.id


async def run(world: World, user: int, command: str, options: dict[str, Any]) -> dict[str, Any]:
    handle = await world.fake.send_interaction(world.fake.world.guild_id, world.reviews, user, command, options)
    first = await handle.response(timeout=10)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=15)
        return {"embeds": answer.embeds, "handle": handle}
    return {**first["data"], "handle": handle}


async def test_subscribers_get_one_alert_and_closed_dms_one_mention(world: World) -> None:
    fan, other, closed = member(world, "fan"), member(world, "other"), member(world, "closed")
    world.fake.close_dms(closed)
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        handle = await world.fake.send_interaction(
            world.fake.world.guild_id,
            world.reviews,
            world.fake.world.admin_id,
            "feed add",
            {"community": ANIME_REALM, "channel": world.reviews, "votes": "off", "badges": False},
        )
        await handle.response(timeout=10)
        await handle.wait_followups(1, timeout=15)
        subscribed = await run(world, fan, "subscribe", {"series": "Metallic Rouge"})
        assert "You now follow" in json.dumps(subscribed["embeds"])
        await run(world, other, "subscribe", {"series": "Ergo Proxy"})  # only named in the review's body
        await run(world, closed, "subscribe", {"series": "metallic-rouge"})
        world.node.head = SEED_LAST + 5

        def mentioned() -> list[Any]:
            return [m for m in world.fake.messages(world.reviews) if f"<@{closed}>" in (m.content or "")]

        await world.fake.wait_for(lambda: world.dms(fan) and mentioned(), timeout=60)
        # Every review planned and every job sent: a duplicate would have been sent by now.
        await world.fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=60)
        told = await run(world, closed, "subscriptions", {})
        notice = await told["handle"].wait_followups(1, timeout=10)
    finally:
        assert await bot.stop() == 0, bot.log
    (dm,) = world.dms(fan)
    assert "Metallic Rouge" in dm.content and "Metallic Rouge" in dm.embeds[0]["title"]
    assert world.dms(other) == []
    (mention,) = mentioned()
    # The mention may ping its subscriber and no one else: no @everyone/@here, no role, no other user.
    assert_pings_only(mention.allowed_mentions, users=[closed])
    (dm_send,) = [
        r
        for r in world.fake.find_requests("POST", "/channels/{channel_id}/messages")
        if r.path == f"/channels/{dm.channel_id}/messages"
    ]
    assert_pings_only(dm_send.json.get("allowed_mentions"), users=[])
    assert "could not reach your DMs" in json.dumps([m.embeds for m in notice])
    assert not world.fake.violations


def assert_pings_only(allowed: dict[str, Any] | None, *, users: list[int]) -> None:
    """Exactly these users may be pinged: Discord's default without allowed_mentions pings everyone named."""
    assert allowed is not None, "without allowed_mentions Discord pings every mention in the content"
    assert set(allowed) <= {"parse", "users", "roles", "replied_user"}, allowed
    assert allowed.get("parse", []) == [], allowed  # "everyone", "roles" or "users" would parse the content
    assert allowed.get("roles", []) == [], allowed
    assert sorted(int(u) for u in allowed.get("users", [])) == sorted(users), allowed
    assert not allowed.get("replied_user"), allowed


@pytest.mark.slow
async def test_sigkill_during_a_500_subscriber_fan_out_alerts_each_once(world: World) -> None:
    users = [member(world, f"sub{i}") for i in range(500)]
    # The subscriptions themselves are not under test here: written straight into the store.
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    await bot.stop()
    with sqlite3.connect(world.db) as conn:
        conn.executemany(
            "INSERT INTO subscriptions VALUES"
            " (?, 'metallicrouge', 'Metallic Rouge', 'dm', ?, ?, '2026-11-23T00:00:00')",
            [(u, world.fake.world.guild_id, world.reviews) for u in users],
        )
    world.node.head = SEED_LAST + 5

    def alerted() -> int:
        return sum(1 for u in users if world.dms(u))

    # Cheap to poll, so the kill follows the fake's record closely: messages the fake made in DMs.
    dm_channels = world.fake.state.dm_channels.values()
    sent = RequestCounter(
        world.fake, "POST", "/channels/{channel_id}/messages", lambda r: int(r.path.split("/")[2]) in dm_channels
    )
    # The fake makes each message before its answer travels back, and the kill lands as the fake
    # records a message: the bot dies having sent an alert it never heard was made.
    world.fake.answer_delay = 0.01
    rng = random.Random(9)
    kills, at_kill = 0, []
    while True:
        bot = BotProcess(world.config, world.fake)
        target = sent() + rng.randint(20, 70)  # each life is killed after a random share of the fan-out
        await bot.start(wait_ready=False)
        if not await bot.kill_at(lambda: sent() >= target, unless=lambda: len(sent.paths) >= len(users)):  # noqa: B023
            await world.fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST), timeout=60)
            assert await bot.stop() == 0, bot.log
            break
        kills += 1
        at_kill.append(alerted())
        # More messages made than members alerted: someone got an alert twice (fail now, not at the end).
        assert sent() <= at_kill[-1], f"an alert was sent twice by life {kills}"
    # The kills caught the fan-out part-way, again and again.
    assert kills >= 5 and len({n for n in at_kill if 0 < n < len(users)}) >= 5, at_kill
    counts = [len(world.dms(u)) for u in users]
    assert counts == [1] * len(users)
    assert db_rows(world.db, "SELECT count(*) FROM dm_channels") == [(len(users),)]
    assert not world.fake.violations
