"""Embeds within Discord's limits (it answers 400 past them, and discord.py does not check), in hivecord's red."""

from __future__ import annotations

import discord

from bot.text.limits import (
    AUTHOR_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
)
from bot.text.safe import truncate

HIVE_RED = discord.Colour(0xE31337)


def embed_length(embed: discord.Embed) -> int:
    """What Discord counts towards the 6000-character total of a message's embeds."""
    total = len(embed.title or "") + len(embed.description or "")
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    for field in embed.fields:
        total += len(field.name or "") + len(field.value or "")
    return total


def fit(embed: discord.Embed) -> discord.Embed:
    """Cuts an embed to Discord's limits, trimming the description first, then dropping fields."""
    if embed.title:
        embed.title = truncate(embed.title, TITLE_MAX)
    if embed.description:
        embed.description = truncate(embed.description, DESCRIPTION_MAX)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, FOOTER_MAX), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(
            name=truncate(embed.author.name, AUTHOR_MAX), url=embed.author.url, icon_url=embed.author.icon_url
        )
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields][:FIELDS_MAX]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=truncate(name, FIELD_NAME_MAX) or "\u200b",
            value=truncate(value, FIELD_VALUE_MAX) or "\u200b",
            inline=inline,
        )
    excess = embed_length(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = truncate(embed.description, max(1, len(embed.description) - excess))
    while embed_length(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed
