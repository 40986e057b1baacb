"""Test helpers on FakeDiscord for forums and threads: make a forum, lock, archive or delete a thread,
and look at the threads the bot made."""

from __future__ import annotations

from . import payloads
from .gateway import INTENT_GUILDS, Gateway
from .permissions import Overwrite
from .state import Channel, FakeDiscordState, StoredMessage
from .threads import announce_thread, set_archived


class ThreadHelpers:
    """Mixed into FakeDiscord."""

    state: FakeDiscordState
    gateway: Gateway

    def notify(self) -> None:
        raise NotImplementedError

    async def add_forum_channel(
        self,
        guild_id: int,
        name: str,
        *,
        tags: list[str] | None = None,
        moderated: tuple[str, ...] = (),
        overwrites: list[Overwrite] | None = None,
        media: bool = False,
    ) -> Channel:
        """A forum (type 15; `media` for type 16) with `available_tags` named `tags`; CHANNEL_CREATE follows.

        Before the bot connects, `fake.state.add_forum_channel(...)` does the same without the event.
        """
        forum = self.state.add_forum_channel(
            guild_id, name, tags=tags, moderated=moderated, overwrites=overwrites, media=media
        )
        data = payloads.channel(self.state, forum)
        await self.gateway.dispatch("CHANNEL_CREATE", data, guild_id=guild_id, intent=INTENT_GUILDS)
        return forum

    def tag_id(self, forum_id: int, name: str) -> int:
        return next(t.id for t in self.state.channels[forum_id].available_tags if t.name == name)

    def threads(self, parent_id: int) -> list[Channel]:
        """Threads (not deleted) under a channel or forum, oldest first."""
        return sorted(
            (c for c in self.state.channels.values() if c.is_thread and c.parent_id == parent_id), key=lambda c: c.id
        )

    def starter_message(self, thread_id: int) -> StoredMessage:
        """A forum post's first message, or the message a thread was started on (same id as the thread)."""
        return self.state.messages[thread_id]

    async def archive_thread(self, thread_id: int, *, archived: bool = True) -> None:
        """What Discord does after `auto_archive_duration` of quiet, or a moderator's "close"."""
        await set_archived(self, self.state.channels[thread_id], archived)

    async def lock_thread(self, thread_id: int, *, archived: bool = True) -> None:
        """A moderator locks (and by default closes) a thread: only Manage Threads may reopen it."""
        thread = self.state.channels[thread_id]
        thread.locked = True
        await set_archived(self, thread, archived)

    async def delete_thread(self, thread_id: int) -> None:
        """A moderator deletes a thread: its id becomes an unknown channel (404 10003)."""
        thread = self.state.channels.pop(thread_id)
        if thread.guild_id is not None:
            self.state.guilds[thread.guild_id].channel_ids.remove(thread_id)
        await announce_thread(self, "THREAD_DELETE", thread)
