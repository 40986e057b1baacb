"""Untrusted post text into safe Discord text (bot/text/safe.py, bot/text/invisible.py)."""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from bot.text.invisible import strip_invisible
from bot.text.safe import ELLIPSIS, ZWSP, neutralise, plain_excerpt, plain_text, safe_url, truncate

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "hive" / "seed" / "anime_realm_review.json"


def _seed_body() -> str:
    blocks = json.loads(SEED.read_text(encoding="utf-8"))
    body: str = blocks["101000000"]["transactions"][0]["operations"][0]["value"]["body"]
    return body


# Mention / ping syntax Discord renders (https://discord.com/developers/docs/reference#message-formatting).
_PING = re.compile(r"@(everyone|here)\b")
_MENTION = re.compile(r"<(@[!&]?|#|/[^\s:>]+:|:[A-Za-z0-9_]+:|a:|t:|id:)")
_MASKED_LINK = re.compile(r"\]\(")


def _assert_inert(text: str) -> None:
    assert not _PING.search(text), text
    assert not _MENTION.search(text), text
    assert not _MASKED_LINK.search(text), text


# --------------------------------------------------------------------------------------------
# neutralise


def test_neutralise_the_classic_attack() -> None:
    out = neutralise("@everyone free tokens <@&123> [x](javascript:alert(1))")
    assert "@everyone" not in out
    assert "<@&" not in out
    assert "](javascript:" not in out
    _assert_inert(out)
    # Still readable: only invisible characters and backslashes were added.
    visible = out.replace(ZWSP, "").replace("\\", "")
    assert visible == "@everyone free tokens <@&123> [x](javascript:alert(1))"


@pytest.mark.parametrize(
    "text",
    [
        "@here look", "@Everyone", "hi@everyone", "<@123456789012345678>", "<@!123456789012345678>",
        "<#123456789012345678>", "</ban:123456789012345678>", "<:pepe:123456789012345678>",
        "<a:dance:123>", "<t:1700000000:R>", "<id:customize>",
        "[click](https://evil.example)", "[a](b) [c](d) [e](<https://f.example>)",
        "\\[x](https://evil.example)", "[x]\u200b(https://evil.example)",
        "https://ok.example/path](javascript:alert(1))", "[![img](https://i.example/a.png)](https://evil.example)",
        "<\u200b@&123>",  # already broken input stays broken
    ],
)  # fmt: skip
def test_neutralise_mentions_and_links(text: str) -> None:
    _assert_inert(neutralise(text))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("**bold** __under__ *it* ~~strike~~ ||spoiler|| `code`", "\\*\\*bold\\*\\*"),
        ("||spoiler||", "\\|\\|spoiler\\|\\|"),
        ("`code`", "\\`code\\`"),
        ("# Heading", "\\# Heading"),
        ("-# subtext", "\\-# subtext"),
        ("> quote", "\\> quote"),
        (">>> quote", "\\>>> quote"),
        ("1. item", "1\\. item"),
        ("- item", "\\- item"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_neutralise_escapes_markdown(text: str, fragment: str) -> None:
    assert fragment in neutralise(text)


def test_neutralise_keeps_bare_urls_clickable() -> None:
    url = "https://peakd.com/hive-158489/@alienpunklord/review_metallic_rouge"
    assert url in neutralise(f"Read it at {url} now")


def test_neutralise_strips_bidi_and_controls() -> None:
    out = neutralise("abc\u202edef\x00ghi")
    assert "\u202e" not in out and "\x00" not in out


def test_neutralise_is_fast_on_hostile_input() -> None:
    # discord.utils.escape_markdown needs minutes for this one (quadratic link pattern).
    hostile = ["[a](" * 12_500, "[" * 50_000, "<@" * 25_000, "@everyone " * 5_000, "*_" * 25_000]
    start = time.process_time()  # CPU time: a busy machine does not slow it
    for text in hostile:
        _assert_inert(neutralise(text))
    assert time.process_time() - start < 2


def test_neutralise_non_string() -> None:
    assert neutralise(None) == ""  # type: ignore[arg-type]


def test_neutralise_fuzz() -> None:
    rnd = random.Random(7)
    pieces = ["@", "everyone", "here", "<", ">", "@&", "#", "/", ":", "[", "]", "(", ")", "\\", "*", "_",
              "\u200b", "\u2060", "x", " ", "\n", "https://", "javascript:", "1", "!"]  # fmt: skip
    for _ in range(3000):
        _assert_inert(neutralise("".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))))


# --------------------------------------------------------------------------------------------
# invisible characters

# Every character the issue names, written out: direction marks and isolates, the Arabic letter mark,
# the deprecated format characters, the tag block, the Hangul fillers and their kin, lone selectors.
LISTED_INVISIBLE = [
    "\u061c", *map(chr, range(0x206A, 0x2070)), *map(chr, range(0xE0000, 0xE0080)),
    "\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u180e", *map(chr, range(0x200B, 0x2010)),
    *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2060, 0x206A)), "\ufeff", "\u00ad", "\u034f",
    "\ufe0f", "\ufe00", "\U000e0100", "\u180b",
]  # fmt: skip
# Cf characters that are visible signs (Unicode's Prepended_Concatenation_Mark), written out here.
VISIBLE_FORMAT = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD}


@pytest.mark.parametrize("ch", LISTED_INVISIBLE, ids=lambda ch: f"U+{ord(ch):04X}")
def test_every_listed_invisible_character_is_stripped(ch: str) -> None:
    # Between spaces and between letters: where a filler hides a gap, and where it splits a word.
    for text in (f"a{ch}b", f"a {ch} b", f"{ch}{ch}start", f"end{ch}"):
        expected = text.replace(ch, "")
        assert strip_invisible(text) == expected, text
        assert ch not in neutralise(text), text
        assert ch not in plain_text(text), text
        assert ch not in plain_excerpt(text, 100), text


def test_every_invisible_format_character_is_stripped() -> None:
    # The class, not a list: every Cf code point Python knows of, in every plane.
    fmt = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and c not in VISIBLE_FORMAT]
    assert len(fmt) >= 150
    text = "x".join(fmt)
    assert strip_invisible(text) == "x" * (len(fmt) - 1)
    assert neutralise(text) == "x" * (len(fmt) - 1)


@pytest.mark.parametrize(
    "text",
    [
        "👩\u200d💻 at work",  # emoji ZWJ sequence
        "🏳\ufe0f\u200d🌈 flag",  # selector, then joiner
        "❤\ufe0f and 1\ufe0f\u20e3",  # a selector styles the character before it
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",  # tag-sequence flag
        "می\u200cخواهم",  # Persian needs the non-joiner
        "क्\u200dष",  # Devanagari half form
        "\u0600\u0661\u0662",  # Arabic number sign: a visible format character
    ],
)
def test_sequences_that_show_something_are_kept(text: str) -> None:
    assert strip_invisible(text) == text
    assert plain_text(text) == text


def test_joiners_and_selectors_doing_no_visible_job_are_stripped() -> None:
    assert strip_invisible("pay\u200cpal and ad\u200dmin") == "paypal and admin"  # Latin never joins
    assert strip_invisible("\u200d👩 a\u200d b \ufe0f \ufe0f\ufe0f x\ufe0f ✌\ufe0f\ufe0f") == "👩 a b   x ✌\ufe0f"
    assert strip_invisible("\U000e0041\U000e0042 hidden tags \U000e007f") == " hidden tags "
    assert strip_invisible("🏴\U000e0041") == "🏴"  # no cancel tag: not a flag


def test_bidi_cannot_disguise_a_ping() -> None:
    for text in ("@\u202eeveryone", "@\u2066here\u2069", "<\u061c@123>", "@ever\u3164yone"):
        _assert_inert(neutralise(text))
        _assert_inert(plain_text(text))


# --------------------------------------------------------------------------------------------
# URLs and plain text


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a_b_c",
        "https://example.com/~user/*draft*/x",
        "https://example.com/a|b`c",
        "https://example.com/wiki/Foo_(bar)",
    ],
)
def test_a_bare_url_is_left_whole_never_half_escaped(url: str) -> None:
    assert neutralise(f"Read {url} now") == f"Read {url} now"
    # Discord's url rule ends a link before trailing punctuation, and so does the part left whole.
    assert neutralise(f"{url}.") == f"{url}."


def test_markdown_right_after_a_url_is_still_escaped() -> None:
    assert neutralise("https://example.com/x. *bold*") == "https://example.com/x. \\*bold\\*"


def test_without_urls_a_url_is_escaped_whole() -> None:
    out = neutralise("see https://example.com/a_b_c *x*", urls=False)
    assert out == "see https://example.com/a\\_b\\_c \\*x\\*"


def test_a_masked_link_never_becomes_a_link() -> None:
    for text in ("[x](https://evil.example)", "[x](https://evil.example/[y](https://z.example))"):
        for out in (neutralise(text), neutralise(text, urls=False), plain_text(text)):
            _assert_inert(out)


def test_plain_text_adds_no_backslashes() -> None:
    text = "Anime_Realm *Club* ~~x~~ `y` | #1 > [z] \\ @everyone <@&1>\nsecond\u200b line\u3164"
    out = plain_text(text)
    assert "\\\\" not in out and out.count("\\") == 1  # only the one that was typed
    assert out.replace(ZWSP, "") == "Anime_Realm *Club* ~~x~~ `y` | #1 > [z] \\ @everyone <@&1> second line"
    _assert_inert(out)
    assert plain_text(None) == ""  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# plain_excerpt


def test_excerpt_of_seed_review() -> None:
    body = _seed_body()
    excerpt = plain_excerpt(body, 300)
    assert len(excerpt) <= 300
    assert excerpt.startswith("Welcome to another art post here in the community.")
    assert excerpt.endswith(ELLIPSIS)
    # The cover image (markdown image) is gone, and the cut falls between words.
    assert "files.peakd.com" not in excerpt and "![" not in excerpt
    assert excerpt[: -len(ELLIPSIS)] == excerpt[: -len(ELLIPSIS)].rstrip()
    assert body.replace("\n", " ").find(excerpt[: -len(ELLIPSIS)].replace("\n", " ")) >= 0


def test_excerpt_of_seed_review_whole() -> None:
    body = _seed_body()
    whole = plain_excerpt(body, 10_000)
    assert not whole.endswith(ELLIPSIS)
    assert "Rouge Redstar" in whole
    assert "\n\n\n" not in whole


def test_excerpt_strips_markdown_and_html() -> None:
    source = (
        "# Title ##\n\n"
        "> quoted **bold** and *italic* and _under_ snake_case ~~gone~~ `code`\n\n"
        "| Show | Score |\n|---|:-:|\n| Frieren | 10 |\n\n"
        "---\n"
        "- first\n* second\n\n"
        "[![poster](https://files.peakd.com/poster.png)](https://peakd.com/x)\n"
        "[a link](https://evil.example) and <https://auto.example>\n"
        '<center><img src="https://x.example/a.png"><br>Hi &amp; bye&nbsp;there</center>\n'
        '<div class="pull-right">Right</div>\n'
        "```python\nprint(1)\n```\n"
        "<!-- hidden comment -->\n"
        "<script>alert(1)</script>\n"
        "https://files.peakd.com/file/peakd-hive/u/pic.jpg\n"
        "&lt;b&gt;literal&lt;/b&gt;"
    )
    out = plain_excerpt(source, 10_000)
    for gone in ("#", "**", "|", "---", "![", "](", "<center>", "<img", "<br", "```", "hidden", "alert",
                 "pic.jpg", "poster", "~~", "`", "&amp;", "&nbsp;"):  # fmt: skip
        assert gone not in out, gone
    for kept in ("Title", "quoted bold and italic and under snake_case gone code", "Frieren 10", "• first",
                 "• second", "a link and https://auto.example", "Hi & bye there", "Right", "print(1)",
                 "<b>literal</b>"):  # fmt: skip
        assert kept in out, kept
    assert "\n\n\n" not in out


def test_excerpt_br_becomes_newline() -> None:
    assert plain_excerpt("one<br>two<br/>three<BR />four", 100) == "one\ntwo\nthree\nfour"


@pytest.mark.parametrize("limit", [1, 2, 10, 100, 4096])
def test_excerpt_respects_limits_on_50k_bodies(limit: int) -> None:
    bodies = [
        "word " * 10_000,
        "x" * 50_000,
        "[a](" * 12_500,
        "<p" * 25_000,
        "**a" * 16_000,
        "|" + " " * 50_000 + "x",
        "<!--" * 12_500,
        "https://" * 6_000,
        "![" * 25_000,
        "漢字" * 25_000,
        ("e\u0301" * 25_000),
        _seed_body() * 12,
    ]
    start = time.process_time()  # CPU time: a busy machine does not slow it
    for body in bodies:
        assert len(body) >= 40_000
        out = plain_excerpt(body, limit)
        assert len(out) <= limit
    assert time.process_time() - start < 5


def test_excerpt_edge_limits() -> None:
    assert plain_excerpt("hello world", 0) == ""
    assert plain_excerpt("hello world", -5) == ""
    assert plain_excerpt("", 10) == ""
    assert plain_excerpt(None, 10) == ""  # type: ignore[arg-type]
    assert plain_excerpt("hello world", 11) == "hello world"
    assert plain_excerpt("hello world again", 12) == "hello world…"


def test_excerpt_long_single_word_is_hard_cut() -> None:
    out = plain_excerpt("a" * 500, 100)
    assert out == "a" * 99 + ELLIPSIS


# --------------------------------------------------------------------------------------------
# truncate


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("hello", 10, "hello"),
        ("hello", 5, "hello"),
        ("hello world", 6, "hello…"),
        ("hello", 1, "…"),
        ("hello", 0, ""),
        ("", 3, ""),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def _continues_cluster(ch: str) -> bool:
    cp = ord(ch)
    return (
        bool(unicodedata.combining(ch)) or cp in (0x200D, 0xFE0F) or 0x1F3FB <= cp <= 0x1F3FF or 0xDC00 <= cp <= 0xDFFF
    )


@pytest.mark.parametrize(
    "text",
    [
        "e\u0301" * 20,  # combining accents
        "👍🏽" * 20,  # skin-tone modifiers
        "👩\u200d💻" * 20,  # zero-width-joiner sequences
        "❤\ufe0f" * 20,  # variation selectors
        "🇯🇵🇫🇷" * 10,  # flags are pairs
        "\ud83d\ude00" * 20,  # surrogate pairs from badly decoded JSON
    ],
)
def test_truncate_never_splits_a_cluster(text: str) -> None:
    for limit in range(2, 30):
        out = truncate(text, limit)
        assert len(out) <= limit
        head = out.removesuffix(ELLIPSIS)
        assert text.startswith(head)
        if head and len(head) < len(text):
            # The first dropped code point starts a new cluster; the kept part does not end in a joiner.
            assert not _continues_cluster(text[len(head)]), (limit, head)
            assert head[-1] != "\u200d" and not 0xD800 <= ord(head[-1]) <= 0xDBFF
            flags = sum(1 for ch in head if 0x1F1E6 <= ord(ch) <= 0x1F1FF)
            assert flags % 2 == 0


def test_truncate_non_string() -> None:
    assert truncate(None, 5) == ""  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# safe_url


@pytest.mark.parametrize(
    "url",
    [
        "https://peakd.com/@alienpunklord/review-metallic-rouge",
        "http://example.com",
        "HTTPS://EXAMPLE.COM/Path?q=1#frag",
        "https://files.peakd.com/file/peakd-hive/a/b.jpg?format=match&mode=fit",
        "https://example.com:8443/x",
        "https://[2001:db8::1]/x",
        "https://münchen.example/",
        "https://a.b.c.example./",
    ],
)
def test_safe_url_accepts(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "/relative/path",
        "relative/path",
        "//example.com/x",
        "https://",
        "https:///path",
        "https:example.com",
        "https://exa mple.com",
        "https://example.com/\nx",
        "https://example.com/\u202ex",
        "https://example.com/\x00",
        " https://example.com",
        "https://example.com:99999/",
        "https://example.com:port/",
        "https://user:pass@example.com/",
        "https://good.example\\@evil.example/",
        "https://<script>/",
        "https://exa%6dple.com/",
        "https://" + "a" * 2048 + ".com",
        "",
        None,
        123,
        b"https://example.com",
        ["https://example.com"],
    ],
)
def test_safe_url_rejects(url: Any) -> None:
    assert safe_url(url) is None


def test_spaces_pattern_is_every_white_space_but_newline() -> None:
    # plain_excerpt's white-space class is spelled out for speed; it must stay what \s less "\n" means.
    from bot.text.safe import _BLANKS, _SPACES

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert set(re.findall(f"[ {_BLANKS}]", every)) == {c for c in every if c.isspace() and c != "\n"}
    assert _SPACES.sub(" ", "a \t b\u3000\n  c d") == "a b \n c d"


def test_strip_invisible_is_the_plain_substitution() -> None:
    # strip_invisible jumps between places a match can start; it must find every match the pattern does.
    from bot.text.invisible import _INVISIBLE, _keep_invisible

    rng = random.Random(4)
    parts = [
        "a", "é", " ", "\n", "🤖", "\U0001f469", "\u200d", "\u200c", "\ufe0f", "\u00ad", "\u0600", "\u0915", "\u094d",
        "\U000e0067", "\U000e007f", "\U000e0100", "\U0001f3f4", "\U0001f3f4\U000e0067\U000e0062\U000e007f", "1", "#",
    ]  # fmt: skip
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    every_invisible = "".join(m.group() for m in _INVISIBLE.finditer(every))
    assert len(every_invisible) > 4000
    texts = [every_invisible, "x" + every_invisible + "🤖"]
    texts += ["".join(rng.choice(parts) for _ in range(rng.randint(0, 40))) for _ in range(5_000)]
    for text in texts:
        assert strip_invisible(text) == _INVISIBLE.sub(_keep_invisible, text), repr(text)
