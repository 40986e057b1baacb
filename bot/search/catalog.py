"""Series and author names for autocomplete, for checking a series filter and for "did you mean".

The store's names are read into in-memory indexes (rebuilt when they go stale, in short steps
between which the event loop runs its other work), so a keystroke costs a few bisects and a bounded
scan instead of a query.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.search.cached_index import CachedIndex
from bot.search.query import WORD
from bot.search.steps import CHECK, STEP, Steps, built, sorted_in_steps
from bot.series.detect import display_series, series_key
from bot.store.posts import PostTables
from bot.text.limits import MAX_CHOICES


@dataclass(frozen=True, slots=True)
class SeriesName:
    key: str
    name: str  # for display: tidy, at most 100 chars
    reviews: int


# Work per keystroke stays bounded whatever the catalogue holds: each tier looks at no more than
# this many candidates (most reviewed first), and spelling is compared for a few dozen names only.
MAX_SCAN = 5000
FUZZY_CANDIDATES = 40
FUZZY_CUTOFF = 0.6
# Posting lists read for one spelling match, shortest (most telling) first.
FUZZY_BUDGET = 10_000
MAX_TYPED = 200  # longer than any series name; more typed text is not looked at
ALL_AUTHORS = 10_000_000  # "every author" for the store's authors_starting
_NONE: array[int] = array("i")
_END = "\0"  # pads a key so its first and last letters make trigrams of their own


def _words(name: str) -> list[str]:
    """The words of a name as keys: "Frieren: Beyond Journey's End" -> frieren, beyond, journey, s, end."""
    return [k for k in (series_key(w) for w in WORD.findall(name)) if k]


def _trigrams(key: str) -> set[str]:
    padded = _END + key + _END
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _most_reviewed(row: tuple[str, str, int]) -> tuple[int, str]:
    return -row[2], row[0]


def _posting(index: dict[str, array[int]], term: str) -> array[int]:
    found = index.get(term)
    if found is None:
        found = index[term] = array("i")
    return found


class SeriesIndex:
    """The stored series, for autocomplete, for checking a series filter and for "did you mean".

    Built once per catalogue refresh (in steps on the event loop, see bot/search/steps.py); each lookup then
    costs a few bisects and a bounded scan, never a pass over every name. Ranked: the exact name,
    names starting with what was typed, names with words starting with each typed word, names
    containing it, then near spellings (trigram candidates, compared with difflib); within a tier,
    most reviewed first.
    """

    def __init__(self, rows: Iterable[tuple[str, str, int]]) -> None:
        built(self._fill(rows))

    @classmethod
    def steps(cls, rows: Iterable[tuple[str, str, int]]) -> Steps[SeriesIndex]:
        """The index of `rows`, built in steps (see build_in_steps)."""
        index = cls.__new__(cls)
        yield from index._fill(rows)
        return index

    def _fill(self, rows: Iterable[tuple[str, str, int]]) -> Steps[None]:
        # Most reviewed first: a series' rank is its position, so smaller ranks are better. The store
        # lists them so: then its rows are kept as they are (no copy to free, one at a time, later).
        self.rows: list[tuple[str, str, int]] = []
        self._shown: list[str] = []
        self._keys: list[str] = []
        self._rank: dict[str, int] = {}
        self._key_ranks = array("i")
        # " word word ...": "does a word start with w" is a substring test for " " + w.
        self._name_words: list[str] = []
        # Word -> ranks of the series using it, and trigram -> ranks holding it: rank order, as built.
        self._word_ranks: dict[str, array[int]] = {}
        self._trigrams: dict[str, array[int]] = {}
        in_order = True
        for i, row in enumerate(rows, 1):
            if row[0]:
                if in_order and self.rows:
                    last = self.rows[-1]
                    in_order = last[2] > row[2] or (last[2] == row[2] and last[0] <= row[0])
                self.rows.append(row)
            if not i % CHECK:
                yield
        if not in_order:
            self.rows = yield from sorted_in_steps(self.rows, key=_most_reviewed)
        for rank, (key, name, _) in enumerate(self.rows):
            self._shown.append(display_series(name) or key)
            self._keys.append(key)
            self._rank[key] = rank
            if not (rank + 1) % CHECK:
                yield
        self._sorted_keys = yield from sorted_in_steps(self._keys)
        for i, key in enumerate(self._sorted_keys, 1):
            self._key_ranks.append(self._rank[key])
            if not i % CHECK:
                yield
        for rank, (key, shown) in enumerate(zip(self._keys, self._shown, strict=True)):
            words = _words(shown)
            self._name_words.append(" " + " ".join(words))
            for word in set(words):
                _posting(self._word_ranks, word).append(rank)
            for gram in _trigrams(key):
                _posting(self._trigrams, gram).append(rank)
            if not (rank + 1) % CHECK:
                yield
        self._sorted_words = yield from sorted_in_steps(list(self._word_ranks))

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> SeriesName | None:
        rank = self._rank.get(key)
        return None if rank is None else SeriesName(self._keys[rank], self._shown[rank], self.rows[rank][2])

    def choices(self, typed: str, limit: int = MAX_CHOICES) -> list[str]:
        """Display names for what has been typed so far, best first (most reviewed when nothing is)."""
        typed = typed[:MAX_TYPED]
        key = series_key(typed)
        if not key:
            return self._shown[:limit]
        return [self._shown[rank] for rank in self._ranked(typed, key, limit, loose=True)]

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Display names of the series closest to `text` ("metalic rouge" -> "Metallic Rouge").

        Stricter than autocomplete: a suggestion under "no results" must be worth reading.
        """
        text = text[:MAX_TYPED]
        key = series_key(text)
        if len(key) < 3:
            return []
        # A fragment of a name ("rouge") is too short for a spelling match but clear enough.
        return [self._shown[rank] for rank in self._ranked(text, key, limit, loose=len(key) >= 4)]

    def _ranked(self, typed: str, key: str, limit: int, *, loose: bool) -> list[int]:
        found: list[int] = []
        seen: set[int] = set()

        def add(ranks: Iterable[int]) -> bool:
            for rank in ranks:
                if rank not in seen:
                    seen.add(rank)
                    found.append(rank)
                    if len(found) >= limit:
                        return True
            return False

        exact = self._rank.get(key)
        if add([] if exact is None else [exact]):
            return found
        if loose and (
            add(self._starting(key, limit + len(seen)))
            or add(self._word_starting(_words(typed), seen, limit))
            or (len(key) >= 3 and add(self._containing(key, seen, limit)))
        ):
            return found
        if len(key) >= 3:
            add(self._near(key, seen, limit))
        return found

    def _starting(self, key: str, count: int) -> list[int]:
        """The `count` most reviewed series whose key starts with `key` (a bisect over sorted keys)."""
        lo = bisect.bisect_left(self._sorted_keys, key)
        hi = bisect.bisect_left(self._sorted_keys, key + "\U0010ffff", lo)
        ranks = self._key_ranks[lo:hi]
        return heapq.nsmallest(count, ranks) if len(ranks) > count else sorted(ranks)

    def _word_range(self, word: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self._sorted_words, word)
        return lo, bisect.bisect_left(self._sorted_words, word + "\U0010ffff", lo)

    def _word_starting(self, typed: Sequence[str], seen: set[int], limit: int) -> list[int]:
        """Series with a word starting with each typed word ("spy fam" -> "Spy × Family")."""
        if not typed:
            return []
        ranges = [(self._word_range(word), word) for word in typed]
        (lo, hi), first = min(ranges, key=lambda item: item[0][1] - item[0][0])
        others = [" " + word for _, word in ranges if word != first]
        postings = [self._word_ranks[word] for word in self._sorted_words[lo:hi]]
        ranks = postings[0] if len(postings) == 1 else sorted({rank for posting in postings for rank in posting})
        out: list[int] = []
        for rank in ranks[:MAX_SCAN]:
            if rank in seen:
                continue
            name_words = self._name_words[rank]
            if all(o in name_words for o in others):
                out.append(rank)
                if len(out) >= limit:
                    break
        return out

    def _containing(self, key: str, seen: set[int], limit: int) -> list[int]:
        """Series whose key holds `key` anywhere, read off its rarest trigram's list."""
        inner = [key[i : i + 3] for i in range(len(key) - 2)]
        postings = [self._trigrams.get(gram, _NONE) for gram in inner]
        out: list[int] = []
        for rank in min(postings, key=len)[:MAX_SCAN]:
            if rank not in seen and key in self._keys[rank]:
                out.append(rank)
                if len(out) >= limit:
                    break
        return out

    def _near(self, key: str, seen: set[int], limit: int) -> list[int]:
        """Near spellings: the names sharing most trigrams with `key`, then difflib on those few."""
        postings = sorted((self._trigrams.get(gram, _NONE) for gram in _trigrams(key)), key=len)
        shared: Counter[int] = Counter()
        budget = FUZZY_BUDGET
        for posting in postings:
            if budget <= 0:
                break
            shared.update(posting[:budget])
            budget -= len(posting)
        for rank in seen:
            shared.pop(rank, None)
        # The most shared trigrams first (a cheap cut of thousands), then the closest in length.
        size = len(key)
        candidates = heapq.nsmallest(
            FUZZY_CANDIDATES,
            (rank for rank, _ in shared.most_common(4 * FUZZY_CANDIDATES)),
            key=lambda rank: (-shared[rank], abs(len(self._keys[rank]) - size), rank),
        )
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(key)
        scored: list[tuple[float, int]] = []
        for rank in candidates:
            matcher.set_seq1(self._keys[rank])
            if (
                matcher.real_quick_ratio() >= FUZZY_CUTOFF
                and matcher.quick_ratio() >= FUZZY_CUTOFF
                and (ratio := matcher.ratio()) >= FUZZY_CUTOFF
            ):
                scored.append((-ratio, rank))
        return [rank for _, rank in sorted(scored)[:limit]]


class AuthorIndex:
    """The stored authors, most prolific first, for autocomplete: a bisect over the sorted names."""

    def __init__(self, names: Iterable[str]) -> None:
        built(self._fill(names))

    @classmethod
    def steps(cls, names: Iterable[str]) -> Steps[AuthorIndex]:
        """The index of `names`, built in steps (see build_in_steps)."""
        index = cls.__new__(cls)
        yield from index._fill(names)
        return index

    def _fill(self, names: Iterable[str]) -> Steps[None]:
        self.names: list[str] = []  # most prolific first: rank = position
        rank_of: dict[str, int] = {}
        for i, name in enumerate(names, 1):
            if name not in rank_of:
                rank_of[name] = len(self.names)
                self.names.append(name)
            if not i % CHECK:
                yield
        self._sorted = yield from sorted_in_steps(self.names)
        self._ranks: list[int] = []
        for i, name in enumerate(self._sorted, 1):
            self._ranks.append(rank_of[name])
            if not i % CHECK:
                yield

    def __len__(self) -> int:
        return len(self.names)

    def starting(self, prefix: str, limit: int = MAX_CHOICES) -> list[str]:
        """The `limit` most prolific authors whose name starts with `prefix`."""
        if not prefix:
            return self.names[:limit]
        lo = bisect.bisect_left(self._sorted, prefix)
        hi = bisect.bisect_left(self._sorted, prefix + "\U0010ffff", lo)
        ranks = self._ranks[lo:hi]
        return [self.names[r] for r in (heapq.nsmallest(limit, ranks) if len(ranks) > limit else sorted(ranks))]


class SeriesCatalog(CachedIndex[list[tuple[str, str, int]], SeriesIndex]):
    """The store's series names as a SeriesIndex (see CachedIndex for when it is rebuilt)."""

    def __init__(self, posts: PostTables, max_age: float = 60.0, step: float = STEP) -> None:
        super().__init__(posts.series_names, SeriesIndex.steps, max_age, step)


class AuthorCatalog(CachedIndex[list[str], AuthorIndex]):
    """The store's authors as an AuthorIndex: a prefix lookup in memory instead of a GROUP BY per keystroke."""

    def __init__(self, posts: PostTables, max_age: float = 60.0, step: float = STEP) -> None:
        async def every_author() -> list[str]:
            return await posts.authors_starting("", ALL_AUTHORS)

        super().__init__(every_author, AuthorIndex.steps, max_age, step)
