"""Refused lanes: how many requests the bot sends to a lane Discord refused, in the minute after.

Runs the real `hivecord run` against the loopback Hive node (serving the seed review) and the
tests' fake Discord, with four lanes refused at once:

- feed post:  a feed's channel answers every request 403 (50013 Missing Permissions);
- alert here: a member's alert mention goes to a channel that answers 403 (50001 Missing Access);
- DM:         a member subscribed from a DM and closed DMs: the DM is refused (50007), and so is
              the fallback mention in the DM channel they subscribed from;
- refresh:    a feed's channel takes posts but answers the vote-count PATCH 404 (10003).

And two lanes that are not refused, for comparison:

- unreadable: a feed's channel takes its first post, then answers every PATCH and POST 200 with a
              body discord.py raises on (as another Discord-compatible server did): Discord applied each,
              so each is counted done and sent once, never again;
- rejected:   a feed's channel answers every post 400 (50035): each recorded, the feed broken at 3.

While the minute runs, a new post and a new vote on the review arrive every 2 s, so the bot
plans and passes over the lanes again and again. Prints, per lane, the requests that refused it
and the requests sent there in the following 60 s (wall clock).

    python benchmarks/refusals.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_harness import ANIME_REALM_INFO, TOKEN, BotProcess, bot_config, comment_block  # noqa: E402
from tests.fakes.chain_gen import build_vote_vops  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.discord.faults import Fault  # noqa: E402
from tests.fakes.discord.log import RecordedRequest  # noqa: E402
from tests.fakes.hive import FakeHiveNode, load_seed_fixture  # noqa: E402
from tests.helpers import ANIME_REALM, SEED, SEED_FIRST, SEED_LAST  # noqa: E402

REVIEW = ("alienpunklord", "review-metallic-rouge-mars-machines-and-meaning")
BAD_BODY = {"id": "not a snowflake", "embeds": "none"}


class Unreadable(Fault):
    def body(self) -> dict[str, Any]:
        return dict(BAD_BODY)


async def feed_add(fake: FakeDiscord, channel: int) -> None:
    handle = await fake.send_interaction(
        fake.world.guild_id,
        channel,
        fake.world.admin_id,
        "feed add",
        {"community": ANIME_REALM, "channel": channel, "votes": "off", "badges": False},
    )
    first = await handle.response(timeout=15)
    if first["type"] == 5:
        await handle.wait_followups(1, timeout=15)


def vote_block(voter: str) -> dict[str, Any]:
    op = {"voter": voter, "author": REVIEW[0], "permlink": REVIEW[1], "weight": 10000}
    return {"transactions": [{"operations": [{"type": "vote_operation", "value": op}]}]}


async def measure(seconds: float, folder: Path) -> None:
    blocks, _ = load_seed_fixture(SEED)
    node = FakeHiveNode(
        blocks, head=SEED_FIRST, vops=build_vote_vops(blocks), communities={ANIME_REALM: ANIME_REALM_INFO}
    )
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    state, guild = fake.state, fake.world.guild_id
    healthy = state.add_text_channel(guild, "healthy").id
    feed_post = state.add_text_channel(guild, "feed-post").id
    alert_here = state.add_text_channel(guild, "alert-here").id
    refresh = state.add_text_channel(guild, "refresh").id
    unreadable = state.add_text_channel(guild, "unreadable").id
    rejected = state.add_text_channel(guild, "rejected").id
    here_member, dm_member = state.add_user("here-member").id, state.add_user("dm-member").id
    for user in (here_member, dm_member):
        state.add_member(guild, user)
    dm = state.dm_channel_for(dm_member).id
    fake.close_dms(dm_member)
    await fake.start()

    lanes: dict[str, Callable[[RecordedRequest], bool]] = {
        "feed post channel 403 (50013)": lambda r: r.path.startswith(f"/channels/{feed_post}/"),
        "alert mention channel 403 (50001)": lambda r: r.path.startswith(f"/channels/{alert_here}/"),
        "DM 50007 + fallback 50007": lambda r: (
            r.path.startswith(f"/channels/{dm}/")
            or (r.path == "/users/@me/channels" and str((r.json or {}).get("recipient_id")) == str(dm_member))
        ),
        "refresh PATCH 404 (10003)": lambda r: r.method == "PATCH" and r.path.startswith(f"/channels/{refresh}/"),
        "unreadable 200 answers (each once)": lambda r: (
            r.method != "GET" and r.path.startswith(f"/channels/{unreadable}/") and r.answer == BAD_BODY
        ),
        "rejected 400 (50035)": lambda r: r.path.startswith(f"/channels/{rejected}/"),
    }
    try:
        config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST)
        bot = BotProcess(config, fake)
        await bot.start()
        for channel in (healthy, feed_post, refresh, unreadable, rejected):
            await feed_add(fake, channel)
        await bot.stop()
        with sqlite3.connect(folder / "hivecord.sqlite3") as conn:
            conn.executemany(
                "INSERT INTO subscriptions VALUES (?, 'metallicrouge', 'Metallic Rouge', ?, NULL, ?, '2026-11-23')",
                [(here_member, "here", alert_here), (dm_member, "dm", dm)],
            )
        fake.fail_channel(feed_post, 403, 50013)
        fake.fail_channel(alert_here, 403, 50001)
        fake.faults.add(Fault(404, 10003, lambda f: f.method == "PATCH" and f.params.get("channel_id") == str(refresh)))
        fake.faults.add(Fault(400, 50035, lambda f: f.params.get("channel_id") == str(rejected)))
        bot = BotProcess(config, fake)
        await bot.start()
        node.head = SEED_LAST + 5
        await fake.wait_for(lambda: any(lanes["feed post channel 403 (50013)"](r) for r in fake.requests), 60)
        await fake.wait_for(lambda: fake.messages(unreadable), 60)
        fake.faults.add(
            Unreadable(200, None, lambda f: f.method != "GET" and f.params.get("channel_id") == str(unreadable))
        )
        next_block = SEED_LAST + 10
        first_seen: dict[str, tuple[float, int]] = {}  # when a lane's first request was seen, and the count
        window: dict[str, list[RecordedRequest]] = {}
        start = time.monotonic()
        step = 0
        while len(window) < len(lanes) and time.monotonic() - start < seconds + 120:
            now = time.monotonic()
            for name, matches in lanes.items():
                sent = [r for r in fake.requests if matches(r)]
                if name not in first_seen and sent:
                    first_seen[name] = (now, len(sent))
                elif name in first_seen and name not in window and now - first_seen[name][0] >= seconds:
                    window[name] = sent
            if now - start >= 2 * step:  # a new post and a new vote every 2 s keep the bot busy
                num = next_block
                next_block += 2
                post = comment_block(f"writer{step}", f"post-{step}", f"Post {step}", "A body.", "{}")
                vote = vote_block(f"voter{step}")
                node.add_blocks({num: post, num + 1: vote}, vops=build_vote_vops({num + 1: vote}))
                node.head = num + 2
                step += 1
            await asyncio.sleep(0.1)
        delivered = sum(1 for m in fake.messages(healthy) if m.embeds)
        await bot.stop()
    finally:
        await fake.stop()
        node.stop_thread()
    print(f"requests the bot sent to each lane from its first request to {seconds:.0f} s later:")
    for name in lanes:
        sent = window.get(name, [])
        kinds: dict[str, int] = {}
        for r in sent:
            key = f"{r.key} -> {r.status}"
            kinds[key] = kinds.get(key, 0) + 1
        detail = ", ".join(f"{n} x {k}" for k, n in kinds.items())
        print(f"  {name:34} {len(sent):>5}   ({detail})")
    print(f"meanwhile {step} new posts and votes; {delivered} messages delivered to the healthy feed channel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.seconds, Path(folder)))


if __name__ == "__main__":
    main()
