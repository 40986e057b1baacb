"""Sends one queued role change: PUT or DELETE /guilds/{g}/members/{u}/roles/{r}, exactly once.

Role changes carry no nonce, so each job is marked just before its request goes out; a job found
marked (the bot died or timed out waiting for Discord's answer) reads the member's roles first and
only sends if the change is not already there.
"""

from __future__ import annotations

import logging

import discord

from bot.domain import Job
from bot.process.discord_codes import UNKNOWN_MEMBER, UNKNOWN_USER
from bot.store.store import Store

log = logging.getLogger("hivecord.delivery")

REASON = "hivecord: role rule from Hive facts"


async def change_role(client: discord.Client, store: Store, job: Job) -> None:
    """Applies the job's change; raises discord.HTTPException for the lane to handle (403, 429, 5xx)."""
    if job.user_id is None or not isinstance(job.detail, dict) or "guild_id" not in job.detail:
        await store.jobs.drop_job(job, "a role change without its member or server")
        return
    guild_id, user_id, role_id = int(job.detail["guild_id"]), job.user_id, job.channel_id
    add = job.action == "role_add"
    try:
        if await store.roles.may_have_been_sent(job.id):
            member = await client.http.get_member(guild_id, user_id)
            if (str(role_id) in member.get("roles", [])) == add:
                log.info("role job %d was applied before the bot heard so; not sending it again", job.id)
                await store.jobs.finish_job(job, None)
                return
        if not await store.roles.sending(job.id):
            return  # superseded while in hand
        if add:
            await client.http.add_role(guild_id, user_id, role_id, reason=REASON)
        else:
            await client.http.remove_role(guild_id, user_id, role_id, reason=REASON)
    except discord.NotFound as exc:
        if exc.code not in (UNKNOWN_MEMBER, UNKNOWN_USER):
            raise
        await store.roles.member_absent(job, f"not a member of the server ({exc.code})")
        return
    await store.jobs.finish_job(job, None)
