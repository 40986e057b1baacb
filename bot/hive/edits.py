"""An edit's body with bounded work: diff-match-patch applied exactly in linear time, fuzzily only when
small; every stored body within Hive's 64 KB.

Post content is untrusted, and so is a node's answer: a patch is refused by its size before
diff-match-patch parses it, and the library's fuzzy matching (bitap over up to Match_Distance
characters for each hunk, a diff for each hunk that moved) runs only for a few small hunks. The
worst case is counted in tests/unit/test_edits.py and measured in benchmarks/hostile_edits.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from diff_match_patch import diff_match_patch

# Hive refuses a transaction over 64 KiB, so no real body, and no real patch, is longer in UTF-8.
MAX_BODY_BYTES = 65_536
MAX_PATCH_CHARS = MAX_BODY_BYTES
# A patch is "@@ -a,b +c,d @@" hunks; a real edit has a handful, a 64 KB one at most a few thousand.
MAX_HUNKS = 4096
# The fuzzy fallback (a hunk not found where it says): so few hunks, each at most Match_MaxBits (32)
# characters long, that bitap and the small diffs stay under ~50 k steps in all (see the module doc).
FUZZY_MAX_HUNKS = 8

_INSERT, _DELETE = diff_match_patch.DIFF_INSERT, diff_match_patch.DIFF_DELETE


def _library() -> diff_match_patch:
    dmp = diff_match_patch()
    # The defaults, pinned: fuzzy matching looks Match_Distance * Match_Threshold characters either
    # side, with patterns of at most Match_MaxBits characters; a moved hunk longer than that is refused.
    dmp.Match_MaxBits = 32
    dmp.Match_Distance = 1000
    dmp.Match_Threshold = 0.5
    dmp.Patch_DeleteThreshold = 0.5
    dmp.Diff_Timeout = 1.0  # never reached: the diffs run on hunks of at most 32 characters
    return dmp


_dmp = _library()


@dataclass(frozen=True, slots=True)
class Edited:
    """The body after an edit, and why the edit was refused or cut (None when it applied whole)."""

    body: str
    refused: str | None = None


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def bounded_body(text: str) -> str:
    """A body as stored: cut to Hive's 64 KB (UTF-8, at a character boundary) when a node sends more."""
    if len(text) <= MAX_BODY_BYTES // 4 or utf8_size(text) <= MAX_BODY_BYTES:
        return text
    return text.encode("utf-8", "surrogatepass")[:MAX_BODY_BYTES].decode("utf-8", "ignore")


def looks_like_patch(body: str) -> bool:
    return body.startswith("@@ ")


def _parse(incoming: str) -> list[object] | str | None:
    """The hunks of a patch; a reason (str) when it is too large to look at; None when it is text."""
    if len(incoming) > MAX_PATCH_CHARS:
        return f"a {len(incoming)}-character patch, over Hive's {MAX_PATCH_CHARS}"
    hunks = incoming.count("\n@@ ") + 1
    if hunks > MAX_HUNKS:
        return f"a patch of {hunks} hunks, over {MAX_HUNKS}"
    try:
        patches: list[object] = _dmp.patch_fromText(incoming)
    except Exception:  # the library raises ValueError, and worse on hostile input: then it is text
        return None
    return patches or None


def is_patch(body: str) -> bool:
    """Whether a comment body is a diff-match-patch patch (an edit), by the same rule as apply_edit; one
    too large to parse counts as a patch (nothing could apply it)."""
    return looks_like_patch(body) and _parse(body) is not None


def apply_edit(stored: str, incoming: str) -> Edited:
    """hivemind's rule with bounded work: a patch if the text parses as one, else the full text.

    A patch is applied exactly (each hunk found where it says, in one pass), or else fuzzily by
    diff-match-patch when it has at most FUZZY_MAX_HUNKS small hunks; a larger one that does not apply
    exactly, one too large to parse, or one whose result exceeds 64 KB leaves the body as it was.
    """
    if not incoming:
        return Edited(stored)
    if not looks_like_patch(incoming):
        return _full_text(incoming)
    parsed = _parse(incoming)
    if parsed is None:
        return _full_text(incoming)
    if isinstance(parsed, str):
        return Edited(stored, parsed)
    merged = _apply_exact(parsed, stored)
    if merged is None:
        refused = _too_costly_to_fuzz(parsed)
        if refused is not None:
            return Edited(stored, refused)
        try:
            fuzzed, _applied = _dmp.patch_apply(parsed, stored)
        except Exception:
            return Edited(stored, "a patch diff-match-patch could not apply")
        merged = str(fuzzed)
    if utf8_size(merged) > MAX_BODY_BYTES:
        return Edited(stored, f"a patch whose result is over Hive's {MAX_BODY_BYTES} bytes")
    return Edited(merged)


def _full_text(incoming: str) -> Edited:
    body = bounded_body(incoming)
    return Edited(body, None if body is incoming else f"a body over Hive's {MAX_BODY_BYTES} bytes, cut")


def _apply_exact(patches: list[object], text: str) -> str | None:
    """Each hunk where its header says, in order: the result in one pass over the text and the patch;
    None when any hunk is elsewhere (diff-match-patch then searches for it)."""
    out: list[str] = []
    taken = 0  # characters of `text` consumed so far
    written = 0  # characters of the result so far
    for patch in patches:
        before, after = _before(patch), _after(patch)
        # start2 is where the hunk sits once the hunks before it are applied; its context may reach
        # back into the text the hunk before it left (diff-match-patch's rolling context).
        back = written - int(patch.start2)  # type: ignore[attr-defined]
        if back > 0:
            tail = out[-1] if out else ""
            if back > len(tail) or back > len(before) or tail[len(tail) - back :] != before[:back]:
                return None
            out[-1] = tail[: len(tail) - back]
            written -= back
            before = before[back:]
        start = taken + max(0, -back)
        if not text.startswith(before, start) or start + len(before) > len(text):
            return None
        out.append(text[taken:start])
        out.append(after)
        written += start - taken + len(after)
        taken = start + len(before)
    out.append(text[taken:])
    return "".join(out)


def _too_costly_to_fuzz(patches: list[object]) -> str | None:
    """Why fuzzy matching is refused for these hunks, or None: as diff-match-patch would split them, at
    most FUZZY_MAX_HUNKS, each at most Match_MaxBits long (a longer one means a diff of its length)."""
    if len(patches) > FUZZY_MAX_HUNKS:
        return f"a {len(patches)}-hunk patch that does not apply where it says"
    # Split hunks overlap, so they are at least as long together: too long is known before splitting.
    if sum(len(_before(p)) for p in patches) > FUZZY_MAX_HUNKS * _dmp.Match_MaxBits:
        return "a large patch that does not apply where it says"
    hunks = _dmp.patch_deepCopy(patches)
    _dmp.patch_addPadding(hunks)
    _dmp.patch_splitMax(hunks)
    if len(hunks) > FUZZY_MAX_HUNKS or any(len(_before(h)) > _dmp.Match_MaxBits for h in hunks):
        return "a large patch that does not apply where it says"
    return None


def _before(patch: object) -> str:
    """The text a hunk expects (its context and deletions)."""
    diffs: list[tuple[int, str]] = patch.diffs  # type: ignore[attr-defined]
    return "".join(data for op, data in diffs if op != _INSERT)


def _after(patch: object) -> str:
    """The text a hunk leaves (its context and insertions)."""
    diffs: list[tuple[int, str]] = patch.diffs  # type: ignore[attr-defined]
    return "".join(data for op, data in diffs if op != _DELETE)
