"""Alert fan-out: one review to N DM subscribers through the fake Discord's 50 requests/s limit.

Runs the real `hivecord run` against the loopback Hive node (serving the seed review) and the
tests' fake Discord, which enforces Discord's global limit of 50 requests a second with its
rate-limit headers. N members follow "Metallic Rouge" by DM; the review's block is released and
the run is timed until every member has their DM. Each first alert costs two requests (opening
the DM channel, then the message), so the floor the limit sets is 2N/50 seconds.
Prints the time against that floor, the share of requests answered 429, and alerts lost.

    python benchmarks/fanout.py [--subscribers 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_harness import ANIME_REALM_INFO, TOKEN, BotProcess, bot_config  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.hive import FakeHiveNode, load_seed_fixture  # noqa: E402
from tests.helpers import ANIME_REALM, SEED, SEED_FIRST, SEED_LAST  # noqa: E402

GLOBAL_LIMIT = 50


async def fan_out(subscribers: int, folder: Path) -> None:
    blocks, _ = load_seed_fixture(SEED)
    node = FakeHiveNode(blocks, head=SEED_FIRST, communities={ANIME_REALM: ANIME_REALM_INFO})
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN, global_rate_limit=GLOBAL_LIMIT)
    guild = fake.world.guild_id
    channel = fake.state.add_text_channel(guild, "reviews").id
    users = []
    for i in range(subscribers):
        user = fake.state.add_user(f"fan{i}")
        fake.state.add_member(guild, user.id)
        users.append(user.id)
    await fake.start()
    try:
        config = bot_config(folder, hive_url, fake, start_block=SEED_FIRST)  # the default delivery pace
        bot = BotProcess(config, fake)
        await bot.start()  # creates the database
        await bot.stop()
        with sqlite3.connect(folder / "hivecord.sqlite3") as conn:
            conn.executemany(
                "INSERT INTO subscriptions VALUES"
                " (?, 'metallicrouge', 'Metallic Rouge', 'dm', ?, ?, '2026-11-23T00:00:00')",
                [(u, guild, channel) for u in users],
            )
        bot = BotProcess(config, fake)
        await bot.start()
        requests_before, throttled_before = len(fake.requests), fake.count_429
        stamps: list[float] = []  # when each request after the release was recorded
        plain_notify = fake.notify

        def notify() -> None:
            stamps.extend([time.perf_counter()] * (len(fake.requests) - requests_before - len(stamps)))
            plain_notify()

        fake.notify = notify  # type: ignore[method-assign]
        began = time.perf_counter()
        node.head = SEED_LAST + 5

        def delivered() -> int:
            dm = fake.state.dm_channels
            return sum(1 for u in users if u in dm and fake.messages(dm[u]))

        try:
            await fake.wait_for(lambda: delivered() >= subscribers, timeout=5 * subscribers * 2 / GLOBAL_LIMIT + 60)
        except TimeoutError:
            print("gave up waiting: some alerts never arrived")
        elapsed = time.perf_counter() - began
        await asyncio.sleep(1.0)  # a duplicate would show up now
        await bot.stop()
        sent = len(fake.requests) - requests_before
        throttled = fake.count_429 - throttled_before
        got = [len(fake.messages(fake.state.dm_channels[u])) if u in fake.state.dm_channels else 0 for u in users]
        floor = 2 * subscribers / GLOBAL_LIMIT
        print(f"subscribers     : {subscribers:,} by DM, first alert each (open DM + message)")
        print(f"time            : {elapsed:.1f} s against a floor of {floor:.1f} s = {elapsed / floor:.2f}x")
        print(f"requests        : {sent:,}, answered 429: {throttled} ({100 * throttled / max(1, sent):.2f}%)")
        print(f"alerts lost     : {sum(1 for n in got if n == 0)}; duplicated: {sum(1 for n in got if n > 1)}")
        refused = Counter(
            f"{r.key}{' (global)' if isinstance(r.answer, dict) and r.answer.get('global') else ''}"
            for r in fake.requests[requests_before:]
            if r.status == 429
        )
        if len(stamps) > 10:
            tenth, ninetieth = stamps[len(stamps) // 10], stamps[len(stamps) * 9 // 10]
            rate = (len(stamps) * 8 // 10) / max(1e-9, ninetieth - tenth)
            print(f"pace            : first request {stamps[0] - began:.1f} s after the release; {rate:.1f}/s mid-run")
        if refused:
            print("429s            : " + ", ".join(f"{key} {n}" for key, n in refused.most_common()))
    finally:
        await fake.stop()
        node.stop_thread()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(fan_out(args.subscribers, Path(tmp)))


if __name__ == "__main__":
    main()
