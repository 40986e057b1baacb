"""User text into FTS5: anything typed is searched as text, never parsed as syntax."""

from __future__ import annotations

import sqlite3

import pytest

from bot.search import fts_query


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


@pytest.mark.parametrize(
    "text", ['"', '""', '"*"', "a AND", "OR OR", "NOT x", "x NEAR/2 y", "^foo", "{title}: x", "a\x00b", "é" * 600]
)
def test_every_query_is_valid_fts5(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('hello world')")
    query = fts_query(text)
    if query is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()
