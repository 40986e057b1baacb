"""Discord embeds for posts, votes and badges: untrusted chain text made inert and kept within limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import discord

from bot.domain import VOTE_STATE_WORDS, Badge, CastVote, PostRow
from bot.hive.names import is_account
from bot.text.embeds import HIVE_RED, fit
from bot.text.limits import TITLE_MAX
from bot.text.safe import neutralise, plain_excerpt, plain_text, safe_url, truncate

EXCERPT_CHARS = 400
TAGS_SHOWN = 8


def chain_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)
    except ValueError:
        return None


def account_url(account: str) -> str | None:
    return f"https://hive.blog/@{account}" if is_account(account) else None


def avatar_url(account: str) -> str | None:
    return f"https://images.hive.blog/u/{account}/avatar" if is_account(account) else None


def _safe_title(text: str) -> str:
    # Titles render markdown in embeds but make no links, so a URL in one is escaped like the rest
    # (the backslashes do not show); neutralise before cutting so the escapes count too.
    return truncate(neutralise(" ".join(text.split()), urls=False) or "(untitled)", TITLE_MAX)


def post_embed(post: PostRow, community_title: str | None = None, *, preview: bool = False) -> discord.Embed:
    """The mirror of a review: title linking to it, author, cover, excerpt, series, tags, votes."""
    embed = discord.Embed(
        title=_safe_title(post.title),
        url=safe_url(post.url),
        description=neutralise(plain_excerpt(post.body, EXCERPT_CHARS)) or None,
        colour=HIVE_RED,
        timestamp=chain_time(post.created_at),
    )
    embed.set_author(name=f"@{plain_text(post.author)}", url=account_url(post.author), icon_url=avatar_url(post.author))
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
    # Footers and author names show text as typed (no markdown): plain, never escaped.
    footer = plain_text(community_title or post.community)
    if post.edits:
        footer += " · edited"
    if preview:
        footer = "Preview · " + footer
    embed.set_footer(text=footer)
    return fit(embed)


MUTE_NOTES_SHOWN = 300


def tombstone_embed(post: PostRow, *, muted: str | None = None) -> discord.Embed:
    """What stands in for a post gone from Hive: deleted by its author, or muted by the community's
    moderators (`muted`: their notes, untrusted, shown inert on one line)."""
    if muted is not None and not post.deleted:
        # Which message this was: the title made safe, and the author (their name, not their words).
        author = neutralise("@" + post.author)
        description = f"The community's moderators muted **{_safe_title(post.title)}** by {author} on Hive."
        notes = " ".join(muted.split())
        if notes:
            description += f"\nTheir notes: {neutralise(truncate(notes, MUTE_NOTES_SHOWN))}"
        embed = discord.Embed(title="Post muted", description=description, colour=discord.Colour.dark_grey())
        embed.set_author(name=f"@{plain_text(post.author)}", url=account_url(post.author))
        return fit(embed)
    embed = discord.Embed(
        title="Post deleted",
        description=f"@{post.author} deleted this post on Hive.",
        colour=discord.Colour.dark_grey(),
        timestamp=chain_time(post.updated_at),
    )
    return fit(embed)


def votes_embed(post: PostRow, voters: Sequence[tuple[str, int]], *, pressed_by: int | None = None) -> discord.Embed:
    """One curator vote (with the member who pressed Upvote for it, if one did), or the votes gathered
    for a post over a window."""
    # Every chain-supplied piece is neutralised on its own; the bold around the title is ours.
    names = ", ".join(f"@{neutralise(v)} ({w / 100:g}%)" for v, w in voters)
    if len(voters) == 1:
        voter, weight = voters[0]
        description = f"@{neutralise(voter)} upvoted **{_safe_title(post.title)}** at {weight / 100:g}%."
        if pressed_by is not None:
            description += f" Curated from Discord by <@{pressed_by}>."
    else:
        description = f"{len(voters)} upvotes on **{_safe_title(post.title)}**: {names}"
    embed = discord.Embed(description=description, colour=discord.Colour.green(), url=safe_url(post.url))
    embed.set_author(name=f"Votes on @{plain_text(post.author)}'s post", url=safe_url(post.url))
    return fit(embed)


def audit_embed(vote: CastVote, post: PostRow | None) -> discord.Embed:
    """A vote made from Discord, for the server's audit channel: who pressed, what, and what came of it."""
    title = _safe_title(post.title) if post is not None else neutralise(vote.permlink)
    outcome = VOTE_STATE_WORDS[vote.state]
    lines = [
        f"<@{vote.user_id}> voted **{title}** by @{neutralise(vote.author)} at {vote.weight / 100:g}%"
        f" as @{neutralise(vote.voter)}: **{outcome}**.",
        f"Transaction `{vote.trx_id}`",
    ]
    if vote.state == "failed" and vote.error:
        lines.append(f"Why: {neutralise(vote.error)}")
    colour = discord.Colour.green() if vote.state == "landed" else discord.Colour.red()
    url = safe_url(post.url) if post is not None else None
    embed = discord.Embed(title="Curation vote", description="\n".join(lines), colour=colour, url=url)
    return fit(embed)


def badge_embed(badge: Badge) -> discord.Embed:
    recipient = badge.recipient
    embed = discord.Embed(
        title=truncate(f"New HiveBuzz badge for @{recipient}", TITLE_MAX),
        url=f"https://hivebuzz.me/@{recipient}" if is_account(recipient) else None,
        description=neutralise(badge.achievement) or None,
        colour=discord.Colour.gold(),
    )
    image = safe_url(badge.image_url)
    if image and image.startswith("https://"):
        embed.set_thumbnail(url=image)
    if badge.next_target:
        embed.add_field(name="Next target", value=neutralise(badge.next_target), inline=False)
    embed.set_footer(text=f"badge: {plain_text(badge.badge)}")
    return fit(embed)


def role_ping(role_id: int | None, author_id: int | None = None) -> tuple[str | None, discord.AllowedMentions]:
    """The message content and the only mentions it may make: the feed's role and the post's author
    (the member linked to the Hive account), either, or nothing."""
    parts = [f"<@&{role_id}>"] if role_id is not None else []
    if author_id is not None:
        parts.append(f"New post by <@{author_id}>")
    mentions = discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(author_id)] if author_id is not None else False,
        roles=[discord.Object(role_id)] if role_id is not None else False,
        replied_user=False,
    )
    return (" ".join(parts) or None), mentions


def with_discuss_link(embed: discord.Embed, discuss: str | None) -> discord.Embed:
    """A review's embed with a "Discuss" link to its thread, when it has one."""
    if discuss:
        embed.add_field(name="Discuss", value=f"[In its thread]({discuss})", inline=False)
    return fit(embed)
