"""What the chain's state says about posts, votes and transactions, as hived's evaluators read it.

Indexed from the node's blocks (given ones and produced ones, dicts or bytes) lazily, on first use,
and from accepted broadcasts still waiting in the pending pool. Also ``condenser_api.get_active_votes``
and ``condenser_api.get_content`` from that state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..chain_gen import dump_json, format_time
from ..chain_gen.vops import vote_vop_value
from .chain import ChainData, _parse_time, decode
from .errors import arg
from .numbers import hived_numbers

CASHOUT_WINDOW = 7 * 24 * 3600  # HIVE_CASHOUT_WINDOW_SECONDS


@dataclass
class PostState:
    author: str
    permlink: str
    parent_author: str
    parent_permlink: str
    title: str
    body: str
    json_metadata: str
    created: int  # epoch seconds
    block: int | None  # None: in the pending pool
    given: bool = False  # known only from node.posts (bridge answers), not from a block


@dataclass
class VoteState:
    voter: str
    author: str
    permlink: str
    percent: int  # the vote's weight, basis points
    time: int
    block: int | None
    trx_id: str
    vop: dict[str, Any] = field(default_factory=dict)  # effective_comment_vote value (rshares, weight)


def op_parts(op: Any) -> tuple[str, dict[str, Any]]:
    """("vote", value) from an appbase ``{"type": "vote_operation", ...}`` or legacy ``["vote", {...}]`` op."""
    if isinstance(op, Mapping):
        return str(op["type"]).removesuffix("_operation"), dict(op["value"])
    if isinstance(op, list | tuple) and len(op) == 2 and isinstance(op[1], Mapping):
        return str(op[0]).removesuffix("_operation"), dict(op[1])
    raise ValueError(f"not an operation: {op!r}")


class ChainState(ChainData):
    posts: dict[tuple[str, str], dict[str, Any]]
    accounts: dict[str, dict[str, Any]]

    def _init_chain_state(self) -> None:
        self._dirty: set[int] = set()  # block numbers added since the index was last brought up to date
        self._indexed_top = 0
        self._produced: set[int] = set()  # blocks made from broadcasts (they exist even above the served head)
        self._post_index: dict[tuple[str, str], PostState] = {}
        self._vote_index: dict[tuple[str, str], list[VoteState]] = {}
        self._author_times: dict[str, list[tuple[int, int | None]]] = {}
        self._trx_blocks: dict[str, int] = {}

    def add_blocks(
        self,
        blocks: Mapping[int, dict[str, Any] | bytes],
        *,
        vops: Mapping[int, list[dict[str, Any]]] | None = None,
        _raise_head: bool = True,
    ) -> None:
        super().add_blocks(blocks, vops=vops, _raise_head=_raise_head)
        self._dirty.update(int(n) for n in blocks)

    # -- the index ---------------------------------------------------------------------------------

    def _pending_ops(self) -> Iterable[tuple[str, str, dict[str, Any], int]]:
        """(trx id, op name, value, time) of the pending pool; the broadcast mixin has the pool."""
        return ()

    def _ensure_index(self) -> None:
        if not self._dirty:
            return
        if min(self._dirty) > self._indexed_top:
            nums = sorted(self._dirty)  # only newer blocks: apply them on top
            self._drop_pending()
        else:
            self._init_index_only()
            nums = sorted(self._raw)
        self._dirty.clear()
        for num in nums:
            raw = self._raw.get(num)
            if raw is not None:
                self._index_block(num, raw)
        self._indexed_top = max(self._indexed_top, nums[-1] if nums else 0)
        for trx_id, name, value, ts in self._pending_ops():
            self._apply_op(name, value, ts, None, trx_id)

    def _init_index_only(self) -> None:
        self._post_index.clear()
        self._vote_index.clear()
        self._author_times.clear()
        self._trx_blocks.clear()
        self._indexed_top = 0

    def _drop_pending(self) -> None:
        """Forget what the pending pool added (before it is applied again, or lands in a block)."""
        for key in [k for k, p in self._post_index.items() if p.block is None]:
            del self._post_index[key]
        for votes in self._vote_index.values():
            votes[:] = [v for v in votes if v.block is not None]
        for times in self._author_times.values():
            times[:] = [t for t in times if t[1] is not None]

    def _index_block(self, num: int, raw: bytes) -> None:
        if b'"transactions":[]' in raw:
            return
        block = decode(raw)
        ts = self._epochs.get(num)
        if ts is None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                ts = _parse_time(block["timestamp"])
        ids = block.get("transaction_ids") or []
        for t, trx in enumerate(block.get("transactions") or ()):
            trx_id = ids[t] if t < len(ids) else "0" * 40
            self._trx_blocks[trx_id] = num
            for op in trx.get("operations") or ():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    name, value = op_parts(op)
                    self._apply_op(name, value, ts or 0, num, trx_id)

    def _apply_op(self, name: str, value: dict[str, Any], ts: int, block: int | None, trx_id: str) -> None:
        if name == "comment":
            key = (str(value["author"]), str(value["permlink"]))
            old = self._post_index.get(key)
            if old is not None:  # an edit: the post keeps its creation
                old.body, old.title, old.json_metadata = value.get("body", ""), value.get("title", ""), \
                    str(value.get("json_metadata", ""))
                return
            self._post_index[key] = PostState(
                key[0], key[1], str(value.get("parent_author", "")), str(value.get("parent_permlink", "")),
                str(value.get("title", "")), str(value.get("body", "")), str(value.get("json_metadata", "")),
                ts, block)
            self._author_times.setdefault(key[0], []).append((ts, block))
        elif name == "delete_comment":
            self._post_index.pop((str(value["author"]), str(value["permlink"])), None)
        elif name == "vote":
            key = (str(value["author"]), str(value["permlink"]))
            self._vote_index.setdefault(key, []).append(VoteState(
                str(value["voter"]), key[0], key[1], int(value["weight"]), ts, block, trx_id, vote_vop_value(value)))

    # -- reading the state ---------------------------------------------------------------------------

    def _visible(self, block: int | None) -> bool:
        return block is None or block <= self.served_head or block in self._produced

    def chain_now(self) -> int:
        """Chain time: the served head block's timestamp (epoch seconds)."""
        return self._epoch_of(self.served_head)

    def find_post(self, author: str, permlink: str) -> PostState | None:
        """The post or comment as the chain knows it: from a served or produced block, the pending pool,
        or failing those ``node.posts`` (bridge answers, for posts older than the served blocks)."""
        self._ensure_index()
        post = self._post_index.get((author, permlink))
        if post is not None and self._visible(post.block):
            return post
        given = self.posts.get((author, permlink))
        if given is None:
            return None
        created = 0
        with contextlib.suppress(ValueError, KeyError, TypeError):
            created = _parse_time(str(given["created"]))
        return PostState(author, permlink, str(given.get("parent_author", "")),
                         str(given.get("parent_permlink", given.get("category", ""))), str(given.get("title", "")),
                         str(given.get("body", "")), "", created, None, given=True)

    def current_votes(self, author: str, permlink: str) -> dict[str, VoteState]:
        """Each voter's last vote on a post, by voter."""
        self._ensure_index()
        out: dict[str, VoteState] = {}
        for v in self._vote_index.get((author, permlink), ()):
            if self._visible(v.block):
                out[v.voter] = v
        return out

    def last_comment_time(self, author: str) -> int | None:
        self._ensure_index()
        times = [t for t, b in self._author_times.get(author, ()) if self._visible(b)]
        return max(times) if times else None

    def _category(self, post: PostState) -> str:
        seen = 0
        while post.parent_author and seen < 256:
            parent = self.find_post(post.parent_author, post.parent_permlink)
            if parent is None:
                return post.parent_permlink
            post, seen = parent, seen + 1
        return post.parent_permlink

    def _active_votes(self, author: str, permlink: str) -> list[dict[str, Any]]:
        out = []
        for v in self.current_votes(author, permlink).values():
            acc = self.accounts.get(v.voter, {})
            out.append({"voter": v.voter, "weight": v.vop.get("weight", 0), "rshares": v.vop.get("rshares", 0),
                        "percent": v.percent, "reputation": int(acc.get("reputation", 0) or 0),
                        "time": format_time(v.time)})
        return out

    def _condenser_get_active_votes(self, params: Any) -> bytes:
        author, permlink = str(arg(params, "author", "", index=0)), str(arg(params, "permlink", "", index=1))
        return dump_json(hived_numbers(self._active_votes(author, permlink)))

    def _condenser_get_content(self, params: Any) -> bytes:
        author, permlink = str(arg(params, "author", "", index=0)), str(arg(params, "permlink", "", index=1))
        post = self.find_post(author, permlink)
        if post is None:  # hived answers an empty comment object
            return dump_json({"id": 0, "author": "", "permlink": "", "category": "", "parent_author": "",
                              "parent_permlink": "", "title": "", "body": "", "json_metadata": "",
                              "created": "1970-01-01T00:00:00", "active_votes": []})
        return dump_json(hived_numbers({
            "author": post.author, "permlink": post.permlink, "category": self._category(post),
            "parent_author": post.parent_author, "parent_permlink": post.parent_permlink, "title": post.title,
            "body": post.body, "json_metadata": post.json_metadata, "created": format_time(post.created),
            "cashout_time": format_time(post.created + CASHOUT_WINDOW),
            "active_votes": self._active_votes(author, permlink),
        }))
