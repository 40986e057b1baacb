"""Hostile chain input stays cheap, through the real `hivecord run` against the loopback node and the fake
Discord: a 200 KB edit patch leaves the body as it was and the follower goes on; a flood of replies to
one post is paced per thread (a few shown, the rest counted in one "more replies" line) and holds up
neither another feed's review nor the next review in its own channel. Conditions and counts, no clocks."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.delivery.planner import ReplyPace
from bot.hive import edits
from bot.hive.edits import FUZZY_MAX_HUNKS, MAX_PATCH_CHARS
from tests.bot.test_bot_conversation import EMPTY, REVIEW, add_feeds, comment_op, ops_block
from tests.bot_harness import BotProcess, comment_block, db_rows, delivery_settled
from tests.fakes.discord import FakeDiscord
from tests.helpers import SEED_LAST
from tests.unit.test_edits import CountingDmp
from tests.world import World, seeded_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

PER_WINDOW = 5  # delivery.thread_replies_per_window in this world
MORE = re.compile(r"(\d+) more repl(?:y|ies) to this post on Hive")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """Feed A keeps threads in #reviews, feed B mirrors the same community's posts in #second."""
    folder = tmp_path_factory.mktemp("hostile")
    async with seeded_world(folder, thread_replies_per_window=PER_WINDOW, max_messages_per_second=20.0) as made:
        await add_feeds(made.db, made.fake.world.guild_id, [(made.reviews, "on", ()), (made.second, "off", ())])
        bot = BotProcess(made.config, made.fake)
        await bot.start()
        try:
            made.node.head = SEED_LAST + 1  # the seed review and its replies, then the tests' blocks
            await made.fake.wait_for(lambda: delivery_settled(made.db, SEED_LAST), timeout=90)
            made.bot = bot  # type: ignore[attr-defined]
            yield made
            assert not made.fake.violations and not made.fake.unknown_requests
        finally:
            code = await bot.stop()
        assert code == 0, bot.log
        assert "Traceback" not in bot.log, bot.log


def add(world: World, *blocks: dict[str, Any]) -> int:
    """Blocks on the chain, then an empty one (irreversible trails head by one); the last block's number."""
    first = world.next_block
    world.node.add_blocks({first + i: block for i, block in enumerate([*blocks, EMPTY])})
    world.next_block = first + len(blocks) + 2
    return first + len(blocks) - 1


def titled(fake: FakeDiscord, channel: int, title: str) -> bool:
    return any(m.embeds and m.embeds[0].get("title") == title for m in fake.messages(channel))


def post_id(world: World, permlink: str) -> int:
    return int(db_rows(world.db, "SELECT id FROM posts WHERE permlink = ?", permlink)[0][0])


def thread_of(world: World, permlink: str) -> int:
    rows = db_rows(
        world.db, "SELECT thread_id FROM threads WHERE channel_id = ? AND post_id = ?", world.reviews,
        post_id(world, permlink),
    )  # fmt: skip
    return int(rows[0][0])


def pending_in(world: World, lane: int) -> int:
    return int(db_rows(world.db, "SELECT count(*) FROM jobs WHERE channel_id = ? AND state = 'pending'", lane)[0][0])


def shown(fake: FakeDiscord, thread: int) -> tuple[list[str], list[int]]:
    """The reply messages of a thread (their Hive links) and the counts its "more replies" lines show now."""
    replies = [str(m.embeds[0].get("url")) for m in fake.messages(thread) if m.embeds and "/@" in str(m.embeds[0])]
    counts = [int(found[1]) for m in fake.messages(thread) if (found := MORE.search(m.content or ""))]
    return replies, counts


def flood(parent: tuple[str, str], count: int, *, per_block: int, tag: str) -> list[dict[str, Any]]:
    ops = [comment_op(f"flooder{i % 50}", f"re-{tag}-{i}", parent, f"Nice post! ({i})") for i in range(count)]
    return [ops_block(*ops[at : at + per_block]) for at in range(0, count, per_block)]


async def test_a_200_kb_hostile_edit_patch_leaves_the_body_and_the_follower_goes_on(world: World) -> None:
    body_before = db_rows(world.db, "SELECT body FROM posts WHERE permlink = ?", REVIEW[1])[0][0]
    hunk = "@@ -{0},3 +{0},4 @@\n-abc\n+wxyz\n"
    patch = "".join(hunk.format(i * 7 + 1) for i in range(7000))
    assert len(patch) > 200_000
    edit = comment_block(*REVIEW, "", patch, "")["transactions"][0]["operations"][0]
    canary = comment_block("canarywriter", "edit-canary", "Review Edit Canary", "After the edit.", "{}")
    last = add(world, ops_block(edit), canary)
    # The block after the edit is followed and its post mirrored: the follower did not stall on it.
    await world.fake.wait_for(lambda: titled(world.fake, world.second, "Review Edit Canary"), timeout=60)
    await world.fake.wait_for(lambda: delivery_settled(world.db, last), timeout=60)
    assert db_rows(world.db, "SELECT body FROM posts WHERE permlink = ?", REVIEW[1])[0][0] == body_before
    log = world.bot.log  # type: ignore[attr-defined]
    refused = [line for line in log.splitlines() if f"edit of post {REVIEW[0]}/{REVIEW[1]}" in line]
    assert len(refused) == 1 and f"a {len(patch)}-character patch" in refused[0], refused
    assert "the body is kept as it was" in refused[0]


def worst_edits(body: str) -> dict[str, str]:
    """The worst patches bot/hive/edits.py still takes in: 64 KB of hunks that apply nowhere (the exact
    pass stops at the first, fuzzy matching is refused), and the most fuzzy hunks allowed, each as long
    as a search may be, found nowhere in the body (each a bounded search)."""
    hunk = "@@ -{0},32 +{0},32 @@\n-" + "a" * 32 + "\n+" + "b" * 32 + "\n"
    nowhere = "".join(hunk.format(i * 40 + 1) for i in range(MAX_PATCH_CHARS // len(hunk.format(99999))))
    # 24 characters each: with the 4 of padding the library adds either side, Match_MaxBits (32).
    fuzzy = "".join(
        f"@@ -{i * 4000 + 1},24 +{i * 4000 + 1},24 @@\n " + "k" * 8 + "\n-" + "m" * 16 + "\n+" + "n" * 16 + "\n"
        for i in range(FUZZY_MAX_HUNKS)
    )
    assert len(nowhere) <= MAX_PATCH_CHARS and "k" * 8 + "m" * 16 not in body
    return {"nowhere": nowhere, "fuzzy": fuzzy}


async def test_the_worst_edits_allowed_cost_counted_work_leave_the_body_and_the_follower_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    body_before = db_rows(world.db, "SELECT body FROM posts WHERE permlink = ?", REVIEW[1])[0][0]
    patches = worst_edits(body_before)
    # The work each costs, counted on the same body with the library edits.py holds (the bot runs in its
    # own process); the time is printed for the reader, never asserted.
    for name, patch in patches.items():
        counting = CountingDmp()
        for setting in ("Match_MaxBits", "Match_Distance", "Match_Threshold", "Patch_DeleteThreshold", "Diff_Timeout"):
            setattr(counting, setting, getattr(edits._dmp, setting))
        monkeypatch.setattr(edits, "_dmp", counting)
        started = time.perf_counter()
        assert edits.apply_edit(body_before, patch).body == body_before
        print(f"{name}: {len(patch)} characters, {time.perf_counter() - started:.4f} s, {counting.calls}")
        assert counting.calls.get("patch_fromText") == 1 and not counting.diffed
        assert len(counting.bitap) <= (FUZZY_MAX_HUNKS if name == "fuzzy" else 0), counting.bitap
        assert all(pattern <= counting.Match_MaxBits for _text, pattern in counting.bitap)
        if name == "fuzzy":
            assert counting.calls.get("patch_apply") == 1 and counting.bitap  # it did reach the search
    edit_ops = [comment_block(*REVIEW, "", patch, "")["transactions"][0]["operations"][0] for patch in patches.values()]
    canary = comment_block("canarywriter", "worst-edit-canary", "Worst Edit Canary", "After the edits.", "{}")
    last = add(world, ops_block(edit_ops[0]), ops_block(edit_ops[1]), canary)
    # The block after the edits is followed and its post mirrored: the follower did not stall on them.
    await world.fake.wait_for(lambda: titled(world.fake, world.second, "Worst Edit Canary"), timeout=60)
    await world.fake.wait_for(lambda: delivery_settled(world.db, last), timeout=60)
    assert db_rows(world.db, "SELECT body FROM posts WHERE permlink = ?", REVIEW[1])[0][0] == body_before
    log = world.bot.log  # type: ignore[attr-defined]
    refused = [line for line in log.splitlines() if f"edit of post {REVIEW[0]}/{REVIEW[1]}" in line]
    assert sum("does not apply where it says" in line for line in refused) == 1, refused


async def test_a_flood_of_replies_is_paced_in_its_thread_and_holds_up_no_other_feed(world: World) -> None:
    fake = world.fake
    thread = thread_of(world, REVIEW[1])
    before, _ = shown(fake, thread)
    # The thread's sends are held back (rate limited) so its lane keeps pending jobs while the rest runs.
    hold = fake.fail_channel(thread, 429, retry_after=0.2)
    add(world, *flood(REVIEW, 500, per_block=125, tag="flood"))
    await fake.wait_for(lambda: hold.hits > 0 and pending_in(world, thread) > 0, timeout=60)
    # Another feed's new review arrives while the flooded thread still has jobs waiting.
    other = add(world, comment_block("otherwriter", "other-review", "Review Other Feed", "Unrelated.", "{}"))
    still_waiting: list[int] = []

    def arrived() -> bool:
        if titled(fake, world.second, "Review Other Feed"):
            still_waiting.append(pending_in(world, thread))
            return True
        return False

    await fake.wait_for(arrived, timeout=60)
    assert still_waiting[0] > 0
    # The whole flood planned: at most the window's share of replies, the rest in the "more" line.
    assert pending_in(world, thread) <= PER_WINDOW + 1
    fake.clear_faults()
    await fake.wait_for(lambda: delivery_settled(world.db, other), timeout=90)
    replies, counts = shown(fake, thread)
    new = len(replies) - len(before)
    assert 0 <= new <= PER_WINDOW and counts and len(counts) <= 2
    assert new + sum(counts) == 500  # every reply shown or counted: none dropped in silence
    # Ten more in the same burst: the window's line is edited to the window's total (in a new window,
    # up to the window's share are shown and a line of its own counts the rest).
    lines = len(counts)
    last = add(world, *flood(REVIEW, 10, per_block=10, tag="more"))
    await fake.wait_for(lambda: delivery_settled(world.db, last), timeout=60)
    replies, counts = shown(fake, thread)
    assert len(replies) - len(before) + sum(counts) == 510
    pace = ReplyPace(PER_WINDOW, 10)
    windows = {pace.window_start(at) for (at,) in db_rows(
        world.db, "SELECT created_at FROM replies WHERE permlink LIKE 're-flood-%' OR permlink LIKE 're-more-%'"
    )}  # fmt: skip
    if len(windows) == 1:
        assert len(counts) == lines and len(replies) - len(before) == new
        (line,) = [m for m in fake.messages(thread) if MORE.search(m.content or "")][-1:]
        assert line.history and MORE.search(str(line.history[-1].get("content")))  # edited, not sent again
    else:
        assert len(replies) - len(before) <= 2 * PER_WINDOW


async def test_a_flood_on_a_new_post_does_not_hold_up_its_channel(world: World) -> None:
    """A post and its flood in one block: the replies are planned before the post is mirrored, so in its
    channel's lane; the next review there comes after at most the window's share and one line."""
    fake = world.fake
    post = comment_block("floodedwriter", "flooded-review", "Review Flooded", "Flood me.", "{}")
    ops = post["transactions"][0]["operations"] + flood(("floodedwriter", "flooded-review"), 100, per_block=100,
                                                       tag="new")[0]["transactions"][0]["operations"]  # fmt: skip
    last = add(world, ops_block(*ops), comment_block("nextwriter", "next-review", "Review Next", "Next.", "{}"))
    await fake.wait_for(lambda: delivery_settled(world.db, last), timeout=90)
    thread = thread_of(world, "flooded-review")
    replies, counts = shown(fake, thread)
    assert len(replies) <= PER_WINDOW and len(replies) + sum(counts) == 100
    # In the order the bot sent them: what the flooded thread got before the next review's post.
    order = [r for r in fake.requests if r.method == "POST" and 200 <= r.status < 300]
    next_at = next(
        i for i, r in enumerate(order)
        if r.path == f"/channels/{world.reviews}/messages" and "Review Next" in str(r.json)
    )  # fmt: skip
    ahead = [r for r in order[:next_at] if r.path.startswith(f"/channels/{thread}/")]
    assert len(ahead) <= PER_WINDOW + 1
