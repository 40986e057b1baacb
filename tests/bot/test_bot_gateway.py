"""Gateway events discord.py cannot read, through the real bot: each is dropped with one log line, the
shard stays connected, and mirroring and commands go on."""

from __future__ import annotations

import copy
from typing import Any

from tests.bot.test_bot_lanes import add_feed, command, titles
from tests.bot_harness import BotProcess
from tests.fakes.discord import payloads
from tests.helpers import SEED_LAST
from tests.world import World


async def bad_events(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Six events, each with one field of the wrong type or missing, as another server sent them."""
    fake = world.fake
    state, guild = fake.state, fake.world.guild_id
    member = state.members[(guild, fake.world.admin_id)]
    roles_as_objects = [payloads.role(state.roles[r]) for r in member.role_ids]
    # A member's message (the bot, with the guilds intent only, is not sent its MESSAGE_CREATE).
    message = await fake.post_user_message(world.reviews, fake.world.admin_id, "Nice review!")
    update = payloads.message(state, message, gateway=True)
    update["member"] = {**payloads.member(state, member, with_user=False), "roles": roles_as_objects}
    create = copy.deepcopy(payloads.message(state, message, gateway=True))
    create["id"] = str(int(create["id"]) + 1)
    create["embeds"] = {"not": "a list"}
    role = {**payloads.role(state.roles[fake.world.bot_role_id]), "permissions": {"allow": "1024"}}
    channel = {**payloads.channel(state, state.channels[world.reviews]), "permission_overwrites": "none"}
    thread = {"id": str(int(create["id"]) + 1)}
    member_update = {
        **payloads.member(state, member),
        "guild_id": str(guild),
        "roles": roles_as_objects,
    }
    return [
        ("MESSAGE_UPDATE", update),
        ("MESSAGE_CREATE", create),
        ("GUILD_ROLE_UPDATE", {"guild_id": str(guild), "role": role}),
        ("CHANNEL_UPDATE", channel),
        ("THREAD_CREATE", thread),
        ("GUILD_MEMBER_UPDATE", member_update),
    ]


async def test_unreadable_gateway_events_cost_a_log_line_each_never_the_connection_or_the_bot(world: World) -> None:
    fake = world.fake
    bot = BotProcess(world.config, fake)
    await bot.start()
    try:
        await add_feed(world, world.reviews)
        identifies, connections = len(fake.gateway.identifies), len(fake.gateway.connections)
        logged = len(bot.log.splitlines())
        events = await bad_events(world)
        # The first twice: the same failure again is counted, not logged again.
        for event, data in [events[0], *events]:
            assert await fake.gateway.dispatch(event, data), "no gateway session to send to"
        # Events are read in order: the answer to this command means every bad event was read first.
        status = await command(world, "status", {}, user=fake.world.member_id)
        assert "Delivery backlog" in status, status
        world.node.head = SEED_LAST + 5
        await fake.wait_for(lambda: titles(world, world.reviews), timeout=30)
        await add_feed(world, world.second)  # a command after the review: the bot is still there
        assert bot.proc is not None and bot.proc.returncode is None, bot.log
        assert len(fake.gateway.identifies) == identifies, bot.log
        assert len(fake.gateway.connections) == connections, bot.log
        assert not [f for f in fake.gateway.received if f.get("op") == 6], bot.log  # no RESUME either
    finally:
        assert await bot.stop() == 0, bot.log
    assert len(titles(world, world.reviews)) == 1
    new_lines = bot.log.splitlines()[logged:]
    for event, _data in events:
        assert len([line for line in new_lines if event in line]) <= 1, (event, new_lines)
    trouble = [line for line in new_lines if " WARNING " in line or " ERROR " in line]
    assert len(trouble) <= len(events), trouble
    assert "Traceback" not in bot.log, bot.log
