"""What this process asks of the gateway: its shards (`discord.shard_ids` of `discord.shard_count`, or
`--shards 0-3/8`) and its intents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

# Discord's own ceiling is far lower for any bot hivecord serves; this only keeps a typo from allocating.
MAX_SHARDS = 65536
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


@dataclass(frozen=True)
class Shards:
    """`ids` of `count` shards; `ids` empty means all of them, `count` 0 means as many as Discord advises."""

    ids: tuple[int, ...] = ()
    count: int = 0

    @property
    def syncs_commands(self) -> bool:
        """Slash commands are synced by one process only: the one serving shard 0 (or every shard)."""
        return not self.ids or 0 in self.ids

    def client_options(self) -> dict[str, Any]:
        """AutoShardedBot's arguments: nothing given is every shard Discord advises."""
        if not self.count:
            return {}
        return {"shard_count": self.count, "shard_ids": list(self.ids or range(self.count))}

    def problem(self) -> str | None:
        """What is wrong with this choice, in one sentence; None when it can be served."""
        if self.count > MAX_SHARDS:
            return f"a shard count of {self.count} is more than {MAX_SHARDS}"
        if self.ids and not self.count:
            return "shard ids need a shard count (discord.shard_count, or --shards IDS/COUNT)"
        beyond = [i for i in self.ids if i >= self.count]
        if beyond:
            return f"shard id {beyond[0]} is not below the shard count {self.count} (ids are 0 to {self.count - 1})"
        return None


def intents() -> discord.Intents:
    # Slash commands and posting need guilds only; nothing privileged.
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def parse_ids(text: str) -> tuple[int, ...]:
    """Ids as typed: "0-3,6" is (0, 1, 2, 3, 6); "" is () (all). Raises ValueError saying what is wrong."""
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part and not text.strip():
            continue
        match = _RANGE.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not a shard id or a range like 0-3")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"the range {part!r} runs backwards")
        if last >= MAX_SHARDS:
            raise ValueError(f"shard id {last} is more than {MAX_SHARDS - 1}")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def parse_shards(text: str) -> Shards:
    """`--shards IDS/COUNT`: "0-3/8" is ids 0 to 3 of 8, "1/2" id 1 of 2. Raises ValueError saying what is wrong."""
    ids_text, slash, count_text = text.partition("/")
    if not slash or not ids_text.strip() or not count_text.strip().isdigit():
        raise ValueError(f"{text!r} is not IDS/COUNT, e.g. 0-3/8 (ids 0 to 3 of 8 shards) or 1/2")
    shards = Shards(parse_ids(ids_text), int(count_text))
    if shards.count < 1:
        raise ValueError("the shard count must be 1 or more")
    problem = shards.problem()
    if problem is not None:
        raise ValueError(problem)
    return shards
