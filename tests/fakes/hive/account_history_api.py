"""``account_history_api``: ``enum_virtual_ops`` and ``get_ops_in_block`` (and condenser's)."""

from __future__ import annotations

import bisect
from typing import Any

from ..chain_gen import dump_json
from .chain import ChainData, decode
from .errors import arg, assert_error
from .numbers import hived_numbers
from .ops import FIRST_VIRTUAL_OP, OP_TYPE_IDS

MAX_VOPS_LIMIT = 150_000  # account_history_api limit


class AccountHistoryApi(ChainData):
    vops_page_cap: int | None

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
        out.extend(dict(decode(raw)) for _, _, raw in self._vops.get(num, ()))
        return out

    def _ah_get_ops_in_block(self, params: Any) -> bytes:
        num = int(arg(params, "block_num", 0))
        only_virtual = bool(arg(params, "only_virtual", False))
        include_reversible = bool(arg(params, "include_reversible", False))
        # Public HAfAH nodes default include_reversible to false: reversible blocks come back empty.
        top = self.served_head if include_reversible else self.irreversible
        ops = self._ops_in_block(num, only_virtual) if num <= top else []
        return b'{"ops":' + dump_json(ops) + b"}"

    def _enum_virtual_ops(self, params: Any) -> bytes:
        begin = int(arg(params, "block_range_begin", 1))
        end = int(arg(params, "block_range_end", begin + 1))
        if end <= begin:
            raise assert_error("block_range_begin < block_range_end: Block range must be increasing")
        limit = int(arg(params, "limit", MAX_VOPS_LIMIT))
        if not 0 < limit <= MAX_VOPS_LIMIT:
            raise assert_error(f"args.limit > 0 && args.limit <= {MAX_VOPS_LIMIT}: limit out of range")
        if self.vops_page_cap is not None:
            limit = min(limit, self.vops_page_cap)
        op_begin = int(arg(params, "operation_begin", 0) or 0)
        flt = arg(params, "filter", None)
        mask = int(flt) if flt else 0
        include_reversible = bool(arg(params, "include_reversible", False))
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

