"""``condenser_api`` blocks and ops: block_api values in the legacy shapes."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..chain_gen import HBD, HIVE, VESTS, dump_json
from .account_history_api import AccountHistoryApi
from .errors import arg

CONDENSER_CACHE = 4096

_SYMBOLS = {HBD: "HBD", HIVE: "HIVE", VESTS: "VESTS"}


def to_legacy(value: Any) -> Any:
    """block_api values to condenser_api ones: NAI assets become "1.234 HBD" strings."""
    if isinstance(value, dict):
        if "nai" in value and "amount" in value and len(value) == 3:
            precision = int(value["precision"])
            amount = int(value["amount"])
            whole, frac = divmod(abs(amount), 10**precision)
            sign = "-" if amount < 0 else ""
            return f"{sign}{whole}.{frac:0{precision}d} {_SYMBOLS.get(value['nai'], value['nai'])}"
        return {k: to_legacy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_legacy(v) for v in value]
    return value


def legacy_op(op: Mapping[str, Any]) -> list[Any]:
    name = str(op["type"]).removesuffix("_operation")
    value = to_legacy(op["value"])
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
        t["operations"] = [legacy_op(op) for op in trx.get("operations") or ()]
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



def hive_account(
    name: str, posting_keys: list[tuple[str, int]], *, threshold: int = 1, reputation: int = 0,
    account_auths: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """An account as condenser_api.get_accounts returns it, with the fields identity reads (and a few
    more of hived's, so a reader that assumes only those is caught). ``account_auths``: accounts whose
    posting keys sign posting operations for this one (an app the user authorised), with weights."""
    def authority(keys: list[tuple[str, int]], accounts: Sequence[tuple[str, int]] = ()) -> dict[str, Any]:
        return {"weight_threshold": threshold, "account_auths": [[a, w] for a, w in accounts],
                "key_auths": [[k, w] for k, w in keys]}

    return {
        "id": zlib.crc32(name.encode()) % 2_000_000, "name": name, "owner": authority([]), "active": authority([]),
        "posting": authority(posting_keys, account_auths), "memo_key": "STM" + "1" * 50, "json_metadata": "",
        "posting_json_metadata": "", "reputation": str(reputation), "post_count": 12,
        "balance": "1.000 HIVE", "hbd_balance": "0.000 HBD", "vesting_shares": "1000.000000 VESTS",
    }


class CondenserApi(AccountHistoryApi):
    accounts: dict[str, dict[str, Any]]

    def _condenser_get_accounts(self, params: Any) -> bytes:
        names = arg(params, "names", [], index=0)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("get_accounts takes a list of account names")
        return dump_json([self.accounts[n] for n in names if n in self.accounts])

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

    def _condenser_get_block(self, params: Any) -> bytes:
        raw = self._condenser_bytes(int(arg(params, "block_num", 0)))
        return b"null" if raw is None else raw

    def _condenser_get_block_header(self, params: Any) -> bytes:
        block = self.block(int(arg(params, "block_num", 0)))
        if block is None:
            return b"null"
        return dump_json({k: block[k] for k in ("previous", "timestamp", "witness", "transaction_merkle_root",
                                                "extensions")})

    def _condenser_get_ops_in_block(self, params: Any) -> bytes:
        num = int(arg(params, "block_num", 0))
        only_virtual = bool(arg(params, "only_virtual", False, index=1))
        ops = self._ops_in_block(num, only_virtual)
        for op in ops:
            op["op"] = legacy_op(op["op"])
            op.pop("operation_id", None)
        return dump_json(ops)

