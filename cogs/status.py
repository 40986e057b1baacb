"""/status: how far behind the chain is, which node, and this server's feeds, backlog and lanes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain import DAY
from bot.hive.names import node_label
from bot.text.limits import FIELD_VALUE_MAX
from bot.text.safe import truncate

if TYPE_CHECKING:
    from bot.app import Hivecord

BLOCK_SECONDS = 3
MAX_NODES_SHOWN = 10


def nodes_text(urls: list[str], current: str) -> str:
    """Each configured node by scheme and host, the one in use first and marked."""
    ordered = [current, *(u for u in urls if u != current)]
    shown = ordered[:MAX_NODES_SHOWN]
    lines = [discord.utils.escape_markdown(node_label(u)) + (" (in use)" if u == current else "") for u in shown]
    if len(ordered) > MAX_NODES_SHOWN:
        lines.append(f"+{len(ordered) - MAX_NODES_SHOWN} more")
    return truncate("\n".join(lines), FIELD_VALUE_MAX)  # whatever the hostnames


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, int(DAY))
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def stored_text(cursor: int | None, at: str) -> str:
    """The block another process stored last, and its age by its chain time."""
    if cursor is None or not at:
        return "starting up (another process follows the chain)"
    try:
        stored = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    except ValueError:
        return f"block {cursor:,} (followed by another process)"
    age = max(0, int((dt.datetime.now(dt.UTC) - stored).total_seconds()))
    return f"block {cursor:,}, made ~{duration(age)} ago (another process follows the chain)"


class Status(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Sync lag, Hive node, this server's feeds, delivery backlog")
    async def status(self, interaction: discord.Interaction) -> None:
        follower = self.bot.follower
        embed = discord.Embed(title="hivecord status", colour=discord.Colour.blurple())
        if self.bot.duties.follows_here and follower.cursor is not None and follower.head is not None:
            lag = max(0, follower.head - follower.cursor)
            embed.add_field(
                name="Chain", value=f"block {follower.cursor:,}; {lag:,} behind head (~{duration(lag * BLOCK_SECONDS)})"
            )
        elif not self.bot.duties.follows_here:
            # Another process follows the chain (PostgreSQL): what it stored, and how old that block is.
            cursor, at = await self.bot.delivery_status.stored_block()
            embed.add_field(name="Chain", value=stored_text(cursor, at))
        else:
            embed.add_field(name="Chain", value="starting up")
        hive = self.bot.hive
        embed.add_field(
            name="Hive nodes", value=nodes_text([n.url for n in hive.nodes], hive.current_node), inline=False
        )
        # The chain and the nodes are everyone's; feeds, backlog and lanes only this server's own.
        if interaction.guild_id is not None:
            await self._server_fields(embed, interaction.guild_id)
        embed.add_field(name="Uptime", value=duration(self.bot.uptime))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _server_fields(self, embed: discord.Embed, guild_id: int) -> None:
        """This server's feeds, its delivery backlog, and its lanes (channels, threads, roles) by state
        with the sends Discord rejected lately."""
        feeds = await self.bot.feeds.of_guild(guild_id)
        broken = sum(1 for f in feeds if f.broken)
        text = f"{len(feeds)} feed(s)" + (f", {broken} broken (see `/feed list`)" if broken else ", all healthy")
        embed.add_field(name="This server", value=text if feeds else "no feeds yet", inline=False)
        backlog = await self.bot.delivery_status.backlog(guild_id)
        embed.add_field(name="Delivery backlog", value=f"{backlog} message(s) waiting here")
        c = await self.bot.delivery_status.lanes(guild_id)
        text = f"{c.ok} ok · {c.backoff} backing off · {c.refused} refused; {c.rejected} rejected (400) in 24 h"
        embed.add_field(name="Delivery lanes", value=text, inline=False)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Status(bot))
