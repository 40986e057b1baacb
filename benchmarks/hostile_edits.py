"""Hostile edits: how long one edit's body takes to work out, the worst cases bot/hive/edits.py allows
beside what diff-match-patch alone would spend on them.

- 200 KB patch:      refused by its size, before the library parses it;
- 64 KB, nowhere:    the largest patch allowed (hunks of 32 characters, none where it says): parsed
                     once, the exact pass stops, fuzzy matching is refused;
- fuzzy, worst:      FUZZY_MAX_HUNKS small hunks found nowhere in a 64 KB body: the library searches;
- real edit, 64 KB:  a 64 KB review with a few changes, applied exactly in one pass;
- deletion, moved:   one 20 KB deletion whose ends are found but whose middle differs;
- library alone:     the library's patch_apply on the same inputs (the first N hunks only of the
                     "64 KB, nowhere" patch), what the bot did before.

    python benchmarks/hostile_edits.py [--library-hunks 40]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diff_match_patch import diff_match_patch  # noqa: E402

from bot.hive.edits import FUZZY_MAX_HUNKS, MAX_BODY_BYTES, MAX_PATCH_CHARS, apply_edit  # noqa: E402


def timed(label: str, work: Callable[[], object], runs: int = 3) -> None:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<32} {best * 1000:10.1f} ms")


def nowhere_hunks(count: int) -> str:
    hunk = "@@ -{0},32 +{0},32 @@\n-" + "a" * 32 + "\n+" + "b" * 32 + "\n"
    return "".join(hunk.format(i * 40 + 1) for i in range(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library-hunks", type=int, default=40)
    args = parser.parse_args()
    lib = diff_match_patch()
    body = "x" * 60_000

    hostile = nowhere_hunks(200_000 // len(nowhere_hunks(1)))
    largest = nowhere_hunks(MAX_PATCH_CHARS // len(nowhere_hunks(1).replace("1", "99999", 2)))
    fuzzy_body = "q" * (MAX_BODY_BYTES - 100)
    fuzzy = "".join(
        f"@@ -{i * 4000 + 1},24 +{i * 4000 + 1},24 @@\n " + "k" * 8 + "\n-" + "m" * 16 + "\n+" + "n" * 16 + "\n"
        for i in range(FUZZY_MAX_HUNKS)
    )
    review = "".join(f"Paragraph {i}: the animation in episode {i % 12} is lovely. " for i in range(1100))[:64_000]
    changed = review.replace("lovely", "LOVELY", 40)
    real = lib.patch_toText(lib.patch_make(review, changed))
    print(f"200 KB patch: {len(hostile)} chars; largest allowed: {len(largest)} chars; real edit: {len(real)} chars")

    timed("200 KB patch", lambda: apply_edit(body, hostile))
    timed("64 KB, nowhere", lambda: apply_edit(body, largest))
    timed(f"fuzzy, worst ({FUZZY_MAX_HUNKS} hunks)", lambda: apply_edit(fuzzy_body, fuzzy))
    timed("real edit, 64 KB", lambda: apply_edit(review, real))
    assert apply_edit(review, real).body == changed
    middle = 20_000
    deletion = f"@@ -1,{middle + 64} +1,0 @@\n-" + "a" * 32 + "y" * middle + "b" * 32 + "\n"
    moved_body = "a" * 32 + "".join(chr(0x3041 + i % 80) for i in range(middle)) + "b" * 32
    timed("deletion, moved", lambda: apply_edit(moved_body, deletion))
    assert apply_edit(moved_body, deletion).refused is not None
    timed("library alone, deletion moved", lambda: lib.patch_apply(lib.patch_fromText(deletion), moved_body), runs=1)
    some = nowhere_hunks(args.library_hunks)
    timed(
        f"library alone, {args.library_hunks} hunks",
        lambda: lib.patch_apply(lib.patch_fromText(some), body),
        runs=1,
    )


if __name__ == "__main__":
    main()
