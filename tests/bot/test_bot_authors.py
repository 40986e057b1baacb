"""Linked authors recognised: their mirrored post mentions them (and no one else), /notify DMs them."""

from __future__ import annotations

import json
from typing import Any

from tests.bot.test_bot_roles import link, member
from tests.bot.test_bot_subscriptions import assert_pings_only
from tests.bot_harness import BotProcess, comment_block, db_rows, delivery_settled
from tests.helpers import ANIME_REALM, SEED_LAST
from tests.world import World


async def run(world: World, user: int, command: str, options: dict[str, Any]) -> str:
    handle = await world.fake.send_interaction(world.fake.world.guild_id, world.reviews, user, command, options)
    first = await handle.response(timeout=15)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


def post_sends(world: World, channel: int) -> list[Any]:
    return [
        r
        for r in world.fake.find_requests("POST", "/channels/{channel_id}/messages")
        if r.path == f"/channels/{channel}/messages"
        and r.status == 200
        and r.json["embeds"][0].get("author", {}).get("name") == "@alienpunklord"  # the mirror, not a vote
    ]


async def test_a_linked_authors_post_mentions_them_and_curator_votes_and_badges_reach_their_dms(world: World) -> None:
    author, stranger, shy = member(world, "punk"), member(world, "stranger"), member(world, "shy")
    await link(world.db, {author: "alienpunklord", shy: "shyauthor"})
    world.fake.close_dms(shy)
    bot = BotProcess(world.config, world.fake)
    await bot.start()
    try:
        refused = await run(world, stranger, "notify", {"votes": "on"})
        chosen = await run(world, author, "notify", {"votes": "on", "badges": "on"})
        await run(world, shy, "notify", {"votes": "on"})
        admin = world.fake.world.admin_id
        await run(world, admin, "feed add", {"community": ANIME_REALM, "channel": world.reviews})
        await run(
            world, admin, "feed add", {"community": ANIME_REALM, "channel": world.second, "mention_authors": False}
        )
        # A post by the author whose DMs are closed, and a curator's upvote on it.
        vote = {"voter": "animerealm.cur", "author": "shyauthor", "permlink": "shy-post", "weight": 10000}
        world.node.add_blocks(
            {
                SEED_LAST + 10: comment_block("shyauthor", "shy-post", "Shy", "A shy review.", "{}"),
                SEED_LAST + 11: {"transactions": [{"operations": [{"type": "vote_operation", "value": vote}]}]},
            }
        )
        world.node.head = SEED_LAST + 13
        await world.fake.wait_for(lambda: len(world.dms(author)) >= 2 and post_sends(world, world.second), timeout=60)
        await world.fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 11), timeout=60)
    finally:
        assert await bot.stop() == 0, bot.log
    assert "link your Hive account first" in refused
    assert "@alienpunklord" in chosen and "curator upvotes **on**" in chosen
    (mirrored,) = post_sends(world, world.reviews)
    assert f"<@{author}>" in mirrored.json["content"]
    assert_pings_only(mirrored.json["allowed_mentions"], users=[author])
    (plain,) = post_sends(world, world.second)  # that feed says mention_authors:off
    assert f"<@{author}>" not in (plain.json.get("content") or "")
    dms = [json.dumps([m.content, m.embeds]) for m in world.dms(author)]
    # The team's curator upvote and the badge; reader01 and miguelreads are no curators of this feed.
    assert len(dms) == 2, dms
    assert "curator upvoted your post" in dms[0] and "animerealm.cur" in dms[0]
    assert "HiveBuzz badge" in dms[1] and "9000" in dms[1]
    assert not any("reader01" in d or "miguelreads" in d for d in dms)
    assert world.dms(stranger) == []
    # Closed DMs, as for series alerts: one refused try, the member marked, no retry loop.
    shy_dm = world.fake.state.dm_channels[shy]
    tries = [
        r
        for r in world.fake.find_requests("POST", "/channels/{channel_id}/messages")
        if r.path == f"/channels/{shy_dm}/messages"
    ]
    assert [r.status for r in tries] == [403] and world.dms(shy) == []
    assert db_rows(world.db, "SELECT user_id FROM dm_closed") == [(shy,)]
    assert not world.fake.violations
