"""An edit's body with bounded work (bot/hive/edits.py): the work diff-match-patch is given is counted,
never timed; bodies stay within Hive's 64 KB."""

from __future__ import annotations

import random
from typing import Any

import pytest
from diff_match_patch import diff_match_patch

from bot.hive import edits
from bot.hive.edits import FUZZY_MAX_HUNKS, MAX_BODY_BYTES, MAX_PATCH_CHARS, apply_edit, bounded_body, is_patch

WORDS = ["anime", "review", "ステラ", "episode", "🌸", "mecha", "plot", "\n\n", "![img](https://x.y/a.png)", "%", "@@"]


class CountingDmp(diff_match_patch):  # type: ignore[misc]
    """The library as edits.py configures it, counting the calls that do its work."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}
        self.bitap: list[tuple[int, int]] = []  # (text length, pattern length) of each fuzzy search
        self.diffed: list[tuple[int, int]] = []  # lengths of each diff patch_apply runs

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def patch_fromText(self, textline: str) -> Any:
        self._count("patch_fromText")
        return super().patch_fromText(textline)

    def patch_apply(self, patches: Any, text: str) -> Any:
        self._count("patch_apply")
        return super().patch_apply(patches, text)

    def match_bitap(self, text: str, pattern: str, loc: int) -> Any:
        self.bitap.append((len(text), len(pattern)))
        return super().match_bitap(text, pattern, loc)

    def diff_main(self, text1: str, text2: str, checklines: bool = True, deadline: Any = None) -> Any:
        self.diffed.append((len(text1), len(text2)))
        return super().diff_main(text1, text2, checklines, deadline)


@pytest.fixture
def dmp(monkeypatch: pytest.MonkeyPatch) -> CountingDmp:
    counting = CountingDmp()
    for name in ("Match_MaxBits", "Match_Distance", "Match_Threshold", "Patch_DeleteThreshold", "Diff_Timeout"):
        setattr(counting, name, getattr(edits._dmp, name))
    monkeypatch.setattr(edits, "_dmp", counting)
    return counting


def made_patch(old: str, new: str) -> str:
    lib = diff_match_patch()
    return str(lib.patch_toText(lib.patch_make(old, new)))


def random_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def edited(rng: random.Random, text: str) -> str:
    parts = text.split(" ")
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(parts) + 1)
        if rng.random() < 0.5 and parts:
            del parts[min(at, len(parts) - 1)]
        else:
            parts.insert(at, random_text(rng, rng.randint(1, 4)))
    return " ".join(parts)


def test_real_edits_apply_exactly_as_the_library_would_without_its_search(dmp: CountingDmp) -> None:
    rng = random.Random(19)
    for _ in range(300):
        old = random_text(rng, rng.randint(0, 400))
        new = edited(rng, old)
        patch = made_patch(old, new)
        if not patch:
            continue
        result = apply_edit(old, patch)
        assert result.refused is None
        assert result.body == new == diff_match_patch().patch_apply(diff_match_patch().patch_fromText(patch), old)[0]
    # Found where each hunk said: the library never searched.
    assert dmp.calls.get("patch_apply", 0) == 0 and not dmp.bitap


def test_a_200_kb_hostile_patch_is_refused_before_the_library_sees_it(dmp: CountingDmp) -> None:
    stored = "The review as it was. " * 100
    hostile = "".join(f"@@ -{i * 7 + 1},3 +{i * 7 + 1},4 @@\n-abc\n+wxyz\n" for i in range(8000))
    assert len(hostile) > 200_000
    result = apply_edit(stored, hostile)
    assert result.body is stored
    assert result.refused is not None and f"over Hive's {MAX_PATCH_CHARS}" in result.refused
    assert dmp.calls == {} and not dmp.bitap and not dmp.diffed
    # Such a body as a new post's: a patch nobody can apply, without parsing it either.
    assert is_patch(hostile) and dmp.calls == {}


def test_the_largest_patch_allowed_that_applies_nowhere_costs_one_parse_and_no_search(dmp: CountingDmp) -> None:
    """64 KB of hunks, none where it says: the exact pass stops at the first, fuzzy matching is refused."""
    stored = "x" * 60_000
    hunk = "@@ -{0},32 +{0},32 @@\n-" + "a" * 32 + "\n+" + "b" * 32 + "\n"
    hostile = "".join(hunk.format(i * 40 + 1) for i in range(MAX_PATCH_CHARS // len(hunk.format(99999))))
    assert len(hostile) <= MAX_PATCH_CHARS
    result = apply_edit(stored, hostile)
    assert result.body is stored and result.refused is not None and "does not apply" in result.refused
    assert dmp.calls == {"patch_fromText": 1} and not dmp.bitap and not dmp.diffed


def test_one_large_moved_hunk_is_refused_rather_than_diffed(dmp: CountingDmp) -> None:
    """A deletion longer than Match_MaxBits found elsewhere would cost a diff of its whole length."""
    old = "intro " + "y" * 200 + " outro"
    patch = made_patch(old, "intro  outro")
    stored = "moved " + old  # the hunk is six characters later than it says
    result = apply_edit(stored, patch)
    assert result.body is stored and result.refused is not None
    assert dmp.calls == {"patch_fromText": 1} and not dmp.diffed


def test_a_small_moved_edit_is_still_applied_fuzzily_within_a_counted_budget(dmp: CountingDmp) -> None:
    old = "A fine review of Frieren. The pacing is slow but rewarding."
    new = "A fine review of Frieren. The pacing is calm and rewarding."
    stored = "(edited on another app) " + old
    result = apply_edit(stored, made_patch(old, new))
    assert result.refused is None and result.body == "(edited on another app) " + new
    assert dmp.calls.get("patch_apply") == 1


def test_the_worst_fuzzy_case_allowed_is_a_few_bounded_searches(dmp: CountingDmp) -> None:
    """FUZZY_MAX_HUNKS hunks of 32 characters found nowhere in a 64 KB body: each search looks at most
    Match_Distance * Match_Threshold characters either side, for at most half the pattern's errors."""
    stored = "q" * (MAX_BODY_BYTES - 100)
    hunks = "".join(
        f"@@ -{i * 4000 + 1},24 +{i * 4000 + 1},24 @@\n " + "k" * 8 + "\n-" + "m" * 16 + "\n+" + "n" * 16 + "\n"
        for i in range(FUZZY_MAX_HUNKS)
    )
    result = apply_edit(stored, hunks)
    assert result.body == stored
    assert dmp.calls.get("patch_apply") == 1
    assert 0 < len(dmp.bitap) <= FUZZY_MAX_HUNKS
    assert all(pattern <= dmp.Match_MaxBits for _text, pattern in dmp.bitap)
    assert all(a <= dmp.Match_MaxBits and b <= 2 * dmp.Match_MaxBits for a, b in dmp.diffed)
    # The bound the search width gives, per search: (errors tried) x (positions looked at).
    width = 2 * int(dmp.Match_Distance * dmp.Match_Threshold) + dmp.Match_MaxBits
    steps = sum((pattern // 2 + 1) * width for _text, pattern in dmp.bitap)
    assert steps <= FUZZY_MAX_HUNKS * 17 * 1032


def test_a_full_text_edit_over_64_kb_is_cut_at_a_character_boundary() -> None:
    body = "é" * 40_000  # 80,000 bytes in UTF-8
    result = apply_edit("old", body)
    assert result.refused is not None and "cut" in result.refused
    assert len(result.body.encode()) <= MAX_BODY_BYTES and result.body == "é" * (MAX_BODY_BYTES // 2)
    assert bounded_body("short") == "short" and bounded_body(body) == result.body


def test_a_patch_whose_result_is_over_64_kb_leaves_the_body_as_it_was() -> None:
    old = "a" * 60_000
    patch = made_patch(old, old + "b" * 10_000)
    assert len(patch) < MAX_PATCH_CHARS
    result = apply_edit(old, patch)
    assert result.body is old and result.refused is not None and "result" in result.refused
