"""Search pages without Discord: terms, excerpts, highlighting, series names, the page embed, the paginator."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from bot.hive.names import account_name, is_account
from bot.search.catalog import AuthorIndex, SeriesIndex
from bot.search.pages import highlight, search_page_embed
from bot.search.query import SearchHit, SearchPage, SearchRequest, Term, excerpt, fts_query, terms
from cogs.utils.paginator import Paginator
from tests.unit.test_render import BASE, HOSTILE_BODY, HOSTILE_TITLE

# Discord's limits, written out rather than imported from the code under test.
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
_PING = re.compile(r"@(?:everyone|here)|<@", re.IGNORECASE)
# "**" that Discord reads as bold: not escaped by a backslash.
_BOLD = re.compile(r"(?<!\\)\*\*")

SERIES_ROWS = [
    ("metallicrouge", "Metallic Rouge", 12),
    ("frieren", "Frieren: Beyond Journey's End", 30),
    ("spyxfamily", "Spy × Family", 8),
    ("onepiece", "One Piece", 50),
    *((f"series{i:02d}", f"Series {i:02d} " + "long name " * 8, 1) for i in range(40)),
]


# -- terms --------------------------------------------------------------------------------------


def test_terms_keep_phrases_and_prefixes_of_four_letters_or_more() -> None:
    assert terms('"Mars, machines" metal* cha* x') == [
        Term(("Mars", "machines")),
        Term(("metal",), prefix=True),
        Term(("cha",)),
        Term(("x",)),
    ]
    assert fts_query("cha*") == '"cha"'  # too short a prefix: the word as typed


def test_decomposed_accents_stay_one_word() -> None:
    typed = unicodedata.normalize("NFD", "Pokémon")
    assert fts_query(typed) == '"Pokémon"'


def test_author_names_are_read_as_the_chain_spells_them() -> None:
    assert account_name("  @Reader01 ") == "reader01"
    assert is_account("reader01") and is_account("animerealm.cur")
    assert not is_account("not an account") and not is_account("ab") and not is_account("x" * 17)


# -- excerpts -----------------------------------------------------------------------------------

BODY = (
    "![cover](https://files.peakd.com/cover.jpg)\n\n# Review\n\n"
    + "Opening words about nothing in particular. " * 12
    + "\n\nThen the <b>Mars, Machines</b> arc: **Métallic** fights on Mars. "
    + "Closing words about other things entirely. " * 12
)


def marked(text: str) -> list[str]:
    return re.findall("\x02(.*?)\x03", text)


def test_excerpt_windows_around_the_best_match_and_marks_every_term() -> None:
    text = excerpt(BODY, terms("machines metal*"))
    assert text.startswith("…") and text.endswith("…")
    assert marked(text) == ["Machines", "Métallic"]
    assert "<b>" not in text and "**" not in text and "cover.jpg" not in text
    assert len(text.replace("\x02", "").replace("\x03", "")) <= 302


def test_excerpt_finds_phrases_across_punctuation_and_ignores_case_and_accents() -> None:
    assert marked(excerpt(BODY, terms('"mars machines"'))) == ["Mars, Machines"]
    assert marked(excerpt(BODY, terms("METALLIC"))) == ["Métallic"]
    assert marked(excerpt(BODY, terms("mars"))) == ["Mars", "Mars"]


def test_excerpt_without_a_match_in_the_body_shows_its_start() -> None:
    text = excerpt(BODY, terms("review"))  # "Review" is a heading: found, and at the very start
    assert text.startswith("\x02Review\x03 Opening words")
    assert excerpt(BODY, terms("absent")).startswith("Review Opening words")
    assert excerpt(BODY, []).startswith("Review Opening words")


def test_excerpt_of_a_long_body_reaches_a_late_match() -> None:
    body = "Filler paragraph text.\n\n" * 3000 + "The **twist** at the end.\n\n" + "More filler.\n\n" * 100
    assert marked(excerpt(body, terms("twist"))) == ["twist"]


# -- highlighting -------------------------------------------------------------------------------


def test_highlight_neutralises_before_it_bolds() -> None:
    text = highlight("user **stars** and \x02match\x03 [x](javascript:y) @everyone")
    assert _BOLD.findall(text) == ["**", "**"]
    assert "**match**" in text and "\\*\\*stars\\*\\*" in text
    assert "](" not in text and not _PING.search(text)


def test_highlight_drops_unpaired_empty_and_injected_marks() -> None:
    assert highlight("a \x02open only") == "a open only"
    assert highlight("a \x03close only") == "a close only"
    assert highlight("a \x02 \x03 b") == "a b"
    assert highlight("\ue010fake bold\ue011 and \x02real\x03") == "fake bold and **real**"
    assert highlight("\x02one\x03\x02two\x03") == "**onetwo**"


def _balanced_marks_char_by_char(text: str, opener: str, closer: str) -> str:
    """The first way marks were balanced, one character at a time: the reference for the faster one."""
    out: list[str] = []
    open_at = -1
    for ch in text:
        if ch == opener:
            if open_at < 0:
                open_at = len(out)
                out.append(ch)
        elif ch == closer:
            if open_at >= 0:
                if not "".join(out[open_at + 1 :]).strip():
                    del out[open_at]
                else:
                    out.append(ch)
                open_at = -1
        else:
            out.append(ch)
    if open_at >= 0:
        del out[open_at]
    return "".join(out).replace(closer + opener, "")


def test_marks_are_balanced_as_character_by_character() -> None:
    from bot.search import pages as render

    opener, closer = render._MARK_OPEN, render._MARK_CLOSE
    rng = random.Random(11)
    pieces = [opener, closer, opener, closer, " ", "  ", "word", "é", "\n", "**", "a b"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert render._balanced_marks(text) == _balanced_marks_char_by_char(text, opener, closer), repr(text)


def test_highlight_cut_inside_a_match_leaves_no_stray_bold() -> None:
    text = highlight("x" * 50 + " \x02" + "long" * 40 + "\x03", limit=80)
    assert not _BOLD.search(text) and text.endswith("…")


# -- the page embed ----------------------------------------------------------------------------


def monster(i: int) -> SearchHit:
    post = replace(
        BASE,
        id=i,
        title=HOSTILE_TITLE + " *[]_`|~" * 60,
        series="S" * 100,
        author="reader01",
        body=HOSTILE_BODY * 50,
    )
    snippet = "\x02everyone\x03 " + "[x](javascript:alert(1)) **b** <@&1> " * 40
    return SearchHit(post, snippet)


def check_limits(embed_dict: dict[str, object]) -> None:
    description = str(embed_dict.get("description", ""))
    title = str(embed_dict.get("title", ""))
    footer = str((embed_dict.get("footer") or {}).get("text", ""))  # type: ignore[attr-defined]
    assert len(description) <= DESCRIPTION_LIMIT and len(title) <= TITLE_LIMIT and len(footer) <= FOOTER_LIMIT
    assert len(description) + len(title) + len(footer) <= TOTAL_LIMIT


def test_a_page_of_hostile_monsters_fits_and_pings_no_one() -> None:
    hits = [monster(i) for i in range(1, 6)]
    embed = search_page_embed(SearchRequest("@everyone **x** [a](b)"), SearchPage(hits, 1000, 0, more=True))
    data = embed.to_dict()
    check_limits(dict(data))
    description = data["description"]
    blocks = description.split("\n\n")
    assert len(blocks) == 5
    for n, block in enumerate(blocks, 1):
        assert block.startswith(f"**{n}. [")
        assert block.count("](") == 1  # our link to the post, and no other
        assert len(_BOLD.findall(block)) % 2 == 0
    assert not _PING.search(json.dumps(data, ensure_ascii=False).replace("@alienpunklord", ""))
    assert data["footer"]["text"] == "Page 1 of 200 · over 1,000 reviews; the newest 1,000 ranked · best match first"


def test_titles_link_only_to_the_post_and_filters_show_in_the_footer() -> None:
    post = replace(BASE, title="See https://evil.example/x and [this](https://evil.example)")
    request = SearchRequest("rouge", author="alienpunklord", series="Metallic Rouge", community="hive-158489")
    data = search_page_embed(request, SearchPage([SearchHit(post, "the \x02rouge\x03 one")], 7, 5)).to_dict()
    first_line = data["description"].split("\n")[0]
    assert first_line.startswith("**6. [See https:\u200b//evil.example/x and (this)(https:\u200b//evil.example)](")
    assert first_line.endswith("(https://hive.blog/hive-158489/@alienpunklord/review-metallic-rouge)**")
    assert data["footer"]["text"] == (
        "Page 2 of 2 · 7 reviews · best match first · by @alienpunklord · series Metallic Rouge · in hive-158489"
    )


def test_nothing_searchable_lists_the_newest() -> None:
    data = search_page_embed(SearchRequest("*", sort="relevance"), SearchPage([SearchHit(BASE, "")], 1)).to_dict()
    assert data["title"] == "Newest reviews" and data["footer"]["text"].endswith("1 review · newest first")


def test_no_results_says_so_and_suggests_series_safely() -> None:
    data = search_page_embed(
        SearchRequest("metalic rouge"), SearchPage([], 0), suggestions=["Metallic Rouge", "@everyone *x*"]
    ).to_dict()
    assert data["title"] == "No results"
    assert "No review matches **metalic rouge**" in data["description"]
    assert "**Metallic Rouge**" in data["description"] and not _PING.search(data["description"])
    past = search_page_embed(SearchRequest("rouge"), SearchPage([], 3, 10)).to_dict()
    assert "past the last result" in past["description"]


# -- series names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("metalic rouge", ["Metallic Rouge"]),
        ("Metallic-Rouge", ["Metallic Rouge"]),
        ("rouge", ["Metallic Rouge"]),
        ("freiren", ["Frieren: Beyond Journey's End"]),
        ("spy family", ["Spy × Family"]),
        ("zz", []),
        ("!!!", []),
        ("completely unrelated words", []),
    ],
)
def test_suggestions(typed: str, expected: list[str]) -> None:
    assert SeriesIndex(SERIES_ROWS).suggest(typed) == expected


def test_choices_stay_within_discords_limits() -> None:
    index = SeriesIndex(SERIES_ROWS)
    for typed in ("", "series", "s", "ü" * 300, "metal"):
        names = index.choices(typed)
        assert len(names) <= 25 and all(1 <= len(n) <= 100 for n in names), typed
    assert index.choices("metal")[0] == "Metallic Rouge"
    assert index.choices("")[0] == "One Piece"  # most reviewed first when nothing is typed


# -- the paginator, with a stand-in for Discord's interaction -------------------------------------


class Pages:
    def __init__(self, count: int) -> None:
        self.page_count = count

    async def page(self, index: int) -> discord.Embed:
        return discord.Embed(title=f"page {index + 1}")


class StandIn:
    """Records what the paginator asks of an interaction; raises like Discord once the token expired."""

    def __init__(self, expired: bool = False) -> None:
        self.expired = expired
        self.sent: list[dict[str, object]] = []
        self.edits: list[dict[str, object]] = []
        self.response = self

    async def send_message(self, **kwargs: object) -> None:
        self.sent.append(kwargs)

    async def edit_original_response(self, **kwargs: object) -> None:
        if self.expired:
            raise discord.NotFound(cast(Any, SimpleNamespace(status=404, reason="Not Found")), {"code": 10015})
        self.edits.append(kwargs)


async def test_paginator_buttons_follow_the_page_and_go_on_timeout() -> None:
    view = Paginator(Pages(3), owner_id=1)
    origin = StandIn()
    await view.start(cast(discord.Interaction, origin), discord.Embed(title="page 1"))
    assert origin.sent[0]["view"] is view and origin.sent[0]["ephemeral"] is True
    assert [view.first.disabled, view.previous.disabled, view.next.disabled, view.last.disabled] == [
        True,
        True,
        False,
        False,
    ]
    assert view.label.label == "1 / 3"
    await view.on_timeout()
    assert origin.edits == [{"view": None}]
    # An expired token or a deleted message leaves nothing to tidy, and no error either.
    view.origin = cast(discord.Interaction, StandIn(expired=True))
    await view.on_timeout()


async def test_a_single_page_shows_no_buttons() -> None:
    assert Paginator(Pages(1), owner_id=1).children == []


# -- untrusted text in result pages ---------------------------------------------------------------

_MARKDOWN = re.compile(r"[*_~|`\\]")


def _unescaped(text: str) -> str:
    """What Discord shows for text with markdown escapes: backslashes and zero-width spaces gone."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


@pytest.mark.parametrize(
    "title",
    [
        "Read https://example.com/a_b_c first",
        "https://example.com/~user/*draft* and _more_",
        "see https://x.example/a|b`c~d",
    ],
)
def test_a_url_in_a_title_is_escaped_whole_in_results(title: str) -> None:
    post = replace(BASE, title=title)
    data = search_page_embed(SearchRequest("rouge"), SearchPage([SearchHit(post, "")], 1)).to_dict()
    heading = data["description"].split("\n")[0]
    label = heading.removeprefix("**1. [").rsplit("](", 1)[0]
    # Every markdown character of the label is escaped (none half), and it reads as the title did.
    assert not _MARKDOWN.search(re.sub(r"\\.", "", label)), label
    assert _unescaped(label) == title
    assert heading.count("](") == 1 and "://" not in label  # one link: ours, to the post


def test_a_masked_link_in_a_title_or_excerpt_is_no_link() -> None:
    post = replace(BASE, title="[x](https://evil.example) [y](<https://evil.example>)")
    hit = SearchHit(post, "[z](https://evil.example) and \x02rouge\x03")
    description = search_page_embed(SearchRequest("rouge"), SearchPage([hit], 1)).to_dict()["description"]
    assert description.count("](") == 1


def test_a_match_inside_a_url_is_not_bolded() -> None:
    text = highlight("go to https://\x02rouge\x03.example/a_b and \x02rouge\x03 here")
    assert text == "go to https://rouge.example/a_b and **rouge** here"


def test_the_footer_shows_filters_as_typed() -> None:
    request = SearchRequest("rouge", series="Kaguya_sama *Love* \u3164\u202e")
    footer = search_page_embed(request, SearchPage([SearchHit(BASE, "")], 1)).to_dict()["footer"]["text"]
    assert footer.endswith(" · series Kaguya_sama *Love*") and "\\" not in footer


def test_author_index_offers_the_most_prolific_starting_with_the_prefix() -> None:
    # Most prolific first, as the store lists them.
    index = AuthorIndex(["reader10", "zed", "reader02", "reader1", "anna", "reader02"])
    assert len(index) == 5
    assert index.starting("reader", 2) == ["reader10", "reader02"]
    assert index.starting("reader1") == ["reader10", "reader1"]
    assert index.starting("") == ["reader10", "zed", "reader02", "reader1", "anna"]
    assert index.starting("nobody") == []
