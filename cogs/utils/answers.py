"""The embed every cog answers a member with: one look for every command's private answer."""

from __future__ import annotations

import discord


def answer(text: str, colour: discord.Colour | None = None, *, title: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=text, colour=colour or discord.Colour.blurple())
