"""Search speed: the /search path over a store of 100,000 generated reviews.

Builds (once; cached in the temp dir, --rebuild to redo) a store written through the Store's own
chain writer and ledger, as the follower writes it: 50 series, ~2,000 authors, English and Spanish
reviews with markdown bodies of 1-4 KB drawn from a Zipf-distributed vocabulary (~300 common words,
then 20,000 made-up ones for names and rare words), a few votes each.
Then times what the cog does for one /search page: bot.search.query.search, the series suggestions when
nothing matched, and the page embed. 1,000 varied queries: words (common and rare), prefixes,
phrases, series names, series and author filters, a community filter, newest-first sorting, later
pages and hostile text. Prints p50/p95/p99/max in ms, the store's size on disk and the peak RSS;
asserts nothing.

Autocomplete: the store's series plus 50,000 generated names (--series-names) in the bot's
SeriesCatalog, then every keystroke of typing names (whole, a word of them, with a typo) through
`choices()` as the cog calls it, "did you mean" suggestions, and author autocomplete against the
store. A ticker task sleeping 1 ms on the same event loop records the loop's longest stall in each
phase, including while the catalogue builds its index; the old full difflib scan is timed on a
few keystrokes for comparison.

    python benchmarks/search.py [--reviews 100000] [--queries 1000] [--series-names 50000]
                                [--rebuild] [--db PATH] [--only search|autocomplete] [--by-kind]
                                [--dump FOUND.json]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import gc
import itertools
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.hive.events import ChainEvent, PostCreated, VoteCast  # noqa: E402
from bot.ingest.ledger import apply_events  # noqa: E402
from bot.search.catalog import AuthorCatalog, SeriesCatalog, SeriesIndex  # noqa: E402
from bot.search.pages import search_page_embed  # noqa: E402
from bot.search.query import PAGE_SIZE, SearchRequest, Sort, rank, search  # noqa: E402
from bot.series.detect import display_series, series_key  # noqa: E402
from bot.store.store import Store  # noqa: E402

COMMUNITY = "hive-158489"
OTHER_COMMUNITY = "hive-120078"
FIRST_BLOCK = 80_000_000
SEED = 20240611
BATCH = 4000
# Bumped whenever the generated data changes, so a stale cached store is not reused silently.
DATA_VERSION = 2

SERIES: tuple[tuple[str, str], ...] = (
    ("Frieren: Beyond Journey's End", "frieren"), ("Pokémon", "pokemon"),
    ("Re:Zero − Starting Life in Another World", "rezero"), ("Metallic Rouge", "metallicrouge"),
    ("Spy × Family", "spyxfamily"), ("Jujutsu Kaisen", "jujutsukaisen"), ("One Piece", "onepiece"),
    ("Attack on Titan", "attackontitan"), ("Chainsaw Man", "chainsawman"),
    ("Demon Slayer: Kimetsu no Yaiba", "demonslayer"), ("Fullmetal Alchemist: Brotherhood", "fullmetalalchemist"),
    ("Neon Genesis Evangelion", "evangelion"), ("Cowboy Bebop", "cowboybebop"), ("Steins;Gate", "steinsgate"),
    ("Mob Psycho 100", "mobpsycho100"), ("Oshi no Ko", "oshinoko"), ("Bocchi the Rock!", "bocchitherock"),
    ("Dr. Stone", "drstone"), ("Made in Abyss", "madeinabyss"), ("Vinland Saga", "vinlandsaga"),
    ("Violet Evergarden", "violetevergarden"), ("K-On!", "kon"), ("Haikyu!!", "haikyu"),
    ("Kaguya-sama: Love Is War", "kaguyasama"), ("Mushoku Tensei: Jobless Reincarnation", "mushokutensei"),
    ("The Apothecary Diaries", "apothecarydiaries"), ("Delicious in Dungeon", "dungeonmeshi"),
    ("Solo Leveling", "sololeveling"), ("Blue Lock", "bluelock"), ("Berserk", "berserk"),
    ("Naruto Shippūden", "naruto"), ("Bleach: Thousand-Year Blood War", "bleach"),
    ("Hunter × Hunter", "hunterxhunter"), ("JoJo's Bizarre Adventure", "jojo"), ("Sailor Moon", "sailormoon"),
    ("Dragon Ball Z", "dragonballz"), ("Tokyo Ghoul:re", "tokyoghoul"), ("Puella Magi Madoka★Magica", "madokamagica"),
    ("Gintama°", "gintama"), ("86 EIGHTY-SIX", "eightysix"), ("Cyberpunk: Edgerunners", "edgerunners"),
    ("Lycoris Recoil", "lycorisrecoil"), ("Mononoke", "mononoke"), ("Akira", "akira"),
    ("Ghost in the Shell", "ghostintheshell"), ("Perfect Blue", "perfectblue"), ("Paprika", "paprika"),
    ("Dandadan", "dandadan"), ("Sakamoto Days", "sakamotodays"), ("Kaiju No. 8", "kaijuno8"),
)  # fmt: skip

SUBTITLES = (
    "Mars, Machines, and Meaning", "a slow burn that pays off", "why the quiet episodes matter", "¿vale la pena?",
    "the best arc so far", "first impressions ✨", "animation, music & pacing", "a spoiler-free look",
    "what the adaptation changed", "my verdict after the finale", "grief, time and friendship", "hype vs. reality",
    "una historia sobre el duelo", "mi opinión sincera", "análisis sin spoilers", "la animación lo es todo",
)  # fmt: skip

ENGLISH = (
    "the story animation character arc episode season studio pacing soundtrack opening ending villain hero "
    "friendship journey world magic battle scene moment plot twist finale adaptation manga chapter panel art "
    "style direction voice acting cast theme emotion memory time quiet loud fast slow beautiful strange honest "
    "brilliant messy clever gentle brutal warm cold bright dark simple complex really almost never always often "
    "sometimes maybe clearly quietly and but because while although when after before during with without about "
    "through between every each this that these those my your their our I you we they it is was feels felt seems "
    "seemed works worked lands landed builds built shows showed hides revealed carries carried keeps kept drops "
    "dropped deserves deserved a an of to in on for from by as at than more less most least very quite rather "
    "pretty truly grief loss war machine robot android city mars planet colony rebellion sister brother mother "
    "father teacher student school club festival summer winter rain snow ocean forest dungeon dragon demon sword "
    "spell curse ghost spirit detective mystery crime heist idol band guitar concert stage tournament match team "
    "rival coach training victory defeat comeback sacrifice betrayal promise secret letter dream nightmare future "
    "past present cyberpunk neon rooftop train station ramen kitchen recipe monster hunter guild quest reincarnation"
)
SPANISH = (
    "la el los las una un de del que y en por para con sin sobre historia animación personaje personajes "
    "temporada episodio capítulo final música banda sonora dirección guion ritmo reseña análisis opinión "
    "película serie mundo batalla amistad duelo recuerdo tiempo corazón hermosa extraña sincera brillante "
    "oscura sencilla compleja siempre nunca quizá también porque aunque cuando después antes durante muy "
    "bastante realmente tranquila rápida lenta protagonista villano héroe viaje magia escena momento giro"
)


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    """Made-up words for the long tail of the vocabulary: names, places, rare words."""
    onsets = ("k", "s", "t", "n", "h", "m", "y", "r", "w", "g", "z", "d", "b", "p", "sh", "ch", "ts", "ry")
    vowels = ("a", "i", "u", "e", "o", "ai", "ou", "ei")
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        english = ENGLISH.split()
        spanish = SPANISH.split()
        tail = pseudo_words(rng, 20_000)
        # Zipf-like: the common words first, then the long tail; weight 1/rank (cumulative, for choices).
        self.en_words = english + tail
        self.en_weights = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(self.en_words))))
        self.es_words = spanish + tail[:2000]
        self.es_weights = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(self.es_words))))
        self.authors = sorted(
            {
                f"{rng.choice(('reader', 'otaku', 'anime', 'manga', 'kira', 'neko'))}"
                f"{rng.choice(('', '.', '-'))}{rng.randint(1, 9999)}"
                for _ in range(2200)
            }
        )[:2000]
        self.author_weights = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(self.authors))))
        rng.shuffle(self.authors)
        self.voters = [f"voter{n}" for n in range(300)]
        self.images = [f"https://files.peakd.com/file/peakd-hive/img{n}/cover.jpg" for n in range(50)]

    def sentence(self, spanish: bool) -> str:
        words, weights = (self.es_words, self.es_weights) if spanish else (self.en_words, self.en_weights)
        picked = self.rng.choices(words, cum_weights=weights, k=self.rng.randint(6, 22))
        return " ".join(picked).capitalize() + self.rng.choice((".", ".", ".", "!", "?", "…"))

    def paragraph(self, spanish: bool) -> str:
        return " ".join(self.sentence(spanish) for _ in range(self.rng.randint(2, 6)))

    def review(self, number: int) -> tuple[str, str, str, str, str]:
        """(author, permlink, title, body, json_metadata) of review `number`."""
        rng = self.rng
        series, tag = rng.choice(SERIES)
        spanish = rng.random() < 0.3
        author = rng.choices(self.authors, cum_weights=self.author_weights)[0]
        form = rng.randrange(6)
        subtitle = rng.choice(SUBTITLES)
        if form == 0:
            title = f"Review: {series} — {subtitle}"
        elif form == 1:
            title = f"{series} Episode {rng.randint(1, 24)} thoughts"
        elif form == 2:
            title = f"Reseña {series} {rng.choice(('🤖', '✨', '🔥', ''))}{subtitle}".strip()
        elif form == 3:
            title = f"{series} Vol. {rng.randint(1, 30)} – manga review"
        elif form == 4:
            title = f"First impressions: {series}"
        else:
            title = f"{series} | {subtitle}"
        others = [s for s, _ in rng.sample(SERIES, 4) if s != series]
        target = rng.randint(1000, 4000)
        image = rng.choice(self.images)
        parts = [
            f"![cover]({image})",
            f"# {title}",
            self.paragraph(spanish),
            f"If you came here from {others[0]} or {others[1]}, expect something different.",
            "## Story" if not spanish else "## Historia",
            self.paragraph(spanish),
        ]
        size = sum(len(p) + 2 for p in parts)
        while size < target - 120:
            heading = rng.choice(("## Animation", "## Music", "## Pacing", "### Spoilers ⚠️", "", ""))
            paragraph = self.paragraph(spanish)
            if rng.random() < 0.1:
                paragraph = f"**{paragraph}**"
            parts += [heading, paragraph] if heading else [paragraph]
            size += len(heading) + len(paragraph) + 4
        parts.append(f"**Rating: {rng.randint(4, 10)}/10**. Thanks for reading! @{rng.choice(self.voters)}")
        body = "\n\n".join(parts)[: max(target, 1000)]
        kind = rng.choice(("anime", "manga"))
        extra = rng.sample(("review", "animereview", "otaku", "spanish", "neoxian", "ocd", "art"), 2)
        meta = {"app": "peakd/2024.5.2", "format": "markdown", "tags": [COMMUNITY, kind, tag, *extra],
                "image": [image]}  # fmt: skip
        permlink = f"review-{tag}-{number}"
        return author, permlink, title, body, json.dumps(meta, ensure_ascii=False)

    def events(self, start: int, count: int) -> list[ChainEvent]:
        out: list[ChainEvent] = []
        for number in range(start, start + count):
            block = FIRST_BLOCK + number * 20
            at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_700_000_000 + number * 60))
            author, permlink, title, body, meta = self.review(number)
            community = OTHER_COMMUNITY if number % 10 == 0 else COMMUNITY
            out.append(PostCreated(block, at, author, permlink, community, title, body, meta))
            for voter in self.rng.sample(self.voters, self.rng.randint(0, 6)):
                out.append(VoteCast(block + 1, at, voter, author, permlink, self.rng.choice((10000, 5000, 2500))))
        return out


async def build(path: Path, reviews: int) -> None:
    store = await Store.open(path)
    gen = Generator(SEED)
    began = time.perf_counter()
    try:
        for start in range(0, reviews, BATCH):
            events = gen.events(start, min(BATCH, reviews - start))
            await store.chain_batch(lambda tx, events=events: apply_events(tx, events))  # type: ignore[misc]
            done = min(start + BATCH, reviews)
            print(f"\rbuilding: {done:,}/{reviews:,} reviews ({time.perf_counter() - began:.0f} s)", end="", flush=True)
        await store.db.set_meta("bench_data", f"{DATA_VERSION}:{reviews}")
    finally:
        await store.close()
    print()


def settle(path: Path) -> None:
    """Merges the full-text index's segments and folds the WAL in: the state of a store at rest."""
    # Raw SQL here is the benchmark tidying its own file, not a query the bot makes.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def cached(path: Path, reviews: int) -> bool:
    store = await Store.open(path)
    try:
        return await store.db.get_meta("bench_data") == f"{DATA_VERSION}:{reviews}"
    finally:
        await store.close()


def queries(count: int, authors: list[str]) -> Iterator[tuple[SearchRequest, int, str]]:
    """The benchmark's queries: (request, page, what kind of query it is)."""
    rng = random.Random(7)
    words = ENGLISH.split() + SPANISH.split()
    tail = pseudo_words(random.Random(SEED), 20_000)
    hostile = ('"unbalanced', "NEAR(", "*", "'; DROP TABLE posts; --", "title:mars", "a AND OR NOT", "^foo {x}",
               "\x00\x01", "🤖🤖🤖", "-", '"', "((((", "x" * 300, "SELECT * FROM posts", "metal* OR *")  # fmt: skip
    for _ in range(count):
        kind = rng.random()
        text = ""
        series = author = community = None
        sort: Sort = "relevance"
        page = 0
        if kind < 0.25:
            label = "words"
            text = " ".join(rng.sample(words, rng.randint(1, 3)))
        elif kind < 0.35:
            label = "a rare word"
            text = rng.choice(tail)
        elif kind < 0.45:
            label = "prefix"
            word = rng.choice(words + tail[:3000])  # the stem of a word people use, as in "metal*"
            text = word[: rng.randint(3, max(3, len(word) - 1))] + "*"
        elif kind < 0.55:
            label = "phrase"
            text = f'"{" ".join(rng.sample(words, 2))}"' if rng.random() < 0.5 else '"mars machines"'
        elif kind < 0.65:
            label = "series name"
            text = rng.choice(SERIES)[0]
        elif kind < 0.72:
            label = "series filter"
            text = rng.choice(words)
            series = rng.choice(SERIES)[0]
        elif kind < 0.79:
            label = "author filter"
            text = rng.choice([*words, ""])
            author = rng.choice(authors)
        elif kind < 0.87:
            label = "newest first"
            text = rng.choice(words + tail)
            sort = "newest"
        elif kind < 0.92:
            label = "hostile"
            text = rng.choice(hostile)
        elif kind < 0.96:
            label = "misspelt or two rare"
            text = "metalic rouge" if rng.random() < 0.5 else rng.choice(tail) + " " + rng.choice(tail)
        else:
            label = "community filter"
            text = rng.choice(words)
            community = OTHER_COMMUNITY
        if rng.random() < 0.15:
            page = rng.randint(1, 5)
        yield SearchRequest(text, author=author, series=series, community=community, sort=sort), page, label


async def measure(path: Path, count: int, found: list[object] | None = None) -> list[tuple[str, float]]:
    """(kind of query, ms) for each query. With `found`, also lists what each query found, in order
    (every ranked id, the page's excerpts and embed), for comparing two versions' results."""
    store = await Store.open(path)
    try:
        index = SeriesIndex(await store.posts.series_names())
        authors = sorted({a for a in Generator(SEED).authors})[:400]
        requests = list(queries(count, authors))
        # Warm the page cache and the statement cache, as a running bot would be.
        for request, _, _ in requests[:50]:
            await search(store, request.text, limit=PAGE_SIZE)
        timings: list[tuple[str, float]] = []
        for request, page, kind in requests:
            began = time.perf_counter()
            result = await search(
                store,
                request.text,
                author=request.author,
                series=request.series,
                community=request.community,
                sort=request.sort,
                limit=PAGE_SIZE,
                offset=page * PAGE_SIZE,
            )
            suggestions = index.suggest(request.text) if not result.hits else []
            embed = search_page_embed(request, result, suggestions=suggestions)
            timings.append((kind, (time.perf_counter() - began) * 1000))
            if found is not None:
                ranking = await rank(
                    store, request.text, author=request.author, series=request.series,
                    community=request.community, sort=request.sort,
                )  # fmt: skip
                found.append(
                    {"request": repr(request), "page": page, "ranked": ranking.ids, "more": ranking.more,
                     "excerpts": [hit.excerpt for hit in result.hits], "embed": embed.to_dict()}
                )  # fmt: skip
        return timings
    finally:
        await store.close()


# --------------------------------------------------------------------------------------------
# autocomplete


class Ticker:
    """Sleeps 1 ms at a time on the event loop and records how late each wake-up came: the loop's stalls.

    Also records the CPU time the loop's thread used from the sleep to that latest wake-up (what is
    missing it waited: for the interpreter lock, or for a CPU on a busy machine), and the longest
    garbage collection meanwhile: a full collection stops every thread for as long as it walks the heap.
    """

    def __init__(self) -> None:
        self.longest = self.longest_cpu = 0.0
        self.longest_gc = 0.0
        self._gc_began = 0.0
        self._slept = self._slept_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.longest_gc = max(self.longest_gc, (time.perf_counter() - self._gc_began) * 1000)

    def _woke(self) -> None:
        late = (time.perf_counter() - self._slept - 0.001) * 1000
        if late > self.longest:
            self.longest, self.longest_cpu = late, (time.thread_time() - self._slept_cpu) * 1000

    async def _run(self) -> None:
        while True:
            self._slept, self._slept_cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.001)
            self._woke()

    def __enter__(self) -> Ticker:
        self.longest = self.longest_cpu = self.longest_gc = 0.0
        gc.callbacks.append(self._gc)
        self._slept, self._slept_cpu = time.perf_counter(), time.thread_time()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._woke()  # the wake-up still due counts too: a phase may end in a long stretch on the loop
        self._task.cancel()
        gc.callbacks.remove(self._gc)

    def __str__(self) -> str:
        return (
            f"loop's longest stall {self.longest:.1f} ms (its thread ran {self.longest_cpu:.1f} ms from the 1 ms sleep"
            f" to that wake-up; longest garbage collection {self.longest_gc:.1f} ms)"
        )


def series_catalogue(count: int) -> list[tuple[str, str, int]]:
    """`count` made-up series names (1-4 words, a fifth with a subtitle), Zipf-like review counts."""
    rng = random.Random(SEED + 1)
    vocabulary = pseudo_words(rng, 8000) + ENGLISH.split()
    rows: dict[str, tuple[str, str, int]] = {}
    while len(rows) < count:
        words = [w.capitalize() for w in rng.sample(vocabulary, rng.randint(1, 4))]
        name = " ".join(words) + (f": {rng.choice(vocabulary)} {rng.choice(vocabulary)}" if rng.random() < 0.2 else "")
        key = series_key(name)
        rows.setdefault(key, (key, name, max(1, int(3000 / rng.randint(1, 3000)))))
    return list(rows.values())


def keystrokes(rows: list[tuple[str, str, int]], count: int) -> list[str]:
    """What autocomplete receives while names are typed one character at a time."""
    rng = random.Random(3)
    out: list[str] = []
    while len(out) < count:
        name = rng.choice(rows)[1]
        form = rng.random()
        if form < 0.5:
            text = name
        elif form < 0.75:
            text = rng.choice(name.split())  # a word from the middle of the name
        else:
            cut = rng.randrange(len(name))
            text = name[:cut] + name[cut + 1 :]  # a letter missed
        out += [text[:n] for n in range(0, min(len(text), 24) + 1)]
    return out[:count]


class _Names:
    """The store's series plus the generated ones, as the catalogue reads them (the store's order).

    Each read gives rows of their own, as the store's does (made beforehand by renew(), so the
    figures are the catalogue's alone).
    """

    def __init__(self, rows: list[tuple[str, str, int]]) -> None:
        self._rows = rows

    def renew(self, *more: tuple[str, str, int]) -> None:
        self._rows = sorted([(k, name, n) for k, name, n in self._rows + list(more)], key=lambda r: (-r[2], r[0]))

    async def series_names(self) -> list[tuple[str, str, int]]:
        await asyncio.sleep(0)
        rows, self._rows = self._rows, list(self._rows)
        return rows


def closest_series(known: Sequence[tuple[str, str, int]], typed: str, limit: int = 25) -> list[str]:
    """The scan SeriesIndex replaced, kept here for the "before" figure.

    Display names of known series (key, name, reviews) nearest to what a user typed, best first.

    Exact and prefix matches of the normalised key come first, then keys containing it, then
    near spellings ("metalic rouge" -> "Metallic Rouge"); with nothing typed, the most reviewed.
    """
    key = series_key(typed)
    if not key:
        return [display_series(name) for _, name, _ in known[:limit]]
    by_key = {k: name for k, name, _ in known}
    ranked: list[str] = [k for k, _, _ in known if k.startswith(key)]
    ranked += [k for k, _, _ in known if key in k and k not in ranked]
    if len(ranked) < limit:
        near = difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.6)
        ranked += [k for k in near if k not in ranked]
    return [display_series(by_key[k]) for k in ranked[:limit]]


def _summary(label: str, timings: list[float], stall: object) -> str:
    return (
        f"{label}: p50 {statistics.median(timings):.2f} ms  p95 {percentile(timings, 0.95):.2f} ms"
        f"  max {max(timings):.2f} ms  ({len(timings):,} calls)  {stall}"
    )


async def measure_autocomplete(path: Path, names: int, strokes: int) -> list[str]:
    store = await Store.open(path)
    lines: list[str] = []
    try:
        # The noise floor: how late the ticker wakes with nothing else running (a busy machine).
        with Ticker() as ticker:
            await asyncio.sleep(2.0)
        lines.append(f"idle for 2 s (the machine's noise floor): {ticker}")
        # Most reviewed first, as the store lists them.
        every = sorted(await store.posts.series_names() + series_catalogue(names), key=lambda row: (-row[2], row[0]))
        read = _Names(every)
        catalog = SeriesCatalog(read)  # type: ignore[arg-type]
        with Ticker() as ticker:
            began = time.perf_counter()
            index = await catalog.index()
            built = (time.perf_counter() - began) * 1000
        lines.append(f"series index of {len(index):,} names built in {built:.0f} ms; meanwhile {ticker}")
        typed = keystrokes(index.rows, strokes)
        with Ticker() as ticker:
            timings = []
            for text in typed:
                began = time.perf_counter()
                (await catalog.index()).choices(text[:200])
                timings.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(0)  # the next keystroke is another interaction
        lines.append(_summary("series autocomplete per keystroke", timings, ticker))
        queries_typed = [text for text in typed if len(text) >= 3][: strokes // 4]
        with Ticker() as ticker:
            timings = []
            for text in queries_typed:
                began = time.perf_counter()
                index.suggest(text)
                timings.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(0)
        lines.append(_summary("series suggestions (no results)", timings, ticker))
        # The scan the index replaced, on a few keystrokes only (it is slow).
        timings = []
        for text in typed[:: max(1, len(typed) // 20)][:20]:
            began = time.perf_counter()
            closest_series(index.rows, text, 25)
            timings.append((time.perf_counter() - began) * 1000)
        lines.append(_summary("before: difflib scan per keystroke", timings, "(all on the loop)"))
        # Refreshes, as every minute in the bot: the names unchanged (compared, not rebuilt), then
        # one more (rebuilt, the old index freed).
        del index
        refreshes: list[tuple[str, tuple[tuple[str, str, int], ...]]] = [
            ("refreshed, names unchanged,", ()),
            ("rebuilt with a name more", (("zzzbrandnew", "Zzz Brand New", 1),)),
        ]
        for what, more in refreshes:
            read.renew(*more)
            with Ticker() as ticker:
                began = time.perf_counter()
                await catalog.index(max_age=0.0)
                await catalog.settled()
                took = (time.perf_counter() - began) * 1000
            lines.append(f"series index {what} in {took:.0f} ms; meanwhile {ticker}")
        authors = sorted(Generator(SEED).authors)
        rng = random.Random(9)
        author_typed = [""] + [a[:n] for a in rng.sample(authors, 60) for n in range(1, len(a) + 1)]
        people = AuthorCatalog(store.posts)
        with Ticker() as ticker:
            began = time.perf_counter()
            known = await people.index()
            built = (time.perf_counter() - began) * 1000
        lines.append(f"author index of {len(known):,} authors read and built in {built:.0f} ms; meanwhile {ticker}")
        with Ticker() as ticker:
            timings = []
            for text in author_typed:
                began = time.perf_counter()
                (await people.index()).starting(text, 25)
                timings.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(0)
        lines.append(_summary("author autocomplete per keystroke", timings, ticker))
        timings = []
        for text in author_typed[::4]:
            began = time.perf_counter()
            await store.posts.authors_starting(text, 25)
            timings.append((time.perf_counter() - began) * 1000)
        lines.append(_summary("before: author GROUP BY per keystroke", timings, "(in the store's thread)"))
    finally:
        await store.close()
    return lines


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--series-names", type=int, default=50_000, help="generated names for autocomplete")
    parser.add_argument("--keystrokes", type=int, default=2000)
    parser.add_argument("--rebuild", action="store_true", help="build the store again even if cached")
    parser.add_argument("--db", type=Path, default=None, help="where the store is cached")
    parser.add_argument("--only", choices=("search", "autocomplete"), default=None, help="run one part only")
    parser.add_argument("--by-kind", action="store_true", help="search figures for each kind of query too")
    parser.add_argument("--dump", type=Path, default=None, help="write each query's ranked ids, excerpts, embed")
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"hivecord-search-bench-{args.reviews}.sqlite3"
    if args.rebuild or not path.exists() or not asyncio.run(cached(path, args.reviews)):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        began = time.perf_counter()
        asyncio.run(build(path, args.reviews))
        settle(path)
        print(f"built {args.reviews:,} reviews in {time.perf_counter() - began:.1f} s -> {path}")
    else:
        print(f"reusing {path} (--rebuild to build it again)")
    gc.collect()
    # As `hivecord run` does once started (bot/ingest/follower.py): the start-up heap is frozen, so
    # the collector's full passes walk only what came after.
    gc.freeze()
    if args.only != "autocomplete":
        found: list[object] | None = [] if args.dump else None
        measured = asyncio.run(measure(path, args.queries, found))
        if args.dump:
            args.dump.write_text(json.dumps(found, ensure_ascii=False, indent=0))
        timings = [ms for _, ms in measured]
        size = sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}"))
        # ru_maxrss is in KiB on Linux.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"reviews: {args.reviews:,}  queries: {len(timings):,}")
        print(
            f"search + page embed: p50 {statistics.median(timings):.2f} ms  p95 {percentile(timings, 0.95):.2f} ms"
            f"  p99 {percentile(timings, 0.99):.2f} ms  max {max(timings):.2f} ms"
        )
        print(f"store on disk: {size / 1e6:.1f} MB  peak RSS: {peak:.1f} MB")
        if args.by_kind:
            for kind in sorted({kind for kind, _ in measured}):
                some = [ms for k, ms in measured if k == kind]
                print(
                    f"  {kind:>20}: {len(some):>3} queries  p50 {statistics.median(some):6.2f} ms"
                    f"  p95 {percentile(some, 0.95):6.2f} ms  max {max(some):6.2f} ms"
                )
    if args.only != "search":
        for line in asyncio.run(measure_autocomplete(path, args.series_names, args.keystrokes)):
            print(line)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS after autocomplete: {peak:.1f} MB")


if __name__ == "__main__":
    main()
