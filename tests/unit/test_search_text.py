"""search_text leaves ASCII symbols for unicode61 to split on: the index must get the same words at
the same positions as from the old cleaning (every non-word character a space), or the deletes of
an edit would not match what an older index holds."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

from bot.store.db import search_text

# The cleaning every index before this change was built with.
_OLD = re.compile(r"[^\w\s\u0300-\u036f]+")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hive"

# Characters that tell the two apart if anything does: ASCII symbols and controls, accents alone and
# combined, letters and digits of many scripts, emoji old and new, joiners and format characters,
# tag characters, private use, unassigned code points.
_ALPHABET = [
    *map(chr, range(0x00, 0x80)),
    *"áéíóúñçßøœÆĳǅ…—–“”‘’«»¿¡€£©®°×÷•·",
    *map(chr, range(0x0300, 0x0370, 7)),
    *"абвгдЖЩΣσςאבגابتअआक्षকা日本語漢字ひらがなカタカナ한국어ไทย",
    *"٣۴०১๓",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f", "\u20e3",
    *"🤖🙏✨⚠★🫠🪿🧑‍🚀",
    "\U000e0041", "\U000e007f", "\ue000", "\U000f0000", "\u0378", "\U0001fbff",
    *"_-'.,:;!?/\\@#$%^&*()[]{}<>|~`\"+= \t\n",
]  # fmt: skip


def _index(conn: sqlite3.Connection, table: str, texts: list[str], clean: object) -> list[tuple[object, ...]]:
    conn.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2', prefix = '4 5')"
    )
    conn.execute(f"CREATE VIRTUAL TABLE {table}_words USING fts5vocab ({table}, 'instance')")
    assert callable(clean)
    conn.executemany(f"INSERT INTO {table} (rowid, body) VALUES (?, ?)", [(i, clean(t)) for i, t in enumerate(texts)])
    return conn.execute(f"SELECT term, doc, col, offset FROM {table}_words ORDER BY doc, offset, term").fetchall()


def _corpus() -> list[str]:
    rng = random.Random(11)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    # Words glued by every symbol, and real bodies: the seed review, its edit and its replies.
    texts += [f"word{ch}glued {ch}lead trail{ch}" for ch in _ALPHABET]
    for path in sorted(FIXTURES.rglob("*.json")):
        texts += [v for v in _strings(json.loads(path.read_text(encoding="utf-8"))) if len(v) > 20]
    return texts


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_index_gets_the_same_words_at_the_same_places_as_from_the_old_cleaning() -> None:
    texts = _corpus()
    assert len(texts) > 3100
    conn = sqlite3.connect(":memory:")
    old = _index(conn, "old", texts, lambda t: _OLD.sub(" ", t) if t else "")
    new = _index(conn, "new", texts, search_text)
    assert len(old) > 10_000
    assert new == old


def test_the_old_index_forgets_a_text_given_back_through_the_new_cleaning() -> None:
    # An edit of a post indexed before the change deletes what search_text now gives.
    texts = _corpus()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5 (body, content = '', tokenize = 'unicode61 remove_diacritics 2')")
    conn.executemany(
        "INSERT INTO fts (rowid, body) VALUES (?, ?)", [(i, _OLD.sub(" ", t)) for i, t in enumerate(texts)]
    )
    conn.executemany(
        "INSERT INTO fts (fts, rowid, body) VALUES ('delete', ?, ?)", [(i, search_text(t)) for i, t in enumerate(texts)]
    )
    conn.execute("CREATE VIRTUAL TABLE fts_words USING fts5vocab (fts, 'row')")
    # A word the delete did not give back would stay listed.
    assert conn.execute("SELECT term FROM fts_words LIMIT 5").fetchall() == []


def test_symbols_beyond_ascii_still_split_words() -> None:
    assert search_text("🫠Mars…and—more") == " Mars and more"
    assert search_text("plain, ascii: kept") == "plain, ascii: kept"
    assert search_text("café\u0301") == "café\u0301"
    assert search_text(None) == "" and search_text("") == ""
