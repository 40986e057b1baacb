"""/notify: a linked author chooses the DMs they get about their account (curator upvotes, badges)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.answers import answer

if TYPE_CHECKING:
    from bot.app import Hivecord

ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


def _choice(value: str | None) -> bool | None:
    return None if value is None else value == "on"


class Notify(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    @app_commands.command(name="notify", description="DMs about your linked Hive account: curator upvotes, badges")
    @app_commands.describe(
        votes="A DM when a curator upvotes one of your posts",
        badges="A DM when you earn a HiveBuzz badge",
    )
    @app_commands.choices(votes=ON_OFF, badges=ON_OFF)
    async def notify(
        self, interaction: discord.Interaction, votes: str | None = None, badges: str | None = None
    ) -> None:
        account, prefs = await self.bot.notices.set(interaction.user.id, votes=_choice(votes), badges=_choice(badges))
        state = f"curator upvotes **{'on' if prefs.votes else 'off'}** · badges **{'on' if prefs.badges else 'off'}**"
        text = f"Notices for **@{discord.utils.escape_markdown(account)}** by DM: {state}."
        if prefs.votes or prefs.badges:
            text += "\nThey come from this bot: allow DMs from this server's members to receive them."
        await interaction.response.send_message(embed=answer(text, title="Notices"), ephemeral=True)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Notify(bot))
