"""How long `hivecord run` takes to exit after SIGTERM, in each state a container may stop it in.

Runs the real bot against the loopback Hive node and the tests' fake Discord, brings it into a
state (idle; every Hive node down with the waits grown; Discord unreachable at start; delivery
waiting to retry a refused send; a send in hand on a slow Discord), sends SIGTERM and times the
exit from outside. Docker kills a container 10 s after its SIGTERM; the aim is under 5 s.

    python benchmarks/stop_times.py
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_harness import BotProcess  # noqa: E402
from tests.helpers import SEED_LAST  # noqa: E402
from tests.runtime_harness import WORLD_OPTIONS, bot_with_a_feed, config, lines, log_shows, new_post  # noqa: E402
from tests.world import World, seeded_world  # noqa: E402


async def timed_stop(bot: BotProcess) -> tuple[float, int]:
    assert bot.proc is not None
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(bot.proc.wait(), 60)
    took = time.monotonic() - started
    await bot.stop()
    return took, code


async def idle(world: World) -> BotProcess:
    await world.fake.start()
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    return bot


async def node_backoff(world: World) -> BotProcess:
    await world.fake.start()
    world.node.down = True
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    # Waits of 0.5, 1, 2, 4 s behind it: the stop lands in a wait of 8 s or more.
    await world.fake.wait_for(lambda: world.node.faults["down"] >= 7, timeout=120)
    return bot


async def discord_unreachable(world: World) -> BotProcess:
    world.fake.reserve()
    bot = BotProcess(config(world, retry_max=300.0), world.fake)
    await bot.start(wait_ready=False)
    await log_shows(bot, lambda log: len(lines(log, "cannot reach Discord")) >= 5, within=120)
    return bot


async def delivery_retry(world: World) -> BotProcess:
    await bot_with_a_feed(world)
    world.fake.fail_channel(world.reviews, 503)
    new_post(world, SEED_LAST + 10, "refused-for-now")
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    await log_shows(bot, lambda log: len(lines(log, "hivecord.delivery", "retry")) >= 4, within=120)
    return bot


async def send_in_hand(world: World) -> BotProcess:
    await bot_with_a_feed(world)
    route = "/channels/{channel_id}/messages"
    sends = len(world.fake.find_requests("POST", route))
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    world.fake.answer_delay = 1.5  # each answer takes 1.5 s to come back
    new_post(world, SEED_LAST + 10, "slow-discord")
    # The fake records a request as it arrives; its answer is then 1.5 s away.
    await world.fake.wait_for(lambda: len(world.fake.find_requests("POST", route)) > sends, timeout=120)
    return bot


STATES: dict[str, Callable[[World], Awaitable[BotProcess]]] = {
    "idle, connected": idle,
    "every Hive node down, waits grown": node_backoff,
    "Discord unreachable at start": discord_unreachable,
    "delivery waiting to retry a refused send": delivery_retry,
    "a send in hand, Discord answering in 1.5 s": send_in_hand,
}


async def measure(name: str, setup: Callable[[World], Awaitable[BotProcess]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with seeded_world(Path(folder), **WORLD_OPTIONS) as world:
            bot = await setup(world)
            took, code = await timed_stop(bot)
        forced = [line for line in bot.log.splitlines() if "did not stop" in line or "still in hand" in line]
        print(f"{name:<45} exit {code}  {took:5.2f} s{'  FORCED: ' + forced[0] if forced else ''}", flush=True)


async def main() -> None:
    for name, setup in STATES.items():
        await measure(name, setup)


if __name__ == "__main__":
    asyncio.run(main())
