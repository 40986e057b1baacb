"""The bot as a service: Discord or Hive unreachable at start, a refused command sync, a rejected
token, Discord's refusals in commands, and SIGTERM in every state. The real `hivecord run` against
the loopback Hive node and the fake Discord."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bot_harness import TOKEN, BotProcess, db_rows, delivery_settled
from tests.fakes.chain_gen import generate_chain
from tests.fakes.discord import FakeDiscord
from tests.fakes.hive import FakeHiveNode
from tests.helpers import (
    ANIME_REALM,
    SEED_LAST,
    cursor_of,
    dump_chain_tables,
    hivecord,
    write_config,
)
from tests.runtime_harness import (
    WORLD_OPTIONS,
    bot_with_a_feed,
    config,
    lines,
    log_shows,
    new_post,
)
from tests.world import World

COMMANDS = "/applications/{application_id}/commands"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
# Lines that would mean a stop was not prompt: something had to be cut off after a grace period.
FORCED = ("did not stop", "still in hand")


@pytest.fixture
def world_options() -> dict[str, Any]:
    return WORLD_OPTIONS


def assert_stopped_promptly(code: int, log: str) -> None:
    assert code == 0, log
    assert lines(log, "hivecord: stopped"), log
    assert not any(lines(log, forced) for forced in FORCED), log
    assert "Traceback" not in log, log


def mirrored(world: World, permlink: str) -> bool:
    return any(m.embeds and permlink in m.embeds[0].get("url", "") for m in world.fake.messages(world.reviews))


# -- item 14: unreachable at start ------------------------------------------------------------------


async def test_discord_unreachable_at_start_is_waited_out_then_the_bot_comes_up(world: World) -> None:
    world.fake.reserve()  # the address is known, but nothing listens there yet: connections are refused
    bot = BotProcess(config(world, retry_max=0.5), world.fake)
    await bot.start(wait_ready=False)
    try:
        await log_shows(bot, lambda log: len(lines(log, "cannot reach Discord")) >= 3)
        refused = lines(bot.log, "cannot reach Discord")
        assert all("WARNING" in line and "trying again in" in line for line in refused), refused
        assert all(world.fake.url.removeprefix("http://") in line for line in refused), refused
        assert "Traceback" not in bot.log, bot.log
        await world.fake.start()
        # The same process logs in and identifies on the gateway once Discord answers.
        await world.fake.wait_for(lambda: world.fake.gateway.identifies, timeout=60)
        assert bot.proc is not None and bot.proc.returncode is None
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)


async def test_discord_answering_5xx_at_login_and_gateway_is_waited_out(world: World) -> None:
    await world.fake.start()
    world.fake.fail_route("/users/@me", 503, method="GET", times=2)
    world.fake.fail_route("/gateway/bot", 503, method="GET", times=2)
    bot = BotProcess(config(world, retry_max=0.5), world.fake)
    await bot.start()  # returns once the bot identified on the gateway
    code = await bot.stop()
    failed = lines(bot.log, "cannot reach Discord")
    assert len(lines(bot.log, "to log in", "HTTP 503")) == 2, failed
    assert len(lines(bot.log, "find the gateway", "HTTP 503")) == 2, failed
    assert len(world.fake.find_requests("GET", "/users/@me")) == 3
    assert_stopped_promptly(code, bot.log)


async def test_a_rejected_token_is_one_line_and_exit_2(world: World) -> None:
    await world.fake.start()
    bot = BotProcess(config(world, retry_max=0.5), world.fake, token="not-the-token")
    await bot.start(wait_ready=False)
    assert bot.proc is not None
    code = await asyncio.wait_for(bot.proc.wait(), 60)
    await bot.stop()
    assert code == 2, bot.log
    assert world.fake.find_requests("GET", "/users/@me", status=401), "the token must really be tried"
    said = [line for line in bot.log.splitlines() if line.startswith("hivecord:")]
    assert len(said) == 1 and "rejected the token" in said[0] and "DISCORD_TOKEN" in said[0], bot.log
    assert "Traceback" not in bot.log and not lines(bot.log, "cannot reach Discord"), bot.log
    assert not world.fake.gateway.identifies


# -- item 5: a refused command sync ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "code", "message"), [(403, 50001, "Missing Access"), (503, None, "503")])
async def test_refused_command_sync_keeps_mirroring_and_is_retried_with_backoff(
    world: World, status: int, code: int | None, message: str
) -> None:
    await bot_with_a_feed(world)
    # The commands must be synced again (they changed, say), and this server now refuses them.
    with sqlite3.connect(world.db) as conn:
        conn.execute("DELETE FROM meta WHERE key LIKE 'commands_synced:%'")
    puts_before = len(world.fake.find_requests("PUT", COMMANDS))
    fault = world.fake.fail_route(COMMANDS, status, code, method="PUT")
    new_post(world, SEED_LAST + 10, "after-the-sync-broke")
    bot = BotProcess(config(world, retry_max=2.0), world.fake)
    await bot.start()
    try:
        await world.fake.wait_for(lambda: mirrored(world, "after-the-sync-broke"), timeout=60)
        await world.fake.wait_for(lambda: fault.hits >= 3, timeout=60)
        world.fake.clear_faults()
        await world.fake.wait_for(
            lambda: any(r.status == 200 for r in world.fake.find_requests("PUT", COMMANDS)[puts_before:]), timeout=60
        )
    finally:
        code_ = await bot.stop()
    assert_stopped_promptly(code_, bot.log)
    failed = lines(bot.log, "slash-command sync failed")
    assert failed and all(f"HTTP {status}" in line and message in line for line in failed), bot.log
    if code is not None:
        assert all(f"Discord code {code}" in line for line in failed), failed
    # Every PUT but the last was refused and logged with its wait; the waits double up to the cap.
    puts = world.fake.find_requests("PUT", COMMANDS)[puts_before:]
    assert [r.status for r in puts] == [status] * len(failed) + [200], [r.status for r in puts]
    waits = [float(re.search(r"again in ([\d.]+) s", line).group(1)) for line in failed]  # type: ignore[union-attr]
    assert waits == [min(2.0, 2.0**i) for i in range(len(failed))], waits


# -- item 6: the tree error handler tells the truth -------------------------------------------------


async def test_command_failures_log_discords_status_and_code(world: World) -> None:
    await world.fake.start()
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    try:
        # The followup of /feed add is refused (403 50013), and so is telling the user about it.
        world.fake.fail_route(FOLLOWUP, 403, 50013, method="POST")
        await world.fake.send_interaction(
            world.fake.world.guild_id,
            world.reviews,
            world.fake.world.admin_id,
            "feed add",
            {"community": ANIME_REALM, "channel": world.reviews},
        )
        await log_shows(bot, lambda log: bool(lines(log, "could not tell user", "/feed add")))
        world.fake.clear_faults()
        # /status answered too late: Discord says 10062 Unknown interaction, twice.
        world.fake.fail_route(CALLBACK, 404, 10062, method="POST")
        await world.fake.send_interaction(
            world.fake.world.guild_id, world.reviews, world.fake.world.admin_id, "status", {}
        )
        await log_shows(bot, lambda log: bool(lines(log, "could not tell user", "/status")))
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)
    (refused,) = lines(bot.log, "/feed add", "Discord refused")
    assert "HTTP 403" in refused and "code 50013" in refused and "Missing Permissions" in refused, refused
    (untold,) = lines(bot.log, "could not tell user", "/feed add")
    assert "HTTP 403" in untold and "code 50013" in untold, untold
    (late,) = lines(bot.log, "/status", "Discord refused")
    assert "HTTP 404" in late and "code 10062" in late, late
    (untold,) = lines(bot.log, "could not tell user", "/status")
    assert "HTTP 404" in untold and "code 10062" in untold, untold
    # The interaction token is a secret; it never reaches the log.
    for record in world.fake.find_requests("POST", FOLLOWUP):
        assert record.path.rsplit("/", 1)[-1] not in bot.log


# -- item 15: SIGTERM in every state, and item 14's Hive side -----------------------------------


async def test_hive_unreachable_is_waited_out_and_sigterm_ends_a_node_backoff(world: World) -> None:
    await world.fake.start()
    world.node.down = True
    bot = BotProcess(config(world), world.fake)
    await bot.start()  # Discord does not wait for Hive
    try:
        await world.fake.wait_for(lambda: world.node.faults["down"] >= 3, timeout=60)
        host = world.node.url.removeprefix("http://").rstrip("/")
        # The node's count moves before the bot logs the failure, and the log arrives through a pipe.
        await log_shows(bot, lambda log: bool(lines(log, "WARNING", host)))
        world.node.down = False
        world.node.head = SEED_LAST + 5
        await world.fake.wait_for(lambda: (cursor_of(world.db) or 0) >= SEED_LAST, timeout=60)
        # All nodes down again, long enough for the waits between attempts to grow.
        world.node.down = True
        downs = world.node.faults["down"]
        await world.fake.wait_for(lambda: world.node.faults["down"] >= downs + 4, timeout=60)
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)


async def test_sigterm_while_discord_is_unreachable_at_start(world: World) -> None:
    world.fake.reserve()
    bot = BotProcess(config(world, retry_max=30.0), world.fake)
    await bot.start(wait_ready=False)
    await log_shows(bot, lambda log: len(lines(log, "cannot reach Discord")) >= 3)
    code = await bot.stop()
    assert_stopped_promptly(code, bot.log)


async def test_sigterm_while_the_gateway_waits_to_reconnect_stops_without_that_wait(world: World) -> None:
    """Discord goes away mid-run: discord.py reconnects with a growing backoff, logged as one line a
    try. A SIGTERM during a long wait (over 10 s) stops the bot after the grace, not after the wait
    (up to 17 minutes, long after a container's stop turned into a SIGKILL)."""
    await world.fake.start()
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    try:
        await world.fake.stop()
        waits = re.compile(r"Attempting a reconnect .* in ([\d.]+)s")
        await log_shows(bot, lambda log: any(float(d) >= 10 for d in waits.findall(log)), within=240)
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)
    assert lines(bot.log, "hivecord: the gateway was still waiting to reconnect; stopping without it"), bot.log
    tries = lines(bot.log, "discord.shard: Attempting a reconnect")
    assert len(tries) >= 2 and all("WARNING" in t and "Cannot connect to host" in t for t in tries), tries


async def test_a_review_posted_while_discord_is_down_arrives_once_when_it_is_back(world: World) -> None:
    """Discord goes away mid-run (an outage, a network cut) while a review is posted on chain: the
    bot keeps following, retries the send and the gateway with backoff, logs each try as one line,
    and delivers the review once Discord is back: once, with nothing lost or repeated."""
    await bot_with_a_feed(world)
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    try:
        await world.fake.go_down()
        new_post(world, SEED_LAST + 10, "posted-during-outage")
        await log_shows(bot, lambda log: bool(lines(log, "Attempting a reconnect")))
        await log_shows(bot, lambda log: bool(lines(log, "hivecord.delivery", "trying again")))
        sessions = len(world.fake.gateway.connections)
        await world.fake.start()  # back, at the same address
        await world.fake.wait_for(lambda: delivery_settled(world.db, SEED_LAST + 10), timeout=120)
        # The gateway is back too: resumed, or a new session.
        back = lambda: any(c.resumed or c.session for c in world.fake.gateway.connections[sessions:])  # noqa: E731
        await world.fake.wait_for(back, timeout=120)
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)
    sent = [m for m in world.fake.messages(world.reviews) if m.embeds and "posted-during-outage" in m.embeds[0]["url"]]
    assert len(sent) == 1
    assert all("WARNING" in line for line in lines(bot.log, "Attempting a reconnect")), bot.log
    assert not world.fake.violations


async def test_sigterm_while_delivery_waits_to_retry(world: World) -> None:
    await bot_with_a_feed(world)
    world.fake.fail_channel(world.reviews, 503)
    new_post(world, SEED_LAST + 10, "refused-for-now")
    bot = BotProcess(config(world), world.fake)
    await bot.start()
    try:
        await log_shows(bot, lambda log: len(lines(log, "hivecord.delivery", "trying again")) >= 2)
    finally:
        code = await bot.stop()
    assert_stopped_promptly(code, bot.log)
    # The refused job is still owed, not lost by the stop.
    assert db_rows(world.db, "SELECT COUNT(*) FROM jobs WHERE state != 'done'")[0][0] >= 1


async def test_sigterm_while_a_command_waits_for_discord_lets_it_finish(world: World) -> None:
    # The stop waits for the command in hand (and the listeners its end sets off) before the store
    # and the HTTP session close under it: it answers, and nothing is used after being closed.
    await world.fake.start()
    fake = world.fake
    bot = BotProcess(config(world), fake)
    await bot.start()
    fake.hold = asyncio.Event()
    fake.hold_if = lambda request: request.path.endswith("/callback")
    try:
        handle = await fake.send_interaction(fake.world.guild_id, world.reviews, fake.world.admin_id, "feed list", {})
        await fake.wait_for(lambda: any("/callback" in r.path for r in fake.held), timeout=60)
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGTERM)
        await log_shows(bot, lambda log: bool(lines(log, "SIGTERM received")))
    finally:
        fake.hold.set()
        fake.hold = None
    code = await bot.stop()
    assert_stopped_promptly(code, bot.log)
    answer = await handle.response(timeout=30)
    assert "feed" in json.dumps(answer).lower(), answer


# -- a stop during a batch's write -------------------------------------------------------------


async def test_a_caller_cancelled_during_a_batch_write_leaves_the_whole_batch(tmp_path: Path) -> None:
    """A stop cancels the follower at any await; a batch being written still commits whole, and
    closing the store waits for it rather than closing the connection under it."""
    from bot.store.chain_writer import ChainWriter
    from bot.store.store import Store

    store = await Store.open(tmp_path / "store.sqlite3")
    writing = asyncio.Event()
    loop = asyncio.get_running_loop()

    def work(tx: ChainWriter) -> None:
        tx.set_cursor(41)
        loop.call_soon_threadsafe(writing.set)
        time.sleep(0.3)  # the thread is mid-transaction when the caller is cancelled
        tx.set_cursor(42, "2026-01-01T00:00:00")

    caller = asyncio.create_task(store.chain_batch(work))
    await writing.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await store.close()  # waits for the transaction in its thread
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'cursor%'").fetchall())
    assert rows == {"cursor": "42", "cursor_time": "2026-01-01T00:00:00"}


async def test_sigterm_during_catch_up_stops_promptly_and_loses_or_repeats_nothing(tmp_path: Path) -> None:
    start, count = 70_000_000, 3_000
    last = start + count - 1
    chain = generate_chain(start, count, review_every=10, seed=11)
    node = FakeHiveNode(chain.blocks, head=start + count, vops=chain.vops)
    url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    try:
        ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
        ref_dir.mkdir()
        run_dir.mkdir()
        ref_config = write_config(ref_dir, [url], batch_size=100)
        result = await asyncio.to_thread(
            hivecord, "ingest", "--from-block", str(start), "--to-block", str(last), "--config", str(ref_config)
        )
        assert result.returncode == 0, result.stderr
        reference = dump_chain_tables(ref_dir / "hivecord.sqlite3")
        extra = "\n".join(
            [
                "[discord]",
                f"api_base = {json.dumps(fake.url + '/api/v10')}",
                f"gateway_url = {json.dumps(fake.gateway_url)}",
                "",
                "[delivery]",
                # The generated chain is years old: keep its outbox, to compare it with the reference.
                "retention_days = 100000",
            ]
        )
        config = write_config(run_dir, [url], batch_size=100, start_block=start, extra=extra)
        db = run_dir / "hivecord.sqlite3"
        stops = []
        for _ in range(3):
            before = cursor_of(db) or start - 1
            bot = BotProcess(config, fake)
            await bot.start()
            # SIGTERM once this life has stored a few batches: mid catch-up, not before or after it.
            goal = min(before + 300, last)
            await fake.wait_for(lambda: (cursor_of(db) or 0) >= goal, timeout=60)  # noqa: B023
            code = await bot.stop()
            assert_stopped_promptly(code, bot.log)
            stops.append(cursor_of(db))
        assert any(c is not None and c < last for c in stops), stops
        bot = BotProcess(config, fake)
        await bot.start()
        await fake.wait_for(lambda: cursor_of(db) == last, timeout=120)
        assert_stopped_promptly(await bot.stop(), bot.log)
    finally:
        await fake.stop()
        node.stop_thread()
    assert dump_chain_tables(db) == reference
