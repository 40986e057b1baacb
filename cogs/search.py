"""/search: every stored review, five a page, for the caller only; one result can be posted publicly."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError
from bot.delivery.render import post_embed, with_discuss_link
from bot.hive.names import account_name, is_account
from bot.search.catalog import SeriesName
from bot.search.pages import search_page_embed
from bot.search.query import PAGE_SIZE, Ranking, SearchPage, SearchRequest, Sort
from bot.series.detect import series_key
from bot.text.limits import MAX_CHOICES, SELECT_OPTION_MAX
from bot.text.safe import neutralise, plain_text, truncate
from cogs.utils import permits
from cogs.utils.choices import at_most, choice
from cogs.utils.paginator import Paginator
from cogs.utils.parsing import parse_community

if TYPE_CHECKING:
    from bot.app import Hivecord

SORT_CHOICES = [
    app_commands.Choice(name="relevance: best match first", value="relevance"),
    app_commands.Choice(name="newest first", value="newest"),
]
NOT_YOURS = "These results are not yours; run /search yourself."
# A series just seen for the first time may be missing from the cached names: look again, this
# often at most, before saying it does not exist.
SERIES_RECHECK = 5.0


class SearchResults:
    """The PageSource of one search: its ranked ids, and the page last shown (for the select)."""

    def __init__(
        self, bot: Hivecord, request: SearchRequest, ranking: Ranking, first: SearchPage, guild_id: int | None
    ) -> None:
        self.bot = bot
        self.request = request
        self.ranking = ranking
        self.shown = first
        self.guild_id = guild_id  # whose threads the "Discuss" links point to

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self.ranking.ids) // PAGE_SIZE))

    async def page(self, index: int) -> discord.Embed:
        self.shown = await self.bot.reviews.page(
            self.ranking, offset=index * PAGE_SIZE, limit=PAGE_SIZE, guild_id=self.guild_id
        )
        return search_page_embed(self.request, self.shown)


class PostHere(discord.ui.Select["SearchView"]):
    """Picks one result of the page to post publicly in the channel, as its full review embed."""

    def __init__(self) -> None:
        super().__init__(placeholder="Post one of these reviews in this channel…", min_values=1, max_values=1, row=1)

    def refresh(self, page: SearchPage) -> None:
        self.options = [
            discord.SelectOption(
                label=truncate(
                    f"{page.offset + i + 1}. {plain_text(hit.post.title) or '(untitled)'}", SELECT_OPTION_MAX
                ),
                description=truncate(
                    plain_text(" · ".join(filter(None, [f"@{hit.post.author}", hit.post.series]))), SELECT_OPTION_MAX
                ),
                value=str(hit.post.id),
            )
            for i, hit in enumerate(page.hits)
        ]

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.post_here(interaction, int(self.values[0]))


class SearchView(Paginator):
    def __init__(self, results: SearchResults, owner_id: int) -> None:
        super().__init__(results, owner_id=owner_id, not_yours=NOT_YOURS)
        self.results = results
        self.picker = PostHere()
        self.add_item(self.picker)

    async def on_page(self, index: int) -> None:
        # Discord refuses a select without options: a page emptied by deletions shows none.
        self.picker.refresh(self.results.shown)
        if self.picker.options and self.picker not in self.children:
            self.add_item(self.picker)
        elif not self.picker.options and self.picker in self.children:
            self.remove_item(self.picker)

    async def post_here(self, interaction: discord.Interaction, post_id: int) -> None:
        post, community_title = await self.results.bot.reviews.to_share(post_id)
        channel = interaction.channel
        if channel is None or not hasattr(channel, "send"):
            raise UserError("I can't post in this channel.")
        # The member first: sharing is their act, so only where they could post the embed themselves.
        # A component interaction carries the member's permissions in this channel, resolved by Discord.
        thread = isinstance(channel, discord.Thread)
        permits.require_member_can_send(
            interaction.permissions, "You can't share a review here", thread=thread, embeds=True
        )
        perms = interaction.app_permissions
        can_send = perms.send_messages_in_threads if thread else perms.send_messages
        missing = [name for name, ok in (("Send Messages", can_send), ("Embed Links", perms.embed_links)) if not ok]
        if missing:
            raise UserError(f"I can't post here: I'm missing **{', '.join(missing)}** in this channel.")
        discuss = await self.results.bot.reviews.discuss_link(post.id, interaction.guild_id)
        embed = with_discuss_link(post_embed(post, community_title), discuss)
        try:
            await channel.send(
                content=f"Shared by {interaction.user.mention} from /search",
                embed=embed,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.Forbidden:
            raise UserError("Discord refused my message in this channel: check my permissions here.") from None
        await interaction.response.send_message(
            embed=discord.Embed(description=f"Posted **{neutralise(truncate(post.title, 200))}** here."),
            ephemeral=True,
        )


class Search(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot
        self.series_catalog = bot.series_catalog
        self.authors = bot.reviews.authors

    async def _series(self, typed: str) -> SeriesName:
        key = series_key(typed)
        if not key:
            raise UserError(
                f"`{discord.utils.escape_markdown(typed[:40])}` has no letters or digits, so it names no series. "
                "Pick a series from the list as you type."
            )
        index = await self.series_catalog.index()
        found = index.get(key) or (await self.series_catalog.index(max_age=SERIES_RECHECK)).get(key)
        if found is None:
            close = index.suggest(typed)
            hint = f" Did you mean {', '.join(f'**{neutralise(n)}**' for n in close)}?" if close else ""
            raise UserError(
                f"No stored review is about a series called `{discord.utils.escape_markdown(typed[:60])}`.{hint} "
                "Pick a series from the list as you type."
            )
        return found

    async def _author(self, typed: str) -> str:
        name = account_name(typed)
        if not is_account(name):
            raise UserError(
                f"`{discord.utils.escape_markdown(typed[:40])}` is not a Hive account name. "
                "Type one like `alienpunklord`, or pick it from the list."
            )
        if not await self.bot.reviews.has_author(name):
            raise UserError(f"No stored review is by @{name}. Pick an author from the list as you type.")
        return name

    @app_commands.command(name="search", description="Search every stored review")
    @app_commands.describe(
        query='Words, a "quoted phrase", or the start of a word (4+ letters) like metal*',
        author="Only reviews by this Hive account",
        series="Only reviews of this series",
        community="Only posts of this community, like hive-158489",
        sort="Best match first (default) or newest first",
    )
    @app_commands.choices(sort=SORT_CHOICES)
    @app_commands.guild_only()
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        author: str | None = None,
        series: str | None = None,
        community: str | None = None,
        sort: str = "relevance",
    ) -> None:
        if sort not in ("relevance", "newest"):
            raise UserError("`sort` is relevance or newest.")
        order: Sort = "newest" if sort == "newest" else "relevance"
        picked = await self._series(series) if series else None
        who = await self._author(author) if author else None
        where = parse_community(community) if community else None
        request = SearchRequest(query, who, picked.name if picked else None, where, order)
        ranking = await self.bot.reviews.rank(
            query, author=who, series=picked.key if picked else None, community=where, sort=order
        )
        first = await self.bot.reviews.page(ranking, offset=0, limit=PAGE_SIZE, guild_id=interaction.guild_id)
        if not first.hits:
            suggestions = [] if picked else (await self.series_catalog.index()).suggest(query)
            embed = search_page_embed(request, first, suggestions=suggestions)
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        results = SearchResults(self.bot, request, ranking, first, interaction.guild_id)
        view = SearchView(results, interaction.user.id)
        await view.start(interaction, search_page_embed(request, first))

    @search.autocomplete("author")
    async def author_choices(self, _interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        prefix = account_name(current)
        if len(prefix) > 16 or not re.fullmatch(r"[a-z0-9.-]*", prefix):
            return []
        names = (await self.authors.index()).starting(prefix, MAX_CHOICES)
        return at_most(choice(f"@{name}", name) for name in names)

    @search.autocomplete("series")
    async def series_choices(self, _interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        index = await self.series_catalog.index()
        return at_most(choice(name) for name in index.choices(current[:200]))


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Search(bot))
