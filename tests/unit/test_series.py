"""Series detection from review titles and tags (bot/series/detect.py)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, cast

import pytest

from bot.search.catalog import SeriesCatalog, SeriesIndex, SeriesName
from bot.series.detect import MAX_DISPLAY, detect_series, display_series, series_key
from bot.store.posts import PostTables

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hive"


def _seed_post() -> dict[str, Any]:
    blocks = json.loads((FIXTURES / "seed" / "anime_realm_review.json").read_text(encoding="utf-8"))
    op: dict[str, Any] = blocks["101000000"]["transactions"][0]["operations"][0]["value"]
    return op


# --------------------------------------------------------------------------------------------
# series_key


@pytest.mark.parametrize(
    "name",
    ["metallic-rouge", "Metallic Rouge", "metallicrouge", "METALLIC  ROUGE!", "Métallic Rouge", "metallic_rouge"],
)
def test_key_equivalences_metallic_rouge(name: str) -> None:
    assert series_key(name) == "metallicrouge"


@pytest.mark.parametrize("name", ["Spy × Family", "spy-x-family", "spyxfamily", "SPY×FAMILY", "Spy x Family"])
def test_key_maps_multiplication_sign_to_x(name: str) -> None:
    assert series_key(name) == "spyxfamily"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Re:Zero", "rezero"),
        ("Pokémon", "pokemon"),
        ("葬送のフリーレン", "葬送のフリーレン"),  # CJK letters are alphanumeric and stay
        ("ＳＰＹ", "spy"),  # full-width forms fold (NFKD)
        ("Straße", "strasse"),  # casefold, not lower
        ("", ""),
        ("!!! ★ ...", ""),
    ],
)
def test_key_cases(name: str, key: str) -> None:
    assert series_key(name) == key


def test_key_keeps_kana_voicing() -> None:
    # Dropping accents must not merge か and が: they are different syllables.
    assert series_key("が") != series_key("か")


# --------------------------------------------------------------------------------------------
# display_series


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("one-piece", "One Piece"),
        ("metallicrouge", "Metallicrouge"),
        ("  Metallic   Rouge \n", "Metallic Rouge"),
        ("frieren: beyond journey's end", "Frieren: Beyond Journey's End"),
        ("SPY×FAMILY", "SPY×FAMILY"),  # deliberate casing is kept
        ("Kaguya-sama: Love is War", "Kaguya-sama: Love is War"),
        ("", ""),
        ("\u200b\u200b", ""),
    ],
)
def test_display_series(raw: str, shown: str) -> None:
    assert display_series(raw) == shown


def test_display_series_is_bounded() -> None:
    shown = display_series("Very Long Name " * 50)
    assert len(shown) <= MAX_DISPLAY
    assert shown.endswith("…")


# --------------------------------------------------------------------------------------------
# detect_series: the seed review


def test_seed_review_is_metallic_rouge() -> None:
    post = _seed_post()
    tags = json.loads(post["json_metadata"])["tags"]
    assert tags == ["hive-158489", "anime", "metallicrouge", "review", "bones"]
    # Not "Bones" (the studio tag), not Akira or Cyberpunk (named only in the body).
    assert detect_series(post["title"], tags, "hive-158489") == "Metallic Rouge"


def test_body_mentions_never_matter() -> None:
    # detect_series has no body argument: shows named only in the body cannot be picked.
    post = _seed_post()
    assert "Akira" in post["body"] and "Cyberpunk" in post["body"]
    assert detect_series("My thoughts", ["hive-158489", "anime", "review"]) is None
    assert detect_series("Akira still holds up", ["hive-158489", "anime", "akira"]) == "Akira"
    assert detect_series(post["title"], ["hive-158489", "anime"]) == "Metallic Rouge"


# --------------------------------------------------------------------------------------------
# detect_series: realistic titles


@pytest.mark.parametrize(
    ("title", "tags", "expected"),
    [
        # The tag confirms the span, the title gives the spelling.
        ("Review Metallic Rouge 🤖Mars, Machines, and Meaning", ["metallicrouge"], "Metallic Rouge"),
        ("Review Metallic Rouge Mars, Machines, and Meaning", ["metallicrouge"], "Metallic Rouge"),
        ("Frieren: Beyond Journey's End review", ["hive-158489", "anime", "frieren"], "Frieren"),
        ("[Review] Spy × Family Season 2", ["hive-158489", "spyxfamily"], "Spy × Family"),
        # Longest span whose key starts with a tag key: the tag "pokemon" confirms "Pokémon" and the
        # delimited phrase grows to "Pokémon Horizons" (a series of its own).
        ("Reseña: Pokémon Horizons", ["hive-158489", "spanish", "pokemon"], "Pokémon Horizons"),
        ("Reseña: Pokémon Horizons", ["pokemonhorizons", "pokemon"], "Pokémon Horizons"),
        ("Anime review: Oshi no Ko ⭐⭐⭐⭐", ["hive-158489", "anime", "oshinoko"], "Oshi no Ko"),
        ("Reseña de Cowboy Bebop | Anime clásico", ["cowboybebop", "spanish"], "Cowboy Bebop"),
        ("Review: Re:Zero − Starting Life in Another World", ["rezero"], "Re:Zero"),
        ("Attack on Titan: The Final Season review", ["attackontitan", "mappa"], "Attack on Titan"),
        ("Dr. Stone Season 3 review", ["drstone"], "Dr. Stone"),
        ("Jujutsu Kaisen 0 review", ["jujutsukaisen", "mappa"], "Jujutsu Kaisen"),
        ("Made in Abyss 🕳️ a descent", ["madeinabyss"], "Made in Abyss"),
        ("Kaguya-sama: Love is War - Review", ["kaguya-sama"], "Kaguya-sama"),
        ("Chainsaw Man | My thoughts", ["chainsawman"], "Chainsaw Man"),
        ("Review: OnePieceFilmRed", ["onepiece"], "OnePieceFilmRed"),
        ("Review: Fate/Zero / a tragedy", ["fatezero"], "Fate/Zero"),
        ("Fate/Zero review", [], "Fate/Zero"),
        # A title word inside a longer tag.
        ("Reseña: Chainsaw Man", ["chainsawmanmovie"], "Chainsaw Man"),
        # Japanese title, romanised tag: no alignment, the phrase after the marker is used.
        ("『葬送のフリーレン』レビュー", ["frieren"], "葬送のフリーレン"),
        # No tag confirms: a well-delimited title phrase.
        ("Review Metallic Rouge 🤖Mars, Machines, and Meaning", [], "Metallic Rouge"),
        ("Frieren: Beyond Journey's End review", [], "Frieren: Beyond Journey's End"),
        ("[Review] Spy × Family Season 2", [], "Spy × Family"),
        ("«Kimetsu no Yaiba» análisis de la temporada final", ["hive-158489"], "Kimetsu no Yaiba"),
        ("One Piece Episode 1100 Review", ["anime"], "One Piece"),
        ("✨ Blue Lock ✨ Ep. 12 ✨", ["anime", "hive-158489"], "Blue Lock"),
        ("Vinland Saga S2 thoughts", [], "Vinland Saga"),
        ("Review of The Apothecary Diaries", ["kusuriyanohitorigoto"], "The Apothecary Diaries"),
        ("Toy Story review", ["movies", "pixar"], "Toy Story"),
        ("K-On! review", [], "K-On!"),
        # No title evidence: the first non-generic tag.
        ("My thoughts", ["hive-158489", "anime", "one-piece"], "One Piece"),
        ("", ["metallicrouge"], "Metallicrouge"),
        ("Mars, machines and meaning", ["hive-158489", "review", "metallicrouge"], "Metallicrouge"),
        # Nothing usable: None, not garbage.
        ("My thoughts", ["hive-158489", "anime", "review", "bones", "spanish"], None),
        ("Chainsaw Man | My thoughts", [], None),
        ("Review: anime of the season", ["anime"], None),
        ("My first anime review", ["animereview", "hive-158489"], None),
        ("", [], None),
    ],
)
def test_detect_series(title: str, tags: list[str], expected: str | None) -> None:
    assert detect_series(title, tags) == expected


def test_lowercase_title_gets_capitalised() -> None:
    # All-lowercase titles: the confirmed word, tidied for display.
    assert detect_series("reseña: pokémon horizons", ["pokemon"]) == "Pokémon"


def test_community_argument_is_never_the_series() -> None:
    assert detect_series("Hello", ["animerealm"], community="animerealm") is None
    assert detect_series("Hello", ["hive-158489"], community="hive-158489") is None


def test_studio_and_generic_tags_never_count() -> None:
    tags = ["hive-158489", "anime", "review", "bones", "mappa", "ufotable", "manhwa", "neoxian", "ocd"]
    assert detect_series("Some thoughts on a show", tags) is None


def test_hivemind_mock_community_posts_name_no_series() -> None:
    # Generic test titles ("I love secrets 01", "Pinpost 3", "My introduce post") are not series.
    blocks = json.loads((FIXTURES / "hivemind-mock" / "community_blocks.json").read_text(encoding="utf-8"))
    seen = 0
    for block in blocks.values():
        for trx in block.get("transactions", []):
            for op in trx.get("operations", []):
                value = op.get("value", {})
                if op.get("type") != "comment_operation" or value.get("parent_author") != "":
                    continue
                try:
                    meta = json.loads(value.get("json_metadata") or "{}")
                except ValueError:
                    meta = {}
                tags = meta.get("tags", []) if isinstance(meta, dict) else []
                seen += 1
                assert detect_series(value["title"], tags, value["parent_permlink"]) is None, value["title"]
    assert seen > 20


# --------------------------------------------------------------------------------------------
# detect_series: malformed input


def test_malformed_tags_do_not_break() -> None:
    tags: list[Any] = [None, "", "   ", 5, b"bytes", "x" * 10_000, "hive-", "-", "metallicrouge"]
    assert detect_series("Review Metallic Rouge 🤖Mars", tags) == "Metallic Rouge"


def test_tags_given_as_none_or_string() -> None:
    assert detect_series("Review: Blue Lock", None) == "Blue Lock"  # type: ignore[arg-type]
    assert detect_series("Review Metallic Rouge Mars, Machines", "metallicrouge") == "Metallic Rouge"


def test_non_string_title() -> None:
    assert detect_series(None, ["one-piece"]) == "One Piece"  # type: ignore[arg-type]
    assert detect_series(12345, []) is None  # type: ignore[arg-type]


def test_forty_tags() -> None:
    tags = ["anime", "review", "hive-158489", "metallicrouge"] + [f"extra-tag-{i}" for i in range(36)]
    assert len(tags) == 40
    assert detect_series("Review Metallic Rouge 🤖Mars", tags) == "Metallic Rouge"
    assert detect_series("Mars, machines and meaning", tags) == "Metallicrouge"


def test_very_long_title_is_bounded() -> None:
    title = "Review: " + "Incredibly Long Name " * 500
    result = detect_series(title, ["incrediblylongname"])
    assert result is not None and len(result) <= MAX_DISPLAY


@pytest.mark.parametrize(
    "title",
    [
        "Review: " + "A" * 5_000,
        "[[[[[[" * 200,
        "«" * 1000,
        "Review Review Review Review: Review",
        "\x00\x01\u202e\u200d🤖\ufe0f",
        "\ue000\ue003 private use \ue004",
        "Episode 1 Episode 2 Season 3 Vol. 4",
    ],
)
def test_odd_titles_are_safe(title: str) -> None:
    result = detect_series(title, ["hive-158489", "anime"])
    assert result is None or (0 < len(result) <= MAX_DISPLAY and series_key(result))


def test_fuzz_never_raises_and_stays_bounded() -> None:
    rnd = random.Random(20261123)
    pieces = [
        "Review", "Reseña", ":", " ", "|", " - ", "—", "«", "»", "“", "”", '"', "『", "』", "Episode 3",
        "Season 2", "Vol. 4", "×", "🤖", "\u200d", "\ufe0f", "é", "\u0301", "Metallic", "Rouge", "the",
        "anime", "[", "]", "(", ")", ",", "!", "?", "'", "#1", "\n", "\x00", "\ue001",
    ]  # fmt: skip
    for _ in range(1500):
        title = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 25)))
        tags = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 4))) for _ in range(rnd.randint(0, 6))]
        result = detect_series(title, tags)
        assert result is None or (0 < len(result) <= MAX_DISPLAY and series_key(result)), (title, tags)


@pytest.mark.parametrize("value", [None, 5, ["metallic rouge"], {"a": 1}])
def test_key_of_non_strings_is_empty(value: Any) -> None:
    assert series_key(value) == ""
    assert display_series(value) == ""


# --------------------------------------------------------------------------------------------
# the series index (bot/search/catalog.py): right answers over a catalogue of 50,000 names

KNOWN = [
    ("metallicrouge", "Metallic Rouge", 12),
    ("frierenbeyondjourneysend", "Frieren: Beyond Journey's End", 30),
    ("spyxfamily", "Spy × Family", 8),
    ("onepiece", "One Piece", 50),
]


def _catalogue(count: int) -> list[tuple[str, str, int]]:
    """`count` made-up series names of one to four words (some with a subtitle), Zipf-like review counts."""
    rng = random.Random(19)
    syllables = [o + v for o in ("k", "s", "t", "n", "m", "r", "sh", "ch", "b", "d", "") for v in "aeiou"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(6000)})
    rows = {key: (key, name, n) for key, name, n in KNOWN}
    while len(rows) < count:
        words = [w.capitalize() for w in rng.sample(vocabulary, rng.randint(1, 4))]
        name = " ".join(words) + (f": {rng.choice(vocabulary)} {rng.choice(vocabulary)}" if rng.random() < 0.2 else "")
        key = series_key(name)
        rows.setdefault(key, (key, name, max(1, int(2000 / rng.randint(1, 2000)))))
    return list(rows.values())


Big = tuple[SeriesIndex, list[tuple[str, str, int]], list[tuple[str, str, str]]]


def _words(name: str) -> list[str]:
    return [series_key(w) for w in re.findall(r"[^\W_]+", name)]


@pytest.fixture(scope="module")
def big() -> Big:
    rows = _catalogue(50_000)
    index = SeriesIndex(rows)
    # (key, display name, " word word") most reviewed first: what the brute-force reference scans.
    table = []
    for k, _, _ in index.rows:
        shown = cast(SeriesName, index.get(k)).name
        table.append((k, shown, " " + " ".join(_words(shown))))
    return index, rows, table


def _reference(table: list[tuple[str, str, str]], typed: str, limit: int = 25) -> list[str]:
    """The exact, prefix, word-prefix and substring tiers by brute force, most reviewed first in each."""
    key = series_key(typed)
    typed_words = _words(typed)
    tiers = [
        [name for k, name, _ in table if k == key],
        [name for k, name, _ in table if k.startswith(key)],
        [name for _, name, ws in table if typed_words and all(" " + t in ws for t in typed_words)],
        [name for k, name, _ in table if len(key) >= 3 and key in k],
    ]
    out: list[str] = []
    for tier in tiers:
        out += [name for name in tier[: 2 * limit] if name not in out]
    return out[:limit]


def test_index_over_50000_names_answers_like_a_full_scan(big: Big) -> None:
    index, rows, table = big
    assert len(index) == 50_000
    rng = random.Random(5)
    typed_samples = ["m", "me", "metal", "Metallic R", "rouge", "spy fam", "fam", "one p", "piece", "FRIEREN"]
    for _, name, _ in rng.sample(rows, 12):
        words = name.split()
        typed_samples.append(name[: rng.randint(1, len(name))])  # the start of a name, as typed so far
        typed_samples.append(rng.choice(words)[: rng.randint(1, 4)])  # the start of one of its words
        typed_samples.append(" ".join(w[:3] for w in words[-2:]))  # starts of its last two words
    for typed in typed_samples:
        expected = _reference(table, typed)
        got = index.choices(typed)
        assert got[: len(expected)] == expected, typed
        assert len(got) <= 25 and all(1 <= len(n) <= 100 for n in got)


def test_index_ranks_tiers_then_reviews(big: Big) -> None:
    index, _, _ = big
    assert index.choices("Metallic-Rouge")[0] == "Metallic Rouge"  # exact
    assert index.choices("metalic roug")[0] == "Metallic Rouge"  # near spelling
    assert index.choices("spy family")[0] == "Spy × Family"  # every typed word starts a word of it
    assert index.choices("freiren beyond")[0] == "Frieren: Beyond Journey's End"
    assert index.choices("")[: len(KNOWN)] == [display_series(r[1]) for r in index.rows[: len(KNOWN)]]
    # Within the prefix tier, most reviewed first.
    got = [name for name in index.choices("ka") if series_key(name) != "ka"]
    reviews = {display_series(name): n for _, name, n in index.rows}
    assert [reviews[n] for n in got] == sorted((reviews[n] for n in got), reverse=True)
    assert index.suggest("metalic rouge") == ["Metallic Rouge"]
    assert index.suggest("rouge")[0] == "Metallic Rouge"  # a word of it, before near spellings
    assert index.suggest("zz") == []


def test_near_spellings_of_generated_names_are_found(big: Big) -> None:
    index, rows, _ = big
    rng = random.Random(11)
    found = 0
    samples = [row for row in rng.sample(rows, 60) if len(row[0]) >= 8]
    for key, name, _ in samples:
        cut = rng.randrange(1, len(key) - 1)
        typo = key[:cut] + key[cut + 1 :]  # one letter dropped
        if display_series(name) in index.choices(typo)[:5]:
            found += 1
    assert found >= 0.9 * len(samples), (found, len(samples))


async def test_catalog_serves_the_old_index_while_it_builds_the_next() -> None:
    class Names:
        def __init__(self) -> None:
            self.rows = [("onepiece", "One Piece", 5)]
            self.reads = 0

        async def series_names(self) -> list[tuple[str, str, int]]:
            self.reads += 1
            return list(self.rows)

    store = Names()
    catalog = SeriesCatalog(cast(PostTables, store), max_age=0.0)
    first = await catalog.index()
    assert first.choices("one") == ["One Piece"] and store.reads == 1
    store.rows.append(("metallicrouge", "Metallic Rouge", 9))
    # Stale: answered at once from the old index, the new one built in the background.
    assert await catalog.index() is first
    building = catalog._refresh
    assert building is not None
    await building
    fresh = await catalog.index(max_age=3600)
    assert fresh is not first and fresh.choices("metal") == ["Metallic Rouge"] and store.reads == 2
    # Asking for a fresher index than the cached one waits for it.
    store.rows.append(("spyxfamily", "Spy × Family", 1))
    assert (await catalog.index(max_age=0.0)).get("spyxfamily") is not None
