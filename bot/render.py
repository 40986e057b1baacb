"""Discord embeds for posts, votes and badges: untrusted chain text made inert and kept within limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import discord

from bot.store.store import PostRow
from bot.text import neutralise, plain_excerpt, safe_url, truncate

# Discord's limits (it answers 400 past them; discord.py does not check).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000

EXCERPT_CHARS = 400
TAGS_SHOWN = 8
HIVE_RED = discord.Colour(0xE31337)
_ACCOUNT = re.compile(r"^[a-z][a-z0-9.-]{2,15}$")


def chain_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)
    except ValueError:
        return None


def account_url(account: str) -> str | None:
    return f"https://hive.blog/@{account}" if _ACCOUNT.match(account) else None


def avatar_url(account: str) -> str | None:
    return f"https://images.hive.blog/u/{account}/avatar" if _ACCOUNT.match(account) else None


def _safe_title(text: str) -> str:
    # Titles render markdown in embeds; neutralise before cutting so the escapes count too.
    return truncate(neutralise(" ".join(text.split())) or "(untitled)", TITLE_MAX)


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


def post_embed(post: PostRow, community_title: str | None = None, *, preview: bool = False) -> discord.Embed:
    """The mirror of a review: title linking to it, author, cover, excerpt, series, tags, votes."""
    embed = discord.Embed(
        title=_safe_title(post.title),
        url=safe_url(post.url),
        description=neutralise(plain_excerpt(post.body, EXCERPT_CHARS)) or None,
        colour=HIVE_RED,
        timestamp=chain_time(post.created_at),
    )
    embed.set_author(name=f"@{neutralise(post.author)}", url=account_url(post.author), icon_url=avatar_url(post.author))
    image = safe_url(post.image)
    if image and image.startswith("https://"):
        embed.set_image(url=image)
    if post.series:
        embed.add_field(name="Series", value=neutralise(post.series), inline=True)
    if post.tags:
        shown = " · ".join(neutralise(t) for t in post.tags[:TAGS_SHOWN])
        more = len(post.tags) - TAGS_SHOWN
        embed.add_field(name="Tags", value=shown + (f" +{more}" if more > 0 else ""), inline=True)
    votes = f"{post.vote_count} vote{'s' if post.vote_count != 1 else ''}"
    if post.pending_payout:
        votes += f" · {neutralise(post.pending_payout)} pending"
    embed.add_field(name="Votes", value=votes, inline=True)
    footer = neutralise(community_title or post.community)
    if post.edits:
        footer += " · edited"
    if preview:
        footer = "Preview · " + footer
    embed.set_footer(text=footer)
    return fit(embed)


def tombstone_embed(post: PostRow) -> discord.Embed:
    embed = discord.Embed(
        title="Post deleted",
        description=f"@{post.author} deleted this post on Hive.",
        colour=discord.Colour.dark_grey(),
        timestamp=chain_time(post.updated_at),
    )
    return fit(embed)


def votes_embed(post: PostRow, voters: Sequence[tuple[str, int]]) -> discord.Embed:
    """One curator vote, or the votes gathered for a post over a window."""
    # Every chain-supplied piece is neutralised on its own; the bold around the title is ours.
    names = ", ".join(f"@{neutralise(v)} ({w / 100:g}%)" for v, w in voters)
    if len(voters) == 1:
        voter, weight = voters[0]
        description = f"@{neutralise(voter)} upvoted **{_safe_title(post.title)}** at {weight / 100:g}%."
    else:
        description = f"{len(voters)} upvotes on **{_safe_title(post.title)}**: {names}"
    embed = discord.Embed(description=description, colour=discord.Colour.green(), url=safe_url(post.url))
    embed.set_author(name=f"Votes on @{post.author}'s post", url=safe_url(post.url))
    return fit(embed)


def badge_embed(recipient: str, badge: str, image_url: str, achievement: str, next_target: str | None) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(f"New HiveBuzz badge for @{recipient}", TITLE_MAX),
        url=f"https://hivebuzz.me/@{recipient}" if _ACCOUNT.match(recipient) else None,
        description=neutralise(achievement) or None,
        colour=discord.Colour.gold(),
    )
    image = safe_url(image_url)
    if image and image.startswith("https://"):
        embed.set_thumbnail(url=image)
    if next_target:
        embed.add_field(name="Next target", value=neutralise(next_target), inline=False)
    embed.set_footer(text=f"badge: {neutralise(badge)}")
    return fit(embed)


def role_ping(role_id: int | None) -> tuple[str | None, discord.AllowedMentions]:
    """The message content and the only mention it may make: the feed's role, or nothing."""
    if role_id is None:
        return None, discord.AllowedMentions.none()
    return f"<@&{role_id}>", discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)])
