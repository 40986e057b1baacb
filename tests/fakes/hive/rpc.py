"""JSON-RPC 2.0 dispatch: single and batch calls, the legacy ``call`` form, the method table."""

from __future__ import annotations

import collections
import json
from typing import Any

from ..chain_gen import dump_json
from .account_history_api import AccountHistoryApi
from .block_api import BlockApi
from .bridge import BridgeApi
from .broadcast import BroadcastApi
from .chain_state import ChainState
from .condenser_api import CondenserApi
from .database_api import DatabaseApi
from .errors import RpcError, error_bytes
from .subscribers import SubscribersApi
from .transaction_status import TransactionStatusApi

_SUPPORTED = (
    "block_api.get_block", "block_api.get_block_range", "block_api.get_block_header",
    "database_api.get_dynamic_global_properties", "database_api.get_config", "database_api.get_version",
    "database_api.get_hardfork_properties", "database_api.get_feed_history",
    "database_api.get_current_price_feed", "database_api.get_reward_funds",
    "database_api.get_witness_schedule",
    "condenser_api.get_block", "condenser_api.get_block_header", "condenser_api.get_dynamic_global_properties",
    "condenser_api.get_config", "condenser_api.get_version", "condenser_api.get_hardfork_version",
    "condenser_api.get_next_scheduled_hardfork", "condenser_api.get_feed_history",
    "condenser_api.get_current_median_history_price", "condenser_api.get_reward_fund",
    "condenser_api.get_chain_properties", "condenser_api.get_witness_schedule", "condenser_api.get_ops_in_block",
    "condenser_api.get_accounts", "condenser_api.get_active_votes", "condenser_api.get_content",
    "condenser_api.broadcast_transaction", "network_broadcast_api.broadcast_transaction",
    "transaction_status_api.find_transaction",
    "account_history_api.enum_virtual_ops", "account_history_api.get_ops_in_block",
    "bridge.get_community", "bridge.get_ranked_posts", "bridge.get_post",
    "bridge.list_subscribers", "bridge.list_community_roles",
    "rc_api.get_resource_params", "rc_api.get_resource_pool",
    "jsonrpc.get_methods", "jsonrpc.get_signature",
)


class Rpc:
    calls: collections.Counter[str]
    tamper: dict[str, Any]
    request_log: list[tuple[str, ...]]

    def dispatch(self, body: bytes) -> bytes:
        """The HTTP response body for a request body (no faults, no counters of HTTP requests)."""
        return b"".join(self._dispatch_body(body))

    def _dispatch_body(self, body: bytes) -> list[bytes]:
        # Answers are lists of byte parts, never joined into one buffer: copying 24 MB costs more
        # than sending it (see _handle).
        try:
            payload = json.loads(body)
        except ValueError:
            return [error_bytes(None, RpcError(-32700, "Parse Error:Invalid JSON"))]
        # Which calls came together: a batch is one entry with every method in it, in order.
        batch = payload if isinstance(payload, list) else [payload]
        self.request_log.append(tuple(str(p.get("method")) if isinstance(p, dict) else "?" for p in batch))
        if isinstance(payload, list):
            if not payload:
                return [error_bytes(None, RpcError(-32600, "Invalid Request:empty batch"))]
            parts = [b"["]
            for i, p in enumerate(payload):
                if i:
                    parts.append(b",")
                parts.extend(self._dispatch_one(p))
            parts.append(b"]")
            return parts
        return self._dispatch_one(payload)

    def _dispatch_one(self, req: Any) -> list[bytes]:
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return [error_bytes(req.get("id") if isinstance(req, dict) else None,
                                 RpcError(-32600, "Invalid Request"))]
        rid = req.get("id")
        method: str = req["method"]
        params = req.get("params")
        if method == "call":
            # Legacy form: {"method": "call", "params": [api, method, [args]]}
            if not isinstance(params, list) or len(params) < 2:
                return [error_bytes(rid, RpcError(-32602, "Invalid parameters for call"))]
            api, name = str(params[0]), str(params[1])
            args = params[2] if len(params) > 2 else []
            if api != "condenser_api" and isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict):
                args = args[0]
            method, params = f"{api}.{name}", args
        self.calls[method] += 1
        handler = _HANDLERS.get(method)
        try:
            if handler is None:
                api = method.split(".", 1)[0]
                if api not in {m.split(".", 1)[0] for m in _SUPPORTED}:
                    msg = f"Assert Exception:api_itr != _registered_apis.end(): Could not find API {api}"
                else:
                    msg = f"Assert Exception:method_itr != api_itr->second.end(): Could not find method {method}"
                raise RpcError(-32601, msg)
            result = handler(self, params if params is not None else {})
            if method in self.tamper:
                whole = b"".join(result) if isinstance(result, list) else result
                result = dump_json(self.tamper[method](json.loads(whole)))
        except RpcError as e:
            return [error_bytes(rid, e)]
        except (KeyError, TypeError, ValueError, IndexError) as e:
            return [error_bytes(rid, RpcError(-32602, f"Invalid parameters: {e!r}"))]
        tail = b',"id":' + dump_json(rid) + b"}"
        if isinstance(result, list):
            return [b'{"jsonrpc":"2.0","result":', *result, tail]
        return [b'{"jsonrpc":"2.0","result":', result, tail]


def _const(fn: Any) -> Any:
    return lambda node, params: dump_json(fn(node))


_HANDLERS: dict[str, Any] = {
    "block_api.get_block": BlockApi._get_block,
    "block_api.get_block_range": BlockApi._get_block_range,
    "block_api.get_block_header": BlockApi._get_block_header,
    "database_api.get_dynamic_global_properties": _const(lambda n: n._dgp(False)),
    "database_api.get_config": _const(DatabaseApi._config),
    "database_api.get_version": _const(DatabaseApi._version),
    "database_api.get_hardfork_properties": _const(lambda n: {
        "id": 0, "processed_hardforks": [], "last_hardfork": 27, "current_hardfork_version": "1.27.0",
        "next_hardfork": "1.28.0", "next_hardfork_time": "2030-01-01T00:00:00"}),
    "database_api.get_feed_history": _const(lambda n: n._feed(False)),
    "database_api.get_current_price_feed": _const(lambda n: n._feed(False)["current_median_history"]),
    "database_api.get_reward_funds": _const(lambda n: {"funds": [n._reward_fund(False)]}),
    "database_api.get_witness_schedule": _const(DatabaseApi._witness_schedule),
    "condenser_api.get_block": CondenserApi._condenser_get_block,
    "condenser_api.get_block_header": CondenserApi._condenser_get_block_header,
    "condenser_api.get_dynamic_global_properties": _const(lambda n: n._dgp(True)),
    "condenser_api.get_config": _const(DatabaseApi._config),
    "condenser_api.get_version": _const(DatabaseApi._version),
    "condenser_api.get_hardfork_version": _const(lambda n: "1.27.0"),
    "condenser_api.get_next_scheduled_hardfork": _const(lambda n: {"hf_version": "1.28.0",
                                                                   "live_time": "2030-01-01T00:00:00"}),
    "condenser_api.get_feed_history": _const(lambda n: n._feed(True)),
    "condenser_api.get_current_median_history_price": _const(lambda n: n._feed(True)["current_median_history"]),
    "condenser_api.get_reward_fund": _const(lambda n: n._reward_fund(True)),
    "condenser_api.get_chain_properties": _const(lambda n: n._witness_schedule()["median_props"]),
    "condenser_api.get_witness_schedule": _const(DatabaseApi._witness_schedule),
    "condenser_api.get_ops_in_block": CondenserApi._condenser_get_ops_in_block,
    "condenser_api.get_accounts": CondenserApi._condenser_get_accounts,
    "condenser_api.get_active_votes": ChainState._condenser_get_active_votes,
    "condenser_api.get_content": ChainState._condenser_get_content,
    "condenser_api.broadcast_transaction": BroadcastApi._condenser_broadcast_transaction,
    "network_broadcast_api.broadcast_transaction": BroadcastApi._nb_broadcast_transaction,
    "transaction_status_api.find_transaction": TransactionStatusApi._find_transaction,
    "account_history_api.enum_virtual_ops": AccountHistoryApi._enum_virtual_ops,
    "account_history_api.get_ops_in_block": AccountHistoryApi._ah_get_ops_in_block,
    "bridge.get_community": BridgeApi._bridge_get_community,
    "bridge.get_ranked_posts": BridgeApi._bridge_get_ranked_posts,
    "bridge.get_post": BridgeApi._bridge_get_post,
    "bridge.list_subscribers": SubscribersApi._bridge_list_subscribers,
    "bridge.list_community_roles": SubscribersApi._bridge_list_community_roles,
    "bridge.get_discussion": BridgeApi._bridge_get_discussion,
    "rc_api.get_resource_params": _const(lambda n: {"resource_names": [], "resource_params": {},
                                                    "size_info": {}}),
    "rc_api.get_resource_pool": _const(lambda n: {"resource_pool": {}}),
    "jsonrpc.get_methods": _const(lambda n: sorted(
        m for m in _SUPPORTED if n.serves_transaction_status or not m.startswith("transaction_status_api."))),
    "jsonrpc.get_signature": _const(lambda n: {"args": {}, "ret": {}}),
}

