"""Signatures and authorities as hived checks them: recovered keys against the accounts' authorities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from beemgraphenebase.account import PublicKey

from .errors import RpcError

HIVE_CHAIN = "HIVE2"  # beem's name for chain id beeab0de...; its "HIVE" is the all-zero id

# Operations whose signer is a field of the op, and which authority it needs.
_POSTING_FIELD = {"vote": "voter", "comment": "author", "comment_options": "author", "delete_comment": "author",
                  "claim_reward_balance": "account"}
_ACTIVE_FIELD = {"transfer": "from", "transfer_to_vesting": "from", "delegate_vesting_shares": "delegator",
                 "account_witness_vote": "account"}


def broadcast_error(message: str, name: str = "assert_exception") -> RpcError:
    """A refusal as hived answers a broadcast: code -32000 and an fc exception in ``data``."""
    return RpcError(-32000, message, {"code": 10, "name": name, "message": message.split(":", 1)[0]})


def required_auths(ops: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[list[str], list[str]]:
    """(posting, active) accounts whose authority the operations need, each once, in order."""
    posting: list[str] = []
    active: list[str] = []
    for name, value in ops:
        if name == "custom_json":
            posting.extend(str(a) for a in value.get("required_posting_auths") or ())
            active.extend(str(a) for a in value.get("required_auths") or ())
        elif name in _POSTING_FIELD:
            posting.append(str(value[_POSTING_FIELD[name]]))
        elif name in _ACTIVE_FIELD:
            active.append(str(value[_ACTIVE_FIELD[name]]))
        else:
            raise broadcast_error(f"Assert Exception:false: the fake node knows no authority rule for {name}")
    return list(dict.fromkeys(posting)), list(dict.fromkeys(active))


def recovered_keys(signed: Any) -> list[str]:
    """The public keys (STM...) that signed a beem ``Signed_Transaction`` over Hive's chain id."""
    try:
        found = signed.verify(chain=HIVE_CHAIN, recover_parameter=True)
    except Exception as e:  # beem raises bare Exceptions for bad signatures
        raise broadcast_error(f"Assert Exception:false: unable to reconstruct public key from signature: {e}") from e
    keys = [str(PublicKey(k, prefix="STM")) for k in found]
    if len(set(keys)) != len(keys):
        raise broadcast_error("Assert Exception:false: Duplicate Signature detected", "tx_duplicate_sig")
    return keys


def _key_weight(auth: Mapping[str, Any], signed: set[str], used: set[str]) -> int:
    total = 0
    for key, weight in auth.get("key_auths") or ():
        if key in signed:
            used.add(key)
            total += int(weight)
    return total


def satisfied(accounts: Mapping[str, Mapping[str, Any]], name: str, role: str, signed: set[str],
              used: set[str]) -> bool:
    """Whether keys ``signed`` satisfy ``name``'s ``role`` authority: its keys' weights, plus the weights of
    accounts in its account_auths whose own (same role) keys satisfy them, one level deep as hived does."""
    account = accounts.get(name)
    if account is None:
        return False
    auth = account.get(role) or {}
    threshold = int(auth.get("weight_threshold", 1))
    total = _key_weight(auth, signed, used)
    for other, weight in auth.get("account_auths") or ():
        if total >= threshold:
            break
        other_auth = (accounts.get(other) or {}).get(role) or {}
        mine: set[str] = set()
        if _key_weight(other_auth, signed, mine) >= int(other_auth.get("weight_threshold", 1)):
            used |= mine
            total += int(weight)
    return total >= threshold


def check_authorities(accounts: Mapping[str, Mapping[str, Any]], posting: list[str], active: list[str],
                      keys: list[str]) -> None:
    """Raise hived's missing-authority error for the first account not satisfied, then refuse signatures
    no authority used."""
    signed, used = set(keys), set[str]()
    for name in active:
        if not (satisfied(accounts, name, "active", signed, used) or
                satisfied(accounts, name, "owner", signed, used)):
            raise broadcast_error(f"missing required active authority:Missing Active Authority {name}",
                                  "tx_missing_active_auth")
    for name in posting:
        # hived: an active or owner key may sign for posting too.
        if not (satisfied(accounts, name, "posting", signed, used) or
                satisfied(accounts, name, "active", signed, used) or
                satisfied(accounts, name, "owner", signed, used)):
            raise broadcast_error(f"missing required posting authority:Missing Posting Authority {name}",
                                  "tx_missing_posting_auth")
    unused = signed - used
    if unused:
        raise broadcast_error(f"irrelevant signature included:Unnecessary signature(s) detected: {sorted(unused)}",
                              "tx_irrelevant_sig")
