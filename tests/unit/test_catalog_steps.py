"""Autocomplete indexes built on the event loop in short steps (bot/search/steps.py, bot/search/catalog.py).

A build in a worker thread held the interpreter lock while the loop waited for it (25 ms stalls
at 50,000 names); built in steps, the loop runs its other work between them. The steps are made
observable by running them with step=0: the loop then runs after every CHECK names, whatever
the machine's speed, so the counts below are exact, not timings.
"""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import pytest

from bot.search.catalog import AuthorCatalog, AuthorIndex, SeriesCatalog, SeriesIndex
from bot.search.steps import CHECK, SORT_RUN, build_in_steps, built, equal_in_steps, sorted_in_steps
from bot.series.detect import series_key
from bot.store.posts import PostTables


def _names(count: int, seed: int = 3) -> list[tuple[str, str, int]]:
    """`count` made-up series (key, name, reviews), most reviewed first as the store lists them."""
    rng = random.Random(seed)
    syllables = [o + v for o in ("k", "s", "t", "n", "m", "r", "sh", "") for v in "aeiou"]
    rows: dict[str, tuple[str, str, int]] = {}
    while len(rows) < count:
        words = ["".join(rng.choices(syllables, k=rng.randint(1, 3))).capitalize() for _ in range(rng.randint(1, 3))]
        name = " ".join(words)
        rows.setdefault(series_key(name), (series_key(name), name, rng.randint(1, 500)))
    return sorted(rows.values(), key=lambda row: (-row[2], row[0]))


class _Store:
    """The two reads the catalogues make, from lists the test changes."""

    def __init__(self, series: list[tuple[str, str, int]], authors: list[str]) -> None:
        self.series = series
        self.authors = authors
        self.reads = 0

    async def series_names(self) -> list[tuple[str, str, int]]:
        self.reads += 1
        return list(self.series)

    async def authors_starting(self, prefix: str, limit: int) -> list[str]:
        return [a for a in self.authors if a.startswith(prefix)][:limit]


class _NoThreads(ThreadPoolExecutor):
    """The loop's default executor in these tests: a build sent to a worker thread fails."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise AssertionError(f"work sent to a thread: {fn!r}")


@pytest.fixture
async def no_threads() -> AsyncIterator[None]:
    asyncio.get_running_loop().set_default_executor(_NoThreads())
    yield
    gc.unfreeze()  # what the builds froze goes back to the collector's care


async def _turns_while(task: asyncio.Task[Any], each: Callable[[], None] = lambda: None) -> int:
    """How often this task ran (once per pass of the loop) until `task` finished."""
    turns = 0
    while not task.done():
        each()
        turns += 1
        await asyncio.sleep(0)
    return turns


def _same_answers(one: SeriesIndex, other: SeriesIndex, typed: list[str]) -> None:
    assert one.rows == other.rows
    for text in typed:
        assert one.choices(text) == other.choices(text), text
        assert one.suggest(text) == other.suggest(text), text


async def test_the_series_catalogue_builds_on_the_loop_letting_it_run_every_few_names(no_threads: None) -> None:
    rows = _names(3000)
    store = _Store(rows, [])
    catalog = SeriesCatalog(cast(PostTables, store), max_age=0.0, step=0.0)
    frozen = gc.get_freeze_count()
    freezes: list[int] = []

    turn = iter(range(10**9))

    def look() -> None:
        if not next(turn) % 20:  # (a count walks every frozen object: not at every turn)
            freezes.append(gc.get_freeze_count())

    building = asyncio.create_task(catalog.index())
    turns = await _turns_while(building, look)
    first = await building
    # The loop ran after every CHECK names of each pass over them: keeping the rows, their display
    # names, the ranks of the sorted keys, the words and trigrams (and the merges of sorted runs).
    assert turns >= 4 * len(rows) // CHECK
    # What the build made so far was frozen while it built (its word and trigram lists: thousands),
    # not only once it was done.
    assert max(freezes) - frozen >= 1000
    _same_answers(first, SeriesIndex(rows), ["", "ka", "Kasu", "shimo ta", "rokan", "zzz", "tamushi"])

    # Stale (max_age 0): answered at once from the old index while the next one is built in steps,
    # by one build however often it is asked meanwhile.
    store.series = [("metallicrouge", "Metallic Rouge", 900), *rows]
    assert await catalog.index() is first
    rebuild = catalog._refresh
    assert rebuild is not None

    async def keystrokes() -> list[tuple[SeriesIndex, object]]:
        answered: list[tuple[SeriesIndex, object]] = []
        while not rebuild.done():
            answered.append((await catalog.index(), catalog._refresh))
            await asyncio.sleep(0)
        return answered

    answered = await keystrokes()
    assert len(answered) >= 4 * len(rows) // CHECK
    assert all(index is first and refresh is rebuild for index, refresh in answered)
    fresh = await catalog.index(max_age=3600)
    assert fresh is not first and fresh.choices("metallic")[0] == "Metallic Rouge" and store.reads == 2


async def test_the_author_catalogue_builds_in_steps_too(no_threads: None) -> None:
    authors = [f"{name}{n}" for n in range(400) for name in ("neko", "kira", "otaku")]
    catalog = AuthorCatalog(cast(PostTables, _Store([], authors)), step=0.0)
    building = asyncio.create_task(catalog.index())
    assert await _turns_while(building) >= 2 * len(authors) // CHECK
    index = await building
    expected = AuthorIndex(authors)
    for prefix in ("", "n", "neko1", "kira39", "otaku399", "x"):
        assert index.starting(prefix) == expected.starting(prefix)
    assert index.starting("kira1", 3) == ["kira1", "kira10", "kira11"]


async def test_a_build_with_the_default_step_lets_the_loop_run_too() -> None:
    # Real timing decides where it stops, so only that it stops, and builds the same index.
    rows = _names(3000, seed=8)
    building = asyncio.create_task(build_in_steps(SeriesIndex.steps(rows)))
    assert await _turns_while(building) >= 1
    _same_answers(await building, SeriesIndex(rows), ["", "ta", "mushi"])
    gc.unfreeze()


@pytest.mark.parametrize("size", [0, 1, 7, SORT_RUN, SORT_RUN + 1, 3 * SORT_RUN + 17])
def test_sorted_in_steps_sorts_like_sorted(size: int) -> None:
    rng = random.Random(size)
    items = [rng.randrange(size // 2 + 1) for _ in range(size)]  # ties too
    assert built(sorted_in_steps(items)) == sorted(items)
    pairs = [(rng.randrange(50), str(n)) for n in range(size)]
    assert built(sorted_in_steps(pairs, key=lambda p: -p[0])) == sorted(pairs, key=lambda p: -p[0])
    steps = sum(1 for _ in sorted_in_steps(items))
    assert steps >= (size + SORT_RUN - 1) // SORT_RUN + (size // CHECK if size > SORT_RUN else 0)


def test_series_given_out_of_order_are_ranked_most_reviewed_first() -> None:
    rows = _names(2500, seed=5)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    _same_answers(SeriesIndex(shuffled), SeriesIndex(rows), ["", "ka", "shimo", "rokan"])
    assert [n for _, _, n in SeriesIndex(shuffled).rows] == sorted((n for _, _, n in rows), reverse=True)


def test_equal_in_steps() -> None:
    rows = _names(2 * SORT_RUN + 5)
    assert built(equal_in_steps(rows, list(rows)))
    assert not built(equal_in_steps(rows, None))
    assert not built(equal_in_steps(rows, rows[:-1]))
    changed = rows[:]
    changed[-1] = (changed[-1][0], "Another Name", changed[-1][2])
    assert not built(equal_in_steps(rows, changed))


async def test_what_a_rebuild_replaced_is_freed_in_steps_unless_still_held(no_threads: None) -> None:
    rows = _names(3000, seed=4)
    store = _Store(rows, [])
    catalog = SeriesCatalog(cast(PostTables, store), max_age=0.0, step=0.0)
    held = await catalog.index(max_age=0.0)
    store.series = [("metallicrouge", "Metallic Rouge", 900), *rows]
    await catalog.index(max_age=0.0)
    await catalog.settled()
    # Replaced, but still held here: left whole.
    _same_answers(held, SeriesIndex(rows), ["", "ka", "shimo", "rokan"])
    del held
    # Replaced and held by nobody: emptied a slice of SORT_RUN items at a time, the loop running
    # between the slices (its rows, display names, keys, words, sorted keys, ranks...).
    store.series = rows[:]
    fresh = await catalog.index(max_age=0.0)
    assert await _turns_while(asyncio.ensure_future(catalog.settled())) >= 5 * (len(rows) // SORT_RUN)
    _same_answers(fresh, SeriesIndex(rows), ["", "ka", "shimo", "rokan"])
    # A refresh finding the names unchanged frees its fresh copy of them in steps too.
    store.series = [(k, name, n) for k, name, n in rows]
    assert await catalog.index(max_age=0.0) is fresh
    assert await _turns_while(asyncio.ensure_future(catalog.settled())) >= len(rows) // SORT_RUN
