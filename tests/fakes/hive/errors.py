"""JSON-RPC errors as hived and hivemind answer them, and reading a call's parameters."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json


class RpcError(Exception):
    """Answered as a JSON-RPC error object (HTTP 200, like hived and hivemind)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def assert_error(message: str) -> RpcError:
    # hived reports FC_ASSERT failures this way.
    return RpcError(-32003, f"Assert Exception:{message}", {"code": 10, "name": "assert_exception",
                                                             "message": "Assert Exception"})


def bridge_error(data: str) -> RpcError:
    return RpcError(-32602, "Invalid parameters", data)


def arg(params: Any, key: str, default: Any, index: int = 0) -> Any:
    """A parameter from appbase (dict) or condenser (positional list) params."""
    if isinstance(params, dict):
        return params.get(key, default)
    if isinstance(params, list) and len(params) > index:
        return params[index]
    return default


def error_bytes(rid: Any, err: RpcError) -> bytes:
    return dump_json({"jsonrpc": "2.0", "error": err.to_json(), "id": rid})

