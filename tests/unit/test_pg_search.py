"""Search on PostgreSQL finds what SQLite's finds, ranks it close to it, and never raises on what is typed."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.search.query import fts_query
from bot.store.db import Database
from bot.store.posts import SEARCH_WINDOW, PostTables

asyncpg = pytest.importorskip("asyncpg", reason="PostgreSQL tests need asyncpg: pip install -e '.[test]'")

from bot.store.postgres import search  # noqa: E402  (after the skip)
from bot.store.postgres.migrate import migrate_postgres  # noqa: E402

AUTHORS = ["alice", "bob", "carol", "dave", "erin", "frank"]
COMMUNITIES = ["hive-100001", "hive-100002"]
SERIES = ["Frieren", "Metallic Rouge", "Spy x Family", None]
WORDS = [
    "review",
    "episode",
    "chainsaw",
    "machinist",
    "animation",
    "soundtrack",
    "pacing",
    "villain",
    "hero",
    "journey",
    "battle",
    "quiet",
    "rouge",
    "frieren",
    "elf",
    "mage",
    "android",
    "detective",
    "music",
    "colour",
    "story",
    "ending",
    "opening",
    "arc",
]
COLUMNS = "id, author, permlink, community, title, body, json_metadata, tags, series, series_key, image," \
    " created_block, created_at, updated_block, updated_at, deleted"  # fmt: skip


def seed_rows() -> list[tuple[Any, ...]]:
    """A few hundred posts, the same on both engines: random words (seeded), and a few chosen ones."""
    rng = random.Random(20)
    rows = []
    for i in range(1, 301):
        series = SERIES[i % len(SERIES)]
        title = " ".join(rng.sample(WORDS, 3)).title()
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
        tags = json.dumps(rng.sample(["anime", "review", "music", "mecha", "fantasy"], 2))
        rows.append([i, AUTHORS[i % len(AUTHORS)], f"p{i}", COMMUNITIES[i % 2], title, body, tags, series])
    chosen = {
        301: ("Pokémon Scarlet, a review", "The 🤖Mars base and café scenes; naïve but warm."),
        302: ('Quotes "and" back\\slashes', "Symbols & | ! ( ) : * everywhere; the end."),
        303: ("進撃の巨人 final season", "巨人 and more; Attack on Titan."),
        304: ("Machinists of Mars", "chainsaw machinist once more"),
        305: ("Deleted chainsaw", "a deleted post is never found"),
    }
    for i, (title, body) in chosen.items():
        rows.append([i, "zed", f"p{i}", COMMUNITIES[0], title, body, '["special"]', None])
    out = []
    for i, author, permlink, community, title, body, tags, series in rows:
        key = series.lower().replace(" ", "") if series else None
        at = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}"
        out.append(
            (i, author, permlink, community, title, body, "{}", tags, series, key, None, i, at, i, at, int(i == 305))
        )
    return out


@dataclass
class Engines:
    sqlite: PostTables
    pg: Any

    async def both(self, query: str | None, **options: Any) -> tuple[tuple[list[int], bool], tuple[list[int], bool]]:
        return (
            await self.sqlite.search_ids(query, **options),
            await search.search_ids(self.pg, query, **options),
        )


@pytest.fixture
async def engines(pg_url: str, tmp_path: Path) -> AsyncIterator[Engines]:
    rows = seed_rows()
    db = await Database.open(tmp_path / "search.sqlite")
    conn = await asyncpg.connect(pg_url)
    try:
        async with db.write() as lite:
            await lite.executemany(f"INSERT INTO posts ({COLUMNS}) VALUES ({', '.join('?' * 16)})", rows)
        await migrate_postgres(conn)
        await conn.executemany(
            f"INSERT INTO posts ({COLUMNS}) VALUES ({', '.join(f'${n}' for n in range(1, 17))})", rows
        )
        yield Engines(PostTables(db), conn)
    finally:
        await conn.close()
        await db.close()


def test_the_window_is_the_stores() -> None:
    assert search.SEARCH_WINDOW == SEARCH_WINDOW


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ('"mars" "machines"', [(("mars",), False), (("machines",), False)]),
        ('"metallic rouge"', [(("metallic", "rouge"), False)]),
        ('"machinist"*', [(("machinist",), True)]),
        ("'); DROP TABLE posts; --", [(("DROP",), False), (("TABLE",), False), (("posts",), False)]),
        ('" & | ! ( ) : * \\', []),
        ("chai* x", [(("chai",), True), (("x",), False)]),
    ],
)
def test_an_expression_is_read_as_words_only(text: str, expression: list[tuple[tuple[str, ...], bool]]) -> None:
    assert search.parse(text) == expression


async def test_the_same_posts_match_on_both_engines(engines: Engines) -> None:
    asked: list[tuple[str, dict[str, Any]]] = [
        ("chainsaw", {}),
        ("frieren", {}),
        ("machinist chainsaw", {}),
        ('"metallic rouge"', {}),
        ("mach*", {}),
        ("machi*", {"author": "bob"}),
        ("review", {"series": "Frieren"}),
        ("music", {"community": "hive-100002"}),
        ("pokemon", {}),  # accents folded as FTS5's remove_diacritics 2 folds them
        ("Pokémon café", {}),
        ("mars", {}),  # an emoji glued to a word does not hide it
        ("巨人", {}),
        ("special", {"author": "zed"}),
    ]
    for text, options in asked:
        key = options.pop("series", None)
        if key:
            options["series_key"] = key.lower()
        query = fts_query(text)
        (lite, lite_more), (pg, pg_more) = await engines.both(query, **options)
        assert set(pg) == set(lite) and pg_more == lite_more, (text, options)
        assert (await engines.both(query, newest_first=True, **options))[1][0] == sorted(lite, reverse=True)
    assert set((await engines.both(fts_query("pokemon")))[1][0]) == {301}
    assert set((await engines.both(fts_query("mars")))[1][0]) == {301, 304}
    assert (await engines.both(fts_query("chainsaw")))[1][0].count(305) == 0  # deleted posts are never found


async def test_the_window_and_more_match_sqlites(engines: Engines) -> None:
    for options in ({"window": 3}, {"window": 3, "newest_first": True}, {"window": 10, "author": "alice"}):
        lite, pg = await engines.both(fts_query("review"), **options)
        assert set(pg[0]) == set(lite[0]) and pg[1] == lite[1] is True, options
    lite, pg = await engines.both(None, window=2, series_key="frieren")
    assert pg == lite and pg[1] is True
    assert (await engines.both(None))[1][0][:3] == [304, 303, 302]  # 305 is deleted


async def test_ranking_is_close_to_sqlites(engines: Engines) -> None:
    """Title beats series beats tags beats body on both; the top of each list mostly agrees."""
    agree, compared, first = 0, 0, 0
    words = ["chainsaw", "frieren", "rouge", "music", "villain", "mecha", "review", "android", "quiet", "elf", "hero"]
    for word in words:
        (lite, _), (pg, _) = await engines.both(fts_query(word))
        top_lite, top_pg = set(lite[:10]), set(pg[:10])
        agree += len(top_lite & top_pg)
        compared += len(top_lite)
        first += lite[0] == pg[0]
    # A post with the word in its title leads on both engines.
    (lite, _), (pg, _) = await engines.both(fts_query("machinists"))
    assert lite[0] == pg[0] == 304
    # Measured on this seed: 99 of 110 (9 of 11 first places); ts_rank_cd is not bm25 (see docs/postgresql.md).
    assert agree / compared >= 0.8, f"top-10 agreement {agree}/{compared}"
    assert first >= len(words) // 2, f"the same best match for {first} of {len(words)} words"


HOSTILE = [
    '"', '""', '"unbalanced', "'", "''", "\\", "\\\\'", "&", "|", "!", "(", ")", ":", "*", ":*", "!!(a|b)&c:*",
    "a:* & !b", "<->", "a <-> b", "'a':*B", "💥🤖", "🤖mars", "NEAR(a b)", "title:mars", "-", "a--b",
    "x" * 2000, ("chainsaw " * 300)[:2000], "é" * 2000, "🙂" * 2000, "\x00", "a\x00b", "%_", "$1", "$$",
    "'; DROP TABLE posts; --", "\u202e\u200d", "ꙮ", "a*b*c*", "aaaa*" * 40,
]  # fmt: skip


async def test_hostile_input_answers_and_never_raises(engines: Engines) -> None:
    for text in HOSTILE:
        lite, pg = await engines.both(fts_query(text))  # what /search hands over
        assert set(pg[0]) == set(lite[0]), text
        # Straight into the PostgreSQL search too, bypassing fts_query: still only words.
        ids, more = await search.search_ids(engines.pg, text)
        assert isinstance(ids, list) and isinstance(more, bool), text
    assert (await search.search_ids(engines.pg, 'chainsaw" | !"machinist'))[0]  # read as two words, ANDed
