"""Turns whatever a user types into a safe FTS5 query; shared by /search and `hivecord search`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.series import series_key
from bot.store.store import PostRow, Store

Sort = Literal["relevance", "newest"]

# A quoted phrase (closing quote optional: an unbalanced quote still searches), or a word with an
# optional trailing * for a prefix search. Everything else (operators, brackets, SQL) is not syntax.
_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<word>[^\W_]+)(?P<star>\*)?', re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERMS = 16


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression of quoted terms ANDed together, or None when nothing is searchable.

    Every term is emitted as an FTS5 string, so user text can never be read as an FTS5 operator
    (NEAR, NOT, column filters) or break the syntax.
    """
    terms: list[str] = []
    for match in _TOKEN.finditer(text[:500]):
        phrase = match.group("phrase")
        if phrase is not None:
            words = _WORD.findall(phrase)
            if words:
                terms.append('"' + " ".join(words) + '"')
        elif match.group("word"):
            term = f'"{match.group("word")}"'
            if match.group("star") and len(match.group("word")) >= 2:
                term += "*"
            terms.append(term)
        if len(terms) >= MAX_TERMS:
            break
    return " ".join(terms) if terms else None


@dataclass(frozen=True, slots=True)
class SearchHit:
    post: PostRow
    excerpt: str  # matched words are wrapped in \x02 ... \x03 for the renderer to emphasise


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    total: int


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
    query = fts_query(text)
    key = series_key(series) if series else None
    hits, total = await store.search_posts(
        query,
        author=author.strip().lstrip("@").lower() if author else None,
        series_key=key or None,
        community=community.strip().lower() if community else None,
        newest_first=sort == "newest" or query is None,
        limit=max(1, min(limit, 100)),
        offset=max(0, offset),
    )
    return SearchPage([SearchHit(post, excerpt) for post, excerpt in hits], total)
