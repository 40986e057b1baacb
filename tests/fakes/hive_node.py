"""A loopback fake Hive API node (JSON-RPC 2.0 over HTTP POST) for tests and benchmarks.

Serves ``block_api``, ``database_api``, ``condenser_api`` (enough for beem's ``Blockchain.stream``),
``account_history_api`` and ``bridge`` from in-memory blocks, with optional faults (503, hangs,
truncated bodies), a lagging head (``behind``) and a ``down`` switch, for failover tests.

Three ways to run it::

    node = FakeHiveNode(blocks)              # async tests
    url = await node.start(); ...; await node.stop()          # or: async with node: ...
    url = node.start_in_thread(); ...; node.stop_thread()      # sync code, or: with node: ...
    python -m tests.fakes.hive_node --generate 20000 --start-block 80000000   # a process
      -> prints "URL http://127.0.0.1:PORT", serves until SIGTERM/SIGINT

Block JSON is serialised once at construction and responses are assembled by joining bytes, so the
node is never what a benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import gc
import json
import random
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec
from aiohttp import web

from .chain_gen import (
    HBD,
    HIVE,
    VESTS,
    ChainGenerator,
    block_epoch,
    build_vote_vops,
    community_info,
    dump_json,
    format_time,
    make_block_id,
    ranked_posts,
)

__all__ = [
    "FakeHiveNode",
    "RpcError",
    "build_vote_vops",
    "condenser_block",
    "hived_numbers",
    "load_mock_blocks",
    "load_mock_vops",
    "load_seed_fixture",
    "main",
]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hive"
SEED_FIXTURE = FIXTURES / "seed" / "anime_realm_review.json"

MAX_BLOCK_RANGE = 1000  # hived's block_api limit
MAX_VOPS_LIMIT = 150_000  # account_history_api limit
CONDENSER_CACHE = 4096
STREAM_THRESHOLD = 256 * 1024  # answers above this are streamed part by part
WRITE_CHUNK = 128 * 1024

_SYMBOLS = {HBD: "HBD", HIVE: "HIVE", VESTS: "VESTS"}
_ZERO_SIG = "1f" + "0" * 128
_decode = msgspec.json.decode

# Operation type ids as hived numbers them; the enum_virtual_ops filter bit is 1 << (id - 50).
_OP_NAMES = (
    "vote", "comment", "transfer", "transfer_to_vesting", "withdraw_vesting", "limit_order_create",
    "limit_order_cancel", "feed_publish", "convert", "account_create", "account_update", "witness_update",
    "account_witness_vote", "account_witness_proxy", "pow", "custom", "report_over_production",
    "delete_comment", "custom_json", "comment_options", "set_withdraw_vesting_route", "limit_order_create2",
    "claim_account", "create_claimed_account", "request_account_recovery", "recover_account",
    "change_recovery_account", "escrow_transfer", "escrow_dispute", "escrow_release", "pow2",
    "escrow_approve", "transfer_to_savings", "transfer_from_savings", "cancel_transfer_from_savings",
    "custom_binary", "decline_voting_rights", "reset_account", "set_reset_account", "claim_reward_balance",
    "delegate_vesting_shares", "account_create_with_delegation", "witness_set_properties",
    "account_update2", "create_proposal", "update_proposal_votes", "remove_proposal", "update_proposal",
    "collateralized_convert", "recurrent_transfer",
    # virtual ops, from id 50
    "fill_convert_request", "author_reward", "curation_reward", "comment_reward", "liquidity_reward",
    "interest", "fill_vesting_withdraw", "fill_order", "shutdown_witness", "fill_transfer_from_savings",
    "hardfork", "comment_payout_update", "return_vesting_delegation", "comment_benefactor_reward",
    "producer_reward", "clear_null_account_balance", "proposal_pay", "dhf_funding", "hardfork_hive",
    "hardfork_hive_restore", "delayed_voting", "consolidate_treasury_balance", "effective_comment_vote",
    "ineffective_delete_comment", "dhf_conversion", "expired_account_notification",
    "changed_recovery_account", "transfer_to_vesting_completed", "pow_reward", "vesting_shares_split",
    "account_created", "fill_collateralized_convert_request", "system_warning", "fill_recurrent_transfer",
    "failed_recurrent_transfer", "limit_order_cancelled", "producer_missed", "proposal_fee",
    "collateralized_convert_immediate_conversion", "escrow_approved", "escrow_rejected", "proxy_cleared",
    "declined_voting_rights",
)
OP_TYPE_IDS: dict[str, int] = {f"{name}_operation": i for i, name in enumerate(_OP_NAMES)}
FIRST_VIRTUAL_OP = 50

_VOP_KEYS = ("trx_id", "block", "trx_in_block", "op_in_trx", "virtual_op", "timestamp", "op", "operation_id")
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
    "account_history_api.enum_virtual_ops", "account_history_api.get_ops_in_block",
    "bridge.get_community", "bridge.get_ranked_posts", "bridge.get_post",
    "rc_api.get_resource_params", "rc_api.get_resource_pool",
    "jsonrpc.get_methods", "jsonrpc.get_signature",
)


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


def _assert_error(message: str) -> RpcError:
    # hived reports FC_ASSERT failures this way.
    return RpcError(-32003, f"Assert Exception:{message}", {"code": 10, "name": "assert_exception",
                                                             "message": "Assert Exception"})


def _bridge_error(data: str) -> RpcError:
    return RpcError(-32602, "Invalid parameters", data)


# ---------------------------------------------------------------------------------------------------
# Fixture helpers


def load_seed_fixture(path: str | Path = SEED_FIXTURE) -> tuple[dict[int, dict[str, Any]], str]:
    """(blocks keyed by number, expected body after the edit) from the seed fixture."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    blocks = {int(k): v for k, v in raw.items() if k.isdigit()}
    return blocks, str(raw["expected_edited_body"])


def load_mock_blocks(path: str | Path) -> dict[int, dict[str, Any]]:
    """hivemind mock blocks (only ``transactions``); the node fills ids, times and witness fields."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(k): v for k, v in raw.items() if k.isdigit()}


def load_mock_vops(path: str | Path) -> dict[int, list[dict[str, Any]]]:
    """hivemind's mock virtual ops (``{"virtual_operations": [op, ...]}`` per block) as a vops mapping."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(k): list(v.get("virtual_operations", [])) for k, v in raw.items() if k.isdigit()}


# ---------------------------------------------------------------------------------------------------
# Condenser (legacy) shapes


def _legacy(value: Any) -> Any:
    """block_api values to condenser_api ones: NAI assets become "1.234 HBD" strings."""
    if isinstance(value, dict):
        if "nai" in value and "amount" in value and len(value) == 3:
            precision = int(value["precision"])
            amount = int(value["amount"])
            whole, frac = divmod(abs(amount), 10**precision)
            sign = "-" if amount < 0 else ""
            return f"{sign}{whole}.{frac:0{precision}d} {_SYMBOLS.get(value['nai'], value['nai'])}"
        return {k: _legacy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_legacy(v) for v in value]
    return value


def _legacy_op(op: Mapping[str, Any]) -> list[Any]:
    name = str(op["type"]).removesuffix("_operation")
    value = _legacy(op["value"])
    if name == "comment_options" and value.get("extensions"):
        # Static variants are [index, value] pairs in the legacy format.
        value["extensions"] = [[0, e["value"]] if isinstance(e, dict) else e for e in value["extensions"]]
    return [name, value]


def condenser_block(num: int, block: Mapping[str, Any]) -> dict[str, Any]:
    """A block_api block as ``condenser_api.get_block`` returns it."""
    out = {k: v for k, v in block.items() if k != "transactions"}
    ids = block.get("transaction_ids") or []
    txs = []
    for i, trx in enumerate(block.get("transactions") or ()):
        t = {k: v for k, v in trx.items() if k not in ("operations", "extensions", "signatures")}
        t["operations"] = [_legacy_op(op) for op in trx.get("operations") or ()]
        t["extensions"] = trx.get("extensions", [])
        t["signatures"] = trx.get("signatures", [])
        t["transaction_id"] = ids[i] if i < len(ids) else "0" * 40
        t["block_num"] = num
        t["transaction_num"] = i
        txs.append(t)
    out["transactions"] = txs
    # Keep hived's key order: transactions sit before block_id.
    ordered: dict[str, Any] = {k: out[k] for k in ("previous", "timestamp", "witness", "transaction_merkle_root",
                                                   "extensions", "witness_signature") if k in out}
    ordered["transactions"] = txs
    ordered.update((k, v) for k, v in out.items() if k not in ordered)
    return ordered


def _find_str(raw: bytes, key: bytes, from_end: bool = False) -> str | None:
    # A key pattern like "block_id":" cannot occur inside a JSON string (quotes there are escaped).
    needle = b'"' + key + b'":"'
    i = raw.rfind(needle) if from_end else raw.find(needle)
    if i < 0:
        return None
    start = i + len(needle)
    end = raw.find(b'"', start)
    return raw[start:end].decode() if end > 0 else None


def _parse_time(ts: str) -> int:
    return int(datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp())


# ---------------------------------------------------------------------------------------------------
# The node


class FakeHiveNode:
    """In-memory Hive API node; see the module docstring for how to run it.

    Counters: ``calls`` (Counter by ``api.method``, each call of a batch counted; requests failed
    with a 503 or while ``down`` never reach it), ``requests`` (HTTP requests), ``faults`` (Counter by
    kind: "503", "hang", "truncate", "down") and ``fault_log``. Runtime knobs: ``head``, ``behind``,
    ``down``, ``fault_rate``, ``hang_seconds``, ``add_blocks()``.

    Faults: each request fails with probability ``fault_rate`` (seeded, so a sequential client sees
    the same sequence every run), in equal shares: HTTP 503; a hang of ``hang_seconds`` before the
    answer; a 200 whose JSON body is cut in half. ``down = True`` drops every connection unanswered.
    """

    def __init__(
        self,
        blocks: Mapping[int, dict[str, Any] | bytes],
        *,
        head: int | None = None,
        vops: Mapping[int, list[dict[str, Any]]] | None = None,
        communities: Mapping[str, dict[str, Any]] | None = None,
        ranked_posts: Mapping[str, list[dict[str, Any]]] | None = None,
        posts: Iterable[dict[str, Any]] = (),
        vops_page_cap: int | None = None,
        tamper: Mapping[str, Any] | None = None,
        fault_rate: float = 0.0,
        hang_seconds: float = 30.0,
        behind: int = 0,
        irreversible_lag: int = 1,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("fault_rate must be within [0, 1]")
        self.seed = seed
        self.fault_rate = fault_rate
        self.hang_seconds = hang_seconds
        self.behind = behind
        self.irreversible_lag = irreversible_lag
        self.down = False
        self.calls: collections.Counter[str] = collections.Counter()
        self.faults: collections.Counter[str] = collections.Counter()
        # With fault_rate > 0: per HTTP request, the fault drawn ("" for none), in arrival order.
        self.fault_log: list[str] = []
        self.requests = 0
        self.port: int | None = None
        self.communities: dict[str, dict[str, Any]] = dict(communities or {})
        self.ranked_posts: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in (ranked_posts or {}).items()}
        # bridge.get_post answers: the ranked posts, and posts given on their own (old posts, say).
        self.posts: dict[tuple[str, str], dict[str, Any]] = {
            (p["author"], p["permlink"]): p for ps in self.ranked_posts.values() for p in ps
        }
        self.posts.update(((p["author"], p["permlink"]), p) for p in posts)
        # A node may serve fewer virtual ops a page than asked for, so the client must page.
        self.vops_page_cap = vops_page_cap
        # method -> fn(result) -> result: a node answering garbage in the fields a test chooses.
        self.tamper: dict[str, Any] = dict(tamper or {})
        self._rng = random.Random(seed)
        self._raw: dict[int, bytes] = {}
        self._ids: dict[int, str] = {}
        self._prev: dict[int, str] = {}
        self._epochs: dict[int, int] = {}
        self._anchors: list[int] = []  # sorted given block numbers, for filler timestamps
        self._fillers: dict[int, bytes] = {}
        self._condenser: collections.OrderedDict[int, bytes] = collections.OrderedDict()
        self._vops: dict[int, list[tuple[int, int, bytes]]] = {}  # block -> [(type id, op id, json)]
        self._vop_nums: list[int] = []
        self._head = 0
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.add_blocks(blocks, vops=vops, _raise_head=False)
        if head is not None:
            self._head = head
        elif self._raw:
            self._head = max(self._raw)

    # -- data ------------------------------------------------------------------------------------

    @property
    def head(self) -> int:
        """The real head; the node serves ``head - behind``. Raise it to make new (empty) blocks appear."""
        return self._head

    @head.setter
    def head(self, value: int) -> None:
        self._head = int(value)

    @property
    def served_head(self) -> int:
        return max(0, self._head - self.behind)

    @property
    def irreversible(self) -> int:
        return max(0, self.served_head - self.irreversible_lag)

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("node not started")
        return f"http://127.0.0.1:{self.port}"

    def add_blocks(
        self,
        blocks: Mapping[int, dict[str, Any] | bytes],
        *,
        vops: Mapping[int, list[dict[str, Any]]] | None = None,
        _raise_head: bool = True,
    ) -> None:
        """Add (or replace) blocks; the head moves up to the highest one added.

        Dict blocks lacking ids, times or witness fields get them; bytes are served as given (they must
        be complete block_api JSON).
        """
        # Serialising tens of thousands of blocks allocates millions of objects: GC passes would
        # dominate, and the block data holds no cycles.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._add_blocks(blocks)
            if vops:
                self._add_vops(vops)
        finally:
            if gc_was_enabled:
                gc.enable()
        if _raise_head and blocks:
            self._head = max(self._head, max(int(n) for n in blocks))

    def _add_blocks(self, blocks: Mapping[int, dict[str, Any] | bytes]) -> None:
        items = sorted(((int(n), b) for n, b in blocks.items()), key=lambda item: item[0])
        # First pass: what the given blocks say about themselves (ids, links, times).
        for num, block in items:
            if isinstance(block, bytes | bytearray):
                raw = bytes(block)
                bid = _find_str(raw, b"block_id", from_end=True)
                prev = _find_str(raw, b"previous")
                ts = _find_str(raw, b"timestamp")
            else:
                bid, prev, ts = block.get("block_id"), block.get("previous"), block.get("timestamp")
            self._ids[num] = bid or make_block_id(num, self.seed)
            if prev:
                self._prev[num] = prev
            else:
                self._prev.pop(num, None)
            epoch = None
            if ts:
                with contextlib.suppress(ValueError):  # a garbled time, served on purpose
                    epoch = _parse_time(ts)
            if epoch is not None:
                self._epochs[num] = epoch
            else:
                self._epochs.pop(num, None)
        self._anchors = sorted(self._epochs)
        # Second pass: fill what is missing, then serialise once.
        for num, block in items:
            if isinstance(block, bytes | bytearray):
                self._raw[num] = bytes(block)
                continue
            if num not in self._epochs:
                self._epochs[num] = self._epoch_of(num)
                bisect.insort(self._anchors, num)
            self._raw[num] = dump_json(self._complete(num, block))
            self._prev.setdefault(num, self._id_of(num - 1))
        # Links and times of fillers may have changed.
        self._fillers.clear()
        self._condenser.clear()

    def _complete(self, num: int, block: Mapping[str, Any]) -> dict[str, Any]:
        if all(k in block for k in ("block_id", "previous", "timestamp", "transaction_ids", "witness")):
            return dict(block)
        bid = self._ids[num]
        txs = block.get("transactions") or []
        out: dict[str, Any] = {
            "previous": block.get("previous") or self._id_of(num - 1),
            "timestamp": block.get("timestamp") or format_time(self._epochs[num]),
            "witness": block.get("witness", "initminer"),
            "transaction_merkle_root": block.get("transaction_merkle_root", "0" * 40),
            "extensions": block.get("extensions", []),
            "witness_signature": block.get("witness_signature", _ZERO_SIG),
            "transactions": txs,
            "block_id": bid,
            "signing_key": block.get("signing_key", "STM" + "1" * 50),
            "transaction_ids": block.get("transaction_ids")
            or [blake2b(f"{bid}:{i}".encode(), digest_size=20).hexdigest() for i in range(len(txs))],
        }
        out.update((k, v) for k, v in block.items() if k not in out)
        return out

    def _id_of(self, num: int) -> str:
        bid = self._ids.get(num)
        if bid is not None:
            return bid
        # A filler right below a given block takes the id that block names as "previous".
        nxt = self._prev.get(num + 1)
        return nxt if nxt is not None else make_block_id(num, self.seed)

    def _epoch_of(self, num: int) -> int:
        epoch = self._epochs.get(num)
        if epoch is not None:
            return epoch
        anchors = self._anchors
        if not anchors:
            return block_epoch(num)
        i = bisect.bisect_right(anchors, num)
        base = anchors[i - 1] if i > 0 else anchors[0]
        return self._epochs[base] + 3 * (num - base)

    def _filler(self, num: int) -> bytes:
        raw = self._fillers.get(num)
        if raw is None:
            raw = dump_json({
                "previous": self._id_of(num - 1),
                "timestamp": format_time(self._epoch_of(num)),
                "witness": "initminer",
                "transaction_merkle_root": "0" * 40,
                "extensions": [],
                "witness_signature": _ZERO_SIG,
                "transactions": [],
                "block_id": self._id_of(num),
                "signing_key": "STM" + "1" * 50,
                "transaction_ids": [],
            })
            self._fillers[num] = raw
        return raw

    def block_bytes(self, num: int) -> bytes | None:
        """The block_api JSON of a served block (None above the served head)."""
        if num < 1 or num > self.served_head:
            return None
        raw = self._raw.get(num)
        return raw if raw is not None else self._filler(num)

    def block(self, num: int) -> dict[str, Any] | None:
        raw = self.block_bytes(num)
        return None if raw is None else dict(_decode(raw))

    def _condenser_bytes(self, num: int) -> bytes | None:
        raw = self._condenser.get(num)
        if raw is not None:
            self._condenser.move_to_end(num)
            return raw
        block = self.block(num)
        if block is None:
            return None
        raw = dump_json(condenser_block(num, block))
        self._condenser[num] = raw
        if len(self._condenser) > CONDENSER_CACHE:
            self._condenser.popitem(last=False)
        return raw

    def _add_vops(self, vops: Mapping[int, list[dict[str, Any]]]) -> None:
        for num_key, entries in vops.items():
            num = int(num_key)
            stored = []
            for i, entry in enumerate(entries):
                if all(k in entry for k in _VOP_KEYS) and entry["block"] == num:
                    # Already complete (build_vote_vops, the generator): serialise as given.
                    stored.append((OP_TYPE_IDS.get(entry["op"]["type"], -1), int(entry["operation_id"]),
                                   dump_json(hived_numbers(entry))))
                    continue
                e: dict[str, Any] = dict(entry) if "op" in entry else {"op": dict(entry)}
                type_id = OP_TYPE_IDS.get(e["op"]["type"], -1)
                e.setdefault("trx_id", "0" * 40)
                e["block"] = num
                e.setdefault("trx_in_block", -1)
                e.setdefault("op_in_trx", i + 1)
                e["virtual_op"] = True
                if "timestamp" not in e:
                    e["timestamp"] = format_time(self._epoch_of(num))
                e.setdefault("operation_id", (num << 32) | ((0x800000 + i) << 8) | max(type_id, 0))
                ordered = {k: e[k] for k in _VOP_KEYS}
                stored.append((type_id, int(e["operation_id"]), dump_json(hived_numbers(ordered))))
            stored.sort(key=lambda t: t[1])
            self._vops[num] = stored
        self._vop_nums = sorted(self._vops)

    # -- JSON-RPC --------------------------------------------------------------------------------

    def dispatch(self, body: bytes) -> bytes:
        """The HTTP response body for a request body (no faults, no counters of HTTP requests)."""
        return b"".join(self._dispatch_body(body))

    def _dispatch_body(self, body: bytes) -> list[bytes]:
        # Answers are lists of byte parts, never joined into one buffer: copying 24 MB costs more
        # than sending it (see _handle).
        try:
            payload = json.loads(body)
        except ValueError:
            return [_error_bytes(None, RpcError(-32700, "Parse Error:Invalid JSON"))]
        if isinstance(payload, list):
            if not payload:
                return [_error_bytes(None, RpcError(-32600, "Invalid Request:empty batch"))]
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
            return [_error_bytes(req.get("id") if isinstance(req, dict) else None,
                                 RpcError(-32600, "Invalid Request"))]
        rid = req.get("id")
        method: str = req["method"]
        params = req.get("params")
        if method == "call":
            # Legacy form: {"method": "call", "params": [api, method, [args]]}
            if not isinstance(params, list) or len(params) < 2:
                return [_error_bytes(rid, RpcError(-32602, "Invalid parameters for call"))]
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
            return [_error_bytes(rid, e)]
        except (KeyError, TypeError, ValueError, IndexError) as e:
            return [_error_bytes(rid, RpcError(-32602, f"Invalid parameters: {e!r}"))]
        tail = b',"id":' + dump_json(rid) + b"}"
        if isinstance(result, list):
            return [b'{"jsonrpc":"2.0","result":', *result, tail]
        return [b'{"jsonrpc":"2.0","result":', result, tail]

    # block_api ----------------------------------------------------------------------------------

    def _get_block_range(self, params: Any) -> list[bytes]:
        start = int(_arg(params, "starting_block_num", 0))
        count = int(_arg(params, "count", 1))
        if count > MAX_BLOCK_RANGE:
            raise _assert_error(f"args.count <= {MAX_BLOCK_RANGE}: You can only ask for "
                                f"{MAX_BLOCK_RANGE} blocks at a time.")
        if count < 1:
            raise _assert_error("args.count > 0: count must be positive")
        top = min(start + count - 1, self.served_head)
        parts = [b'{"blocks":[']
        for n in range(max(start, 1), top + 1):
            if len(parts) > 1:
                parts.append(b",")
            parts.append(self.block_bytes(n) or b"{}")
        parts.append(b"]}")
        return parts

    def _get_block(self, params: Any) -> list[bytes]:
        raw = self.block_bytes(int(_arg(params, "block_num", 0)))
        return [b"{}"] if raw is None else [b'{"block":', raw, b"}"]

    def _get_block_header(self, params: Any) -> bytes:
        block = self.block(int(_arg(params, "block_num", 0)))
        if block is None:
            return b"{}"
        header = {k: block[k] for k in ("previous", "timestamp", "witness", "transaction_merkle_root", "extensions")}
        return b'{"header":' + dump_json(header) + b"}"

    # condenser_api ------------------------------------------------------------------------------

    def _condenser_get_block(self, params: Any) -> bytes:
        raw = self._condenser_bytes(int(_arg(params, "block_num", 0)))
        return b"null" if raw is None else raw

    def _condenser_get_block_header(self, params: Any) -> bytes:
        block = self.block(int(_arg(params, "block_num", 0)))
        if block is None:
            return b"null"
        return dump_json({k: block[k] for k in ("previous", "timestamp", "witness", "transaction_merkle_root",
                                                "extensions")})

    def _condenser_get_ops_in_block(self, params: Any) -> bytes:
        num = int(_arg(params, "block_num", 0))
        only_virtual = bool(_arg(params, "only_virtual", False, index=1))
        ops = self._ops_in_block(num, only_virtual)
        for op in ops:
            op["op"] = _legacy_op(op["op"])
            op.pop("operation_id", None)
        return dump_json(ops)

    # database_api / shared chain state ----------------------------------------------------------

    def _dgp(self, legacy: bool) -> dict[str, Any]:
        head = self.served_head
        props: dict[str, Any] = {
            "id": 0,
            "head_block_number": head,
            "head_block_id": self._id_of(head) if head else "0" * 40,
            "time": format_time(self._epoch_of(head)),
            "current_witness": "blocktrades",
            "total_pow": 514415,
            "num_pow_witnesses": 172,
            "virtual_supply": {"amount": "470000000000", "precision": 3, "nai": HIVE},
            "current_supply": {"amount": "450000000000", "precision": 3, "nai": HIVE},
            "init_hbd_supply": {"amount": "0", "precision": 3, "nai": HBD},
            "current_hbd_supply": {"amount": "30000000000", "precision": 3, "nai": HBD},
            "total_vesting_fund_hive": {"amount": "180000000000", "precision": 3, "nai": HIVE},
            "total_vesting_shares": {"amount": "330000000000000000", "precision": 6, "nai": VESTS},
            "total_reward_fund_hive": {"amount": "0", "precision": 3, "nai": HIVE},
            "total_reward_shares2": "0",
            "pending_rewarded_vesting_shares": {"amount": "1000000000000", "precision": 6, "nai": VESTS},
            "pending_rewarded_vesting_hive": {"amount": "500000000", "precision": 3, "nai": HIVE},
            "hbd_interest_rate": 2000,
            "hbd_print_rate": 10000,
            "maximum_block_size": 65536,
            "required_actions_partition_percent": 0,
            "current_aslot": head + 100,
            "recent_slots_filled": "340282366920938463463374607431768211455",
            "participation_count": 128,
            "last_irreversible_block_num": self.irreversible,
            "vote_power_reserve_rate": 10,
            "delegation_return_period": 432000,
            "reverse_auction_seconds": 0,
            "available_account_subsidies": 10000000,
            "hbd_stop_percent": 2000,
            "hbd_start_percent": 2000,
            "next_maintenance_time": format_time(self._epoch_of(head) + 3600),
            "last_budget_time": format_time(self._epoch_of(head) - 60),
            "next_daily_maintenance_time": format_time(self._epoch_of(head) + 40000),
            "content_reward_percent": 6500,
            "vesting_reward_percent": 1500,
            "proposal_fund_percent": 1000,
            "dhf_interval_ledger": {"amount": "0", "precision": 3, "nai": HBD},
            "downvote_pool_percent": 2500,
            "current_remove_threshold": 200,
            "early_voting_seconds": 86400,
            "mid_voting_seconds": 172800,
            "max_consecutive_recurrent_transfers": 100,
            "max_recurrent_transfer_end_date": 730,
            "min_recurrent_transfers_recurrence": 24,
            "max_open_recurrent_transfers": 255,
        }
        return _legacy(props) if legacy else props

    def _config(self) -> dict[str, Any]:
        return {
            "IS_TEST_NET": False,
            "HIVE_ENABLE_SMT": False,
            "HIVE_CHAIN_ID": "beeab0de" + "0" * 56,
            "HIVE_BLOCKCHAIN_VERSION": "1.27.5",
            "HIVE_BLOCKCHAIN_HARDFORK_VERSION": "1.27.0",
            "HIVE_ADDRESS_PREFIX": "STM",
            "HIVE_GENESIS_TIME": "2016-03-24T16:00:00",
            "HIVE_BLOCK_INTERVAL": 3,
            "HIVE_BLOCKS_PER_DAY": 28800,
            "HIVE_BLOCKS_PER_YEAR": 10512000,
            "HIVE_100_PERCENT": 10000,
            "HIVE_1_PERCENT": 100,
            "HIVE_CASHOUT_WINDOW_SECONDS": 604800,
            "HIVE_UPVOTE_LOCKOUT_SECONDS": 43200,
            "HIVE_VOTE_DUST_THRESHOLD": 50000000,
            "HIVE_VOTING_MANA_REGENERATION_SECONDS": 432000,
            "HIVE_VOTE_REGENERATION_SECONDS": 432000,
            "HIVE_REVERSE_AUCTION_WINDOW_SECONDS_HF21": 300,
            "HIVE_CONTENT_CONSTANT_HF21": "2000000000000",
            "HIVE_MAX_VOTE_CHANGES": 5,
            "HIVE_MIN_VOTE_INTERVAL_SEC": 3,
            "HIVE_MAX_BLOCK_SIZE": 393216000,
            "HIVE_MAX_PERMLINK_LENGTH": 256,
            "HIVE_MAX_MEMO_SIZE": 2048,
            "HIVE_INIT_MINER_NAME": "initminer",
            "HIVE_ROOT_POST_PARENT": "",
            "HIVE_SYMBOL": {"nai": HIVE, "decimals": 3},
            "HBD_SYMBOL": {"nai": HBD, "decimals": 3},
            "VESTS_SYMBOL": {"nai": VESTS, "decimals": 6},
        }

    def _version(self) -> dict[str, Any]:
        return {"blockchain_version": "1.27.5", "hive_revision": "0" * 40, "fc_revision": "0" * 40,
                "chain_id": "beeab0de" + "0" * 56, "node_type": "mainnet"}

    def _feed(self, legacy: bool) -> dict[str, Any]:
        price = {"base": {"amount": "250", "precision": 3, "nai": HBD},
                 "quote": {"amount": "1000", "precision": 3, "nai": HIVE}}
        feed = {"id": 0, "current_median_history": price, "market_median_history": price,
                "current_min_history": price, "current_max_history": price, "price_history": [price]}
        return _legacy(feed) if legacy else feed

    def _reward_fund(self, legacy: bool) -> dict[str, Any]:
        fund = {
            "id": 0,
            "name": "post",
            "reward_balance": {"amount": "800000000", "precision": 3, "nai": HIVE},
            "recent_claims": "600000000000000000",
            "last_update": format_time(self._epoch_of(self.served_head)),
            "content_constant": "2000000000000",
            "percent_curation_rewards": 5000,
            "percent_content_rewards": 10000,
            "author_reward_curve": "linear",
            "curation_reward_curve": "linear",
        }
        return _legacy(fund) if legacy else fund

    def _witness_schedule(self) -> dict[str, Any]:
        return {
            "id": 0,
            "current_virtual_time": "0",
            "next_shuffle_block_num": self.served_head + 21,
            "current_shuffled_witnesses": ["blocktrades", "gtg", "arcange"],
            "num_scheduled_witnesses": 21,
            "elected_weight": 1,
            "timeshare_weight": 5,
            "miner_weight": 1,
            "witness_pay_normalization_factor": 25,
            "median_props": {
                "account_creation_fee": "3.000 HIVE",
                "maximum_block_size": 65536,
                "hbd_interest_rate": 2000,
                "account_subsidy_budget": 797,
                "account_subsidy_decay": 347321,
            },
            "majority_version": "1.27.0",
            "max_voted_witnesses": 20,
            "max_miner_witnesses": 0,
            "max_runner_witnesses": 1,
            "hardfork_required_witnesses": 17,
        }

    # account_history_api ------------------------------------------------------------------------

    def _ops_in_block(self, num: int, only_virtual: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        block = self.block(num)
        if block is None:
            return out
        ts = block.get("timestamp", "")
        if not only_virtual:
            ids = block.get("transaction_ids") or []
            pos = 0
            for t, trx in enumerate(block.get("transactions") or ()):
                for o, op in enumerate(trx.get("operations") or ()):
                    pos += 1
                    out.append({
                        "trx_id": ids[t] if t < len(ids) else "0" * 40,
                        "block": num, "trx_in_block": t, "op_in_trx": o, "virtual_op": False,
                        "timestamp": ts, "op": op,
                        "operation_id": (num << 32) | (pos << 8) | max(OP_TYPE_IDS.get(op.get("type"), 0), 0),
                    })
        out.extend(dict(_decode(raw)) for _, _, raw in self._vops.get(num, ()))
        return out

    def _ah_get_ops_in_block(self, params: Any) -> bytes:
        num = int(_arg(params, "block_num", 0))
        only_virtual = bool(_arg(params, "only_virtual", False))
        include_reversible = bool(_arg(params, "include_reversible", False))
        # Public HAfAH nodes default include_reversible to false: reversible blocks come back empty.
        top = self.served_head if include_reversible else self.irreversible
        ops = self._ops_in_block(num, only_virtual) if num <= top else []
        return b'{"ops":' + dump_json(ops) + b"}"

    def _enum_virtual_ops(self, params: Any) -> bytes:
        begin = int(_arg(params, "block_range_begin", 1))
        end = int(_arg(params, "block_range_end", begin + 1))
        if end <= begin:
            raise _assert_error("block_range_begin < block_range_end: Block range must be increasing")
        limit = int(_arg(params, "limit", MAX_VOPS_LIMIT))
        if not 0 < limit <= MAX_VOPS_LIMIT:
            raise _assert_error(f"args.limit > 0 && args.limit <= {MAX_VOPS_LIMIT}: limit out of range")
        if self.vops_page_cap is not None:
            limit = min(limit, self.vops_page_cap)
        op_begin = int(_arg(params, "operation_begin", 0) or 0)
        flt = _arg(params, "filter", None)
        mask = int(flt) if flt else 0
        include_reversible = bool(_arg(params, "include_reversible", False))
        top = self.served_head if include_reversible else self.irreversible
        last = min(end - 1, top)
        nums = self._vop_nums
        picked: list[bytes] = []
        next_block, next_op = (end if last >= end - 1 else last + 1), 0
        i = bisect.bisect_left(nums, begin)
        done = False
        while i < len(nums) and nums[i] <= last and not done:
            num = nums[i]
            for type_id, op_id, raw in self._vops[num]:
                if op_id < op_begin:
                    continue
                if mask and (type_id < FIRST_VIRTUAL_OP or not mask >> (type_id - FIRST_VIRTUAL_OP) & 1):
                    continue
                if len(picked) == limit:
                    next_block, next_op, done = num, op_id, True
                    break
                picked.append(raw)
            i += 1
        return (b'{"ops":[' + b",".join(picked) + b'],"ops_by_block":[],"next_block_range_begin":'
                + str(next_block).encode() + b',"next_operation_begin":' + dump_json(hived_numbers(next_op))
                + b"}")

    # bridge ---------------------------------------------------------------------------------------

    def _bridge_get_community(self, params: Any) -> bytes:
        name = str(_arg(params, "name", ""))
        community = self.communities.get(name)
        if community is None:
            raise _bridge_error("community not found" if name.startswith("hive-") else
                                "given community name is not valid")
        return dump_json(community)

    def _bridge_get_ranked_posts(self, params: Any) -> bytes:
        sort = str(_arg(params, "sort", "trending"))
        if sort not in {"trending", "hot", "created", "promoted", "payout", "payout_comments", "muted"}:
            raise _bridge_error(f"Unsupported sort, valid sorts: trending, hot, created, ... (got {sort})")
        limit = int(_arg(params, "limit", 20))
        if not 0 < limit <= 20:
            raise _bridge_error(f"limit = {limit} outside valid range [1:20]")
        posts = self.ranked_posts.get(str(_arg(params, "tag", "")), [])
        start_author = _arg(params, "start_author", "") or ""
        start_permlink = _arg(params, "start_permlink", "") or ""
        offset = 0
        if start_author or start_permlink:
            for i, p in enumerate(posts):
                if p.get("author") == start_author and p.get("permlink") == start_permlink:
                    offset = i + 1
                    break
            else:
                raise _bridge_error(f"Post {start_author}/{start_permlink} does not exist")
        return dump_json(posts[offset:offset + limit])

    def _bridge_get_post(self, params: Any) -> bytes:
        author, permlink = _arg(params, "author", ""), _arg(params, "permlink", "")
        post = self.posts.get((author, permlink))
        if post is None:
            # hivemind: {"code": -32602, "message": "Invalid parameters", "data": "Post a/p does not exist"}
            raise _bridge_error(f"Post {author}/{permlink} does not exist")
        return dump_json(post)

    # -- HTTP --------------------------------------------------------------------------------------

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
        parts = self._dispatch_body(await request.read())
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


_HIVED_INT_MAX = 0xFFFFFFFF


def hived_numbers(value: Any) -> Any:
    """Integers as hived's JSON writes them: beyond 32 bits (either sign) a 64-bit value is a string
    (``operation_id``, ``next_operation_begin``, ``rshares``, ``weight``, ``total_vote_weight``...)."""
    if type(value) is int:
        return str(value) if not -_HIVED_INT_MAX <= value <= _HIVED_INT_MAX else value
    if isinstance(value, dict):
        return {k: hived_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [hived_numbers(v) for v in value]
    return value


def _arg(params: Any, key: str, default: Any, index: int = 0) -> Any:
    """A parameter from appbase (dict) or condenser (positional list) params."""
    if isinstance(params, dict):
        return params.get(key, default)
    if isinstance(params, list) and len(params) > index:
        return params[index]
    return default


def _error_bytes(rid: Any, err: RpcError) -> bytes:
    return dump_json({"jsonrpc": "2.0", "error": err.to_json(), "id": rid})


def _const(fn: Any) -> Any:
    return lambda node, params: dump_json(fn(node))


_HANDLERS: dict[str, Any] = {
    "block_api.get_block": FakeHiveNode._get_block,
    "block_api.get_block_range": FakeHiveNode._get_block_range,
    "block_api.get_block_header": FakeHiveNode._get_block_header,
    "database_api.get_dynamic_global_properties": _const(lambda n: n._dgp(False)),
    "database_api.get_config": _const(FakeHiveNode._config),
    "database_api.get_version": _const(FakeHiveNode._version),
    "database_api.get_hardfork_properties": _const(lambda n: {
        "id": 0, "processed_hardforks": [], "last_hardfork": 27, "current_hardfork_version": "1.27.0",
        "next_hardfork": "1.28.0", "next_hardfork_time": "2030-01-01T00:00:00"}),
    "database_api.get_feed_history": _const(lambda n: n._feed(False)),
    "database_api.get_current_price_feed": _const(lambda n: n._feed(False)["current_median_history"]),
    "database_api.get_reward_funds": _const(lambda n: {"funds": [n._reward_fund(False)]}),
    "database_api.get_witness_schedule": _const(FakeHiveNode._witness_schedule),
    "condenser_api.get_block": FakeHiveNode._condenser_get_block,
    "condenser_api.get_block_header": FakeHiveNode._condenser_get_block_header,
    "condenser_api.get_dynamic_global_properties": _const(lambda n: n._dgp(True)),
    "condenser_api.get_config": _const(FakeHiveNode._config),
    "condenser_api.get_version": _const(FakeHiveNode._version),
    "condenser_api.get_hardfork_version": _const(lambda n: "1.27.0"),
    "condenser_api.get_next_scheduled_hardfork": _const(lambda n: {"hf_version": "1.28.0",
                                                                   "live_time": "2030-01-01T00:00:00"}),
    "condenser_api.get_feed_history": _const(lambda n: n._feed(True)),
    "condenser_api.get_current_median_history_price": _const(lambda n: n._feed(True)["current_median_history"]),
    "condenser_api.get_reward_fund": _const(lambda n: n._reward_fund(True)),
    "condenser_api.get_chain_properties": _const(lambda n: n._witness_schedule()["median_props"]),
    "condenser_api.get_witness_schedule": _const(FakeHiveNode._witness_schedule),
    "condenser_api.get_ops_in_block": FakeHiveNode._condenser_get_ops_in_block,
    "account_history_api.enum_virtual_ops": FakeHiveNode._enum_virtual_ops,
    "account_history_api.get_ops_in_block": FakeHiveNode._ah_get_ops_in_block,
    "bridge.get_community": FakeHiveNode._bridge_get_community,
    "bridge.get_ranked_posts": FakeHiveNode._bridge_get_ranked_posts,
    "bridge.get_post": FakeHiveNode._bridge_get_post,
    "rc_api.get_resource_params": _const(lambda n: {"resource_names": [], "resource_params": {},
                                                    "size_info": {}}),
    "rc_api.get_resource_pool": _const(lambda n: {"resource_pool": {}}),
    "jsonrpc.get_methods": _const(lambda n: sorted(_SUPPORTED)),
    "jsonrpc.get_signature": _const(lambda n: {"args": {}, "ret": {}}),
}


# ---------------------------------------------------------------------------------------------------
# Process mode


def _generated_node(args: argparse.Namespace) -> FakeHiveNode:
    gen = ChainGenerator(args.start_block, args.generate, community=args.community,
                         review_every=args.review_every, seed=args.seed)
    blocks: dict[int, dict[str, Any] | bytes] = {}
    vops: dict[int, list[dict[str, Any]]] = {}
    # Lazily: keep only each block's bytes, so a 20,000+ block chain fits in ~0.5 GB. No cycles are
    # created, and GC passes over the growing heap would double the start-up time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for num, block, block_vops in gen:
            blocks[num] = dump_json(block)
            if block_vops:
                vops[num] = block_vops
    finally:
        if gc_was_enabled:
            gc.enable()
    node = FakeHiveNode(
        blocks, vops=vops, head=args.head, seed=args.seed, fault_rate=args.fault_rate, behind=args.behind,
        communities={args.community: community_info(args.community, gen.reviews)},
        ranked_posts={args.community: ranked_posts(args.community, gen.reviews)},
    )
    print(f"generated {gen.summary.as_dict()}", file=sys.stderr, flush=True)
    return node


def _seed_node(args: argparse.Namespace) -> FakeHiveNode:
    blocks, _ = load_seed_fixture(args.seed_fixture)
    return FakeHiveNode(blocks, vops=build_vote_vops(blocks), head=args.head, seed=args.seed,
                        fault_rate=args.fault_rate, behind=args.behind,
                        communities={"hive-158489": community_info("hive-158489")})


async def _serve(node: FakeHiveNode, port: int | None) -> None:
    url = await node.start(port)
    print(f"URL {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await node.stop()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.hive_node",
                                     description="A loopback fake Hive API node.")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--generate", type=int, metavar="N", help="serve N generated mainnet-like blocks")
    src.add_argument("--seed-fixture", nargs="?", const=str(SEED_FIXTURE), metavar="PATH",
                     help="serve the seed fixture (default: the Anime Realm review)")
    parser.add_argument("--start-block", type=int, default=80_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--community", default="hive-158489")
    parser.add_argument("--review-every", type=int, default=20)
    parser.add_argument("--head", type=int, default=None, help="served head (default: last block)")
    parser.add_argument("--behind", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    node = _generated_node(args) if args.generate is not None else _seed_node(args)
    asyncio.run(_serve(node, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
