"""A reply from Discord that never reached Hive: its copy in the thread is edited to say so, and why.

The job is stored in the same transaction as the failure (bot/store/discord_replies.py), so a kill at any
moment still ends with the copy marked, once. The copy is found by its recorded id. When its id was never
recorded (a kill between Discord making the copy and the bot hearing of it), the notice is sent with the
copy's nonce: Discord answers with the copy if it made one, which is then edited, or posts the notice in
its place; either way the thread shows one message for the reply, and it says the reply is not on Hive.
"""

from __future__ import annotations

import discord

from bot.delivery.conversation import Conversation
from bot.delivery.render_reply import failed_copy
from bot.domain import Job
from bot.hive.transactions import comment_body
from bot.store.store import Store


async def mark_failed_copy(client: discord.Client, store: Store, conversation: Conversation, job: Job) -> None:
    detail = job.detail if isinstance(job.detail, dict) else {}
    reply = await store.discord_replies.get(int(detail.get("reply", 0)))
    if reply is None or reply.state != "failed" or reply.own_message:
        await store.jobs.drop_job(job, "no failed reply from Discord with a copy to mark")
        return
    why = str(detail.get("why") or reply.error or "it did not reach a block")
    content, embed = failed_copy(reply.user_id, reply.author, comment_body(reply.trx), why)
    thread = client.get_partial_messageable(reply.thread_id)
    none = discord.AllowedMentions.none()
    message_id = reply.message_id
    if message_id is None:
        nonce = await store.discord_replies.copy_nonce(reply.id)
        sent = await conversation.in_thread(
            reply.channel_id,
            reply.thread_id,
            lambda: thread.send(content=content, embed=embed, allowed_mentions=none, nonce=nonce),
        )
        if sent is None:
            await store.jobs.drop_job(job, "the reply's thread takes no more messages")
            return
        if sent.id is None or (isinstance(sent, discord.Message) and sent.content == content):
            await store.discord_replies.failed_copy_marked(job, reply.id, sent.id)  # the notice itself
            return
        message_id = sent.id  # Discord answered with the copy made before a kill
    copy = thread.get_partial_message(message_id)
    edited = await conversation.in_thread(
        reply.channel_id, reply.thread_id, lambda: copy.edit(content=content, embed=embed, allowed_mentions=none)
    )
    if edited is None:
        await store.jobs.drop_job(job, "the reply's copy or its thread is gone")
        return
    await store.discord_replies.failed_copy_marked(job, reply.id, message_id)
