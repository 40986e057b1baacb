"""A post's conversation on Discord: each Hive reply as an embed, a thread's name, a forum post's tags.

Pure functions of the stored rows: reply bodies are untrusted chain text, reduced to plain text
(markdown and HTML out, link targets dropped), made inert (no markdown, pings or mentions) and
kept within Discord's limits; only http(s) URLs are linked, only https images shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.delivery.render import account_url, avatar_url, chain_time
from bot.domain import PostRow, ReplyRow
from bot.hive.content import cover_image
from bot.hive.names import is_account
from bot.series.detect import series_key
from bot.text.embeds import HIVE_RED, fit
from bot.text.safe import neutralise, plain_excerpt, plain_text, safe_url, truncate

# Plain text before neutralising: escapes at most double it, so it stays inside a description (4096).
REPLY_CHARS = 1800
THREAD_NAME_MAX = 100  # Discord's limit for a thread's (and a forum post's) name
FORUM_TAGS_MAX = 5  # tags one forum post may carry


def _at(name: str) -> str:
    """The "@name" of markdown text; whole, so an account named "everyone" or "here" pings no one."""
    return neutralise("@" + truncate(name, 40), urls=False)


def _author(embed: discord.Embed, author: str) -> None:
    # Author names show as typed (no markdown): plain, never escaped.
    embed.set_author(name=plain_text("@" + author), url=account_url(author), icon_url=avatar_url(author))


def reply_embed(reply: ReplyRow, *, answers: str | None) -> discord.Embed:
    """One reply in its post's thread: author and avatar, the text made safe, its first image, a
    link to it on Hive and, for a nested reply, whom it answers (`answers`: None for a top-level one).
    """
    title = f"answers {_at(answers)}" if answers else "Reply on Hive"
    embed = discord.Embed(
        title=title,
        url=safe_url(reply.url),
        description=neutralise(plain_excerpt(reply.body, REPLY_CHARS)) or None,
        colour=HIVE_RED,
        timestamp=chain_time(reply.created_at),
    )
    _author(embed, reply.author)
    image = cover_image({}, reply.body if isinstance(reply.body, str) else "")
    if image is not None:
        embed.set_image(url=image)
    if reply.edits:
        embed.set_footer(text="edited on Hive")
    return fit(embed)


def reply_tombstone_embed(reply: ReplyRow) -> discord.Embed:
    """What a reply's message becomes once the reply is deleted on chain."""
    embed = discord.Embed(
        title="Reply deleted",
        description=f"{_at(reply.author)} deleted this reply on Hive.",
        colour=discord.Colour.dark_grey(),
        timestamp=chain_time(reply.updated_at),
    )
    _author(embed, reply.author)
    return fit(embed)


def failed_copy(user_id: int, author: str, body: str, why: str) -> tuple[str, discord.Embed]:
    """What the copy of a reply sent with /reply post becomes when the reply never reached Hive: says so
    plainly, and why (in words), keeping the member's text so they can send it again. No link: there is
    nothing on Hive to open."""
    content = f"<@{user_id}>'s reply as **{_at(author)}** did not reach Hive."
    embed = discord.Embed(
        title="Not posted on Hive",
        description=neutralise(plain_excerpt(body, REPLY_CHARS)) or None,
        colour=discord.Colour.dark_grey(),
    )
    _author(embed, author)
    embed.add_field(name="Why", value=neutralise(truncate(why, 500), urls=False) or "-", inline=False)  # at most 1024
    return content, fit(embed)


def thread_name(post: PostRow) -> str:
    """A thread's or forum post's name: the post's title as typed (Discord shows names without
    markdown), with no pings or invisible tricks, at most 100 characters, never empty."""
    name = truncate(plain_text(post.title), THREAD_NAME_MAX).strip()
    if name.replace("\u200b", "").strip():
        return name
    author = post.author if is_account(post.author) else "someone"
    return truncate(f"A review by @{author}", THREAD_NAME_MAX)


def forum_tags(available: Sequence[tuple[int, str]], post: PostRow) -> list[int]:
    """The ids of a forum's tags (id, name) that name the post's series or one of its tags, compared
    by series key ("Metallic Rouge" = #metallicrouge = "metallic-rouge"); series first, at most 5."""
    series = post.series_key or (series_key(post.series) if post.series else "")
    tag_keys = {k for k in (series_key(t) for t in post.tags) if k}
    first: list[int] = []
    then: list[int] = []
    for tag_id, name in available:
        key = series_key(name)
        if not key or tag_id in first or tag_id in then:
            continue
        if key == series:
            first.append(tag_id)
        elif key in tag_keys:
            then.append(tag_id)
    return (first + then)[:FORUM_TAGS_MAX]


def more_replies_text(post: PostRow, count: int) -> str:
    """The line that stands for a burst's replies past the thread's share (a few dozen characters)."""
    url = safe_url(post.url)
    where = f" <{url}>" if url else ""
    noun = "reply" if count == 1 else "replies"
    return f"\N{HEAVY PLUS SIGN} {count} more {noun} to this post on Hive, not shown here one by one:{where}"
