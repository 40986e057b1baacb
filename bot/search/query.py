"""What a search means: user text as a safe FTS5 query, the page of hits, and an excerpt of each.

Shared by /search and `hivecord search`, so both find the same reviews in the same order.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.domain import PostRow
from bot.hive.names import account_name
from bot.series.detect import series_key
from bot.store.store import Store
from bot.text.safe import plain_excerpt

log = logging.getLogger("hivecord.search")

Sort = Literal["relevance", "newest"]

# A quoted phrase (closing quote optional: an unbalanced quote still searches), or a word with an
# optional trailing * for a prefix search. Everything else (operators, brackets, SQL) is not syntax.
_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<word>[^\W_]+)(?P<star>\*)?', re.UNICODE)
WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits: a word, here and in the name catalogs
MAX_TERMS = 16
# A prefix expands to every indexed word starting with it, and FTS5 merges all their lists: "cha*"
# reads most of the index (250 ms over 100,000 reviews). Shorter prefixes search the word as typed.
MIN_PREFIX = 4


@dataclass(frozen=True, slots=True)
class Term:
    """One ANDed part of a query: a word, a phrase (several words in a row) or a word prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        # Words are letters and digits only, so quoting them cannot fail or turn into syntax.
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")


def terms(text: str) -> list[Term]:
    """The searchable terms of whatever was typed; operators, brackets and SQL are not syntax here."""
    found: list[Term] = []
    # NFC first: a decomposed "é" would otherwise split "Pokémon" into two words.
    for match in _TOKEN.finditer(unicodedata.normalize("NFC", text[:500])):
        phrase = match.group("phrase")
        if phrase is not None:
            words = WORD.findall(phrase)
            if words:
                found.append(Term(tuple(words)))
        elif match.group("word"):
            word = match.group("word")
            found.append(Term((word,), prefix=bool(match.group("star")) and len(word) >= MIN_PREFIX))
        if len(found) >= MAX_TERMS:
            break
    return found


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression of quoted terms ANDed together, or None when nothing is searchable.

    Every term is emitted as an FTS5 string, so user text can never be read as an FTS5 operator
    (NEAR, NOT, column filters) or break the syntax.
    """
    found = terms(text)
    return " ".join(term.fts() for term in found) if found else None


# --------------------------------------------------------------------------------------------
# excerpts: the part of a review around what matched


class _FoldTable(dict[int, str]):
    """str.translate table folding each character to one lowercase, accentless character.

    One character for one keeps positions in the folded text equal to those in the original, so a
    match found in the folded text marks the same span of the original. Close to what the index's
    unicode61 tokenizer (remove_diacritics 2) does, which also folds character by character.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        folded = base.lower()[:1] or char
        self[code] = folded
        return folded


_FOLD = _FoldTable()
EXCERPT_CHARS = 300
_LEAD = 60  # characters of context kept before the first match
# Bodies up to this long are cleaned whole; in longer ones only the lines around the first match
# (Hive allows 64 KB, and cleaning costs ~0.2 ms per KB).
_WHOLE_BODY = 2000
_AROUND = 800


# Runs of characters outside ASCII: the only ones that need the table (for ASCII, folding is lower()).
_NOT_ASCII = re.compile(r"([^\x00-\x7f]+)")


def fold(text: str) -> str:
    # Most reviews are ASCII but for a few accents or symbols: translating only those runs through
    # the table, and lowering the rest, is five times faster than translating every character.
    if text.isascii():
        return text.lower()
    parts = _NOT_ASCII.split(text)
    parts[::2] = [part.lower() for part in parts[::2]]
    parts[1::2] = [part.translate(_FOLD) for part in parts[1::2]]
    return "".join(parts)


def _matcher(found: Sequence[Term]) -> re.Pattern[str] | None:
    """One regex over folded text for every term: group t<i> is term i, whole words only."""
    parts = []
    for i, term in enumerate(found):
        # Words are letters and digits ([^\W_]); in a phrase anything else may sit between them.
        body = r"[\W_]+".join(re.escape(fold(word)) for word in term.words)
        if term.prefix:
            body += r"[^\W_]*"
        parts.append(f"(?P<t{i}>{body})")
    return re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])") if parts else None


def _plain(body: str, matcher: re.Pattern[str] | None) -> str:
    if len(body) > _WHOLE_BODY:
        # Whole lines around the first match, so no markdown or tag is cut in half.
        hit = matcher.search(fold(body)) if matcher else None
        at = hit.start() if hit else 0
        start = body.rfind("\n", 0, max(0, at - _AROUND)) + 1
        end = body.find("\n", at + _AROUND)
        body = body[start : end if end >= 0 else len(body)]
    return " ".join(plain_excerpt(body, 2 * _WHOLE_BODY).split())


def excerpt(body: str, found: Sequence[Term], limit: int = EXCERPT_CHARS) -> str:
    """Plain text of the review around its best match, matches wrapped in \\x02 ... \\x03.

    "Best": the window of `limit` characters holding the most different terms, earliest first. A
    review matched only by its title, series or tags shows its start.
    """
    matcher = _matcher(found)
    text = _plain(body, matcher)
    spans: list[tuple[int, int, int]] = []  # (start, end, term index)
    if matcher is not None:
        for match in matcher.finditer(fold(text)):
            spans.append((match.start(), match.end(), int((match.lastgroup or "t0")[1:])))
    if not spans:
        return _window(text, 0, limit, [])
    return _window(text, max(0, _best_start(spans, limit - _LEAD) - _LEAD), limit, spans)


def _best_start(spans: Sequence[tuple[int, int, int]], reach: int) -> int:
    """Start of the first span whose next `reach` characters hold the most different terms."""
    counts: dict[int, int] = {}
    best_start, best = spans[0][0], 0
    right = 0
    for left, (start, _end, term) in enumerate(spans):
        right = max(right, left)
        while right < len(spans) and spans[right][1] <= start + reach:
            counts[spans[right][2]] = counts.get(spans[right][2], 0) + 1
            right += 1
        if len(counts) > best:
            best_start, best = start, len(counts)
        if right > left:  # this span was counted: it leaves the window now
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
    return best_start


def _window(text: str, start: int, limit: int, spans: Sequence[tuple[int, int, int]]) -> str:
    """text[start:start+limit] cut on spaces, with "…" where cut, and the spans inside marked."""
    if start > 0:
        space = text.find(" ", start, start + _LEAD)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + limit)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + limit // 2 else end
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for span_start, span_end, _t in sorted(spans):
        if span_start < pos or span_end > end:
            continue
        out += [text[pos:span_start], "\x02", text[span_start:span_end], "\x03"]
        pos = span_end
    out.append(text[pos:end])
    if end < len(text):
        out.append("…")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# the search


@dataclass(frozen=True, slots=True)
class SearchHit:
    post: PostRow
    # Plain text (markdown and HTML removed) around the match; matched words are wrapped in
    # \x02 ... \x03 for the renderer to emphasise.
    excerpt: str
    discuss: str | None = None  # the review's thread in the searcher's server, when it has one


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # matches listed (at most the store's window; see `more`)
    offset: int = 0
    more: bool = False  # even more matched than `total`


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every match of one search in order, as ids: paging through it is one small read per page."""

    ids: list[int]
    more: bool
    terms: tuple[Term, ...]


async def rank(
    store: Store,
    text: str,
    *,
    author: str | None = None,
    series: str | None = None,
    community: str | None = None,
    sort: Sort = "relevance",
) -> Ranking:
    """Every match in order. Text with nothing searchable in it ("*", "-") lists the newest posts."""
    found = terms(text)
    query = fts_query(text)
    key = series_key(series) if series else None
    ids, more = await store.posts.search_ids(
        query,
        author=account_name(author) if author else None,
        series_key=key or None,
        community=community.strip().lower() if community else None,
        newest_first=sort == "newest" or query is None,
    )
    return Ranking(ids, more, tuple(found))


async def fetch_page(
    store: Store, ranking: Ranking, *, offset: int = 0, limit: int = 5, guild_id: int | None = None
) -> SearchPage:
    offset = max(0, offset)
    posts = await store.posts.live_posts(ranking.ids[offset : offset + max(1, min(limit, 100))])
    threads = await store.replies.thread_links([p.id for p in posts], guild_id) if guild_id else {}
    hits = [SearchHit(post, excerpt(post.body, ranking.terms), threads.get(post.id)) for post in posts]
    return SearchPage(hits, len(ranking.ids), offset, ranking.more)


async def search(
    store: Store,
    text: str,
    *,
    author: str | None = None,
    series: str | None = None,
    community: str | None = None,
    sort: Sort = "relevance",
    limit: int = 5,
    offset: int = 0,
) -> SearchPage:
    ranking = await rank(store, text, author=author, series=series, community=community, sort=sort)
    return await fetch_page(store, ranking, offset=offset, limit=limit)


# --------------------------------------------------------------------------------------------
# what /search needs around the query: its request, authors, and series names to offer

PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One /search as typed: kept by the paginator so every page repeats the same search."""

    text: str
    author: str | None = None
    series: str | None = None
    community: str | None = None
    sort: Sort = "relevance"
