"""Live latency: a review's block becomes irreversible at the node -> its message is POSTed to Discord.

Runs the real `hivecord run` with the default config (only the node, Discord's address and the
database path are set) against the loopback Hive node and the tests' fake Discord, with a feed for
Anime Realm in one channel. Once the bot is live, a new block holding one review appears at the
node's head every 0.7-3.3 s (seeded, uneven, so no poller can fall into step with it); each new head
makes the review before it irreversible. The clock starts when the node's last irreversible block
moves onto a review's block and stops when the fake Discord records the POST of that review's
message. Prints p50 / p95 / max of those delays and the node requests per second while live.

    python benchmarks/latency.py [--reviews 40] [--seed 11]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_harness import ANIME_REALM_INFO, TOKEN, BotProcess, comment_block  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.hive import FakeHiveNode  # noqa: E402
from tests.helpers import ANIME_REALM, cursor_of  # noqa: E402

FIRST = 95_000_000
POSTS = "/channels/{channel_id}/messages"


def default_config(folder: Path, hive_url: str, fake: FakeDiscord) -> Path:
    """The defaults, but for where the node, Discord and the database are (no test speed-ups)."""
    lines = [
        "[hive]",
        f"nodes = {json.dumps([hive_url])}",
        f"communities = {json.dumps([ANIME_REALM])}",
        "",
        "[database]",
        'path = "hivecord.sqlite3"',
        "",
        "[discord]",
        f"api_base = {json.dumps(fake.url + '/api/v10')}",
        f"gateway_url = {json.dumps(fake.gateway_url)}",
    ]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def review_block(i: int) -> dict[str, Any]:
    block = comment_block(f"reviewer{i % 5}", f"live-review-{i:04d}", f"Live review {i}", f"Body of review {i}.", "{}")
    # Stamped with the wall clock, as a real block is with the time its witness made it.
    block["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return block


async def add_feed(fake: FakeDiscord, channel: int) -> None:
    handle = await fake.send_interaction(
        fake.world.guild_id,
        channel,
        fake.world.admin_id,
        "feed add",
        {"community": ANIME_REALM, "channel": channel, "votes": "off", "badges": False},
    )
    first = await handle.response(timeout=60)
    if first["type"] != 4:
        await handle.wait_followups(1, timeout=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def measure(reviews: int, seed: int, folder: Path) -> None:
    node = FakeHiveNode({}, head=FIRST, communities={ANIME_REALM: ANIME_REALM_INFO})
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    channel = fake.state.add_text_channel(fake.world.guild_id, "reviews").id
    await fake.start()
    posted: dict[str, float] = {}
    read = 0
    plain_notify = fake.notify

    def notify() -> None:  # called as the fake records each request, before it answers
        nonlocal read
        now = time.perf_counter()
        for request in fake.requests[read:]:
            if request.method == "POST" and request.route == POSTS and request.path == f"/channels/{channel}/messages":
                for embed in (request.json or {}).get("embeds") or []:
                    url = str(embed.get("url", ""))
                    if "live-review-" in url:
                        posted.setdefault(url.rsplit("/", 1)[-1], now)
        read = len(fake.requests)
        plain_notify()

    fake.notify = notify  # type: ignore[method-assign]
    bot = BotProcess(default_config(folder, hive_url, fake), fake)
    try:
        await bot.start()
        await add_feed(fake, channel)
        db = folder / "hivecord.sqlite3"
        await fake.wait_for(lambda: (cursor_of(db) or 0) >= node.irreversible, timeout=60)
        rng = random.Random(seed)
        # Block FIRST+1+i holds review i; it sits at the head (reversible) until the next block comes.
        node.add_blocks({FIRST + 1: review_block(0)})
        final: dict[str, float] = {}
        requests_before, calls_before = node.requests, Counter(node.calls)
        began = time.perf_counter()
        for i in range(reviews):
            await asyncio.sleep(rng.uniform(0.7, 3.3))
            node.add_blocks({FIRST + 2 + i: review_block(i + 1)})  # the head moves: review i is final
            final[f"live-review-{i:04d}"] = time.perf_counter()
        live_seconds = time.perf_counter() - began
        live_requests = node.requests - requests_before
        calls = Counter(node.calls)
        calls.subtract(calls_before)
        await fake.wait_for(lambda: all(p in posted for p in final), timeout=60)
    finally:
        await bot.stop()
        await fake.stop()
        node.stop_thread()
    delays = [posted[p] - at for p, at in final.items()]
    early = sum(1 for d in delays if d < 0)
    print(f"reviews         : {reviews}, one per block, a new head every 0.7-3.3 s (seed {seed})")
    print(
        f"latency         : p50 {percentile(delays, 0.5):.3f} s, p95 {percentile(delays, 0.95):.3f} s,"
        f" max {max(delays):.3f} s, mean {statistics.fmean(delays):.3f} s (irreversible -> POSTed)"
    )
    print(f"node requests   : {live_requests} in {live_seconds:.1f} s live = {live_requests / live_seconds:.2f}/s")
    print("node calls      : " + ", ".join(f"{m} {n}" for m, n in calls.most_common() if n))
    if early:
        print(f"WRONG           : {early} review(s) posted before their block was irreversible")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(args.reviews, args.seed, Path(tmp)))


if __name__ == "__main__":
    main()
