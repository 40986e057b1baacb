"""Async JSON-RPC client over several Hive nodes: fails over, backs off, never gives up on the chain."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec

from bot.hive.blocks import ChainHead, GlobalProperties, MalformedAnswer, gc_paused, read_properties
from bot.hive.names import node_label
from bot.hive.rpc import (
    BadAnswer,
    BatchItem,
    Envelope,
    HiveUnavailable,
    NodeState,
    RawBatchItem,
    RpcError,
    RpcErrorBody,
)
from bot.hive.rpc import describe as _describe
from bot.hive.rpc import refuses_batches as _refuses_batches
from bot.process.backoff import doubling

__all__ = ["BadAnswer", "HiveClient", "HiveUnavailable", "NodeState", "RpcError"]  # the errors are rpc.py's

if TYPE_CHECKING:
    from bot.config.settings import HiveConfig

log = logging.getLogger("hivecord.hive")


class HiveClient:
    """Sends each call to the current node; on any failure moves to the next with backoff.

    Transport faults (timeouts, HTTP errors, truncated or invalid JSON, wrong answers, a lagging
    head) are retried forever across nodes, since the follower must not lose its place. A JSON-RPC
    error from every node in turn means the call itself is refused and is raised as RpcError.
    """

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        timeout: float = 10.0,
        max_head_lag: int = 20,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        user_agent: str = "hivecord",
    ) -> None:
        if not nodes:
            raise ValueError("at least one Hive node is needed")
        self.nodes = [NodeState(url) for url in nodes]
        self.timeout = timeout
        self.max_head_lag = max_head_lag
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._current = 0
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Content-Type": "application/json", "User-Agent": user_agent}
        self._decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
        self._batch_decoder = msgspec.json.Decoder(list[BatchItem])

    @classmethod
    def from_config(cls, hive: HiveConfig) -> HiveClient:
        """The client every command builds from the [hive] settings: `run`, `ingest`, `check-config`."""
        return cls(hive.nodes, timeout=hive.request_timeout, max_head_lag=hive.max_head_lag)

    @property
    def current_node(self) -> str:
        return self.nodes[self._current].url

    @property
    def best_head(self) -> int | None:
        heads = [n.head for n in self.nodes if n.head is not None]
        return max(heads) if heads else None

    def lagging(self, node: NodeState) -> bool:
        best = self.best_head
        return best is not None and node.head is not None and best - node.head > self.max_head_lag

    async def __aenter__(self) -> HiveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=8, ttl_dns_cache=300),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _decoder(self, result_type: Any) -> msgspec.json.Decoder[Any]:
        decoder = self._decoders.get(result_type)
        if decoder is None:
            decoder = self._decoders[result_type] = msgspec.json.Decoder(Envelope[result_type])
        return decoder

    async def post_raw(self, node: NodeState, payload: bytes) -> bytes | bytearray:
        """One POST to `node`, never retried: the body of a 200 (a broadcast decides itself what a failure means)."""
        node.requests += 1
        async with self._get_session().post(node.url, data=payload, headers=self._headers) as resp:
            # aiohttp joins the answer's parts once, at their exact size (and refuses a short one).
            body = await resp.read()
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status, message=resp.reason or ""
                )
            return body

    async def _next_node(self) -> NodeState:
        """The current node if it may be asked now, else the next one; waits when all are backing off."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            # The configured order is the admin's preference: a node is used again once its backoff
            # ends. A node known to lag is asked only when no node that keeps up may be asked.
            for allow_lagging in (False, True):
                for index, node in enumerate(self.nodes):
                    if node.retry_at <= now and (allow_lagging or not self.lagging(node)):
                        if index != self._current:
                            log.info("using Hive node %s", node_label(node.url))
                        self._current = index
                        return node
            wait = min(n.retry_at for n in self.nodes) - now
            log.warning(
                "every Hive node is failing (%s); retrying in %.1f s",
                "; ".join(f"{node_label(n.url)}: {n.last_error}" for n in self.nodes),
                wait,
            )
            await asyncio.sleep(wait)

    def _fail(self, node: NodeState, reason: str) -> None:
        node.failures += 1
        node.last_error = reason
        delay = doubling(self.backoff_base, self.backoff_max, node.failures - 1)
        node.retry_at = asyncio.get_running_loop().time() + delay
        others = [n for n in self.nodes if n is not node]
        nxt = node_label(min(others, key=lambda n: n.retry_at).url if others else node.url)
        log.warning("Hive node %s failed: %s; backing off %.1f s, trying %s", node_label(node.url), reason, delay, nxt)
        self._current = (self.nodes.index(node) + 1) % len(self.nodes)

    async def call(
        self,
        method: str,
        params: Any,
        result_type: Any = Any,
        *,
        check: Callable[[Any], None] | None = None,
        deadline: float | None = None,
        min_head: int | None = None,
        bad_answer_limit: int | None = None,
        fallback_type: Any = None,
    ) -> Any:
        """One JSON-RPC call, decoded straight into `result_type`; retried across nodes until it succeeds.

        With a deadline (seconds), a caller that cannot wait forever (a slash command) gets
        HiveUnavailable instead. With min_head, only a node whose head has reached that block is
        asked: an answer about blocks a node does not have yet would be silently incomplete.
        With bad_answer_limit, that many malformed or wrong answers (not transport faults) raise
        BadAnswer, so a caller can skip what every node garbles instead of asking forever.
        An answer that does not fit `result_type` is decoded as `fallback_type` (a looser reading)
        when one is given, and the check gets that instead.
        """
        if deadline is not None:
            return await self._call_with_deadline(
                method, params, result_type, check, deadline, min_head, bad_answer_limit
            )
        decoder = self._decoder(result_type)
        fallback = self._decoder(fallback_type) if fallback_type is not None else None
        rpc_errors: dict[str, RpcErrorBody] = {}  # each node's refusal of this call
        bad_answers = 0
        while True:
            node = await self._next_node()
            if min_head is not None and (node.head is None or node.head < min_head):
                await self._refresh_head(node)
                if node.head is None or node.head < min_head:
                    self._fail(node, f"{method}: head {node.head} has not reached block {min_head}")
                    continue
            payload = msgspec.json.encode({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
            try:
                raw = await self.post_raw(node, payload)
                with gc_paused():  # a block range decodes into ~1M objects, none in a cycle
                    try:
                        envelope = decoder.decode(raw)
                    except (msgspec.DecodeError, RecursionError):
                        if fallback is None:
                            raise
                        envelope = fallback.decode(raw)  # the cheap exact reading first; this only on garbage
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._fail(node, f"{method}: {_describe(exc)}")
                continue
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
                self._fail(node, f"{method}: malformed answer ({exc or 'nested too deep'})")
                bad_answers += 1
                if bad_answer_limit is not None and bad_answers >= bad_answer_limit:
                    raise BadAnswer(f"{method}: {bad_answers} malformed answers ({exc or 'nested too deep'})") from None
                continue
            if envelope.error is not None:
                rpc_errors[node.url] = envelope.error
                if len(rpc_errors) >= len(self.nodes):
                    raise RpcError(method, envelope.error.code, envelope.error.message)
                self._fail(node, f"{method}: RPC error {envelope.error.code}: {envelope.error.message[:200]}")
                continue
            if envelope.result is None:
                self._fail(node, f"{method}: answer has neither result nor error")
                continue
            try:
                if check is not None:
                    check(envelope.result)
            except (BadAnswer, MalformedAnswer, msgspec.MsgspecError, RecursionError) as exc:
                # A value the check cannot read is a bad answer like any other, never a crash.
                self._fail(node, f"{method}: {exc or type(exc).__name__}")
                bad_answers += 1
                if bad_answer_limit is not None and bad_answers >= bad_answer_limit:
                    raise BadAnswer(f"{method}: {bad_answers} bad answers, the last: {exc}") from None
                continue
            node.failures = 0
            return envelope.result

    async def _call_with_deadline(
        self,
        method: str,
        params: Any,
        result_type: Any,
        check: Callable[[Any], None] | None,
        deadline: float,
        min_head: int | None,
        bad_answer_limit: int | None,
    ) -> Any:
        try:
            call = self.call(
                method, params, result_type, check=check, min_head=min_head, bad_answer_limit=bad_answer_limit
            )
            return await asyncio.wait_for(call, deadline)
        except TimeoutError:
            reasons = "; ".join(f"{node_label(n.url)}: {n.last_error}" for n in self.nodes if n.last_error)
            raise HiveUnavailable(f"no Hive node answered {method} within {deadline:g} s ({reasons})") from None

    async def properties(self) -> ChainHead:
        """Dynamic global properties from a node whose head keeps up with the best head seen."""
        read: list[ChainHead] = []

        def keeps_up(props: GlobalProperties) -> None:
            read.clear()
            head = read_properties(props)  # MalformedAnswer: a bad answer, the next node is asked
            node = self.nodes[self._current]
            node.head = head.head_block_number
            best = self.best_head or head.head_block_number
            if best - head.head_block_number > self.max_head_lag:
                raise BadAnswer(f"head {head.head_block_number} lags the best head {best}")
            read.append(head)

        await self.call("database_api.get_dynamic_global_properties", {}, GlobalProperties, check=keeps_up)
        return read[0]

    async def properties_with(self, calls: Sequence[tuple[str, Any]]) -> tuple[ChainHead, list[msgspec.Raw | None]]:
        """Global properties and, in the same request (a JSON-RPC batch), other calls' raw results.

        The properties are checked as properties() checks them, and come first in the batch: a node
        runs a batch in order, so what the other calls read is no older than the properties. Each
        other result is None where the node refused or garbled it (the caller asks on its own then).
        A node that cannot batch is asked for the properties alone from then on.
        """
        decoder = self._decoders.get("head batch")
        if decoder is None:
            decoder = self._decoders["head batch"] = msgspec.json.Decoder(list[RawBatchItem])
        props_decoder = msgspec.json.Decoder(GlobalProperties)
        while True:
            node = await self._next_node()
            if node.no_batches:
                return await self.properties(), [None] * len(calls)
            batch = [{"jsonrpc": "2.0", "id": 0, "method": "database_api.get_dynamic_global_properties", "params": {}}]
            batch += [{"jsonrpc": "2.0", "id": i + 1, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
            try:
                raw = await self.post_raw(node, msgspec.json.encode(batch))
                answers = decoder.decode(raw)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._fail(node, f"head batch: {_describe(exc)}")
                continue
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
                if _refuses_batches(raw):
                    log.info("Hive node %s does not answer batches; asking for the head alone", node_label(node.url))
                    node.no_batches = True
                else:
                    self._fail(node, f"head batch: malformed answer ({exc or 'nested too deep'})")
                continue
            by_id = {a.id: a for a in answers if type(a.id) is int}
            first = by_id.get(0)
            try:
                if first is None or not first.usable:
                    raise MalformedAnswer("no global properties in the batch's answer")
                head = read_properties(props_decoder.decode(first.result))
            except (MalformedAnswer, msgspec.MsgspecError, RecursionError) as exc:
                self._fail(node, f"head batch: {exc or type(exc).__name__}")
                continue
            node.head = head.head_block_number
            best = self.best_head or head.head_block_number
            if best - head.head_block_number > self.max_head_lag:
                self._fail(node, f"head {head.head_block_number} lags the best head {best}")
                continue
            node.failures = 0
            results: list[msgspec.Raw | None] = []
            for i in range(len(calls)):
                answer = by_id.get(i + 1)
                results.append(answer.result if answer is not None and answer.usable else None)
            return head, results

    async def call_batch(self, method: str, params: Sequence[Any], *, deadline: float) -> list[Any | None]:
        """Many calls of one method in one JSON-RPC batch (one request, however many calls).

        Each item is the call's result, or None where the node refused it (an RPC error, such as a
        post bridge does not know). No node answering within `deadline` raises HiveUnavailable.
        """
        if not params:
            return []
        decoder = self._batch_decoder

        async def attempt() -> list[Any | None]:
            while True:
                node = await self._next_node()
                calls = [{"jsonrpc": "2.0", "id": i, "method": method, "params": p} for i, p in enumerate(params)]
                try:
                    answers = decoder.decode(await self.post_raw(node, msgspec.json.encode(calls)))
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self._fail(node, f"{method} batch: {_describe(exc)}")
                    continue
                except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
                    # Also a node that refuses batches: it answers one error object, not a list.
                    self._fail(node, f"{method} batch: malformed answer ({exc or 'nested too deep'})")
                    continue
                results: list[Any | None] = [None] * len(params)
                for answer in answers:
                    if type(answer.id) is int and 0 <= answer.id < len(params) and answer.error is None:
                        results[answer.id] = answer.result
                node.failures = 0
                return results

        try:
            return await asyncio.wait_for(attempt(), deadline)
        except TimeoutError:
            reasons = "; ".join(f"{node_label(n.url)}: {n.last_error}" for n in self.nodes if n.last_error)
            raise HiveUnavailable(f"no Hive node answered {method} within {deadline:g} s ({reasons})") from None

    async def _refresh_head(self, node: NodeState, attempts: int = 1) -> None:
        payload = msgspec.json.encode(
            {"jsonrpc": "2.0", "id": 0, "method": "database_api.get_dynamic_global_properties", "params": {}}
        )
        for _attempt in range(attempts):
            try:
                raw = await self.post_raw(node, payload)
                envelope = self._decoder(GlobalProperties).decode(raw)
            except (aiohttp.ClientError, TimeoutError, msgspec.MsgspecError, RecursionError) as exc:
                node.last_error = _describe(exc)
                continue
            if envelope.result is not None:
                try:
                    node.head = read_properties(envelope.result).head_block_number
                except MalformedAnswer as exc:
                    node.last_error = str(exc)
                    continue
                return

    async def probe(self) -> None:
        """Ask every node for its head once, so a node stuck behind is noticed before it is relied on."""
        # One retry each: a single bad answer should not hide a node's head.
        await asyncio.gather(*(self._refresh_head(n, attempts=2) for n in self.nodes))
        best = self.best_head
        if best is None:
            return
        for node in self.nodes:
            if node.head is not None and best - node.head > self.max_head_lag:
                lag = best - node.head
                log.warning("Hive node %s is %d blocks behind the best head; skipping it", node_label(node.url), lag)
                self._fail(node, f"head {node.head} lags the best head {best}")
        # Start on the first healthy node in the configured order.
        loop_now = asyncio.get_running_loop().time()
        for index, node in enumerate(self.nodes):
            if node.retry_at <= loop_now and node.head is not None:
                self._current = index
                break
