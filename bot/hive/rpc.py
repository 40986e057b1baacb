"""JSON-RPC on the wire: answers, batches, errors, and what the client knows of each node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
import msgspec

# Seconds a node may take on a call someone waits on: a member's command (deferred, so it may wait,
# but not forever) or a send in hand. Voting waits a little longer: the curator asked for it.
ANSWER_DEADLINE = 8.0
VOTE_DEADLINE = 10.0

T = TypeVar("T")


class RpcErrorBody(msgspec.Struct):
    code: int = 0
    message: str = ""
    data: Any = None


class Envelope(msgspec.Struct, Generic[T]):
    result: T | None = None
    error: RpcErrorBody | None = None


class RpcError(Exception):
    """Every node answered this call with a JSON-RPC error: the call itself is refused."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message


class HiveUnavailable(Exception):
    """No node answered within the caller's deadline (only calls made with a deadline raise it)."""


class BadAnswer(Exception):
    """A well-formed answer that is wrong (a gap in a block range, a head far behind): try another node."""


class BatchItem(msgspec.Struct):
    """One answer of a JSON-RPC batch; answers may come in any order, so the id matters."""

    id: Any = None
    result: Any = None
    error: RpcErrorBody | None = None


class RawBatchItem(msgspec.Struct):
    """One answer of a batch whose results are read later, each with its own type."""

    id: Any = None
    result: msgspec.Raw = msgspec.Raw()  # empty when absent
    error: RpcErrorBody | None = None

    @property
    def usable(self) -> bool:
        return self.error is None and bytes(self.result) not in (b"", b"null")


@dataclass
class NodeState:
    url: str
    failures: int = 0
    retry_at: float = 0.0
    head: int | None = None
    last_error: str = ""
    requests: int = 0
    no_batches: bool = False  # it answered a batch with one error object: asked call by call


def refuses_batches(raw: bytes | bytearray) -> bool:
    """One JSON-RPC error object where a batch's list of answers belongs."""
    try:
        answer = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return False
    return isinstance(answer, dict) and "error" in answer


def describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text[:200]
