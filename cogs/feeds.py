"""/feed add|remove|list|test: which community is mirrored into which channel (Manage Server)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError
from bot.delivery.render import post_embed
from bot.domain import NO_FILTER, Feed, FeedFilter, VoteMode
from bot.services.feed_filters import MAX_TEXT, describe_filter, feed_filter
from bot.services.feeds import FeedRequest, thread_mode
from bot.text.limits import DESCRIPTION_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX, TITLE_MAX
from bot.text.safe import truncate
from cogs.utils import permits
from cogs.utils.answers import answer
from cogs.utils.paginator import Paginator
from cogs.utils.parsing import AccountList, parse_community

if TYPE_CHECKING:
    from bot.app import Hivecord

NEEDED = ("view_channel", "send_messages", "embed_links")
# How many curators a feed may list is the operator's setting: FeedService counts them.
CURATORS = AccountList("the curators", "curators per feed", "animerealm.cur, reader01")
MUTED = AccountList("the accounts to mute", "muted accounts per feed", "hive.welcome, spammer01", 50)
# /feed list: Discord takes 6000 characters over a message's embeds and 25 fields; pages stay well inside.
LIST_CURATORS = 5
FIELDS_PER_PAGE = 10
PAGE_CHARS = 5000
FOOTER_ROOM = 60

THREAD_CHOICES = [
    app_commands.Choice(name="off: posts only", value="off"),
    app_commands.Choice(name="on: a thread on each post, with its Hive replies", value="on"),
]
THREAD_LABELS = {"off": "off", "on": "on", "forum": "forum posts"}

VOTE_CHOICES = [
    app_commands.Choice(name="off: no vote messages", value="off"),
    app_commands.Choice(name="curators: the community team and the curators you list", value="curators"),
    app_commands.Choice(name="all: every upvote, gathered per post every 10 minutes", value="all"),
]


def describe(
    feed: Feed, channel_mention: str, *, curators_shown: int | None = None, retry_at: float | None = None
) -> str:
    """One feed's settings and health; `curators_shown` cuts a long curator list to "+N more";
    `retry_at` is when its channel, waiting for a retry, may be sent to again."""
    parts = [
        f"**{feed.community}** → {channel_mention}",
        f"posts {'on' if feed.posts else 'off'} · votes {feed.votes} · badges {'on' if feed.badges else 'off'}"
        f" · threads {THREAD_LABELS[feed.threads]}",
    ]
    for label, names in (("curators", feed.curators), ("muted", feed.mute)):
        if names:
            shown = names if curators_shown is None else names[:curators_shown]
            more = len(names) - len(shown)
            parts.append(f"{label}: " + ", ".join(shown) + (f" +{more} more" if more else ""))
    parts += describe_filter(feed.filter, shown=curators_shown)
    if feed.role_id:
        parts.append(f"pings <@&{feed.role_id}> on new posts")
    if not feed.mention_authors:
        parts.append("linked authors not mentioned")
    if feed.broken:
        parts.append(f"⚠️ broken: {feed.broken} (run `/feed add` again once fixed)")
    elif retry_at is not None:
        at = int(retry_at)
        parts.append(f"⏳ waiting for a retry at <t:{at}:T> (<t:{at}:R>)")
    else:
        parts.append("✅ healthy")
    parts += last_error_line(feed)
    return "\n".join(parts)


def last_error_line(feed: Feed) -> list[str]:
    """The last send Discord rejected for this feed, as Discord put it (a dropped message)."""
    if not feed.last_error or (feed.broken and feed.last_error in feed.broken):
        return []
    return [f"last error: {discord.utils.escape_markdown(feed.last_error[:200])}"]


class FeedPages:
    """/feed list as pages: one field per feed, as many per page as fit well inside Discord's limits."""

    def __init__(self, title: str, feeds: list[Feed], retries: Mapping[int, float] | None = None) -> None:
        due = retries or {}
        self.title = truncate(title, TITLE_MAX)
        self.total = len(feeds)
        fields = [
            (
                truncate(feed.community, FIELD_NAME_MAX),
                truncate(
                    describe(
                        feed, f"<#{feed.channel_id}>", curators_shown=LIST_CURATORS, retry_at=due.get(feed.channel_id)
                    ),
                    FIELD_VALUE_MAX,
                ),
            )
            for feed in feeds
        ]
        self.pages: list[list[tuple[str, str]]] = [[]]
        used = len(self.title) + FOOTER_ROOM
        for name, value in fields:
            size = len(name) + len(value)
            page = self.pages[-1]
            if page and (len(page) >= FIELDS_PER_PAGE or used + size > PAGE_CHARS):
                self.pages.append([])
                used = len(self.title) + FOOTER_ROOM
            self.pages[-1].append((name, value))
            used += size

    @property
    def page_count(self) -> int:
        return len(self.pages)

    async def page(self, index: int) -> discord.Embed:
        embed = discord.Embed(title=self.title, colour=discord.Colour.blurple())
        for name, value in self.pages[index]:
            embed.add_field(name=name, value=value, inline=False)
        if self.page_count > 1:
            embed.set_footer(text=f"{self.total} feeds · page {index + 1} of {self.page_count}")
        return embed


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(commands.GroupCog, group_name="feed", group_description="Mirror Hive communities into channels"):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot
        super().__init__()

    @staticmethod
    def _target(
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel | None,
        *,
        threads: bool = False,
    ) -> discord.TextChannel | discord.Thread | discord.ForumChannel:
        """The channel named, or the current one: a text channel or forum the bot can post embeds in
        (and, for a forum or `threads`, open threads and write in them)."""
        target = channel or interaction.channel
        if target is None or interaction.guild is None:
            raise UserError("Run this in a server channel, or name the channel.")
        if not isinstance(target, discord.TextChannel | discord.Thread | discord.ForumChannel):
            raise UserError("That is not a text channel or forum; pick one where messages can be posted.")
        forum = isinstance(target, discord.ForumChannel)
        if threads and isinstance(target, discord.Thread):
            raise UserError(f"{target.mention} is a thread and can't hold threads; pick its channel instead.")
        # The admin's own permissions there, as Discord resolved them: the bot posts nowhere they couldn't.
        theirs, thread = permits.channel_permissions(interaction, "channel" if channel else None)
        permits.require_member_can_send(theirs, f"You can't have me post in {target.mention}", thread=thread)
        conversation = forum or threads
        if conversation:
            refusal = f"You can't have me open threads in {target.mention}"
            permits.require_member_can_thread(theirs, refusal, forum=forum)
        perms = target.permissions_for(target.guild.me)
        missing = [p.replace("_", " ").title() for p in NEEDED if not getattr(perms, p)]
        if conversation:
            missing += [m for m in permits.thread_missing(perms, forum=forum) if m not in missing]
        if forum and not perms.read_message_history:
            missing.append("Read Message History")  # a post made as the bot stopped is found by reading
        if missing:
            names = ", ".join(missing)
            raise UserError(f"I can't post in {target.mention}: I'm missing **{names}** there.")
        return target

    @app_commands.command(name="add", description="Mirror a Hive community into a channel (or update that feed)")
    @app_commands.describe(
        community="Community id, like hive-158489",
        channel="Where to post (default: this channel)",
        posts="Mirror new posts (default: on)",
        votes="Which upvotes to relay (default: curators)",
        curators="Extra curator accounts, comma-separated",
        badges="Relay HiveBuzz badges of the community's authors (default: on)",
        role="A role to ping on each new post",
        backfill="Post this many recent posts now (0-10)",
        threads="A thread on each post with its Hive replies (default: off; a forum always has one)",
        mute="Accounts whose replies stay out of the threads, comma-separated",
        mention_authors="Mention the member linked to a post's Hive author (default: on)",
        tags="Only posts with any of these tags, comma-separated",
        exclude_tags="No posts with any of these tags, comma-separated",
        authors="Only posts by these accounts, comma-separated",
        exclude_authors="No posts by these accounts, comma-separated",
        min_reputation="Only posts by authors with at least this Hive reputation (a new account has 25)",
        clear_filters="Drop the feed's filters (an update without filter options keeps them)",
    )
    @app_commands.choices(votes=VOTE_CHOICES, threads=THREAD_CHOICES)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def add(
        self,
        interaction: discord.Interaction,
        community: str,
        channel: discord.TextChannel | discord.ForumChannel | None = None,
        posts: bool = True,
        votes: str = "curators",
        curators: str | None = None,
        badges: bool = True,
        role: discord.Role | None = None,
        backfill: app_commands.Range[int, 0, 10] = 0,
        threads: str = "off",
        mute: str | None = None,
        mention_authors: bool = True,
        tags: app_commands.Range[str, None, MAX_TEXT] | None = None,
        exclude_tags: app_commands.Range[str, None, MAX_TEXT] | None = None,
        authors: app_commands.Range[str, None, MAX_TEXT] | None = None,
        exclude_authors: app_commands.Range[str, None, MAX_TEXT] | None = None,
        min_reputation: app_commands.Range[float, -100.0, 100.0] | None = None,
        clear_filters: bool = False,
    ) -> None:
        name = parse_community(community)
        curator_list = CURATORS.parse(curators)
        muted = MUTED.parse(mute)
        filtering = any(o is not None for o in (tags, exclude_tags, authors, exclude_authors, min_reputation))
        if filtering and clear_filters:
            raise UserError("`clear_filters:True` drops the feed's filters: give it or filter options, not both.")
        # Filter options given replace the feed's whole filter; none given keep it, unless cleared.
        filters: FeedFilter | None = NO_FILTER if clear_filters else None
        if filtering:
            filters = feed_filter(
                tags=tags,
                exclude_tags=exclude_tags,
                authors=authors,
                exclude_authors=exclude_authors,
                min_reputation=min_reputation,
            )
        if votes not in ("off", "curators", "all"):
            raise UserError("`votes` is one of off, curators or all.")
        if threads not in ("off", "on"):
            raise UserError("`threads` is on or off.")
        target = self._target(interaction, channel, threads=threads == "on")
        assert interaction.guild is not None  # _target checked
        if role is not None and (role.is_default() or role.managed):
            raise UserError("Pick a role members can be given; @everyone and bot roles can't be pinged here.")
        if role is not None:
            theirs, _thread = permits.channel_permissions(interaction, "channel" if channel else None)
            permits.require_can_ping(role, theirs, target.mention)
        await interaction.response.defer(ephemeral=True, thinking=True)
        vote_mode: VoteMode = votes  # type: ignore[assignment]
        added = await self.bot.feeds.add(
            FeedRequest(
                guild_id=interaction.guild.id,
                channel_id=target.id,
                community=name,
                posts=posts,
                votes=vote_mode,
                curators=curator_list,
                badges=badges,
                role_id=role.id if role else None,
                created_by=interaction.user.id,
                backfill=backfill,
                threads=thread_mode(forum=isinstance(target, discord.ForumChannel), threads=threads == "on"),
                mute=muted,
                mention_authors=mention_authors,
                filter=filters,
            )
        )
        feed, created, title, queued = added.feed, added.created, added.title, added.queued
        due = await self.bot.feeds.retries_due([feed])
        text = describe(feed, target.mention, retry_at=due.get(feed.channel_id))
        if backfill:
            text += f"\nBackfill: {queued} recent post(s) queued" + (
                f" (only {queued} known so far)" if queued < backfill else ""
            )
        if added.filter_kept:
            text += "\nFilters kept as they were: give filter options to replace them, or `clear_filters:True`."
        verb = "Feed added" if created else "Feed updated"
        embed = answer(truncate(text, DESCRIPTION_MAX), title=truncate(f"{verb}: {title}", TITLE_MAX))
        await interaction.followup.send(embed=embed, ephemeral=True)

    @app_commands.command(name="remove", description="Stop mirroring a community (in one channel, or everywhere)")
    @app_commands.describe(community="Community id, like hive-158489", channel="Only this channel's feed")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove(
        self,
        interaction: discord.Interaction,
        community: str,
        channel: discord.TextChannel | discord.ForumChannel | None = None,
    ) -> None:
        name = parse_community(community)
        assert interaction.guild is not None
        removed = await self.bot.feeds.remove(interaction.guild.id, name, channel.id if channel else None)
        if not removed:
            where = f" in {channel.mention}" if channel else ""
            raise UserError(f"There is no feed of `{name}`{where} in this server. `/feed list` shows them.")
        text = f"Removed {removed} feed(s) of **{name}**. Messages already posted stay."
        await interaction.response.send_message(embed=answer(text), ephemeral=True)

    @app_commands.command(name="list", description="Every feed of this server, with its settings and health")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        feeds = await self.bot.feeds.of_guild(interaction.guild.id)
        if not feeds:
            text = "No feeds yet. Add one with `/feed add community:hive-158489`."
            await interaction.response.send_message(embed=answer(text), ephemeral=True)
            return
        pages = FeedPages(f"Feeds of {interaction.guild.name}", feeds, await self.bot.feeds.retries_due(feeds))
        view = Paginator(pages, owner_id=interaction.user.id, not_yours="This list is not yours; run /feed list.")
        await view.start(interaction, await pages.page(0))

    @app_commands.command(name="test", description="Post the latest post of a community as a preview")
    @app_commands.describe(community="Community id, like hive-158489", channel="Where (default: this channel)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def test(
        self, interaction: discord.Interaction, community: str, channel: discord.TextChannel | None = None
    ) -> None:
        name = parse_community(community)
        target = self._target(interaction, channel)
        if isinstance(target, discord.ForumChannel):  # the option takes text channels only; kept for types
            raise UserError("A preview goes to a text channel; pick one.")
        # The feed's filter may want authors' reputations from Hive first: answer Discord in time.
        await interaction.response.defer(ephemeral=True, thinking=True)
        post, title = await self.bot.feeds.preview(name, target.id)
        embed = post_embed(post, title, preview=True)
        try:
            await target.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden:
            raise UserError(f"Discord refused the preview in {target.mention}: check my permissions there.") from None
        await interaction.followup.send(embed=answer(f"Preview posted in {target.mention}."), ephemeral=True)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Feeds(bot))
