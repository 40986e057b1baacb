"""What the member behind an interaction may do in a channel, from the permissions Discord resolved.

Discord computes these per interaction (base roles, then channel overwrites, Administrator = all):
`interaction.permissions` for the channel the interaction came from, and, for a channel option,
the resolved channel's `permissions` (the invoking member's, not the bot's). The bot acts with its
own permissions, so without these checks a member could make it post where they may not.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.command_tree import UserError

ChannelOption = app_commands.AppCommandChannel | app_commands.AppCommandThread


def channel_permissions(
    interaction: discord.Interaction, option: str | None = None
) -> tuple[discord.Permissions, bool]:
    """(the member's permissions, whether it is a thread) in channel option `option`, else where they ran it."""
    picked = getattr(interaction.namespace, option, None) if option else None
    if isinstance(picked, ChannelOption):
        return picked.permissions, isinstance(picked, app_commands.AppCommandThread)
    return interaction.permissions, isinstance(interaction.channel, discord.Thread)


def missing(perms: discord.Permissions, *, thread: bool = False, embeds: bool = False) -> list[str]:
    """What is missing to read a channel and send in it (and to embed links, if asked), root cause only.

    Discord resolves a member without View Channel to no permissions at all, and one without Send
    Messages to no Embed Links: naming those consequences too would only send the admin hunting.
    """
    if not perms.view_channel:
        return ["View Channel"]
    can_send = perms.send_messages_in_threads if thread else perms.send_messages
    if not can_send:
        return ["Send Messages in Threads" if thread else "Send Messages"]
    return ["Embed Links"] if embeds and not perms.embed_links else []


def require_member_can_send(
    perms: discord.Permissions, refusal: str, *, thread: bool = False, embeds: bool = False
) -> None:
    """Raises a UserError: `refusal` (like "You can't post in #x"), then what the member lacks there."""
    lacking = missing(perms, thread=thread, embeds=embeds)
    if lacking:
        raise UserError(f"{refusal}: you are missing **{', '.join(lacking)}** there.")


def thread_missing(perms: discord.Permissions, *, forum: bool) -> list[str]:
    """What is missing to carry a feed's conversation: threads on its posts, or posts in a forum.

    A forum's posts are created with Send Messages (checked with the channel); a text channel's
    threads need Create Public Threads. Both need Send Messages in Threads for the replies.
    """
    needed = [("send_messages_in_threads", "Send Messages in Threads")]
    if not forum:
        needed.insert(0, ("create_public_threads", "Create Public Threads"))
    return [label for attr, label in needed if not getattr(perms, attr)]


def require_member_can_thread(perms: discord.Permissions, refusal: str, *, forum: bool) -> None:
    """Raises a UserError: `refusal`, then the thread permissions the member lacks there."""
    lacking = thread_missing(perms, forum=forum)
    if lacking:
        raise UserError(f"{refusal}: you are missing **{', '.join(lacking)}** there.")


def require_can_ping(role: discord.Role, perms: discord.Permissions, where: str) -> None:
    """A role the member could not ping themselves is not one the bot pings for them."""
    if not role.mentionable and not perms.mention_everyone:
        raise UserError(
            f"You can't ping {role.mention} yourself in {where}: the role is not mentionable and you are missing "
            "**Mention @everyone, @here and All Roles** there. Make the role mentionable, or pick another."
        )
