"""User text into FTS5: anything typed is searched as text, never parsed as syntax."""

from __future__ import annotations

import random
import re
import sqlite3

import pytest

from bot.search.query import fts_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mars machines", '"mars" "machines"'),
        ('"mars machines"', '"mars machines"'),
        ('"unbalanced', '"unbalanced"'),
        ("metal*", '"metal"*'),
        ("m*", '"m"'),  # one-letter prefixes would match half the index
        ("NEAR(", '"NEAR"'),
        ("*", None),
        ("", None),
        ("   -  ", None),
        ("'; DROP TABLE posts; --", '"DROP" "TABLE" "posts"'),
        ("title:mars", '"title" "mars"'),
        ("Pokémon", '"Pokémon"'),
        ("spy × family", '"spy" "family"'),
        ("進撃の巨人", '"進撃の巨人"'),
    ],
)
def test_fts_query(text: str, expected: str | None) -> None:
    assert fts_query(text) == expected


def index(*docs: tuple[str, str]) -> sqlite3.Connection:
    """An FTS5 table with the store's tokenizer and two of its columns: (title, body) per row, ids from 1."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO t (title, body) VALUES (?, ?)", docs)
    return conn


def hits(conn: sqlite3.Connection, text: str) -> set[int]:
    query = fts_query(text)
    if query is None:
        return set()
    return {rowid for (rowid,) in conn.execute("SELECT rowid FROM t WHERE t MATCH ? ", (query,))}


# Each text is FTS5 syntax if read as a query; searched as text, it finds exactly the documents
# holding its words. `found` are the rows that hold every word; `missed` would match only if some
# word were taken as an operator (OR, NOT, NEAR, ^, a column filter) or dropped.
@pytest.mark.parametrize(
    ("text", "found", "missed"),
    [
        ("a AND", ("", "a and b"), ("", "a b")),
        ("x OR y", ("", "x or y"), ("", "x only")),
        ("OR OR", ("", "or else"), ("", "else")),
        ("NOT x", ("", "not x"), ("", "x y")),
        ("x NOT y", ("", "x not y"), ("", "x z")),
        ("x NEAR/2 y", ("", "x near 2 y"), ("", "x a y")),
        ("NEAR(x y)", ("", "near x y"), ("", "x y")),
        ("^foo", ("", "bar foo"), ("", "bar")),  # ^ would anchor foo to the start and miss row 1
        ("{title}: x", ("", "title x"), ("x", "other")),  # a column filter would match row 2 by its title
        ("title:x", ("", "title x"), ("x", "other")),
        ("x -y", ("", "x y"), ("", "x")),
        ("a\x00b", ("", "a b"), ("", "a")),
        ("x + y", ("", "x y"), ("", "y")),
        ("(x", ("", "x"), ("", "y")),
        ('"a b" c', ("", "a b c"), ("", "b a c")),  # a phrase keeps its order
        ("mars*", ("", "marshmallow"), ("", "mar")),
    ],
)
def test_operators_are_searched_as_words(text: str, found: tuple[str, str], missed: tuple[str, str]) -> None:
    conn = index(found, missed)
    assert hits(conn, text) == {1}, fts_query(text)


@pytest.mark.parametrize("text", ['"', '""', '"*"', "*", "^", "-", "()", "{}:", "\x00", "   "])
def test_nothing_searchable_is_no_query_and_finds_nothing(text: str) -> None:
    assert fts_query(text) is None
    assert hits(index(("", text), ("anything", "at all")), text) == set()


# Pieces of FTS5 syntax, SQL and words; random texts made of them must run and find themselves.
PIECES = ['"', "*", "(", ")", "{", "}", ":", "^", "+", "-", "AND", "OR", "NOT", "NEAR", "NEAR/3", ",", "'",
          ";", "--", "title", "body", "mars", "é", "Pokémon", "×", "進撃", "\x00", " ", " ", " ", "x1"]  # fmt: skip


def test_any_typed_text_runs_and_finds_a_review_containing_it() -> None:
    rnd = random.Random(20261125)
    texts = ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 12))) for _ in range(1500)]
    conn = index(*((text, "") for text in texts))
    searched = 0
    for row, text in enumerate(texts, start=1):
        query = fts_query(text)
        if query is None:
            continue
        # Only quoted terms, each optionally a prefix: nothing in the query is left to parse as syntax.
        assert re.fullmatch(r'"[^"]+"\*?( "[^"]+"\*?)*', query), (text, query)
        found = hits(conn, text)  # raises sqlite3.OperationalError on a syntax error
        assert row in found, (text, query)
        searched += 1
    assert searched > 1000


def test_fold_is_the_character_table_over_mixed_text() -> None:
    # fold() lowers ASCII runs and translates only the rest: the same as the table on every character.
    from bot.search.query import _FOLD, fold

    rng = random.Random(2)
    chars = [chr(c) for c in range(0x3100) if not 0xD800 <= c <= 0xDFFF] + ["𝔄", "🤖", "İ", "ẞ", "K"]
    texts = ["".join(rng.choice(chars) if rng.random() < 0.3 else chr(rng.randrange(128)) for _ in range(40))]
    texts += ["Pokémon Re:Zero − ÉTÉ", "plain ascii", "", "ÀÉÎÕÜ"] + [
        "".join(rng.sample(chars, 60)) for _ in range(300)
    ]
    for text in texts:
        assert fold(text) == "".join(_FOLD[ord(c)] for c in text) and len(fold(text)) == len(text)
