"""``transaction_status_api.find_transaction``: did a broadcast land, and is its block final?"""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .broadcast import BroadcastApi
from .chain import _parse_time
from .errors import RpcError, arg


class TransactionStatusApi(BroadcastApi):
    def _init_transaction_status(self) -> None:
        # False: answer like a node without the transaction_status plugin.
        self.serves_transaction_status = True

    def transaction_status(self, trx_id: str, expiration: str | None = None) -> str:
        """hived's answer: within_mempool (pending, or in a block above what a lagging node serves),
        within_reversible_block / within_irreversible_block (the block against the served irreversible
        block), expired_irreversible / expired_reversible (unknown, and ``expiration`` is at or before the
        irreversible block's / the head block's time), else unknown."""
        with self._lock:
            self._ensure_index()
            if any(p.trx_id == trx_id for p in self._pool):
                return "within_mempool"
            num = self._trx_blocks.get(trx_id)
            if num is not None:
                if num > self.served_head:
                    return "within_mempool" if num in self._produced else "unknown"
                return "within_irreversible_block" if num <= self.irreversible else "within_reversible_block"
            if expiration:
                exp = _parse_time(expiration)
                if exp <= self._epoch_of(self.irreversible):
                    return "expired_irreversible"
                if exp <= self.chain_now():
                    return "expired_reversible"
            return "unknown"

    def _find_transaction(self, params: Any) -> bytes:
        if not self.serves_transaction_status:
            raise RpcError(-32601, "Assert Exception:api_itr != _registered_apis.end(): "
                                   "Could not find API transaction_status_api")
        trx_id = str(arg(params, "transaction_id", ""))
        expiration = arg(params, "expiration", None)
        return dump_json({"status": self.transaction_status(trx_id, str(expiration) if expiration else None)})
