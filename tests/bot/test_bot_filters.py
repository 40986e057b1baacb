"""Feed filters and per-server caps through the real bot, the fake Discord and the fake Hive node.

Two feeds of one community in one server: `#tagged` takes posts with any of its tags, `#trusted`
leaves out an account and authors below a reputation. Each gets exactly the posts its filter passes,
new or backfilled; /feed test previews what the channel's feed would mirror; /feed list shows the
filters. The server's caps (made small in this config) refuse a feed, a role rule and a curator
list too many, in words. One bot process serves the module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.bot_harness import TOKEN, BotProcess, bot_config, comment_block, db_rows, delivery_settled
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import permissions as perms
from tests.fakes.hive import FakeHiveNode
from tests.fakes.hive.condenser_api import hive_account
from tests.helpers import ANIME_REALM, SEED_FIRST, SEED_LAST
from tests.world import running_bot, seed_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMITS = {"feeds_per_server": 3, "role_rules_per_server": 1, "curators_per_feed": 2}
# Raw chain reputations and the scores front ends show for them.
REP_52, REP_34, REP_25, REP_61, REP_MINUS_2 = 10**12, 10**10, 0, 10**13, -(10**12)

# Stored before any feed exists: what a backfill may pick from (with the seed's review by alienpunklord).
OLD = [
    ("goodwriter", "old-manga-pick", "Old manga pick", ["manga", "shonen"]),
    ("newbie01", "old-newbie-manga", "Old newbie manga", ["manga"]),
    ("spammer01", "old-spam", "Old spam", ["anime"]),
]
SEED_TITLE = "Metallic Rouge"  # the seed review: tags anime, metallicrouge, review, bones; author's score 34
# New once both feeds exist. freshface and lowlife are first met here: the follower reads their reputation.
NEW = [
    ("goodwriter", "new-manga", "New manga by goodwriter", ["manga"]),
    ("newbie01", "newbie-manga", "Newbie manga", ["manga"]),
    ("spammer01", "spam-manga", "Spam with a manga tag", ["manga", "anime"]),
    ("goodwriter", "new-anime", "New anime by goodwriter", ["anime"]),
    ("alienpunklord", "shonen-notes", "Shonen notes", ["Shonen"]),
    ("freshface", "first-post", "A first post by freshface", []),
    ("lowlife", "low-manga", "Downvoted manga", ["manga"]),
    ("newbie01", "latest-newbie", "Latest newbie manga", ["manga"]),
]
# Edits after that (tags kept): one of a post #trusted never showed, one of a post it shows.
EDITS = [
    ("newbie01", "newbie-manga", "Newbie manga, edited", ["manga"]),
    ("goodwriter", "new-anime", "New anime by goodwriter, edited", ["anime"]),
]
TAGGED = {
    "Old manga pick", "Old newbie manga", "New manga by goodwriter", "Newbie manga, edited",
    "Spam with a manga tag", "Shonen notes", "Downvoted manga", "Latest newbie manga",
}  # fmt: skip
TRUSTED = {"Old manga pick", "New manga by goodwriter", "New anime by goodwriter, edited", "A first post by freshface"}


@dataclass
class World:
    fake: FakeDiscord
    node: FakeHiveNode
    bot: BotProcess
    db: Path
    tagged: int
    trusted: int
    spare: int  # a channel with no feed of its own (until the caps test)
    extra: int
    rule_roles: tuple[int, int]  # below the bot's role, for /roles set
    next_block: int
    added: dict[int, str]  # the answers to the /feed add of #tagged and #trusted, made with the world
    new_last: int = 0  # the last block of the new posts and edits sent once both feeds were added


def post_block(author: str, permlink: str, title: str, tags: list[str]) -> dict[str, Any]:
    metadata = json.dumps({"app": "peakd/2026.11.1", "tags": [ANIME_REALM, *tags]})
    return comment_block(author, permlink, title, f"{title}: a review body.", metadata)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp_path = tmp_path_factory.mktemp("filters")
    node, _ = seed_node(head=SEED_FIRST)
    for name, raw in {
        "goodwriter": REP_52, "newbie01": REP_25, "spammer01": REP_52, "alienpunklord": REP_34,
        "freshface": REP_61, "lowlife": REP_MINUS_2,
    }.items():  # fmt: skip
        node.accounts[name] = hive_account(name, [], reputation=raw)
    first = SEED_LAST + 2
    node.add_blocks({first + i: post_block(*post) for i, post in enumerate(OLD)})
    node.head = first + len(OLD) + 1
    hive_url = node.start_in_thread()
    fake = FakeDiscord(token=TOKEN)
    state, w = fake.state, fake.world
    channels = [state.add_text_channel(w.guild_id, name).id for name in ("tagged", "trusted", "spare", "extra")]
    state.roles[w.bot_role_id].permissions |= perms.MANAGE_ROLES
    below = state.roles[w.bot_role_id].position
    first_role, second_role = (state.add_role(w.guild_id, name, 0, position=below).id for name in ("linked", "team"))
    await fake.start()
    config = bot_config(tmp_path, hive_url, fake, start_block=SEED_FIRST)
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[limits]\n" + "".join(f"{k} = {v}\n" for k, v in LIMITS.items()),
        encoding="utf-8",
    )
    db = tmp_path / "hivecord.sqlite3"
    try:
        async with running_bot(config, fake) as bot:
            await fake.wait_for(lambda: any(c["name"] == "feed" for c in fake.state.commands.get(None, [])), 60)
            # The old posts are stored before any feed exists.
            await fake.wait_for(lambda: delivery_settled(db, first + len(OLD) - 1), 60)
            roles = (first_role, second_role)
            world = World(fake, node, bot, db, *channels, rule_roles=roles, next_block=first + len(OLD) + 5, added={})
            # Both filtered feeds belong to the world, not to one test: xdist may run this module's tests
            # in more than one process, each with a world of its own.
            world.added[world.tagged] = await command(
                world,
                "feed add",
                {"community": ANIME_REALM, "channel": world.tagged, "tags": "Manga, #shonen", "backfill": 5},
            )
            world.added[world.trusted] = await command(
                world,
                "feed add",
                {
                    "community": ANIME_REALM,
                    "channel": world.trusted,
                    "exclude_authors": "@Spammer01",
                    "min_reputation": 40,
                    "backfill": 5,
                },
            )
            # Then the new posts and edits, which every feed's filter and /feed test are asked about.
            blocks = {world.next_block + i: post_block(*post) for i, post in enumerate(NEW)}
            edits_at = world.next_block + len(NEW)
            for i, edit in enumerate(EDITS):
                blocks[edits_at + i] = post_block(*edit)
            world.new_last = max(blocks)
            node.add_blocks(blocks)
            node.head = world.new_last + 1
            world.next_block = world.new_last + 5
            yield world
    finally:
        await fake.stop()
        node.stop_thread()


async def command(world: World, name: str, options: dict[str, Any], channel: int | None = None) -> str:
    """A slash command as the server owner; everything they were shown, as JSON text."""
    fake = world.fake
    handle = await fake.send_interaction(
        fake.world.guild_id, channel or world.spare, fake.world.owner_id, name, options
    )
    first = await handle.response(timeout=30)
    if first["type"] == 5:
        (answer,) = await handle.wait_followups(1, timeout=30)
        return json.dumps(answer.embeds)
    return json.dumps(first["data"])


def mirrored(world: World, channel: int) -> list[str]:
    """Titles of the posts mirrored in a channel, as they read now (edits applied); previews left out."""
    return [
        m.embeds[0]["title"]
        for m in world.fake.messages(channel)
        if m.embeds
        and m.embeds[0].get("url", "").startswith("https://hive.blog/")
        and not m.embeds[0].get("footer", {}).get("text", "").startswith("Preview")
    ]


def previews(world: World, channel: int) -> list[str]:
    return [
        m.embeds[0]["title"]
        for m in world.fake.messages(channel)
        if m.embeds and m.embeds[0].get("footer", {}).get("text", "").startswith("Preview")
    ]


def assert_clean(world: World) -> None:
    assert not world.fake.violations, [str(v) for v in world.fake.violations]
    assert not world.fake.unknown_requests


def feed_add_options(world: World) -> dict[str, Any]:
    (command_spec,) = [c for c in world.fake.state.commands[None] if c["name"] == "feed"]
    add = next(o for o in command_spec["options"] if o["name"] == "add")
    return {o["name"]: o for o in add["options"]}


async def test_each_feed_gets_exactly_the_posts_its_filter_passes(world: World) -> None:
    tagged = world.added[world.tagged]
    assert "Feed added" in tagged and "tags (any of): manga, shonen" in tagged, tagged
    assert "2 recent post(s) queued" in tagged, tagged  # of the four stored, two carry a wanted tag
    trusted = world.added[world.trusted]
    assert "not authors: spammer01" in trusted and "reputation at least 40" in trusted, trusted
    assert "1 recent post(s) queued" in trusted, trusted  # newbie01 is 25, alienpunklord 34, spammer01 left out

    last = world.new_last

    def done() -> bool:
        return (
            delivery_settled(world.db, last)
            and set(mirrored(world, world.tagged)) == TAGGED
            and set(mirrored(world, world.trusted)) == TRUSTED
        )

    await world.fake.wait_for(done, timeout=60)
    # Exactly these, each once: the filter let nothing else in, and an edit of a post #trusted never
    # showed did not bring it in late.
    assert sorted(mirrored(world, world.tagged)) == sorted(TAGGED)
    assert sorted(mirrored(world, world.trusted)) == sorted(TRUSTED)
    assert SEED_TITLE not in json.dumps([m.embeds for m in world.fake.messages(world.trusted)])
    # The follower read the reputations of authors first met in new posts.
    facts = dict(db_rows(world.db, "SELECT account, reputation FROM account_facts"))
    assert facts["freshface"] == pytest.approx(61) and facts["lowlife"] == pytest.approx(-2)
    assert_clean(world)


async def test_feed_test_previews_what_the_channels_feed_would_mirror(world: World) -> None:
    # The newest stored post is newbie01's: #tagged's feed would mirror it, #trusted's would not.
    await world.fake.wait_for(lambda: delivery_settled(world.db, world.new_last), timeout=60)
    for channel in (world.tagged, world.trusted, world.spare):
        answer = await command(world, "feed test", {"community": ANIME_REALM, "channel": channel})
        assert "Preview posted" in answer, answer
    assert previews(world, world.tagged) == ["Latest newbie manga"]
    assert previews(world, world.trusted) == ["A first post by freshface"]
    assert previews(world, world.spare) == ["Latest newbie manga"]  # no feed there: no filter
    assert_clean(world)


async def test_feed_list_shows_each_feeds_filters(world: World) -> None:
    listing = json.loads(await command(world, "feed list", {}))
    embeds = listing["embeds"] if isinstance(listing, dict) else listing
    fields = {f["value"].split("→")[1].split("\n")[0].strip(): f["value"] for e in embeds for f in e["fields"]}
    tagged, trusted = fields[f"<#{world.tagged}>"], fields[f"<#{world.trusted}>"]
    assert "tags (any of): manga, shonen" in tagged and "not authors" not in tagged
    assert "not authors: spammer01" in trusted and "authors' reputation at least 40" in trusted
    assert "tags (any of)" not in trusted
    assert_clean(world)


async def test_nonsense_filters_are_refused_in_words_and_change_nothing(world: World) -> None:
    before = db_rows(world.db, "SELECT * FROM feeds ORDER BY id")
    cases = {
        "tags": ("anime, <@everyone>", "is not a Hive tag"),
        "exclude_tags": (ANIME_REALM, "is a community id, not a tag"),
        "authors": ("reader01, x", "is not a Hive account name"),
        "exclude_authors": (", ".join(f"acct{i:03d}" for i in range(60)), "At most 50 accounts"),
    }
    for option, (value, words) in cases.items():
        answer = await command(world, "feed add", {"community": ANIME_REALM, "channel": world.tagged, option: value})
        assert words in answer, (option, answer)
        assert "@everyone" not in answer, answer  # a bad entry is quoted back defused
    both = await command(
        world, "feed add", {"community": ANIME_REALM, "channel": world.tagged, "tags": "manga", "exclude_tags": "manga"}
    )
    assert "both wanted and excluded" in both, both
    assert db_rows(world.db, "SELECT * FROM feeds ORDER BY id") == before
    # Discord itself holds each list to 1000 characters and the reputation to Hive's range.
    options = feed_add_options(world)
    for name in ("tags", "exclude_tags", "authors", "exclude_authors"):
        assert options[name]["max_length"] == 1000 and options[name]["type"] == 3
    assert (options["min_reputation"]["min_value"], options["min_reputation"]["max_value"]) == (-100, 100)
    assert_clean(world)


async def test_the_longest_filters_fit_discord_and_the_caps_are_refused_in_words(world: World) -> None:
    # The third feed of the server, with every list as long as it may be: its answer and /feed list fit.
    long_lists = {
        "tags": ", ".join(f"tag{i:02d}-" + "x" * 17 for i in range(10)),
        "exclude_tags": ", ".join(f"not{i:02d}-" + "y" * 17 for i in range(10)),
        "authors": ", ".join(f"author{i:02d}.abcdefg" for i in range(50)),
        "exclude_authors": ", ".join(f"other{i:02d}.abcdefgh" for i in range(50)),
        "mute": ", ".join(f"muted{i:02d}.abcdefgh" for i in range(50)),
        "curators": "curator01, curator02",
        "min_reputation": -99.5,
    }
    added = await command(world, "feed add", {"community": ANIME_REALM, "channel": world.spare, **long_lists})
    assert "Feed added" in added and "author49.abcdefg" in added and "muted49.abcdefgh" in added, added
    listing = await command(world, "feed list", {})
    assert "+45 more" in listing and "reputation at least -99.5" in listing, listing

    # The fourth is refused, in words, and nothing is stored for it.
    refused = await command(world, "feed add", {"community": ANIME_REALM, "channel": world.extra})
    assert "This server already has 3 feeds, the most one server may have" in refused, refused
    assert db_rows(world.db, "SELECT count(*) FROM feeds WHERE channel_id = ?", world.extra) == [(0,)]
    # At the cap, a feed the server has is still changed; run again without filter options, it keeps them.
    filters = "SELECT filter_tags, filter_exclude_tags, filter_authors, filter_exclude_authors, filter_min_reputation"
    spare_filter = f"{filters} FROM feeds WHERE channel_id = {world.spare}"
    kept = db_rows(world.db, spare_filter)
    updated = await command(world, "feed add", {"community": ANIME_REALM, "channel": world.spare, "votes": "off"})
    assert "Feed updated" in updated and "Filters kept as they were" in updated, updated
    assert "author49.abcdefg" in updated and db_rows(world.db, spare_filter) == kept
    assert db_rows(world.db, f"SELECT votes FROM feeds WHERE channel_id = {world.spare}") == [("off",)]
    # Filter options and clear_filters at once are refused; clear_filters alone drops them.
    both = await command(
        world, "feed add", {"community": ANIME_REALM, "channel": world.spare, "tags": "anime", "clear_filters": True}
    )
    assert "not both" in both and db_rows(world.db, spare_filter) == kept, both
    clear = {"community": ANIME_REALM, "channel": world.spare, "clear_filters": True}
    cleared = await command(world, "feed add", clear)
    assert "Filters kept" not in cleared and "author49" not in cleared, cleared
    assert db_rows(world.db, spare_filter) == [("[]", "[]", "[]", "[]", None)]

    # A feed's curators: at most curators_per_feed.
    before = db_rows(world.db, "SELECT * FROM feeds ORDER BY id")
    curators = await command(
        world, "feed add", {"community": ANIME_REALM, "channel": world.spare, "curators": "aaa01, bbb02, ccc03"}
    )
    assert "at most 2 curators, and you named 3" in curators, curators
    assert db_rows(world.db, "SELECT * FROM feeds ORDER BY id") == before

    # Role rules: at most role_rules_per_server; the one there may still be changed.
    first, second = world.rule_roles
    added_rule = await command(world, "roles set", {"role": first, "when": "linked"})
    assert "Role rule added" in added_rule, added_rule
    refused_rule = await command(world, "roles set", {"role": second, "when": "linked"})
    assert "This server already has 1 role rule, the most one server may have" in refused_rule, refused_rule
    changed = await command(world, "roles set", {"role": first, "when": "team", "community": ANIME_REALM})
    assert "Role rule updated" in changed, changed
    assert db_rows(world.db, "SELECT role_id, kind FROM role_rules") == [(first, "team")]
    assert_clean(world)


def badge_block(recipient: str, parent_permlink: str) -> dict[str, Any]:
    """A HiveBuzz notice to `recipient` (a reply to one of their posts), announcing one badge."""
    image = f"https://images.hive.blog/60x70/https://hivebuzz.me/@{recipient}/posts.png?202611"
    body = (
        f"Congratulations @{recipient}! You have completed the following achievement on the Hive blockchain"
        f' And have been rewarded with New badge(s)\n\n<table><tr><td><img src="{image}"></td>'
        f"<td>{recipient} published more than 50 posts.<br>Your next target is to reach 60 posts.</td></tr>\n</table>"
    )
    op = {
        "parent_author": recipient, "parent_permlink": parent_permlink, "author": "hivebuzz",
        "permlink": f"hivebuzz-notify-{recipient}-20261123t000000000z", "title": "", "body": body,
        "json_metadata": "{}",
    }  # fmt: skip
    return {"transactions": [{"operations": [{"type": "comment_operation", "value": op}]}]}


def dms(world: World, user: int) -> list[Any]:
    channel = world.fake.state.dm_channels.get(user)
    return world.fake.messages(channel) if channel is not None else []


def badges_in(world: World, channel: int) -> set[str]:
    """Whose HiveBuzz badges a channel shows."""
    texts = [json.dumps(m.embeds) for m in world.fake.messages(channel) if "HiveBuzz" in json.dumps(m.embeds)]
    return {name for name in ("goodwriter", "spammer01", "newbie01") if any(f"{name} published" in t for t in texts)}


async def subscribe(world: World, user: int, where: str) -> None:
    """/subscribe to Frieren as `user`, in the spare channel: a server's subscription, by DM or mention."""
    handle = await world.fake.send_interaction(
        world.fake.world.guild_id, world.spare, user, "subscribe", {"series": "Frieren", "where": where}
    )
    first = await handle.response(timeout=30)
    said = json.dumps((await handle.wait_followups(1, timeout=30))[0].embeds if first["type"] == 5 else first["data"])
    assert "You now follow" in said, said


async def test_mentions_and_badges_in_a_server_follow_the_filter_of_the_feed_they_go_through(world: World) -> None:
    # The server's feeds are #tagged (the first, where its members' mentions go), #trusted, and one in
    # #spare with no filter (made here, or updated if the caps test made it: xdist may run that elsewhere).
    updated = await command(world, "feed add", {"community": ANIME_REALM, "channel": world.spare, "votes": "off"})
    assert "Feed added" in updated or "Feed updated" in updated, updated
    assert db_rows(world.db, "SELECT filter_authors FROM feeds WHERE channel_id = ?", world.spare) == [("[]",)]
    state = world.fake.state
    fan, here, closed = (state.add_user(name).id for name in ("frierenfan", "frierenhere", "frierenclosed"))
    for user in (fan, here, closed):
        state.add_member(world.fake.world.guild_id, user)
    world.fake.close_dms(closed)  # a DM it cannot take becomes a mention in the server: filtered like one
    await subscribe(world, fan, "dm")
    await subscribe(world, here, "here")
    await subscribe(world, closed, "dm")

    # A review #tagged filters out (no manga tag) though #trusted passes it, then one the other way round;
    # then a badge for each kind of recipient.
    first = world.next_block
    blocks = {
        first: post_block("goodwriter", "frieren-anime", "Frieren Review: a quiet journey", ["anime", "frieren"]),
        first + 1: post_block("spammer01", "frieren-manga", "Review: Frieren, the second cour", ["manga", "frieren"]),
        first + 2: badge_block("goodwriter", "new-manga"),  # passes every feed
        first + 3: badge_block("spammer01", "spam-manga"),  # #trusted excludes the account
        first + 4: badge_block("newbie01", "newbie-manga"),  # below #trusted's reputation
    }
    world.node.add_blocks(blocks)
    world.node.head = first + 6
    world.next_block = first + 10

    def mentions(user: int) -> list[tuple[int, str]]:
        return [
            (channel, m.embeds[0]["title"])
            for channel in (world.tagged, world.trusted, world.spare, world.extra)
            for m in world.fake.messages(channel)
            if f"<@{user}>" in (m.content or "")
        ]

    def done() -> bool:
        return delivery_settled(world.db, first + 4) and len(dms(world, fan)) >= 2 and bool(mentions(closed))

    await world.fake.wait_for(done, timeout=60)
    # The member's own choice, a DM, tells of both reviews.
    assert sorted(m.embeds[0]["title"] for m in dms(world, fan)) == [
        "Frieren Review: a quiet journey", "Review: Frieren, the second cour",
    ]  # fmt: skip
    # A mention in the server goes through #tagged and follows its filter: only the review it passes.
    assert mentions(here) == [(world.tagged, "Review: Frieren, the second cour")]
    assert mentions(closed) == [(world.tagged, "Review: Frieren, the second cour")]
    assert dms(world, closed) == []
    # Badges judge the recipient by the feed's accounts and reputation; a badge has no tags to ask about.
    assert badges_in(world, world.tagged) == {"goodwriter", "spammer01", "newbie01"}
    assert badges_in(world, world.trusted) == {"goodwriter"}
    assert badges_in(world, world.spare) == {"goodwriter", "spammer01", "newbie01"}  # no filter
    assert_clean(world)
