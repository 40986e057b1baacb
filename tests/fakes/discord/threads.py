"""Discord's rules for messages in threads: who may send, what an archived or locked thread does.

- Messages in a thread need Send Messages in Threads (on the parent), not Send Messages.
- Sending into an archived thread unarchives it, unless it is locked (then 400 50083).
- Editing or deleting a message in an archived thread is refused (400 50083): only a send reopens.
- A locked thread takes messages and edits only from members with Manage Threads; the fake answers
  403 50013 when it is locked but not archived (Discord's 2023 locked-thread rules).
- A deleted thread is an unknown channel (404 10003), as its route lookup already says.
"""

from __future__ import annotations

import datetime
from typing import Protocol

from . import payloads
from . import permissions as perms
from .errors import DiscordError
from .gateway import INTENT_GUILDS, Gateway
from .state import Channel, FakeDiscordState


class ThreadHost(Protocol):
    """What these rules need of the fake (FakeDiscord has it)."""

    state: FakeDiscordState
    gateway: Gateway

    def notify(self) -> None: ...


ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def _may_manage(fake: ThreadHost, thread: Channel) -> bool:
    return bool(fake.state.permissions_in(thread.id, fake.state.bot.id) & perms.MANAGE_THREADS)


def check_send(fake: ThreadHost, thread: Channel) -> None:
    """Refuse a new message in a locked thread (unless the bot manages threads)."""
    if thread.locked and not _may_manage(fake, thread):
        raise DiscordError(400, 50083) if thread.archived else DiscordError(403, 50013)


def check_change(fake: ThreadHost, thread: Channel) -> None:
    """Refuse editing or deleting a message of an archived (or locked) thread."""
    if thread.archived:
        raise DiscordError(400, 50083)
    if thread.locked and not _may_manage(fake, thread):
        raise DiscordError(403, 50013)


async def set_archived(fake: ThreadHost, thread: Channel, archived: bool) -> None:
    thread.archived = archived
    thread.archive_timestamp = datetime.datetime.now(datetime.UTC)
    await announce_thread(fake, "THREAD_UPDATE", thread)


async def announce_thread(fake: ThreadHost, event: str, thread: Channel) -> None:
    """THREAD_CREATE / THREAD_UPDATE / THREAD_DELETE go to sessions with the guilds intent."""
    if event == "THREAD_DELETE":
        data = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "parent_id": str(thread.parent_id),
            "type": thread.type,
        }
    else:
        data = payloads.channel(fake.state, thread)
        if event == "THREAD_CREATE":
            data["newly_created"] = True
    await fake.gateway.dispatch(event, data, guild_id=thread.guild_id, intent=INTENT_GUILDS)
    fake.notify()
