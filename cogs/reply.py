"""/reply enable|status|disable|post and the Post to Hive message command: members answer a mirrored review
on chain, as their linked account, through the posting authority they granted the bot's account."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.render_reply import reply_embed
from bot.domain import ReplyRow
from bot.services import Refused
from bot.services.replies_from_discord import Authority, Draft, Posted
from bot.text.safe import neutralise
from cogs.utils import permits
from cogs.utils.answers import answer

if TYPE_CHECKING:
    from bot.app import Hivecord

POSTED_REACTION = "\N{WHITE HEAVY CHECK MARK}"
GRANT_WORDS = {
    "granted": "granted: the bot's account may post for you",
    "not granted": "**not granted** (or revoked)",
    "no account": "**Hive has no such account**",
}


def _what_it_allows(got: Authority) -> str:
    return (
        f"It lets @{got.bot_account} sign posting operations (posts, replies, votes) for @{got.account} with"
        f" its own key; hivecord only posts the replies you send with `/reply post` or **Post to Hive**, and"
        " never sees any key of yours. You can revoke it on chain at any time."
    )


def enable_embed(got: Authority) -> discord.Embed:
    text = (
        f"**Grant once, with HiveSigner:** [authorize @{got.bot_account}]({got.grant_url}) (it adds"
        f" @{got.bot_account} to @{got.account}'s posting authority).\n"
        f"**Or with Hive Keychain:** on a Keychain site's authorities page (peakd.com: Settings → Keys &"
        f" Permissions), add the account `{got.bot_account}` to your **posting** authority with weight 1;"
        " Keychain asks for your active key and signs it there.\n\n"
        f"{_what_it_allows(got)} Revoke: [HiveSigner]({got.revoke_url}), or remove `{got.bot_account}` from"
        " your posting authority in Keychain; `/reply disable` stops the bot using it.\n\n"
        f"On chain now: {GRANT_WORDS[got.grant] if got.grant else 'unknown (the Hive nodes did not answer)'}."
    )
    return answer(text, title=f"Replies from Discord as @{got.account}")


def status_embed(got: Authority) -> discord.Embed:
    chain = GRANT_WORDS[got.grant] if got.grant else "unknown (the Hive nodes did not answer; try again)"
    mine = "on" if got.enabled else "off (`/reply enable` turns them on)"
    ready = got.enabled and got.grant == "granted"
    text = (
        f"Posting authority of @{got.bot_account} over @{got.account}: {chain}.\n"
        f"Replies from Discord: {mine}.\n"
        + ("You can reply with `/reply post` in a review's thread, or **Post to Hive** on your message." if ready
           else f"Grant it with [HiveSigner]({got.grant_url}) or see `/reply enable`.")
    )  # fmt: skip
    return answer(text, title="Replies from Discord")


def disable_embed(got: Authority) -> discord.Embed:
    text = (
        f"The bot no longer posts for you. @{got.bot_account} still holds posting authority over @{got.account}"
        f" on chain until you revoke it: [revoke with HiveSigner]({got.revoke_url}), or remove"
        f" `{got.bot_account}` from your posting authority with Keychain."
    )
    if got.grant == "not granted":
        text = f"The bot no longer posts for you, and @{got.account} grants @{got.bot_account} nothing on chain."
    return answer(text, title="Replies from Discord: off")


def copy_embed(draft: Draft) -> discord.Embed:
    """The reply as it will show on chain, in the thread it was written in: the same look as a mirrored one."""
    reply = draft.reply
    row = ReplyRow(0, reply.post_id, reply.author, reply.permlink, reply.parent_author, reply.parent_permlink,
                   draft.body, 0, draft.created_at, draft.created_at, 0, False)  # fmt: skip
    return reply_embed(row, answers=draft.answers)


def posted_embed(posted: Posted) -> discord.Embed:
    if posted.confirmed:
        text = f"Posted on Hive as **@{neutralise(posted.reply.author)}**: {posted.url} (in a block within seconds)."
        return answer(text, title="Reply posted", colour=discord.Colour.green())
    text = (
        f"The nodes did not confirm the reply of @{neutralise(posted.reply.author)}; the bot is checking the chain"
        f" and will not post it twice. Once it lands: {posted.url}"
    )
    return answer(text, title="Reply sent")


@app_commands.guild_only()
class Reply(commands.GroupCog, group_name="reply", group_description="Answer reviews on Hive from Discord"):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot
        super().__init__()
        self.menu = app_commands.ContextMenu(name="Post to Hive", callback=self.post_message)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="enable", description="Let the bot post your replies on Hive: the link to grant it")
    async def enable(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        got = await self.bot.replies.enable(interaction.user.id)
        await interaction.followup.send(embed=enable_embed(got), ephemeral=True)

    @app_commands.command(name="status", description="Whether the bot may post your replies, as the chain says")
    async def status(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        got = await self.bot.replies.status(interaction.user.id)
        await interaction.followup.send(embed=status_embed(got), ephemeral=True)

    @app_commands.command(name="disable", description="Stop the bot posting for you, and how to revoke it on chain")
    async def disable(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        got = await self.bot.replies.disable(interaction.user.id)
        await interaction.followup.send(embed=disable_embed(got), ephemeral=True)

    @app_commands.command(name="post", description="Reply on Hive, as your account, in this review's thread")
    @app_commands.describe(text="Your reply, as it goes on chain (markdown)")
    async def post(self, interaction: discord.Interaction, text: app_commands.Range[str, 1, 4000]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        self._may_post_here(interaction)
        assert interaction.guild_id is not None and interaction.channel_id is not None
        draft = await self.bot.replies.prepare(
            guild_id=interaction.guild_id, thread_id=interaction.channel_id, user_id=interaction.user.id, text=text
        )
        # The copy in the thread stands for the reply there: the follower sends no second one. Until its id is
        # recorded, the follower's mirror carries the same nonce, so a kill here still leaves one message.
        thread = self.bot.get_partial_messageable(interaction.channel_id)
        try:
            copy = await thread.send(
                content=f"<@{interaction.user.id}> replied on Hive as **@{neutralise(draft.reply.author)}**",
                embed=copy_embed(draft),
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=draft.copy_nonce,
            )
            await self.bot.replies.shown(draft, copy.id)
        except discord.HTTPException:
            pass  # then the follower mirrors the reply once it is on chain, with the copy's nonce
        # Refused: the member is answered here; the failure queued the edit that marks the copy in the thread.
        posted = await self.bot.replies.send(draft)
        await interaction.followup.send(embed=posted_embed(posted), ephemeral=True)

    async def post_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Post to Hive: the member's own message, as written, as a reply; to the mirrored reply it answers,
        if it answers one, else to the review."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if message.author.id != interaction.user.id:
            raise Refused("Only its author can post a message to Hive: this one is someone else's. Nothing was sent.")
        self._may_post_here(interaction)
        assert interaction.guild_id is not None and interaction.channel_id is not None
        answers = message.reference.message_id if message.reference is not None else None
        draft = await self.bot.replies.prepare(
            guild_id=interaction.guild_id, thread_id=interaction.channel_id, user_id=interaction.user.id,
            text=message.content, answers_message=answers, own_message=message.id,
        )  # fmt: skip
        posted = await self.bot.replies.send(draft)
        if posted.confirmed:
            with contextlib.suppress(discord.HTTPException):
                await message.add_reaction(POSTED_REACTION)  # needs Add Reactions: the note says it all anyway
        await interaction.followup.send(embed=posted_embed(posted), ephemeral=True)

    def _may_post_here(self, interaction: discord.Interaction) -> None:
        """A reply shows in the thread as the member's words: only where they may write themselves."""
        perms, thread = permits.channel_permissions(interaction)
        permits.require_member_can_send(perms, "You can't write in this thread", thread=thread)


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Reply(bot))
