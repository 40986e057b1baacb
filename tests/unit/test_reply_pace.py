"""A flood of replies, the pure parts: the window a reply counts in, and the line that stands for the rest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.delivery.planner import ReplyPace
from bot.delivery.render_reply import more_replies_text
from tests.unit.test_render import BASE


@pytest.mark.parametrize(
    ("at", "start"),
    [
        ("2026-11-23T10:00:00", "2026-11-23T10:00:00"),
        ("2026-11-23T10:09:59", "2026-11-23T10:00:00"),
        ("2026-11-23T10:10:00", "2026-11-23T10:10:00"),
        ("2026-11-23T23:59:57Z", "2026-11-23T23:50:00"),
    ],
)
def test_windows_are_aligned_on_the_epoch_so_every_feed_counts_alike(at: str, start: str) -> None:
    assert ReplyPace(20, 10).window_start(at) == start


def test_the_more_line_counts_links_and_pings_no_one() -> None:
    one = more_replies_text(BASE, 1)
    many = more_replies_text(replace(BASE, author="everyone"), 488)
    assert "1 more reply to this post on Hive" in one
    assert "488 more replies to this post on Hive" in many
    assert f"<{BASE.url}>" in one  # the link, without an embed of its own
    assert all(len(text) <= 2000 for text in (one, many))  # Discord's limit for content
