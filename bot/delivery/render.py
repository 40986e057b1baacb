"""Discord embeds for posts, votes and badges: untrusted chain text made inert and kept within limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import discord

from bot.domain import VOTE_STATE_WORDS, Badge, CastVote, PostRow
from bot.hive.names import is_account
from bot.search.query import SearchHit, SearchPage, SearchRequest, terms
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
from bot.text.safe import neutralise, plain_excerpt, plain_text, safe_url, truncate

EXCERPT_CHARS = 400
TAGS_SHOWN = 8
HIVE_RED = discord.Colour(0xE31337)


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
        description = "The community's moderators muted this post on Hive."
        notes = " ".join(muted.split())
        if notes:
            description += f"\nTheir notes: {neutralise(truncate(notes, MUTE_NOTES_SHOWN))}"
        return fit(discord.Embed(title="Post muted", description=description, colour=discord.Colour.dark_grey()))
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


# --------------------------------------------------------------------------------------------
# /search result pages

RESULT_TITLE_CHARS = 120
RESULT_EXCERPT_CHARS = 240
# Private-use stand-ins for the \x02 .. \x03 match marks while the text is made safe: they pass
# neutralise() untouched and cannot come from the input (stripped first).
_MARK_OPEN = "\ue010"
_MARK_CLOSE = "\ue011"
_MARKS = str.maketrans("", "", _MARK_OPEN + _MARK_CLOSE)
_SORT_WORDS = {"relevance": "best match first", "newest": "newest first"}
_BRACKETS = str.maketrans("[]", "()")
# A bare URL as neutralise() leaves it, match marks included.
_URL_IN_MARKED = re.compile(r"https?://[^\s<]+")
_ANY_MARK = re.compile(f"[{_MARK_OPEN}{_MARK_CLOSE}]")
_LINK_BREAKERS = re.compile(r"[()<>\s]")  # characters that would end a markdown link's target early


def _balanced_marks(text: str) -> str:
    """Keeps only properly paired, non-empty match marks; a mark cut off by an excerpt is dropped."""
    out: list[str] = []  # text between marks, and the marks kept
    open_at = -1
    pos = 0
    # Mark by mark, not character by character: a page has ten excerpts of ~300 characters.
    for mark in _ANY_MARK.finditer(text):
        out.append(text[pos : mark.start()])
        pos = mark.end()
        if mark.group() == _MARK_OPEN:
            if open_at < 0:
                open_at = len(out)
                out.append(_MARK_OPEN)
        elif open_at >= 0:
            if not "".join(out[open_at + 1 :]).strip():
                del out[open_at]  # nothing between the marks: no bold
            else:
                out.append(_MARK_CLOSE)
            open_at = -1
    out.append(text[pos:])
    if open_at >= 0:
        del out[open_at]
    # "**a****b**" would not render as two bold words: adjacent matches become one.
    return "".join(out).replace(_MARK_CLOSE + _MARK_OPEN, "")


def highlight(excerpt: str, limit: int = RESULT_EXCERPT_CHARS) -> str:
    """A search excerpt (matches between \\x02 and \\x03) as safe Discord text, matches in bold.

    The marks become private-use characters, the text is cut and neutralised with them in it (so
    user text cannot add markdown of its own), and only then do the marks become "**".
    """
    if not isinstance(excerpt, str):
        return ""
    text = excerpt.translate(_MARKS).replace("\x02", _MARK_OPEN).replace("\x03", _MARK_CLOSE)
    # A match inside a bare URL is not emphasised: "**" in it would break the link.
    text = _URL_IN_MARKED.sub(lambda m: m.group(0).translate(_MARKS), text)
    text = truncate(" ".join(_balanced_marks(text).split()), limit)
    text = _balanced_marks(neutralise(text))
    return text.replace(_MARK_OPEN, "**").replace(_MARK_CLOSE, "**")


def _result_block(number: int, hit: SearchHit, excerpt_chars: int) -> str:
    post = hit.post
    # Brackets would end the link text early; they are decoration in a title anyway. A URL in the
    # title is escaped whole like the rest (link text makes no links of its own, and the escapes do
    # not show), and its "://" broken: a link's text must not pose as a URL.
    label = neutralise(truncate(" ".join(post.title.split()), RESULT_TITLE_CHARS).translate(_BRACKETS), urls=False)
    label = label.replace("://", ":\u200b//") or "(untitled)"
    url = safe_url(post.url)
    heading = f"**{number}. [{label}]({url})**" if url and not _LINK_BREAKERS.search(url) else f"**{number}. {label}**"
    facts = [f"@{neutralise(post.author)}"]
    if post.series:
        facts.append(neutralise(post.series))
    facts.append(post.created_at[:10])
    if hit.discuss and not _LINK_BREAKERS.search(hit.discuss):
        facts.append(f"[Discuss]({hit.discuss})")
    lines = [heading, " · ".join(facts)]
    excerpt = highlight(hit.excerpt, excerpt_chars) if excerpt_chars > 0 else ""
    if excerpt:
        lines.append(excerpt)
    return "\n".join(lines)


def with_discuss_link(embed: discord.Embed, discuss: str | None) -> discord.Embed:
    """A review's embed with a "Discuss" link to its thread, when it has one."""
    if discuss:
        embed.add_field(name="Discuss", value=f"[In its thread]({discuss})", inline=False)
    return fit(embed)


def search_filters(request: SearchRequest) -> list[str]:
    """The filters of a search as short phrases, for the footer: "by @reader01", "Metallic Rouge"."""
    parts = []
    if request.author:
        parts.append(f"by @{request.author}")
    if request.series:
        parts.append(f"series {request.series}")
    if request.community:
        parts.append(f"in {request.community}")
    return parts


def search_page_embed(
    request: SearchRequest, page: SearchPage, *, suggestions: Sequence[str] = (), page_size: int = 5
) -> discord.Embed:
    """One page of /search results (or the "nothing found" answer), within Discord's limits."""
    # Text with nothing searchable in it ("*", "-") lists the newest reviews, as the search does.
    query = " ".join(request.text.split()) if terms(request.text) else ""
    shown = neutralise(truncate(query, 80))
    if not page.hits:
        return _no_results_embed(shown, neutralise(" · ".join(search_filters(request))), page, suggestions)
    pages = max(1, -(-page.total // page_size))
    number = page.offset // page_size + 1
    title = f"Reviews matching “{shown}”" if query else "Newest reviews"
    embed = discord.Embed(title=truncate(title, TITLE_MAX), colour=HIVE_RED)
    if not page.more:
        counted = f"{page.total:,} review{'s' if page.total != 1 else ''}"
    elif query and request.sort == "relevance":
        counted = f"over {page.total:,} reviews; the newest {page.total:,} ranked"
    else:
        counted = f"over {page.total:,} reviews; the newest {page.total:,} shown"
    # Footers show no markdown, so the filters go in as typed (and cannot ping from there either).
    footer = " · ".join([f"Page {number} of {pages}", counted, _SORT_WORDS[request.sort] if query else "newest first"])
    footer += "".join(f" · {plain_text(part)}" for part in search_filters(request))
    embed.set_footer(text=truncate(footer, FOOTER_MAX))
    budget = DESCRIPTION_MAX
    excerpt_chars = RESULT_EXCERPT_CHARS
    # Shrink the excerpts until the whole page fits: fit() cutting a link or bold in half would show.
    while True:
        blocks = [_result_block(page.offset + i + 1, hit, excerpt_chars) for i, hit in enumerate(page.hits)]
        description = "\n\n".join(blocks)
        if len(description) <= budget or excerpt_chars == 0:
            break
        excerpt_chars = excerpt_chars // 2 if excerpt_chars > 30 else 0
    embed.description = description
    return fit(embed)


def _no_results_embed(shown: str, filters: str, page: SearchPage, suggestions: Sequence[str]) -> discord.Embed:
    if page.offset and page.total:
        text = "That page is past the last result; go back to the first page."
    elif shown:
        text = f"No review matches **{shown}**" + (f" with these filters ({filters})." if filters else ".")
    else:
        text = "No review matches these filters." if filters else "Nothing is stored yet."
    if suggestions:
        names = ", ".join(f"**{neutralise(s)}**" for s in suggestions)
        text += f"\nDid you mean {names}? Search for the series name, or pick it in the `series` option."
    elif shown:
        text += "\nTry fewer or shorter words, or a prefix such as `metal*`."
    return fit(discord.Embed(title="No results", description=text, colour=discord.Colour.light_grey()))
