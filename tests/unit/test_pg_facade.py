"""The PostgreSQL façade's pure parts: placeholders, SQLite-like parameter types, row counts."""

from __future__ import annotations

import pytest

from bot.store.postgres.facade import coerce, placeholders, status_count


def test_question_marks_are_numbered_outside_string_literals() -> None:
    sql, names = placeholders("SELECT ? FROM t WHERE a = '?' AND b = ? AND c = 'it''s ?' AND d = ?", named=False)
    assert sql == "SELECT $1 FROM t WHERE a = '?' AND b = $2 AND c = 'it''s ?' AND d = $3"
    assert names == ()


def test_named_parameters_share_a_number_and_casts_are_left_alone() -> None:
    sql, names = placeholders("SELECT :guild::text, x FROM t WHERE g = :guild AND n > :now AND s = ':no'", named=True)
    assert sql == "SELECT $1::text, x FROM t WHERE g = $1 AND n > $2 AND s = ':no'"
    assert names == ("guild", "now")


@pytest.mark.parametrize(
    ("value", "kind", "wanted"),
    [
        (5, "text", "5"),
        ("a\x00b", "text", "ab"),  # PostgreSQL's text cannot hold NUL; SQLite's can
        ("12", "int8", 12),
        (True, "int2", 1),
        (3, "float8", 3.0),
        (None, "int8", None),
        (1, "bool", True),
        ([1, 2], "_int8", [1, 2]),
    ],
)
def test_parameters_take_the_columns_type_as_sqlite_would(value: object, kind: str, wanted: object) -> None:
    got = coerce(value, kind)
    assert got == wanted and type(got) is type(wanted)


def test_rows_touched_come_from_the_status() -> None:
    assert status_count("UPDATE 3") == 3
    assert status_count("INSERT 0 1") == 1
    assert status_count("DELETE 0") == 0
    assert status_count("") == 0
