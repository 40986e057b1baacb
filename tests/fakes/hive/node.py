"""The fake node: the chain data, every API area, JSON-RPC and the HTTP server in one class."""

from __future__ import annotations

import asyncio
import collections
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from .account_history_api import AccountHistoryApi
from .block_api import BlockApi
from .bridge import BridgeApi
from .condenser_api import CondenserApi
from .database_api import DatabaseApi
from .rpc import Rpc
from .server import Server
from .subscribers import SubscribersApi
from .transaction_status import TransactionStatusApi


class FakeHiveNode(Server, Rpc, TransactionStatusApi, BlockApi, CondenserApi, DatabaseApi, AccountHistoryApi, BridgeApi,
                   SubscribersApi):
    """In-memory Hive API node; see the module docstring for how to run it.

    Counters: ``calls`` (Counter by ``api.method``, each call of a batch counted; requests failed
    with a 503 or while ``down`` never reach it), ``request_log`` (per request that reached it, the
    methods it carried, a batch's together), ``requests`` (HTTP requests), ``faults`` (Counter by
    kind: "503", "hang", "truncate", "down", "drop") and ``fault_log``. Runtime knobs: ``head``, ``behind``,
    ``down``, ``fault_rate``, ``hang_seconds``, ``add_blocks()``, ``accounts``.

    Broadcasts (see broadcast.py): ``auto_produce``, ``produce_block()``, ``broadcast_refusal(s)``,
    ``on_broadcast``, ``drop_broadcasts``, ``lose_broadcast_answers``, ``serves_transaction_status``;
    records ``broadcasts``, ``accepted``, ``pending``.

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
        subscribers: Mapping[str, list[list[str]]] | None = None,
        community_roles: Mapping[str, list[list[str]]] | None = None,
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
        # Per HTTP request that reached JSON-RPC dispatch: the methods it carried, in order.
        self.request_log: list[tuple[str, ...]] = []
        # The same requests with the URL path they came on and when (monotonic): (path, time, methods).
        self.asked: list[tuple[str, float, tuple[str, ...]]] = []
        self.port: int | None = None
        self.communities: dict[str, dict[str, Any]] = dict(communities or {})
        # bridge.list_subscribers answers, by community; tests change them at run time.
        self.subscribers: dict[str, list[list[str]]] = {k: list(v) for k, v in (subscribers or {}).items()}
        # bridge.list_community_roles answers, by community; tests change them at run time.
        self.community_roles: dict[str, list[list[str]]] = {k: list(v) for k, v in (community_roles or {}).items()}
        self.ranked_posts: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in (ranked_posts or {}).items()}
        # bridge.get_post answers: the ranked posts, and posts given on their own (old posts, say).
        self.posts: dict[tuple[str, str], dict[str, Any]] = {
            (p["author"], p["permlink"]): p for ps in self.ranked_posts.values() for p in ps
        }
        self.posts.update(((p["author"], p["permlink"]), p) for p in posts)
        # condenser_api.get_accounts answers, by name (see condenser_api.hive_account).
        self.accounts: dict[str, dict[str, Any]] = {}
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
        self._init_broadcast()
        self._init_transaction_status()
        self.add_blocks(blocks, vops=vops, _raise_head=False)
        if head is not None:
            self._head = head
        elif self._raw:
            self._head = max(self._raw)

