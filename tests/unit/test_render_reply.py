"""A post's conversation rendered for Discord (bot/delivery/render_reply.py): replies are untrusted
chain text, shown inert and within Discord's limits; thread names and forum tags from the post."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.delivery.render_reply import forum_tags, reply_embed, reply_tombstone_embed, thread_name
from bot.domain import ReplyRow
from tests.unit.test_render import BASE, HOSTILE_BODY, as_dict, assert_inert, assert_within_limits

REPLY = ReplyRow(
    id=7,
    post_id=1,
    author="reader01",
    permlink="re-review-metallic-rouge-1",
    parent_author="alienpunklord",
    parent_permlink="review-metallic-rouge",
    body="Great review! I **loved** episode 3.\n\n![shot](https://files.peakd.com/file/shot.png)",
    created_block=101000100,
    created_at="2026-11-23T13:00:00",
    updated_at="2026-11-23T13:00:00",
    edits=0,
    deleted=False,
)


def test_a_reply_shows_its_author_text_image_and_link() -> None:
    data = as_dict(reply_embed(REPLY, answers=None))
    assert data["author"] == {
        "name": "@reader01",
        "url": "https://hive.blog/@reader01",
        "icon_url": "https://images.hive.blog/u/reader01/avatar",
    }
    assert data["description"] == "Great review! I loved episode 3."
    assert data["url"] == "https://hive.blog/@reader01/re-review-metallic-rouge-1"
    assert data["image"]["url"] == "https://files.peakd.com/file/shot.png"
    assert "answers" not in data["title"]
    assert data["timestamp"].startswith("2026-11-23T13:00:00")
    assert "footer" not in data
    assert_inert(data)
    assert_within_limits(data)


def test_a_nested_reply_says_whom_it_answers_and_an_edit_shows() -> None:
    data = as_dict(reply_embed(replace(REPLY, edits=2), answers="alienpunklord"))
    assert data["title"] == "answers @alienpunklord"
    assert data["footer"]["text"] == "edited on Hive"
    # An account named like a ping pings no one, in the title or the author line (its links keep the name).
    hostile = as_dict(reply_embed(replace(REPLY, author="everyone"), answers="here"))
    assert hostile["title"] == "answers @\u200bhere" and hostile["author"]["name"] == "@\u200beveryone"
    assert hostile["author"]["url"] == "https://hive.blog/@everyone"


def test_a_hostile_reply_is_inert() -> None:
    body = HOSTILE_BODY + "\n<script>steal()</script><iframe src=javascript:alert(2)></iframe>"
    data = as_dict(reply_embed(replace(REPLY, body=body), answers="@everyone <@&1>"))
    assert_inert(data)
    assert_within_limits(data)
    assert "click" in data["description"]  # inert, not erased
    assert "steal" not in data["description"]  # a script's text is not shown
    # Its first image is a javascript: one: no image rather than a later one out of place.
    assert "image" not in data


@pytest.mark.parametrize(
    "body",
    [
        "*_" * 30_000,
        ("**[x](https://example.com)** _y_ @everyone <@1> " * 2000)[:100_000],
        "<b>" * 20_000,
        "word " * 50_000,
        "",
    ],
)
def test_huge_or_empty_bodies_fit_discord(body: str) -> None:
    data = as_dict(reply_embed(replace(REPLY, body=body, author="a" * 300), answers="b" * 300))
    assert_inert(data)
    assert_within_limits(data)


@pytest.mark.parametrize(
    ("body", "image"),
    [
        ("![a](http://example.com/a.png)", None),
        ("![a](javascript:alert(1))", None),
        ('<img src="https://example.com/b.jpg">', "https://example.com/b.jpg"),
        ("see https://example.com/c.webp", "https://example.com/c.webp"),
        ("see https://example.com/page", None),
    ],
)
def test_only_an_https_image_is_shown(body: str, image: str | None) -> None:
    data = as_dict(reply_embed(replace(REPLY, body=body), answers=None))
    assert data.get("image", {}).get("url") == image


def test_a_deleted_reply_becomes_a_tombstone() -> None:
    data = as_dict(reply_tombstone_embed(replace(REPLY, deleted=True, updated_at="2026-11-23T14:00:00")))
    assert "deleted" in data["title"].lower() and "@reader01" in data["description"]
    assert "Great review" not in str(data)
    assert data["author"]["icon_url"] == "https://images.hive.blog/u/reader01/avatar"
    assert data["timestamp"].startswith("2026-11-23T14:00:00")
    assert "@here" not in as_dict(reply_tombstone_embed(replace(REPLY, author="here")))["description"]


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Review Metallic Rouge", "Review Metallic Rouge"),
        ("  **Bold**   title\n\nwith lines ", "**Bold** title with lines"),
        ("", "A review by @alienpunklord"),
        ("\u200b\u200e\u2066 \t", "A review by @alienpunklord"),
    ],
)
def test_thread_name_is_the_title_as_typed(title: str, name: str) -> None:
    assert thread_name(replace(BASE, title=title)) == name


def test_thread_name_of_a_hostile_or_long_title() -> None:
    hostile = thread_name(replace(BASE, title="@everyone <@&123> free \u202etokens"))
    assert "@everyone" not in hostile and "<@" not in hostile and "\u202e" not in hostile
    assert "free" in hostile
    long = thread_name(replace(BASE, title="word " * 100))
    assert 0 < len(long) <= 100 and long.endswith("…")
    emoji = thread_name(replace(BASE, title="🎌" * 150))
    assert 0 < len(emoji) <= 100


def test_forum_tags_match_the_series_and_tags_by_key() -> None:
    available = [(1, "Frieren"), (2, "Metallic Rouge"), (3, "Anime"), (4, "metallic-rouge"), (5, "Mecha")]
    # Series first, then the post's own tags, in the forum's order; the same key twice is two tags.
    assert forum_tags(available, BASE) == [2, 4, 3]
    assert forum_tags(available, replace(BASE, series=None, series_key=None, tags=("mecha",))) == [5]
    assert forum_tags([], BASE) == []
    assert forum_tags([(9, "!!!"), (10, "")], replace(BASE, series=None, series_key=None, tags=("", "!!"))) == []


def test_forum_tags_are_at_most_five() -> None:
    available = [(i, f"tag{i}") for i in range(20)]
    post = replace(BASE, series=None, series_key=None, tags=tuple(f"tag{i}" for i in range(20)))
    assert forum_tags(available, post) == [0, 1, 2, 3, 4]
    # The series wins a place even when it comes last among many matching tags.
    with_series = replace(post, series="Tag 19", series_key="tag19")
    assert forum_tags(available, with_series)[0] == 19 and len(forum_tags(available, with_series)) == 5
