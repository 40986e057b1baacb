"""Gateway events discord.py cannot read: each is dropped with one log line, and the shard reads on.

discord.py's gateway loop calls the state's parser for each event unguarded
(`func = self._discord_parsers[event]; func(data)`): one event whose shape it cannot read (a proxy's
rewrite, another server's idea of a field, a change at Discord) raises up through the shard and ends
the process, which meets the same event again after a restart. The parsers dict is the narrowest
place discord.py lets us hook without copying its code: each entry is wrapped here, in place (the
shard's websocket holds the same dict).

Why dropping one event is safe for each kind hivecord relies on:
- INTERACTION_CREATE: the member's command gets no answer and Discord tells them so; nothing was
  stored or sent for it, so running it again is all it costs.
- GUILD_* and CHANNEL_* updates, GUILD_ROLE_*: the cache may miss that change (or hold part of it).
  Delivery never trusts the cache: Discord's own answer to each send decides whether a lane is
  refused. The cache only pre-checks permissions in /feed add (Discord still has the last word) and
  lists the lanes a permission change releases: a lost release waits for the next change, a command
  by the member, or /feed add.
- THREAD_*: forum posts and threads made before a restart are looked up over REST, not in the cache;
  a lost THREAD_UPDATE is a release that waits, as above.
- GUILD_MEMBER_*, MESSAGE_*: hivecord reads members' roles over REST before changing them, and asks
  for no message intent; such events carry nothing it keeps.
- READY, RESUMED: the shard's session is set by the gateway itself before the parser runs; a READY
  the parser cannot read leaves the cache without its guilds until the next one, while delivery (REST
  only) and the follower go on.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

log = logging.getLogger("hivecord.gateway")

Parser = Callable[[Any], None]

# The same failure again is logged only when its count reaches one of these: counted, not repeated.
REPEATS_LOGGED_AT = (10, 100, 1000, 10000)


class UnreadableEvents:
    """Counts the gateway events dropped because discord.py raised while reading them."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], int] = {}

    @property
    def dropped(self) -> int:
        return sum(self.seen.values())

    def guard(self, parsers: MutableMapping[str, Parser]) -> None:
        """Wraps every parser in place, so an exception in one event is that event's loss only."""
        for event, parse in list(parsers.items()):
            parsers[event] = self._guarded(event, parse)

    def _guarded(self, event: str, parse: Parser) -> Parser:
        def read(data: Any) -> None:
            try:
                parse(data)
            except Exception as exc:  # whatever discord.py raised: the event goes, the shard stays
                self.drop(event, exc)

        return read

    def drop(self, event: str, exc: BaseException) -> None:
        """One line naming the event and the error; the same failure again is counted instead."""
        where = _where(exc)
        key = (event, type(exc).__name__, where)
        count = self.seen.get(key, 0) + 1
        self.seen[key] = count
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if count == 1:
            log.warning("gateway event %s dropped: discord.py could not read it (%s at %s)", event, error, where)
        elif count in REPEATS_LOGGED_AT:
            log.warning("gateway event %s dropped %d times so far, each time for %s at %s", event, count, error, where)


def _where(exc: BaseException) -> str:
    """The file and line that raised, e.g. discord/member.py:323: the same failure has the same place."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    path = Path(frames[-1].filename)
    return f"{path.parent.name}/{path.name}:{frames[-1].lineno}"
