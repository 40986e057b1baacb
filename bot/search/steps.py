"""Long pure-Python work on the event loop, in short steps between which the loop runs its other work.

A build written as a generator yields at places where it may stop (every CHECK items, say);
build_in_steps runs it, letting the loop run once a stretch of work passes STEP seconds, and
built() runs it at once. Run in a worker thread instead, such work holds the interpreter lock
while the loop waits for it on each wake-up (a switch interval or more: 25 ms stalls while 50,000
series names were indexed).
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import sys
import time
from collections.abc import Callable, Generator, Sequence
from itertools import islice
from typing import Any, TypeVar

CHECK = 8  # items between two places to stop (8 series names take ~0.3 ms to index)
STEP = 0.002  # seconds of work before the loop runs
# What a build made so far is frozen at its first stop and after every FREEZE_EVERY more (~50 ms
# of work), as a finished index is (freeze_young): a collection walks every item of a young list
# or dict (one of 50,000 names: ~5 ms), and a build's containers fill up while allocating little
# that the collector counts, so they stayed young until full.
FREEZE_EVERY = 25
SORT_RUN = 1024  # one sort holds the loop throughout: longer lists are sorted in runs, then merged

T = TypeVar("T")
Steps = Generator[None, None, T]  # yields where it may stop; returns what it built


def built(steps: Steps[T]) -> T:
    """What `steps` builds, built at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def build_in_steps(steps: Steps[T], step: float = STEP) -> T:
    """What `steps` builds, letting the event loop run whenever a stretch of work passes `step` seconds."""
    began = time.perf_counter()
    pauses = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if time.perf_counter() - began >= step:
            if not pauses % FREEZE_EVERY:
                gc.freeze()  # nothing is walked; what dies is freed by reference counting all the same
            pauses += 1
            await asyncio.sleep(0)
            began = time.perf_counter()


def freeze_young() -> None:
    """Moves what lives now into the permanent generation, which collections do not walk.

    For long-lived structures (an index lives until the next rebuild): a full collection walking
    them stalls the event loop for tens of milliseconds. Young garbage is collected first, so
    little that is already dead is frozen with it.
    """
    gc.collect(1)
    gc.freeze()


def sorted_in_steps(items: list[T], key: Callable[[T], Any] | None = None) -> Steps[list[T]]:
    """sorted(items, key=key), as short sorts merged a few items at a time."""
    runs: list[list[T]] = []
    for i in range(0, len(items), SORT_RUN):
        runs.append(sorted(items[i : i + SORT_RUN], key=key))  # type: ignore[type-var, arg-type]
        yield
    if len(runs) <= 1:
        return runs[0] if runs else []
    merged = heapq.merge(*runs, key=key)  # type: ignore[arg-type]
    out: list[T] = []
    while chunk := list(islice(merged, CHECK)):
        out += chunk
        yield
    return out


def equal_in_steps(items: Sequence[Any], other: Sequence[Any] | None) -> Steps[bool]:
    """items == other, compared a slice at a time (one comparison of 50,000 rows holds the loop)."""
    if other is None or len(items) != len(other):
        return False
    for i in range(0, len(items), SORT_RUN):
        if items[i : i + SORT_RUN] != other[i : i + SORT_RUN]:
            return False
        yield
    return True


def emptied(items: list[Any]) -> Steps[None]:
    """Frees `items` (lists, dicts, objects of them: what a rebuild replaced) a slice at a time.

    Freed at once, 50,000 names hold the loop for ~10 ms. Whatever something else still holds
    (an index a caller kept) is only let go of, never emptied.
    """
    while items:
        item = items.pop()
        if sys.getrefcount(item) > 2:  # more than `item` and the call's argument
            continue
        if isinstance(item, list):
            while item:
                del item[-SORT_RUN:]
                yield
        elif isinstance(item, dict):
            while item:
                for _ in range(min(len(item), SORT_RUN)):
                    item.popitem()
                yield
        elif hasattr(item, "__dict__"):
            fields = vars(item)
            items += fields.values()
            fields.clear()
