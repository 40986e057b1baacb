"""Search on PostgreSQL: the twin of PostTables.search_ids (bot/store/posts.py) over the posts' `search` column.

Takes the FTS5 expression bot/search/query.fts_query builds (quoted words ANDed, a trailing * for a
prefix) and never reads it as tsquery syntax: each term's words go to PostgreSQL as a parameter, through
phraseto_tsquery, or, for a prefix, as one quoted lexeme (letters and digits only) with :*.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

# As bot.store.posts.SEARCH_WINDOW (a test keeps them equal; importing it here would be a cycle once
# posts.py asks this module for PostgreSQL's search).
SEARCH_WINDOW = 1000
# ts_rank_cd's weights for D (body), C (tags), B (series), A (title): the ratios of SQLite's bm25
# column weights 1, 3, 6, 10.
_WEIGHTS = "'{0.1, 0.3, 0.6, 1.0}'::float4[]"
# Divided by the document's length, as bm25 weighs a word in a short review above one in a long one:
# on tests/unit/test_pg_search.py's seed, 90% of SQLite's top 10 (9 of 11 first places), against 21%
# without it (docs/postgresql.md, section 5).
_NORMALIZATION = 2
# A quoted FTS5 string with an optional prefix star, or anything else between spaces and quotes.
_TERM = re.compile(r'"(?P<quoted>[^"]*)"(?P<star>\*)?|(?P<bare>[^\s"]+)')
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as bot/search/query.WORD
_MAX_TERMS = 16  # as bot/search/query.MAX_TERMS


class Fetcher(Protocol):
    """What search needs of a connection: asyncpg's fetch (a Connection or a pool's proxy)."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


def parse(expression: str) -> list[tuple[tuple[str, ...], bool]]:
    """(words, prefix) of each ANDed term of an FTS5 expression as fts_query builds it.

    Anything else is read as words too (letters and digits only), so no input can become syntax;
    a bare word ending in * is a prefix, as it is once fts_query has quoted it.
    """
    found: list[tuple[tuple[str, ...], bool]] = []
    for match in _TERM.finditer(expression):
        text = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        words = tuple(_WORD.findall(text))
        prefix = bool(match.group("star")) or (match.group("bare") or "").endswith("*")
        if words:
            # A prefix applies to the last word; a phrase with a prefix keeps its words in a row.
            found.append((words, prefix))
        if len(found) >= _MAX_TERMS:
            break
    return found


def tsquery(terms: list[tuple[tuple[str, ...], bool]], first: int) -> tuple[str, list[str]]:
    """SQL for the tsquery of `terms` (ANDed), with its parameters numbered from `first`.

    The SQL's shape depends only on how many terms there are and which are prefixes; what was
    typed is only ever a parameter, folded by search_text() as the index is.
    """
    parts: list[str] = []
    args: list[str] = []

    def param(text: str) -> str:
        args.append(text)
        return f"search_text(${first + len(args) - 1})"

    for words, prefix in terms:
        if not prefix:
            parts.append(f"phraseto_tsquery('simple', {param(' '.join(words))})")
            continue
        # The prefix word as one quoted lexeme with :* (quote_literal of letters and digits only).
        last = f"to_tsquery('simple', quote_literal({param(words[-1])}) || ':*')"
        if len(words) > 1:  # a phrase whose last word is a prefix: its words in a row
            last = f"(phraseto_tsquery('simple', {param(' '.join(words[:-1]))}) <-> {last})"
        parts.append(last)
    return " && ".join(parts), args


async def search_ids(
    conn: Fetcher,
    query: str | None,
    *,
    author: str | None = None,
    series_key: str | None = None,
    community: str | None = None,
    newest_first: bool = False,
    window: int = SEARCH_WINDOW,
) -> tuple[list[int], bool]:
    """Ids of the live posts matching an FTS5 expression (None: every post) and the filters, best match
    first (ts_rank_cd: title > series > tags > body) or newest first; at most `window` of them, and
    whether more matched.

    As on SQLite, only the newest `window + 1` matches are read and only those are ranked: a common
    word's tens of thousands of matches are never all scored to show five.
    """
    where = ["p.deleted = 0"]
    args: list[Any] = []
    for column, value in (("community", community), ("author", author), ("series_key", series_key)):
        if value:
            args.append(value)
            where.append(f"p.{column} = ${len(args)}")
    terms = parse(query) if query is not None else []
    if query is not None and not terms:
        return [], False  # nothing searchable in it: no match (fts_query hands over None instead)
    expression = ""
    if terms:
        expression, term_args = tsquery(terms, len(args) + 1)
        # A sub-select is computed once per search (an init plan) and can drive the GIN index; as a
        # plain expression a generic plan would fold and parse the words again for every post.
        expression = f"SELECT {expression}"
        args += term_args
        where.append(f"p.search @@ ({expression})")
    args.append(window + 1)
    newest = f"SELECT p.id FROM posts p WHERE {' AND '.join(where)} ORDER BY p.id DESC LIMIT ${len(args)}"
    if newest_first or not terms:
        rows = await conn.fetch(newest, *args)
    else:
        # Ranked after the window is cut, so only its rows are scored; ties go to the newer post.
        rows = await conn.fetch(
            f"SELECT n.id FROM ({newest}) AS n JOIN posts r ON r.id = n.id"
            f" ORDER BY ts_rank_cd({_WEIGHTS}, r.search, ({expression}), {_NORMALIZATION}) DESC, n.id DESC",
            *args,
        )
    ids = [int(row["id"]) for row in rows]
    more = len(ids) > window
    if more:
        ids.remove(min(ids))  # the window is the newest `window` matches
    return ids, more
