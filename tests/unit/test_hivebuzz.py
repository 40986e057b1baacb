"""HiveBuzz badge notices (bot/hive/hivebuzz.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bot.hive.hivebuzz import Badge, is_hivebuzz_notice, parse_badge, parse_badges

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "hive" / "seed" / "anime_realm_review.json"


def _seed_notice() -> dict[str, Any]:
    blocks = json.loads(SEED.read_text(encoding="utf-8"))
    op: dict[str, Any] = blocks["101000055"]["transactions"][0]["operations"][0]["value"]
    return op


HEADER = (
    "Congratulations @{user}! You have completed the following achievement on the Hive blockchain "
    "And have been rewarded with New badge(s)\n\n"
)
FOOTER = (
    "\n\n<sub>_You can view your badges on [your board](https://hivebuzz.me/@{user}) and compare "
    "yourself to others in the [Ranking](https://hivebuzz.me/ranking)_</sub>\n"
    "<sub>_If you no longer want to receive notifications, reply to this comment with the word_ `STOP`</sub>"
)


def _row(image: str, text: str) -> str:
    return f'<tr><td><img src="{image}"></td><td>{text}</td></tr>\n'


# --------------------------------------------------------------------------------------------
# is_hivebuzz_notice


def test_seed_notice_is_recognised() -> None:
    op = _seed_notice()
    assert is_hivebuzz_notice(op["author"], op["permlink"], op["parent_author"])


@pytest.mark.parametrize(
    ("author", "permlink", "parent_author"),
    [
        ("hivebuzz", "hivebuzz-notify-bob-20261123t120000", ""),  # a root post, not a reply
        ("hivebuzz", "hivebuzz-pud-2026-11", "bob"),  # an announcement, not a notification
        ("hivebuzz-fan", "hivebuzz-notify-bob", "bob"),
        ("HiveBuzz", "hivebuzz-notify-bob", "bob"),  # Hive account names are lower case
        (None, "hivebuzz-notify-bob", "bob"),
        ("hivebuzz", None, "bob"),
    ],
)
def test_other_comments_are_not_notices(author: Any, permlink: Any, parent_author: Any) -> None:
    assert not is_hivebuzz_notice(author, permlink, parent_author)


# --------------------------------------------------------------------------------------------
# the seed notice


def test_seed_badge() -> None:
    op = _seed_notice()
    badge = parse_badge(op["body"], op["parent_author"])
    assert badge is not None
    assert badge.recipient == "alienpunklord"
    assert badge.badge == "upvotes"
    assert badge.image_url.startswith("https://hivebuzz.me/@alienpunklord/upvotes.png")
    assert "8000" in badge.achievement
    assert badge.achievement == "You distributed more than 8000 upvotes."
    assert badge.next_target is not None and "9000" in badge.next_target
    assert badge.next_target == "Your next target is to reach 9000 upvotes."
    assert parse_badges(op["body"], op["parent_author"]) == [badge]


def test_seed_footer_is_not_part_of_the_achievement() -> None:
    op = _seed_notice()
    badge = parse_badge(op["body"], op["parent_author"])
    assert badge is not None
    assert "STOP" not in badge.achievement and "Ranking" not in badge.achievement


# --------------------------------------------------------------------------------------------
# other notice shapes


def test_several_badges_in_one_notice() -> None:
    body = (
        HEADER.format(user="bob")
        + "<table>"
        + _row(
            "https://images.hive.blog/60x70/https://hivebuzz.me/@bob/posts.png?202611230101",
            "You published more than 250 posts.<br>Your next target is to reach 300 posts.",
        )
        + _row(
            "https://images.hive.blog/60x70/https://hivebuzz.me/@bob/comments.png?202611230101",
            "You made more than 1000 comments.<br>Your next target is to reach 1250 comments.",
        )
        + _row(
            "https://images.hive.blog/60x70/https://hivebuzz.me/@bob/payout.png?202611230101",
            "You received more than 500 HP as payout for your posts, comments and curation.<br>"
            "Your next payout target is 750 HP.<br>The unit is Hive Power equivalent because post and "
            "comment rewards can be split into HP and HBD",
        )
        + "</table>"
        + FOOTER.format(user="bob")
    )
    badges = parse_badges(body, "bob")
    assert [b.badge for b in badges] == ["posts", "comments", "payout"]
    assert badges[0].achievement == "You published more than 250 posts."
    assert badges[1].next_target == "Your next target is to reach 1250 comments."
    # "next payout target" is not "next target": the whole cell stays the achievement.
    assert badges[2].achievement.startswith("You received more than 500 HP as payout")
    assert "Hive Power equivalent" in badges[2].achievement
    assert parse_badge(body, "bob") == badges[0]


def test_unproxied_image_and_old_single_line_text() -> None:
    # Older notices: direct image URL, both sentences in one line, entities in the text.
    body = (
        '<table><tr><td><img src="https://hivebuzz.me/@carol/upvoted.png?1"></td>'
        "<td>You received more than 5000 upvotes. Your next target is to reach 6000&nbsp;upvotes.</td></tr>"
        "</table>"
    )
    badge = parse_badge(body, "carol")
    assert badge == Badge(
        recipient="carol",
        badge="upvoted",
        image_url="https://hivebuzz.me/@carol/upvoted.png?1",
        achievement="You received more than 5000 upvotes.",
        next_target="Your next target is to reach 6000 upvotes.",
    )


def test_birthday_notice_with_bare_image_url() -> None:
    body = (
        "Congratulations @dave! You received a personal badge!\n\n"
        "<table><tr><td>https://images.hive.blog/70x70/https://hivebuzz.me/@dave/birthday-3.png</td>"
        "<td>Happy Hive Birthday! You are on the Hive blockchain for 3 years!</td></tr></table>\n\n"
        "<sub>_You can view your badges on [your board](https://hivebuzz.me/@dave)_</sub>"
    )
    badge = parse_badge(body, "dave")
    assert badge is not None
    assert badge.badge == "birthday-3"
    assert badge.image_url == "https://hivebuzz.me/@dave/birthday-3.png"
    assert badge.achievement == "Happy Hive Birthday! You are on the Hive blockchain for 3 years!"
    assert badge.next_target is None


def test_shared_badge_in_loose_markdown() -> None:
    body = (
        "Congratulations @erin! You received a personal badge!\n\n"
        "![](https://images.hive.blog/70x70/https://hivebuzz.me/badges/pud.png)\n\n"
        "You powered-up at least 10 HP on Hive Power Up Day!\n\n"
        "Wait until the end of Power Up Day to find out the size of your Power-Bee."
    )
    badge = parse_badge(body, "erin")
    assert badge is not None
    assert badge.recipient == "erin"
    assert badge.badge == "pud"
    assert badge.image_url == "https://hivebuzz.me/badges/pud.png"
    assert badge.achievement == "You powered-up at least 10 HP on Hive Power Up Day!"


@pytest.mark.parametrize(
    "body",
    [
        # STOP confirmation
        "Your notifications have been stopped. You will not receive them anymore.\n"
        "To start receiving them again, reply to this comment with the word `START`",
        # highest-payout notice without a badge image
        "Congratulations @frank! Your post got the highest payout of the day",
        # meetup invitation: images, but none of them a badge
        "Hello @grace, the HiveBuzz meetup is coming!\n\n"
        '<img src="https://images.hive.blog/0x0/https://files.peakd.com/file/peakd-hive/hivebuzz/meetup.png">\n'
        "Join us at [the meetup](https://hivebuzz.me/meetup)",
        # the notice's own banner
        '<img src="https://hivebuzz.me/notify.t6.png"> Check out our last posts',
        "",
    ],
)
def test_notices_without_badges(body: str) -> None:
    assert parse_badge(body, "frank") is None
    assert parse_badges(body, "frank") == []


# --------------------------------------------------------------------------------------------
# hostile images


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert('https://hivebuzz.me/@bob/upvotes.png')",
        "http://hivebuzz.me/@bob/upvotes.png",  # https only
        "https://images.hive.blog/60x70/http://hivebuzz.me/@bob/upvotes.png",
        "http://images.hive.blog/60x70/https://hivebuzz.me/@bob/upvotes.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "https://hivebuzz.me.evil.example/@bob/upvotes.png",
        "https://evil.example/@bob/upvotes.png",
        "//hivebuzz.me/@bob/upvotes.png",
        "https://hivebuzz.me/@bob/upvotes.png?x=<script>",
        "https://hivebuzz.me/@bob/../../upvotes.png",
        "https://hivebuzz.me/@eve/upvotes.png",  # another account's badge
    ],
)
def test_bad_images_give_no_badge(image: str) -> None:
    body = "<table>" + _row(image, "You distributed more than 8000 upvotes.") + "</table>"
    assert parse_badge(body, "bob") is None


def test_only_https_hivebuzz_urls_come_out() -> None:
    body = (
        "<table>"
        + _row("javascript:alert(1)", "You distributed more than 8000 upvotes.")
        + _row("https://images.hive.blog/60x70/https://hivebuzz.me/@bob/posts.png?1", "You published 10 posts.")
        + "</table>"
    )
    badges = parse_badges(body, "bob")
    assert [b.image_url for b in badges] == ["https://hivebuzz.me/@bob/posts.png?1"]


def test_text_is_plain() -> None:
    body = (
        "<table>"
        + _row(
            "https://hivebuzz.me/@bob/posts.png",
            "<b>You</b> published &lt;more&gt; than\n\n   10 &amp; posts.<script>x</script>",
        )
        + "</table>"
    )
    badge = parse_badge(body, "bob")
    assert badge is not None
    assert "<b>" not in badge.achievement and "&amp;" not in badge.achievement
    assert badge.achievement.startswith("You published <more> than")
    assert "\n" not in badge.achievement


def test_recipient_forms() -> None:
    op = _seed_notice()
    assert parse_badge(op["body"], "@AlienPunkLord") is not None
    # Without a recipient the image URL names it.
    badge = parse_badge(op["body"], "")
    assert badge is not None and badge.recipient == "alienpunklord"
    assert parse_badge(op["body"], "not a valid account!") is None


def test_huge_text_is_truncated() -> None:
    body = "<table>" + _row("https://hivebuzz.me/@bob/posts.png", "word " * 2000) + "</table>"
    badge = parse_badge(body, "bob")
    assert badge is not None and len(badge.achievement) <= 300


# --------------------------------------------------------------------------------------------
# garbage never raises


@pytest.mark.parametrize(
    "body",
    [
        None,
        12,
        "<tr" * 7000,
        "<img src=" * 3000,
        "https://" * 3000,
        "<img " + "a" * 19_990,
        "<table><tr><td>" * 2000,
        "\x00\ud800\udfff\u202e",
        "![" * 5000 + "](" * 5000,
    ],
)
def test_garbage(body: Any) -> None:
    assert parse_badges(body, "bob") == []
    assert parse_badge(body, "bob") is None


def test_fuzz_random_and_mutated_notices() -> None:
    rnd = random.Random(101000055)
    seed = _seed_notice()["body"]
    pieces = [
        "<", ">", "tr", "td", "<br>", "<img ", "src=", '"', "'", "https://", "hivebuzz.me/", "@bob/",
        "x.png", "?1", " ", "\n", "\n\n", "!", "[", "]", "(", ")", "next target", "You", "&amp;", "&#0;",
        "\x00", "é", "images.hive.blog/60x70/", "</tr>", "</table>", "javascript:",
    ]  # fmt: skip
    for _ in range(2000):
        body = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 60)))
        for badge in parse_badges(body, rnd.choice(["bob", "", "@BOB", "x" * 40])):
            assert badge.image_url.startswith("https://hivebuzz.me/")
    for _ in range(1000):
        chars = list(seed)
        for _ in range(rnd.randint(1, 8)):
            at = rnd.randrange(len(chars))
            if rnd.random() < 0.5:
                del chars[at]
            else:
                chars.insert(at, rnd.choice(pieces))
        for badge in parse_badges("".join(chars), "alienpunklord"):
            assert badge.image_url.startswith("https://hivebuzz.me/")
            assert badge.recipient == "alienpunklord"
            assert len(badge.achievement) <= 300
