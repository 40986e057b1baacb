"""The node's chain data: blocks (given, completed or filler), virtual ops, the head and its lag."""

from __future__ import annotations

import bisect
import collections
import contextlib
import gc
from collections.abc import Mapping
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

import msgspec

from ..chain_gen import block_epoch, dump_json, format_time, make_block_id
from .numbers import hived_numbers
from .ops import OP_TYPE_IDS

ZERO_SIG = "1f" + "0" * 128
decode = msgspec.json.decode

_VOP_KEYS = ("trx_id", "block", "trx_in_block", "op_in_trx", "virtual_op", "timestamp", "op", "operation_id")


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



class ChainData:
    """Blocks and virtual ops by number, serialised once; what every API area reads."""

    seed: int
    behind: int
    irreversible_lag: int
    port: int | None
    _raw: dict[int, bytes]
    _ids: dict[int, str]
    _prev: dict[int, str]
    _epochs: dict[int, int]
    _anchors: list[int]
    _fillers: dict[int, bytes]
    _condenser: collections.OrderedDict[int, bytes]
    _vops: dict[int, list[tuple[int, int, bytes]]]
    _vop_nums: list[int]
    _head: int

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
            "witness_signature": block.get("witness_signature", ZERO_SIG),
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
                "witness_signature": ZERO_SIG,
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
        return None if raw is None else dict(decode(raw))


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

