"""A loopback fake Hive API node (JSON-RPC 2.0 over HTTP POST) for tests and benchmarks.

Serves ``block_api``, ``database_api``, ``condenser_api`` (enough for beem's ``Blockchain.stream``),
``account_history_api`` and ``bridge`` from in-memory blocks, with optional faults (503, hangs,
truncated bodies), a lagging head (``behind``) and a ``down`` switch, for failover tests. Takes signed
transactions (``broadcast_transaction``, checked as hived checks them) into blocks it then serves,
and answers ``transaction_status_api.find_transaction`` (see broadcast.py).

Three ways to run it::

    node = FakeHiveNode(blocks)              # async tests
    url = await node.start(); ...; await node.stop()          # or: async with node: ...
    url = node.start_in_thread(); ...; node.stop_thread()      # sync code, or: with node: ...
    python -m tests.fakes.hive --generate 20000 --start-block 80000000   # a process
      -> prints "URL http://127.0.0.1:PORT", serves until SIGTERM/SIGINT

Block JSON is serialised once at construction and responses are assembled by joining bytes, so the
node is never what a benchmark measures.
"""

from __future__ import annotations

from ..chain_gen import build_vote_vops
from .broadcast import DropConnection
from .condenser_api import condenser_block, hive_account
from .errors import RpcError
from .fixtures import FIXTURES, SEED_FIXTURE, load_mock_blocks, load_mock_vops, load_seed_fixture
from .node import FakeHiveNode
from .numbers import hived_numbers
from .ops import OP_TYPE_IDS

__all__ = [
    "FIXTURES",
    "OP_TYPE_IDS",
    "SEED_FIXTURE",
    "DropConnection",
    "FakeHiveNode",
    "RpcError",
    "build_vote_vops",
    "condenser_block",
    "hive_account",
    "hived_numbers",
    "load_mock_blocks",
    "load_mock_vops",
    "load_seed_fixture",
]
