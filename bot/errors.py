"""The one error handler of the command tree: what users can fix is told to them plainly."""

from __future__ import annotations

import logging

import aiohttp
import discord
from discord import app_commands

from bot.retry import describe
from bot.services import Refused

log = logging.getLogger("hivecord.commands")


class UserError(app_commands.AppCommandError):
    """Raised by a command with a sentence for the user: what was wrong and what to type instead."""


def explain(error: app_commands.AppCommandError) -> str | None:
    """The sentence for an error a user can act on, or None for our own failures."""
    if isinstance(error, app_commands.CommandInvokeError) and isinstance(error.original, UserError | Refused):
        return str(error.original)
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions):
        names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in error.missing_permissions)
        return f"You need the **{names}** permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        names = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the **{names}** permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.TransformerError):
        return f"`{str(error.value)[:100]}` is not something I can use there; pick one from the list."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    command = interaction.command.qualified_name if interaction.command else "?"
    text = explain(error)
    if text is None:
        original = getattr(error, "original", error)
        if isinstance(original, discord.HTTPException):
            # Discord refused a request the command made: its status and code say why (a missing
            # permission, an interaction answered too late); a traceback would add nothing.
            log.warning(
                "command /%s for user %s in guild %s: Discord refused a request: %s",
                command,
                interaction.user.id,
                interaction.guild_id,
                describe(original),
            )
        else:
            log.error(
                "command /%s failed for user %s in guild %s",
                command,
                interaction.user.id,
                interaction.guild_id,
                exc_info=original,
            )
        text = "Something went wrong on my side; it has been logged. Please try again in a moment."
    embed = discord.Embed(description=text, colour=discord.Colour.red())
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True)
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("could not tell user %s about the error in /%s: %s", interaction.user.id, command, describe(exc))
