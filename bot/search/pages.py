"""/search result pages as embeds: each hit titled, with its facts and its matches in bold, within limits."""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.search.query import SearchHit, SearchPage, SearchRequest, terms
from bot.text.embeds import HIVE_RED, fit
from bot.text.limits import DESCRIPTION_MAX, FOOTER_MAX, TITLE_MAX
from bot.text.safe import neutralise, plain_text, safe_url, truncate

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
