"""HTTP on 127.0.0.1, in the caller's loop or a thread of its own, with fault injection (503, hang, truncate, down)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import threading
import time
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .broadcast import DropConnection
from .rpc import Rpc

STREAM_THRESHOLD = 256 * 1024  # answers above this are streamed part by part
WRITE_CHUNK = 128 * 1024


class Server(Rpc):
    down: bool
    fault_rate: float
    hang_seconds: float
    requests: int
    port: int | None
    faults: collections.Counter[str]
    fault_log: list[str]
    asked: list[tuple[str, float, tuple[str, ...]]]
    _rng: random.Random
    _runner: web.AppRunner | None
    _stopping: asyncio.Event | None
    _loop: asyncio.AbstractEventLoop | None
    _thread: threading.Thread | None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("node not started")
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.down:
            self.faults["down"] += 1
            # Drop the connection without an answer: clients see a disconnect, as with a dead upstream.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=502)
        fault = None
        if self.fault_rate > 0.0:
            r = self._rng.random()
            if r < self.fault_rate:
                fault = ("503", "hang", "truncate")[min(2, int(r / self.fault_rate * 3))]
                self.faults[fault] += 1
            self.fault_log.append(fault or "")
        if fault == "503":
            return web.Response(status=503, text="Service Temporarily Unavailable")
        before = len(self.request_log)
        try:
            parts = self._dispatch_body(await request.read())
        except DropConnection:
            # A broadcast dropped on purpose (drop_broadcasts, lose_broadcast_answers): no answer at all.
            self.faults["drop"] += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=502)
        # Who asked: each bot process may be given its own URL path, so a test sees which one polled.
        self.asked.extend((request.path, time.monotonic(), methods) for methods in self.request_log[before:])
        if fault == "hang":
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        elif fault == "truncate":
            body = b"".join(parts)
            parts = [body[: len(body) // 2]]
        size = sum(len(p) for p in parts)
        if size <= STREAM_THRESHOLD:
            return web.Response(body=b"".join(parts), content_type="application/json")
        # Big answers (block ranges, batches) are written part by part: this environment copies
        # memory at ~1 GB/s, and aiohttp would copy a 24 MB body twice (join with headers, then
        # the transport buffer), which alone takes longer than the 50 ms budget.
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = size
        chunk: list[bytes] = []
        pending = 0
        try:
            await resp.prepare(request)
            for part in parts:
                chunk.append(part)
                pending += len(part)
                if pending >= WRITE_CHUNK:
                    await resp.write(chunk[0] if len(chunk) == 1 else b"".join(chunk))
                    chunk, pending = [], 0
            if chunk:
                await resp.write(b"".join(chunk))
            await resp.write_eof()
        except ConnectionResetError:
            pass  # the client gave up (timed out on a hang, say): nothing to answer
        return resp

    async def start(self, port: int | None = None) -> str:
        """Serve on 127.0.0.1; ``port`` None reuses the last port (so a restart keeps the URL), or a free one."""
        if self._runner is not None:
            raise RuntimeError("already started")
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{path:.*}", self._handle)  # any path: a node URL may carry one (and a query)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        want = port if port is not None else (self.port or 0)
        site = web.TCPSite(runner, "127.0.0.1", want, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()  # release hanging requests
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- thread mode -------------------------------------------------------------------------------

    def start_in_thread(self, port: int | None = None) -> str:
        """Serve from a daemon thread with its own event loop (for sync code such as beem)."""
        if self._thread is not None:
            raise RuntimeError("already running in a thread")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-hive-node", daemon=True)
        thread.start()
        try:
            url = asyncio.run_coroutine_threadsafe(self.start(port), loop).result(timeout=10)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        return url

    def stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None

    def call_in_thread(self, coro: Any, timeout: float = 10) -> Any:
        """Run a coroutine (e.g. ``node.stop()``) on the node's thread loop and wait for it."""
        if self._loop is None:
            raise RuntimeError("not running in a thread")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def __enter__(self) -> Self:
        self.start_in_thread()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_thread()

