"""At send time: may a subscriber read and write in the channel an alert would mention them in?

The bot asks for the guilds intent only, so members are not cached; one REST read of the member
(no intent needed) plus the cached roles and channel overwrites give their permissions there.
An alert must never make the bot speak to someone where they could not speak themselves.
"""

from __future__ import annotations

import discord

from bot.delivery.failures import unserved
from bot.domain import Feed, PostRow
from bot.store.store import Store


async def mention_refusal(client: discord.Client, channel_id: int, user_id: int) -> str | None:
    """Why `user_id` must not be mentioned in `channel_id`, or None when they may view and send there.

    Raises discord.HTTPException for answers that say nothing about the member (5xx, 429), so the
    caller retries as for any send.
    """
    channel = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden) as exc:
            if unserved(exc):
                raise  # a route this server does not serve: says nothing of the channel
            return "the alert's channel is out of the bot's reach"
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return "the alert's channel is not a server channel"
    try:
        member = await channel.guild.fetch_member(user_id)
    except discord.NotFound as exc:
        if unserved(exc):
            raise
        return "the subscriber is no longer a member of that server"
    except discord.Forbidden:
        return "the bot may not look up the subscriber in that server"
    try:
        perms = channel.permissions_for(member)
    except discord.ClientException:  # a thread whose parent is not cached: nothing to check against
        return "the alert's channel could not be checked"
    can_send = perms.send_messages_in_threads if isinstance(channel, discord.Thread) else perms.send_messages
    if not (perms.view_channel and can_send):
        return "the subscriber may not read and send messages in that channel"
    return None


async def linked_author(client: discord.Client, store: Store, feed: Feed, post: PostRow) -> int | None:
    """The member of the feed's server linked to the post's author, to mention on the mirror; None when
    the feed does not mention authors, the author is not linked, or the member is not in that server
    (one REST read of the member: the bot has no members intent)."""
    if not feed.mention_authors:
        return None
    user_id = await store.links.user_of(post.author)
    if user_id is None:
        return None
    try:
        await client.http.get_member(feed.guild_id, user_id)
    except (discord.NotFound, discord.Forbidden) as exc:
        if unserved(exc):
            raise
        return None
    return user_id
