"""Discord embeds (bot/delivery/render.py): hostile chain text stays inert and every embed stays within limits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

import discord
import pytest

from bot.delivery.render import badge_embed, post_embed, role_ping, tombstone_embed, votes_embed
from bot.domain import Badge, PostRow

# Discord's limits, written out here rather than imported: the test must not trust the code's own numbers.
LIMITS = {"title": 256, "description": 4096, "fields": 25, "field_name": 256, "field_value": 1024}
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
TOTAL_LIMIT = 6000

BASE = PostRow(
    id=1,
    author="alienpunklord",
    permlink="review-metallic-rouge",
    community="hive-158489",
    title="Review Metallic Rouge",
    body="A fine show about androids on Mars.",
    json_metadata='{"tags": ["anime"]}',
    tags=("anime", "metallicrouge"),
    series="Metallic Rouge",
    series_key="metallicrouge",
    image="https://files.peakd.com/file/cover.jpg",
    created_block=101000000,
    created_at="2026-11-23T12:00:00",
    updated_block=101000000,
    updated_at="2026-11-23T12:00:00",
    edits=0,
    deleted=False,
    vote_count=2,
    pending_payout="1.234 HBD",
)

HOSTILE_TITLE = "@everyone free tokens <@&123> [x](javascript:alert(1))"
HOSTILE_BODY = "\n".join(
    [
        "@here look at this, @everyone too, and @EVERYONE, and @\u200beveryone, and @\u202ehere",
        "<@123> <@!456> <@&789> <#1> </cmd:1> <:e:1> <t:1:R> &lt;@&amp;5&gt; &lt;@6&gt;",
        "[click](javascript:alert(1)) [a](data:text/html;base64,PHNjcmlwdD4=) [b](vbscript:msgbox(1))",
        "[nested [x](javascript:alert(2))](https://example.com) [ok](https://example.com/page)",
        "![img](javascript:alert(3)) ![pic](data:image/png;base64,AAAA) ![real](https://example.com/a.png)",
        '<a href="javascript:alert(4)">html link</a> <img src="javascript:alert(5)">',
        "[ref]: javascript:alert(6)",
        "**bold** _it_ `code` ~~gone~~ || spoiler || > quote",
        "# heading @everyone",
    ]
)

_PING = re.compile(r"@(?:everyone|here)", re.IGNORECASE)


def as_dict(embed: discord.Embed) -> dict[str, Any]:
    """The JSON Discord receives for an embed."""
    return cast(dict[str, Any], embed.to_dict())


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string in an embed dict, with the key it sits under."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str):
        yield key, node


def assert_inert(data: dict[str, Any]) -> None:
    """No ping, no mention, no masked javascript link, and only http(s) URLs in URL fields."""
    strings = list(_strings(data))
    assert strings, "an embed with no text at all"
    for key, text in strings:
        assert not _PING.search(text), f"{key}: {text!r}"
        assert "<@" not in text, f"{key}: {text!r}"
        assert "<#" not in text, f"{key}: {text!r}"
        assert "](javascript" not in text.lower(), f"{key}: {text!r}"
        if key.endswith("url"):
            assert re.match(r"https?://[^\s]+$", text), f"{key}: {text!r}"


def assert_within_limits(data: dict[str, Any]) -> None:
    title = data.get("title", "")
    description = data.get("description", "")
    fields = data.get("fields", [])
    footer = data.get("footer", {}).get("text", "")
    author = data.get("author", {}).get("name", "")
    assert len(title) <= LIMITS["title"], len(title)
    assert len(description) <= LIMITS["description"], len(description)
    assert len(fields) <= LIMITS["fields"], len(fields)
    for field in fields:
        # Discord also refuses an empty field name or value.
        assert 0 < len(field["name"]) <= LIMITS["field_name"], len(field["name"])
        assert 0 < len(field["value"]) <= LIMITS["field_value"], len(field["value"])
    assert len(footer) <= FOOTER_LIMIT, len(footer)
    assert len(author) <= AUTHOR_LIMIT, len(author)
    total = len(title) + len(description) + len(footer) + len(author)
    total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= TOTAL_LIMIT, total
    # A dict Discord accepts is a dict JSON can carry.
    json.dumps(data)


def _huge_post() -> PostRow:
    # Markdown-heavy text doubles in length when escaped: the limits must hold after neutralising.
    return replace(
        BASE,
        title="*_" * 150,
        body=("**[x](https://example.com)** _y_ @everyone <@1> " * 1200)[:50_000],
        json_metadata="{not json",
        tags=tuple(f"{i:02d}" + "_`*" * 21 for i in range(40)),
        series="*[" * 2500,
        pending_payout="_" * 3000,
        author="a" * 300,
        edits=7,
        vote_count=10**9,
    )


# --------------------------------------------------------------------------------------------
# the limits helper itself


def test_limits_helper_rejects_an_oversized_embed() -> None:
    too_long = discord.Embed(title="t" * 257)
    with pytest.raises(AssertionError):
        assert_within_limits(as_dict(too_long))
    too_many = discord.Embed(description="d" * 4000)
    too_many.set_footer(text="f" * 2048)
    with pytest.raises(AssertionError):
        assert_within_limits(as_dict(too_many))


def test_inert_helper_rejects_a_ping_and_a_bad_url() -> None:
    with pytest.raises(AssertionError):
        assert_inert(as_dict(discord.Embed(description="hi @everyone")))
    with pytest.raises(AssertionError):
        assert_inert(as_dict(discord.Embed(title="x", url="javascript:alert(1)")))


# --------------------------------------------------------------------------------------------
# post_embed


def test_post_embed_shows_the_post() -> None:
    data = as_dict(post_embed(BASE, "Anime Realm"))
    assert data["title"] == "Review Metallic Rouge"
    assert data["url"] == "https://hive.blog/hive-158489/@alienpunklord/review-metallic-rouge"
    assert data["description"] == "A fine show about androids on Mars."
    assert data["author"]["name"] == "@alienpunklord"
    assert data["author"]["url"] == "https://hive.blog/@alienpunklord"
    assert data["image"]["url"] == "https://files.peakd.com/file/cover.jpg"
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Series"] == "Metallic Rouge"
    assert fields["Tags"] == "anime · metallicrouge"
    assert fields["Votes"] == "2 votes · 1\\.234 HBD pending"
    assert data["footer"]["text"] == "Anime Realm"
    assert data["timestamp"].startswith("2026-11-23T12:00:00")
    assert_inert(data)
    assert_within_limits(data)


@pytest.mark.parametrize("preview", [False, True])
def test_post_embed_of_a_hostile_post_is_inert(preview: bool) -> None:
    post = replace(
        BASE,
        title=HOSTILE_TITLE,
        body=HOSTILE_BODY,
        series="@here <@&1> [s](javascript:alert(1))",
        tags=("@everyone", "<@1>", "[t](javascript:x)"),
        pending_payout="@everyone <@2>",
        image="javascript:alert(1)",
    )
    data = as_dict(post_embed(post, "@everyone <@&42> [c](javascript:alert(1))", preview=preview))
    assert_inert(data)
    assert_within_limits(data)
    assert "image" not in data
    # Inert, not erased: the words are still there to read.
    assert "free tokens" in data["title"]
    assert "click" in data["description"]
    assert data["footer"]["text"].startswith("Preview · ") is preview


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        ("https://files.peakd.com/file/cover.jpg", "https://files.peakd.com/file/cover.jpg"),
        ("http://files.peakd.com/file/cover.jpg", None),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("https://user:pw@evil.example/x.png", None),
        ("//files.peakd.com/file/cover.jpg", None),
        ("", None),
        (None, None),
    ],
)
def test_post_embed_cover_image_is_https_only(image: str | None, shown: str | None) -> None:
    data = as_dict(post_embed(replace(BASE, image=image)))
    assert data.get("image", {}).get("url") == shown


def test_post_embed_of_a_huge_post_stays_within_limits() -> None:
    data = as_dict(post_embed(_huge_post(), "[" * 3000))
    assert_within_limits(data)
    assert_inert(data)
    assert data["title"].endswith("…")
    assert data["footer"]["text"].endswith("…")


def test_post_embed_preview_of_a_huge_post_stays_within_limits() -> None:
    data = as_dict(post_embed(_huge_post(), "x" * 3000, preview=True))
    assert_within_limits(data)
    assert data["footer"]["text"].startswith("Preview · ")


def test_post_embed_without_title_body_or_tags() -> None:
    post = replace(BASE, title="   ", body="", tags=(), series=None, pending_payout=None, vote_count=1, edits=2)
    data = as_dict(post_embed(post))
    assert data["title"] == "(untitled)"
    assert "description" not in data
    assert [f["name"] for f in data["fields"]] == ["Votes"]
    assert data["fields"][0]["value"] == "1 vote"
    assert data["footer"]["text"] == "hive-158489 · edited"
    assert_within_limits(data)


def test_post_embed_shows_at_most_eight_tags() -> None:
    tags = tuple(f"tag{i}" for i in range(40))
    data = as_dict(post_embed(replace(BASE, tags=tags)))
    value = next(f["value"] for f in data["fields"] if f["name"] == "Tags")
    assert value.count(" · ") == 7
    assert value.endswith(" +32")


def test_post_embed_with_a_bad_timestamp_has_none() -> None:
    data = as_dict(post_embed(replace(BASE, created_at="not a time")))
    assert "timestamp" not in data


# --------------------------------------------------------------------------------------------
# tombstone, votes, badges


def test_tombstone_embed() -> None:
    data = as_dict(tombstone_embed(replace(BASE, title=HOSTILE_TITLE, body=HOSTILE_BODY)))
    assert data["title"] == "Post deleted"
    assert "@alienpunklord" in data["description"]
    assert_inert(data)
    assert_within_limits(data)
    huge = as_dict(tombstone_embed(_huge_post()))
    assert_within_limits(huge)


HOSTILE_VOTERS = ["@everyone", "<@123>", "@here" * 40, "[v](javascript:alert(1))", "*" * 300, "<@&5>"]


def test_votes_embed_one_vote() -> None:
    data = as_dict(votes_embed(BASE, [("animerealm.cur", 10000)]))
    assert data["description"] == "@animerealm.cur upvoted **Review Metallic Rouge** at 100%."
    assert data["author"]["name"] == "Votes on @alienpunklord's post"
    assert_inert(data)
    assert_within_limits(data)


@pytest.mark.parametrize("voter", HOSTILE_VOTERS)
def test_votes_embed_one_hostile_vote(voter: str) -> None:
    post = replace(BASE, title=HOSTILE_TITLE)
    data = as_dict(votes_embed(post, [(voter, -2550)]))
    assert_inert(data)
    assert_within_limits(data)
    assert "-25.5%" in data["description"]


def test_votes_embed_two_hundred_voters() -> None:
    voters = [(HOSTILE_VOTERS[i % len(HOSTILE_VOTERS)] + str(i), (i * 97) % 20001 - 10000) for i in range(200)]
    post = replace(BASE, title="_" * 300)
    data = as_dict(votes_embed(post, voters))
    assert data["description"].startswith("200 upvotes on **")
    assert data["description"].endswith("…")
    assert_inert(data)
    assert_within_limits(data)


def test_badge_embed() -> None:
    image = "https://hivebuzz.me/@alienpunklord/upvotes.png?202611231200"
    data = as_dict(
        badge_embed(
            Badge("alienpunklord", "upvotes", image, "You distributed more than 8000 upvotes.", "Reach 9000 upvotes.")
        )
    )
    assert data["title"] == "New HiveBuzz badge for @alienpunklord"
    assert data["url"] == "https://hivebuzz.me/@alienpunklord"
    assert data["thumbnail"]["url"] == image
    assert data["description"] == "You distributed more than 8000 upvotes."
    assert data["fields"] == [{"name": "Next target", "value": "Reach 9000 upvotes.", "inline": False}]
    assert data["footer"]["text"] == "badge: upvotes"
    assert_inert(data)
    assert_within_limits(data)


@pytest.mark.parametrize(
    "image", ["javascript:alert(1)", "http://hivebuzz.me/@a/b.png", "data:image/png;base64,AAAA", "", "hivebuzz.me"]
)
def test_badge_embed_hostile(image: str) -> None:
    achievement = ("@everyone <@&1> [x](javascript:alert(1)) **" * 300)[:9000]
    data = as_dict(badge_embed(Badge("alienpunklord", "`@here`" * 500, image, achievement, "@here <@2> " * 300)))
    assert "thumbnail" not in data
    assert_inert(data)
    assert_within_limits(data)


def test_badge_embed_for_an_unusual_recipient_has_no_link() -> None:
    data = as_dict(badge_embed(Badge("Not An Account", "b", "", "did something", None)))
    assert "url" not in data
    assert "fields" not in data or data["fields"] == []


# --------------------------------------------------------------------------------------------
# role_ping


def test_role_ping_none_allows_no_mention() -> None:
    content, allowed = role_ping(None)
    assert content is None
    assert allowed.to_dict()["parse"] == []
    assert "roles" not in allowed.to_dict()
    assert "users" not in allowed.to_dict()


def test_role_ping_allows_only_that_role() -> None:
    content, allowed = role_ping(987654321)
    assert content == "<@&987654321>"
    data = allowed.to_dict()
    assert data["parse"] == []  # no everyone, no users, no roles by parsing
    assert data["roles"] == [987654321]
    assert "users" not in data
    assert allowed.everyone is False
    assert allowed.users is False


def test_role_ping_with_an_author_allows_that_member_and_the_role_only() -> None:
    content, allowed = role_ping(987654321, 1234)
    assert content == "<@&987654321> New post by <@1234>"
    data = allowed.to_dict()
    assert data["parse"] == [] and data["roles"] == [987654321] and data["users"] == [1234]
    content, allowed = role_ping(None, 1234)
    assert content == "New post by <@1234>"
    assert allowed.to_dict() == {"parse": [], "users": [1234]}


# --------------------------------------------------------------------------------------------
# footers and author names: Discord shows them as typed, so no markdown escapes

PLAIN_HOSTILE = "Anime_Realm *Club* ~~x~~ `y` #1 \u202e\u061c\u3164\u2800\U000e0041 @everyone <@&42> [c](javascript:x)"


def _plain_places(data: dict[str, Any]) -> list[str]:
    return [data.get("footer", {}).get("text", ""), data.get("author", {}).get("name", "")]


@pytest.mark.parametrize(
    "data",
    [
        as_dict(post_embed(replace(BASE, author="ali_en*punk\u202e\u3164"), PLAIN_HOSTILE)),
        as_dict(post_embed(replace(BASE, author="ali_en*punk\u202e\u3164"), PLAIN_HOSTILE, preview=True)),
        as_dict(votes_embed(replace(BASE, author="ali_en*punk\u202e\u3164"), [("animerealm.cur", 10000)])),
        as_dict(badge_embed(Badge("alienpunklord", PLAIN_HOSTILE, "", "did it", None))),
    ],
    ids=["post", "preview", "votes", "badge"],
)
def test_footers_and_author_names_are_plain_text(data: dict[str, Any]) -> None:
    assert_inert(data)
    for text in filter(None, _plain_places(data)):
        assert "\\" not in text, text
        assert not re.search("[\u202e\u061c\u3164\u2800\U000e0000-\U000e007f]", text), text
    footer, author = _plain_places(data)
    if "Anime" in footer:
        assert footer.replace("\u200b", "").endswith(
            "Anime_Realm *Club* ~~x~~ `y` #1 @everyone <@&42> [c](javascript:x)"
        )
    if author:
        assert "ali_en*punk" in author
