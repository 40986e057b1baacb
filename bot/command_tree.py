"""The one error handler of the command tree: what users can fix is told to them plainly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.process.retry import describe
from bot.services import Refused
from bot.text.keys import looks_like_private_key

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


PRIVATE_KEY_WARNING = (
    "⚠️ That looks like a **private key**. hivecord never needs one, and nobody should ever ask you for "
    "it: nothing was run and nothing was kept. If you pasted a real key anywhere public, change your keys. "
    "To link your Hive account, `/link` gives a code to broadcast or a text to sign instead."
)


def _option_texts(options: Any) -> Iterator[str]:
    """Every string an interaction's options carry, subcommands' options included."""
    if not isinstance(options, list):
        return
    for option in options:
        if not isinstance(option, dict):
            continue
        value = option.get("value")
        if isinstance(value, str):
            yield value
        yield from _option_texts(option.get("options"))


class GuardedTree(app_commands.CommandTree[Any]):
    """The command tree with one check before any command or autocomplete runs: an option that looks
    like a private key is refused with a warning, before a command could log or store it."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        data = interaction.data
        options = data.get("options") if isinstance(data, dict) else None
        if not any(looks_like_private_key(text) for text in _option_texts(options)):
            return True
        command = data.get("name", "?") if isinstance(data, dict) else "?"
        # Neither the key nor the option it was in: only that one was refused.
        log.warning("refused /%s for user %s: an option looked like a private key", command, interaction.user.id)
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            else:
                embed = discord.Embed(description=PRIVATE_KEY_WARNING, colour=discord.Colour.red())
                await interaction.response.send_message(embed=embed, ephemeral=True)
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("could not warn user %s about a pasted key: %s", interaction.user.id, describe(exc))
        return False

    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /) -> None:
        await on_tree_error(interaction, error)
