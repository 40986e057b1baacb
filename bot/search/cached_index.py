"""An index built from the store and cached: autocomplete asks on every keystroke, names move slowly.

Built and freed on the event loop in short steps (bot/search/steps.py), so neither holds the loop for long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from bot.search.steps import STEP, Steps, build_in_steps, emptied, equal_in_steps, freeze_young

log = logging.getLogger("hivecord.search")


Rows = TypeVar("Rows", bound=Sequence[Any])
Index = TypeVar("Index")


class CachedIndex(Generic[Rows, Index]):
    """Caches an index built from the store: autocomplete asks on every keystroke, the names move slowly.

    The index is built on the event loop in short steps (build_in_steps), so a refresh never holds
    the loop for long; a stale index keeps answering while its successor is built. Only the very
    first call, and a caller asking for a fresher index than the cached one, waits for a build.
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[Rows]],
        build: Callable[[Rows], Steps[Index]],
        max_age: float = 60.0,
        step: float = STEP,
    ) -> None:
        self._read = read
        self._build = build
        self._max_age = max_age
        self._step = step
        self._index: Index | None = None
        self._loaded = 0.0
        self._refresh: asyncio.Task[Index] | None = None
        self._rows: Rows | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    async def index(self, max_age: float | None = None) -> Index:
        limit = self._max_age if max_age is None else max_age
        if self._index is not None and time.monotonic() - self._loaded <= limit:
            return self._index
        refresh = self._refresh
        if refresh is None:
            refresh = self._refresh = asyncio.create_task(self._load())
            refresh.add_done_callback(_log_failure)
        if self._index is not None and max_age is None:
            return self._index
        return await asyncio.shield(refresh)

    async def _load(self) -> Index:
        try:
            began = time.monotonic()
            rows = await self._read()
            # Names rarely change between refreshes: rebuilding 50,000 of them costs seconds of CPU.
            if self._index is not None and await build_in_steps(equal_in_steps(rows, self._rows), self._step):
                self._loaded = began
                self._retire([rows])
                return self._index
            index = await build_in_steps(self._build(rows), self._step)
            if self._index is not None:
                self._retire([self._index, self._rows])
            self._index, self._loaded, self._rows = index, began, rows
            freeze_young()  # the index lives until the next rebuild
            return index
        finally:
            self._refresh = None

    async def settled(self) -> None:
        """Waits until what earlier refreshes replaced is freed (for tests and benchmarks)."""
        await asyncio.gather(*self._retiring)

    def _retire(self, old: list[Any]) -> None:
        # What a refresh replaced is freed in steps once the refresh is done: freed at once, an
        # index of 50,000 names and their rows held the loop for 15-30 ms.

        async def retire() -> None:
            await asyncio.sleep(0)  # the refresh has returned: its references are gone
            await build_in_steps(emptied(old), self._step)

        task = asyncio.create_task(retire())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)


def _log_failure(task: asyncio.Task[Any]) -> None:
    # A background refresh has nobody awaiting it: say why it failed (the old index stays in use).
    if not task.cancelled() and task.exception() is not None:
        log.warning("autocomplete index refresh failed: %r", task.exception())
