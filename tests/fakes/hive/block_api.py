"""``block_api``: blocks, block ranges and headers."""

from __future__ import annotations

from typing import Any

from ..chain_gen import dump_json
from .chain import ChainData
from .errors import arg, assert_error

MAX_BLOCK_RANGE = 1000  # hived's block_api limit


class BlockApi(ChainData):
    def _get_block_range(self, params: Any) -> list[bytes]:
        start = int(arg(params, "starting_block_num", 0))
        count = int(arg(params, "count", 1))
        if count > MAX_BLOCK_RANGE:
            raise assert_error(f"args.count <= {MAX_BLOCK_RANGE}: You can only ask for "
                                f"{MAX_BLOCK_RANGE} blocks at a time.")
        if count < 1:
            raise assert_error("args.count > 0: count must be positive")
        top = min(start + count - 1, self.served_head)
        parts = [b'{"blocks":[']
        for n in range(max(start, 1), top + 1):
            if len(parts) > 1:
                parts.append(b",")
            parts.append(self.block_bytes(n) or b"{}")
        parts.append(b"]}")
        return parts

    def _get_block(self, params: Any) -> list[bytes]:
        raw = self.block_bytes(int(arg(params, "block_num", 0)))
        return [b"{}"] if raw is None else [b'{"block":', raw, b"}"]

    def _get_block_header(self, params: Any) -> bytes:
        block = self.block(int(arg(params, "block_num", 0)))
        if block is None:
            return b"{}"
        header = {k: block[k] for k in ("previous", "timestamp", "witness", "transaction_merkle_root", "extensions")}
        return b'{"header":' + dump_json(header) + b"}"
