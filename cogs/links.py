"""/link, /verify, /unlink, /whois: members prove which Hive account is theirs, without a key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_tree import UserError
from bot.hive.identity import CUSTOM_JSON_ID
from bot.services.links import CODE_MINUTES, LinkInstructions, WhoIs
from bot.text.limits import FIELD_VALUE_MAX
from bot.text.safe import neutralise
from cogs.utils.answers import answer

if TYPE_CHECKING:
    from bot.app import Hivecord

UNKNOWN_MEMBER, UNKNOWN_USER = 10007, 10013
PROOFS = {"custom_json": "a custom_json on chain", "signature": "a signed message"}


def instructions_embed(user_id: int, got: LinkInstructions) -> discord.Embed:
    payload = f'{{"link":"{user_id}","code":"{got.code}"}}'
    embed = answer(
        f"**On chain, one click:** [sign with HiveSigner]({got.hivesigner_url}). It broadcasts a `custom_json` "
        f"with id `{CUSTOM_JSON_ID}` and your posting key; any wallet can broadcast the same (json `{payload}`, "
        f"posting authority @{got.account}). You are linked once its block is final, about a minute later.\n\n"
        "**Signed, instant:** in Hive Keychain, sign this exact text with your **posting** key "
        f"(sign message):\n```\n{got.text_to_sign}\n```then paste the signature into `/verify signature:`.\n\n"
        f"The code works once, for {CODE_MINUTES} minutes (until <t:{int(got.expires_at)}:t>). "
        "hivecord never asks for a key: never paste one anywhere."
    )
    embed.title = f"Prove @{got.account} is yours"
    return embed


def whois_embed(who: WhoIs) -> discord.Embed:
    link = who.link
    embed = answer(f"<@{link.user_id}> is [@{link.account}]({who.profile_url}) on Hive.")
    embed.title = f"@{link.account}"
    embed.url = who.profile_url
    # Cut to a whole number as Hive front ends show it (69.8 is 69).
    reputation = "unknown (the Hive nodes did not answer)" if who.reputation is None else str(int(who.reputation))
    embed.add_field(name="Reputation", value=reputation)
    embed.add_field(name="Posts mirrored here", value=str(who.posts_here))
    badges = ", ".join(neutralise(b) for b in who.badges[:20]) or "none seen yet"
    if len(who.badges) > 20:
        badges += f" and {len(who.badges) - 20} more"
    embed.add_field(name="HiveBuzz badges", value=badges[:FIELD_VALUE_MAX], inline=False)
    embed.set_footer(text=f"Linked by {PROOFS.get(link.proof, link.proof)} on {link.linked_at[:10]}")
    return embed


class Links(commands.Cog):
    def __init__(self, bot: Hivecord) -> None:
        self.bot = bot

    @app_commands.command(name="link", description="Link your Hive account: get a code to prove it is yours")
    @app_commands.describe(account="Your Hive account name, e.g. alice")
    async def link(self, interaction: discord.Interaction, account: app_commands.Range[str, 1, 20]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        got = await self.bot.links.start(interaction.user.id, account)
        await interaction.followup.send(embed=instructions_embed(interaction.user.id, got), ephemeral=True)

    @app_commands.command(name="verify", description="Finish /link with the signature Hive Keychain made")
    @app_commands.describe(signature="The signature of the /link text (130 hex characters)")
    async def verify(self, interaction: discord.Interaction, signature: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await self.bot.links.verify(interaction.user.id, signature)
        await interaction.followup.send(
            embed=answer(f"Linked: you are **@{link.account}** on Hive.", discord.Colour.green()), ephemeral=True
        )

    @app_commands.command(name="unlink", description="Unlink your Hive account")
    async def unlink(self, interaction: discord.Interaction) -> None:
        link = await self.bot.links.unlink(interaction.user.id)
        await interaction.response.send_message(
            embed=answer(f"Unlinked: you are no longer shown as **@{link.account}**."), ephemeral=True
        )

    @app_commands.command(name="whois", description="Which Hive account a member is, or which member an account is")
    @app_commands.describe(member="A member of this server", account="A Hive account name")
    @app_commands.guild_only()
    async def whois(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        account: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        if (member is None) == (account is None):
            raise UserError("Give either `member:` or `account:`.")
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def here(user_id: int) -> bool:
            return await is_member_here(guild, user_id)

        # Links are the bot's, not a server's: only members of this server are told about.
        if member is not None:
            if not isinstance(member, discord.Member) and not await here(member.id):
                embed = answer(f"{member.mention} is not a member of this server.")
                await interaction.followup.send(embed=embed, ephemeral=True)
                return
            who = await self.bot.links.whois_member(member.id, guild.id)
            missing = f"{member.mention} has not linked a Hive account."
        else:
            assert account is not None
            who = await self.bot.links.whois_account(account, guild.id, is_member=here)
            missing = f"No member here is linked to **@{neutralise(account)}**."
        embed = whois_embed(who) if who is not None else answer(missing)
        await interaction.followup.send(embed=embed, ephemeral=True)


async def is_member_here(guild: discord.Guild, user_id: int) -> bool:
    """Whether the user is a member of `guild`: the cache first, else one REST read (the bot has no
    members intent). Unknown Member or User is no; an answer that tells nothing is said plainly."""
    if guild.get_member(user_id) is not None:
        return True
    try:
        await guild.fetch_member(user_id)
    except discord.NotFound as exc:
        if exc.code in (UNKNOWN_MEMBER, UNKNOWN_USER):
            return False
        raise UserError("I could not check this server's members just now; try again in a minute.") from None
    except discord.HTTPException:
        raise UserError("I could not check this server's members just now; try again in a minute.") from None
    return True


async def setup(bot: Hivecord) -> None:
    await bot.add_cog(Links(bot))
