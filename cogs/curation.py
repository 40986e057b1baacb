"""Curation from Discord: the Upvote button on mirrored reviews, /curate, and /curation set|show|remove|log."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError, on_tree_error
from bot.delivery.buttons import UPVOTE_TEMPLATE, upvote_id
from bot.domain import VOTE_STATE_WORDS, CastVote, CurationRule, PostRow
from bot.hive.names import post_ref
from bot.services import Refused
from bot.services.curation import Ballot
from bot.text.safe import neutralise, truncate
from cogs.utils import permits
from cogs.utils.answers import answer
from cogs.utils.paginator import ComponentError, Paginator
from cogs.utils.parsing import parse_community

if TYPE_CHECKING:
    from bot.app import Hivecord

BALLOT_TIMEOUT = 600.0  # the confirmation buttons go well before the interaction's 15 minutes
LOG_PER_PAGE = 8


def _roles(interaction: discord.Interaction) -> set[int]:
    user = interaction.user
    return {role.id for role in user.roles} if isinstance(user, discord.Member) else set()


def _post_line(post: PostRow) -> str:
    return f"**{neutralise(truncate(post.title or post.permlink, 200))}** by @{neutralise(post.author)}"


async def _answer(interaction: discord.Interaction, embed: discord.Embed, view: discord.ui.View | None = None) -> None:
    kwargs: dict[str, Any] = {"embed": embed, "ephemeral": True}
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def offer(interaction: discord.Interaction, bot: Hivecord, post: PostRow, weight: int | None = None) -> None:
    """Answers a press or /curate privately with the weights to confirm, or why this member may not vote."""
    if interaction.guild_id is None:
        raise UserError("Curation works in a server, not in direct messages.")
    ballot = await bot.curation.ballot(interaction.guild_id, _roles(interaction), post)
    choices = (weight,) if weight is not None else ballot.choices
    text = f"Upvote {_post_line(post)} as **@{ballot.account}**? Pick the weight; nothing is sent until you do."
    view = Confirm(bot, ballot, choices, owner_id=interaction.user.id)
    await _answer(interaction, answer(text, title="Curate"), view)


class Confirm(discord.ui.View):
    """The weights offered to one curator for one post; a press signs and broadcasts the vote."""

    def __init__(self, bot: Hivecord, ballot: Ballot, choices: tuple[int, ...], *, owner_id: int) -> None:
        super().__init__(timeout=BALLOT_TIMEOUT)
        self.bot = bot
        self.ballot = ballot
        self.owner_id = owner_id
        for percent in choices:
            style = discord.ButtonStyle.success if percent == ballot.default else discord.ButtonStyle.primary
            button: discord.ui.Button[Confirm] = discord.ui.Button(label=f"Vote {percent}%", style=style)
            button.callback = self._vote_with(percent)  # type: ignore[method-assign]
            self.add_item(button)

    def _vote_with(self, percent: int) -> Any:
        async def press(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            self.stop()
            guild_id = interaction.guild_id or 0
            try:
                result = await self.bot.curation.vote(
                    guild_id, interaction.user.id, _roles(interaction), self.ballot.post.id, percent
                )
                embed = answer(result.sentence, title="Vote sent", colour=discord.Colour.green())
            except Refused as refused:
                embed = answer(str(refused), title="No vote", colour=discord.Colour.red())
            await interaction.edit_original_response(embed=embed, view=None)

        return press

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await on_tree_error(interaction, ComponentError(error))


class UpvoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=UPVOTE_TEMPLATE):
    """The Upvote button of every mirrored review, before and after restarts: its custom_id only names a
    row to look up; the store says which post that is, and the service whether this member may vote."""

    def __init__(self, post_id: int) -> None:
        super().__init__(discord.ui.Button(label="Upvote", custom_id=upvote_id(post_id)))
        self.post_id = post_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> UpvoteButton:
        return cls(int(match["post_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: Hivecord = interaction.client  # type: ignore[assignment]
        try:
            await offer(interaction, bot, await bot.curation.post_by_id(self.post_id))
        except (Refused, UserError) as refused:
            await _answer(interaction, answer(str(refused), title="No vote", colour=discord.Colour.red()))
        except Exception as exc:
            await on_tree_error(interaction, ComponentError(exc))


class LogPages:
    def __init__(self, bot: Hivecord, guild_id: int, total: int) -> None:
        self.bot, self.guild_id, self.total = bot, guild_id, total

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // LOG_PER_PAGE))

    async def page(self, index: int) -> discord.Embed:
        votes, total = await self.bot.curation.log_page(self.guild_id, index, LOG_PER_PAGE)
        lines = [_log_line(v) for v in votes] or ["No votes from this server yet."]
        embed = answer("\n".join(lines), title="Curation log")
        embed.set_footer(text=f"{total} votes · page {index + 1} of {self.page_count}")
        return embed


def _log_line(vote: CastVote) -> str:
    line = (
        f"<t:{int(vote.created_at)}:f> <@{vote.user_id}> · @{neutralise(vote.author)}/"
        f"{neutralise(truncate(vote.permlink, 60))} · {vote.weight / 100:g}% · **{VOTE_STATE_WORDS[vote.state]}**"
        f" · `{vote.trx_id[:12]}`"
    )
    if vote.state == "failed" and vote.error:
        line += f"\n  ↳ {neutralise(truncate(vote.error, 160))}"
    return line


def _describe(rule: CurationRule, account: str | None, usable: bool) -> str:
    audit = f"<#{rule.audit_channel}>" if rule.audit_channel else "none"
    state = "on" if usable else "**off**"
    return (
        f"**{rule.community}** as @{account or '?'} ({state}) · curators <@&{rule.role_id}> · default"
        f" {rule.weight / 100:g}% · {rule.daily_cap} votes a day each · audit {audit}"
    )


@app_commands.guild_only()
class Curate(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(UpvoteButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(UpvoteButton)

    @app_commands.command(name="curate", description="Upvote a community post with its curation account")
    @app_commands.describe(post="A hive.blog, peakd or ecency link, or @author/permlink", weight="Vote weight, 1-100 %")
    @app_commands.guild_only()
    async def curate(
        self, interaction: discord.Interaction, post: str, weight: app_commands.Range[int, 1, 100] | None = None
    ) -> None:
        ref = post_ref(post)
        if ref is None:
            raise UserError(
                "That is not a post link: paste its hive.blog, peakd or ecency address, or type @author/permlink."
            )
        await offer(interaction, self.bot, await self.bot.curation.post_by_ref(*ref), weight)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Curation(commands.GroupCog, group_name="curation", group_description="Who votes from this server"):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="set", description="Name this server's curator role for a community")
    @app_commands.describe(
        community="Community id, like hive-158489",
        role="Members with this role may vote with the community's curation account",
        weight="Default vote weight, 1-100 % (default 100)",
        daily_cap="Votes each curator may cast a day (default 10)",
        audit_channel="Where every vote is reported (optional)",
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def set_(
        self,
        interaction: discord.Interaction,
        community: str,
        role: discord.Role,
        weight: app_commands.Range[int, 1, 100] = 100,
        daily_cap: app_commands.Range[int, 1, 1000] = 10,
        audit_channel: discord.TextChannel | None = None,
    ) -> None:
        name = parse_community(community)
        if role.is_default():
            raise UserError("Pick a curator role, not @everyone: every member would vote with the account.")
        if audit_channel is not None:
            theirs, thread = permits.channel_permissions(interaction, "audit_channel")
            permits.require_member_can_send(theirs, f"You can't have me post in {audit_channel.mention}", thread=thread)
            mine = audit_channel.permissions_for(audit_channel.guild.me)
            lacking = permits.missing(mine, embeds=True)
            if lacking:
                raise UserError(f"I can't post in {audit_channel.mention}: I'm missing **{', '.join(lacking)}** there.")
        assert interaction.guild_id is not None
        rule = await self.bot.curation.set_rule(
            interaction.guild_id, name, role.id, weight, daily_cap, audit_channel.id if audit_channel else None
        )
        account = self.bot.curation.keys.account(name)
        text = _describe(rule, account, self.bot.curation.enabled(name))
        await interaction.response.send_message(embed=answer(text, title="Curation set"), ephemeral=True)

    @app_commands.command(name="show", description="Who votes from this server, for which community")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        rules = await self.bot.curation.rules(interaction.guild_id)
        keys = self.bot.curation.keys
        lines = [_describe(r, keys.account(r.community), keys.usable(r.community)) for r in rules]
        text = "\n".join(lines) or "No curator role is set here: nobody votes from this server. Use `/curation set`."
        await interaction.response.send_message(embed=answer(truncate(text, 4000), title="Curation"), ephemeral=True)

    @app_commands.command(name="remove", description="Stop voting for a community from this server")
    @app_commands.describe(community="Community id, like hive-158489")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove(self, interaction: discord.Interaction, community: str) -> None:
        name = parse_community(community)
        assert interaction.guild_id is not None
        removed = await self.bot.curation.remove_rule(interaction.guild_id, name)
        text = f"Nobody votes for {name} from this server now." if removed else f"No curator role was set for {name}."
        await interaction.response.send_message(embed=answer(text, title="Curation"), ephemeral=True)

    @app_commands.command(name="log", description="The votes cast from this server, newest first")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def log(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        _, total = await self.bot.curation.log_page(interaction.guild_id, 0, LOG_PER_PAGE)
        source = LogPages(self.bot, interaction.guild_id, total)
        pager = Paginator(source, owner_id=interaction.user.id)
        await pager.start(interaction, await source.page(0))


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Curate(bot))
    await bot.add_cog(Curation(bot))
