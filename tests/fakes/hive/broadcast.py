"""Broadcasting signed transactions: hived's checks, a pending pool, and blocks made from it.

``network_broadcast_api.broadcast_transaction {trx, max_block_age}`` and
``condenser_api.broadcast_transaction [trx]`` answer ``{}`` when the transaction is accepted, or a
JSON-RPC error (code -32000) with hived's wording when it is refused. Checks, in order: the
transaction parses and its operations validate (vote weight, body size); expiration against chain
time (the served head's timestamp); TaPoS; duplicates; signatures over Hive's chain id against the
accounts' authorities (``node.accounts``); refusals injected by a test; then the operations' rules
(the voted post exists and is not paid out, no repeat of the same vote, one comment per 3 s).

Knobs: ``auto_produce`` (True: each accepted transaction lands at once in a new block, made
irreversible; False: it waits in the pending pool for ``produce_block()``), ``broadcast_refusal``
(a message refusing every broadcast), ``broadcast_refusals`` (account -> message, for transactions
that account signs for), ``on_broadcast`` (called with the trx id after acceptance, before the
answer is written), ``drop_broadcasts`` (accept nothing, answer nothing: the connection is closed),
``lose_broadcast_answers`` (accept, then close the connection unanswered). A hook raising
``DropConnection`` also closes the connection unanswered: the transaction is on chain, its sender
never hears so (as when the sender dies between broadcast and answer). Records: ``broadcasts``
(every broadcast request, with its trx id and outcome) and ``accepted`` (trx ids, in order).
"""

from __future__ import annotations

import copy
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from beembase.signedtransactions import Signed_Transaction

from ..chain_gen import HBD, HIVE, VESTS, format_time
from ..chain_gen.vops import vote_vop_value
from .authority import broadcast_error, check_authorities, recovered_keys, required_auths
from .chain import _parse_time, decode
from .chain_state import CASHOUT_WINDOW, ChainState, op_parts
from .errors import arg

MAX_TIME_UNTIL_EXPIRATION = 3600  # HIVE_MAX_TIME_UNTIL_EXPIRATION
MIN_REPLY_INTERVAL = 3  # HIVE_MIN_REPLY_INTERVAL_HF20
MAX_BODY_SIZE = 65536
TAPOS_WINDOW = 0x10000
_NAIS = {"HBD": (HBD, 3), "HIVE": (HIVE, 3), "VESTS": (VESTS, 6)}


class DropConnection(Exception):
    """Raised by a handler to have the server close the connection without an answer."""


@dataclass
class PendingTrx:
    trx_id: str
    trx: dict[str, Any]  # block_api form
    ops: list[tuple[str, dict[str, Any]]]
    time: int


def _nai(value: Any) -> Any:
    """Legacy values to block_api ones: "1.000 HBD" strings become NAI assets."""
    if isinstance(value, str) and value.count(" ") == 1:
        amount, symbol = value.split(" ")
        if symbol in _NAIS and amount.replace(".", "", 1).lstrip("-").isdigit():
            nai, precision = _NAIS[symbol]
            whole, _, frac = amount.partition(".")
            return {"amount": str(int(whole + frac.ljust(precision, "0")[:precision])), "precision": precision,
                    "nai": nai}
    if isinstance(value, dict):
        return {k: _nai(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nai(v) for v in value]
    return value


def block_api_trx(trx: dict[str, Any], ops: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "ref_block_num": int(trx["ref_block_num"]), "ref_block_prefix": int(trx["ref_block_prefix"]),
        "expiration": str(trx["expiration"]),
        "operations": [{"type": f"{name}_operation", "value": _nai(value)} for name, value in ops],
        "extensions": list(trx.get("extensions") or []), "signatures": list(trx.get("signatures") or []),
    }


class BroadcastApi(ChainState):
    accounts: dict[str, dict[str, Any]]

    def _init_broadcast(self) -> None:
        self._init_chain_state()
        self.auto_produce = True
        self.broadcast_refusal: str | None = None
        self.broadcast_refusals: dict[str, str] = {}
        self.on_broadcast: Callable[[str], None] | None = None
        # Called with the method before anything is read; True drops the request unread (as drop_broadcasts).
        self.before_broadcast: Callable[[str], bool] | None = None
        self.drop_broadcasts = False
        self.lose_broadcast_answers = False
        self.broadcasts: list[dict[str, Any]] = []
        self.accepted: list[str] = []
        self._pool: list[PendingTrx] = []
        self._lock = threading.RLock()

    # -- JSON-RPC ------------------------------------------------------------------------------------

    def _nb_broadcast_transaction(self, params: Any) -> bytes:
        return self._broadcast("network_broadcast_api.broadcast_transaction", arg(params, "trx", None))

    def _condenser_broadcast_transaction(self, params: Any) -> bytes:
        return self._broadcast("condenser_api.broadcast_transaction", arg(params, "trx", None, index=0))

    def _broadcast(self, method: str, trx: Any) -> bytes:
        record: dict[str, Any] = {"method": method, "trx_id": None, "outcome": "", "error": None,
                                  "block_num": None, "trx": trx}
        with self._lock:
            self.broadcasts.append(record)
            before = self.before_broadcast
            if self.drop_broadcasts or (before is not None and before(method)):
                record["outcome"] = "dropped"
                raise DropConnection(method)
            try:
                self._accept(trx, record)
            except Exception as e:
                record["outcome"] = "refused"
                record["error"] = str(e)
                raise
            record["outcome"] = "accepted"
        hook = self.on_broadcast
        if hook is not None:
            hook(record["trx_id"])
        if self.lose_broadcast_answers:
            record["outcome"] = "accepted, answer lost"
            raise DropConnection(method)
        return b"{}"

    # -- hived's checks ------------------------------------------------------------------------------

    def _accept(self, trx: Any, record: dict[str, Any]) -> None:
        signed, ops = self._parse(trx)
        trx_id = str(signed.id)
        record["trx_id"] = trx_id
        now = self.chain_now()
        self._check_expiration(str(trx["expiration"]), now)
        self._check_tapos(int(trx["ref_block_num"]), int(trx["ref_block_prefix"]))
        self._ensure_index()
        if trx_id in self._trx_blocks or any(p.trx_id == trx_id for p in self._pool):
            raise broadcast_error(
                "Assert Exception:(skip & skip_transaction_dupe_check) || trx_idx.indices().get<by_trx_id>()"
                ".find(trx_id) == trx_idx.indices().get<by_trx_id>().end(): Duplicate transaction check failed")
        posting, active = required_auths(ops)
        check_authorities(self.accounts, posting, active, recovered_keys(signed))
        if self.broadcast_refusal is not None:
            raise broadcast_error(self.broadcast_refusal, "plugin_exception")
        for name in (*posting, *active):
            if name in self.broadcast_refusals:
                raise broadcast_error(self.broadcast_refusals[name], "plugin_exception")
        self._check_rules(ops, now)
        pending = PendingTrx(trx_id, block_api_trx(trx, ops), ops, now)
        self._pool.append(pending)
        for name, value in ops:
            self._apply_op(name, value, now, None, trx_id)
        self.accepted.append(trx_id)
        if self.auto_produce:
            record["block_num"] = self.produce_block(irreversible=True)

    def _parse(self, trx: Any) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
        try:
            if not isinstance(trx, dict):
                raise TypeError("the transaction is not an object")
            ops = [op_parts(op) for op in trx["operations"]]
            signed = Signed_Transaction(**copy.deepcopy(trx))
        except Exception as e:  # beem raises whatever the field's type raises
            raise broadcast_error(f"Parse Error:could not read the transaction: {e!r}", "parse_error_exception") \
                from e
        for name, value in ops:  # operation validate(), before any state is read
            if name == "vote" and not -10000 <= int(value["weight"]) <= 10000:
                raise broadcast_error("Assert Exception:abs(weight) <= HIVE_100_PERCENT: "
                                      "Weight is not a HIVE percentage")
            if name == "comment" and len(str(value.get("body", "")).encode()) > MAX_BODY_SIZE:
                raise broadcast_error(f"Assert Exception:body.size() <= {MAX_BODY_SIZE}: Comment body is too large")
        return signed, ops

    def _check_expiration(self, expiration: str, now: int) -> None:
        try:
            exp = _parse_time(expiration)
        except ValueError as e:
            raise broadcast_error(f"Parse Error:bad expiration {expiration!r}", "parse_error_exception") from e
        if exp > now + MAX_TIME_UNTIL_EXPIRATION:
            raise broadcast_error(
                "transaction expiration exception:trx.expiration <= now + fc::seconds(HIVE_MAX_TIME_UNTIL_EXPIRATION)"
                f": trx.expiration={expiration} now={format_time(now)} max_til_exp={MAX_TIME_UNTIL_EXPIRATION}",
                "transaction_expiration_exception")
        if exp <= now:
            raise broadcast_error(
                f"transaction expiration exception:now < trx.expiration: now={format_time(now)} "
                f"trx.exp={expiration} (trx.expiration > now fails)", "transaction_expiration_exception")

    def tapos_of(self, num: int) -> tuple[int, int]:
        """(ref_block_num, ref_block_prefix) naming block ``num`` as TaPoS."""
        return num & 0xFFFF, struct.unpack_from("<I", bytes.fromhex(self._id_of(num)), 4)[0]

    def _check_tapos(self, ref_num: int, ref_prefix: int) -> None:
        head = self.served_head
        num = head - ((head - ref_num) & 0xFFFF)  # the one served block with that number & 0xFFFF
        if num < 1 or num <= head - TAPOS_WINDOW or self.tapos_of(num)[1] != ref_prefix:
            raise broadcast_error(
                "transaction tapos exception:trx.ref_block_prefix == tapos_block_summary.block_id._hash[1]: "
                f"trx.ref_block_num={ref_num} trx.ref_block_prefix={ref_prefix}", "transaction_tapos_exception")

    def _check_rules(self, ops: list[tuple[str, dict[str, Any]]], now: int) -> None:
        """The evaluators' checks against chain state, each op seeing the ones before it."""
        posted: dict[str, int] = {}
        for name, value in ops:
            if name == "vote":
                author, permlink = str(value["author"]), str(value["permlink"])
                post = self.find_post(author, permlink)
                if post is None:
                    raise broadcast_error(
                        f"Assert Exception:comment_ptr != nullptr: Comment {author}/{permlink} does not exist "
                        "(comment not found)")
                if now >= post.created + CASHOUT_WINDOW:
                    raise broadcast_error(
                        "Assert Exception:comment_cashout: Cannot vote after payout. "
                        "Votes evaluating for comment that is paid out is forbidden.")
                current = self.current_votes(author, permlink).get(str(value["voter"]))
                if current is not None and current.percent == int(value["weight"]):
                    raise broadcast_error("Assert Exception:itr->vote_percent != o.weight: "
                                          "You have already voted in a similar way.")
            elif name == "comment":
                author, permlink = str(value["author"]), str(value["permlink"])
                if self.find_post(author, permlink) is not None:
                    continue  # an edit: no interval
                parent_author = str(value.get("parent_author", ""))
                if parent_author and self.find_post(parent_author, str(value.get("parent_permlink", ""))) is None:
                    raise broadcast_error(
                        f"Assert Exception:comment_ptr != nullptr: Comment {parent_author}/"
                        f"{value.get('parent_permlink', '')} does not exist (comment not found)")
                last = posted.get(author, self.last_comment_time(author))
                if last is not None and now - last < MIN_REPLY_INTERVAL:
                    raise broadcast_error("Assert Exception:_now - auth.last_post >= HIVE_MIN_REPLY_INTERVAL_HF20: "
                                          "You may only comment once every 3 seconds.")
                posted[author] = now

    # -- blocks ----------------------------------------------------------------------------------------

    def _pending_ops(self) -> Iterable[tuple[str, str, dict[str, Any], int]]:
        for p in self._pool:
            for name, value in p.ops:
                yield p.trx_id, name, value, p.time

    @property
    def pending(self) -> list[str]:
        """Ids of accepted transactions waiting for a block."""
        return [p.trx_id for p in self._pool]

    def produce_block(self, *, irreversible: bool = False) -> int:
        """Put the pending pool into block head + 1 (the real head, above what a lagging node serves) and
        make it the head; ``irreversible`` raises the head further so it is final. Returns its number."""
        with self._lock:
            self._ensure_index()
            num = self._head + 1
            block = dict(decode(self._raw.get(num) or self._filler(num)))  # a given future block keeps its own
            txs = list(block.get("transactions") or [])
            ids = list(block.get("transaction_ids") or [])
            pos = sum(len(t.get("operations") or ()) for t in txs)
            vops = [dict(decode(raw)) for _, _, raw in self._vops.get(num, ())]
            for p in self._pool:
                for i, (name, value) in enumerate(p.ops):
                    pos += 1
                    if name == "vote":
                        vops.append({
                            "trx_id": p.trx_id, "block": num, "trx_in_block": len(txs), "op_in_trx": i + 1,
                            "virtual_op": True, "timestamp": block["timestamp"],
                            "op": {"type": "effective_comment_vote_operation", "value": vote_vop_value(value)},
                            "operation_id": (num << 32) | (pos << 8) | 72,
                        })
                txs.append(p.trx)
                ids.append(p.trx_id)
            block["transactions"], block["transaction_ids"] = txs, ids
            self._pool.clear()
            self._produced.add(num)
            self.add_blocks({num: block}, vops={num: vops} if vops else None)
            if irreversible:
                self._head = max(self._head, num + self.irreversible_lag)
            return num
