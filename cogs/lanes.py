"""Gives refused delivery lanes another try when something changed that may have fixed them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import Hivecord


class Lanes(commands.Cog):
    """A permission update in a channel or its server, or the member coming back (any command),
    turns a refused lane into a single probe; a refusal of that probe refuses it again."""

    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    async def _release(self, lanes: list[int]) -> None:
        await self.bot.lanes.retry(lanes)

    @staticmethod
    def _guild_lanes(guild: discord.Guild) -> list[int]:
        # Role lanes too: a role moved below the bot's, or Manage Roles given, may fix them.
        return [c.id for c in guild.channels] + [t.id for t in guild.threads] + [r.id for r in guild.roles]

    @commands.Cog.listener()
    async def on_guild_channel_update(self, _before: discord.abc.GuildChannel, after: discord.abc.GuildChannel) -> None:
        await self._release([after.id])

    @commands.Cog.listener()
    async def on_thread_update(self, _before: discord.Thread, after: discord.Thread) -> None:
        await self._release([after.id])

    @commands.Cog.listener()
    async def on_guild_role_update(self, _before: discord.Role, after: discord.Role) -> None:
        await self._release(self._guild_lanes(after.guild))

    @commands.Cog.listener()
    async def on_guild_update(self, _before: discord.Guild, after: discord.Guild) -> None:
        await self._release(self._guild_lanes(after))

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: discord.Interaction, _command: object) -> None:
        """The member is back: their DM lane (and the DM channel they subscribed from) may try again."""
        await self.bot.lanes.member_back(interaction.user.id)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Lanes(bot))
