"""How chain events change the stored state; runs inside the batch's transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain import OutboxKind, PostContent
from bot.hive.content import describe_post
from bot.hive.edits import MAX_BODY_BYTES, apply_edit, bounded_body
from bot.hive.events import (
    BadgeAwarded,
    ChainEvent,
    LinkClaimed,
    PostAdopted,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostMuteOp,
    ReplyCreated,
    ReplyDeleted,
    ReplyEdited,
    RoleSet,
    VoteCast,
)
from bot.hive.moderation import is_moderator, may_set_role
from bot.store.chain_writer import ChainWriter

log = logging.getLogger("hivecord.follower")


def post_content(title: str, json_metadata: str, body: str, community: str) -> PostContent:
    body = bounded_body(body)  # a node may send more than the chain allows: stored cut to 64 KB
    facts = describe_post(title, json_metadata, body, community)
    return PostContent(title, body, json_metadata, facts.tags, facts.series, facts.series_key, facts.image)


def chain_time(timestamp: str) -> float:
    """A block's time (UTC, no zone written) as unix seconds; +inf when unreadable, so it expires nothing
    into validity."""
    try:
        return datetime.fromisoformat(timestamp).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return float("inf")


def edited_body(stored: str, event: PostEdited | ReplyEdited, what: str) -> str:
    """The body after an edit, with bounded work (bot/hive/edits.py); a refused or cut edit says so in
    one log line, and a refused one leaves the stored body as it was."""
    edited = apply_edit(stored, event.body)
    if edited.refused is not None:
        outcome = "the body is kept as it was" if edited.body is stored else f"stored cut to {MAX_BODY_BYTES} bytes"
        log.warning(
            "block %d: edit of %s %s/%s: %s; %s", event.block_num, what, event.author, event.permlink, edited.refused,
            outcome,
        )  # fmt: skip
    return edited.body


def apply_events(tx: ChainWriter, events: Iterable[ChainEvent]) -> int:
    """Writes the events in chain order and queues each for delivery. Returns how many were applied."""
    applied = 0
    for event in events:
        if isinstance(event, PostCreated):
            if tx.moderation.role(event.community, event.author) == "muted":
                # The community muted the author: front ends hide the post, and so does every feed.
                log.info("block %d: %s/%s not mirrored: its author is muted in %s",
                         event.block_num, event.author, event.permlink, event.community)  # fmt: skip
                continue
            post_id = tx.insert_post(
                author=event.author,
                permlink=event.permlink,
                community=event.community,
                content=post_content(event.title, event.json_metadata, event.body, event.community),
                block_num=event.block_num,
                at=event.timestamp,
            )
            tx.add_outbox(
                "post_created",
                block_num=event.block_num,
                at=event.timestamp,
                community=event.community,
                post_id=post_id,
            )
        elif isinstance(event, PostAdopted):
            # An old post first seen by an edit: searchable from now on, but it is not news.
            tx.insert_post(
                author=event.author,
                permlink=event.permlink,
                community=event.community,
                content=post_content(event.title, event.json_metadata, event.body, event.community),
                block_num=event.block_num,
                at=event.created,
            )
        elif isinstance(event, PostEdited):
            post = tx.live_post(event.author, event.permlink)
            if post is None:
                continue
            # An edit replaces title and metadata whole; an empty field leaves the old one.
            title = event.title or post.title
            json_metadata = event.json_metadata or post.json_metadata
            body = edited_body(post.body, event, "post")
            content = post_content(title, json_metadata, body, post.community)
            tx.update_post(post.id, content=content, block_num=event.block_num, at=event.timestamp)
            tx.add_outbox(
                "post_edited", block_num=event.block_num, at=event.timestamp, community=post.community, post_id=post.id
            )
        elif isinstance(event, PostDeleted):
            post = tx.live_post(event.author, event.permlink)
            if post is None:
                continue
            tx.mark_deleted(post.id, event.block_num, event.timestamp)
            tx.add_outbox(
                "post_deleted", block_num=event.block_num, at=event.timestamp, community=post.community, post_id=post.id
            )
        elif isinstance(event, VoteCast):
            # Votes are most of the events: look up only the id and community, not the body.
            found = tx.live_post_ref(event.author, event.permlink)
            if found is None:
                continue
            post_id, community = found
            tx.record_vote(
                post_id,
                voter=event.voter,
                weight=event.weight,
                rshares=event.rshares,
                pending_payout=event.pending_payout,
                block_num=event.block_num,
                at=event.timestamp,
            )
            tx.add_outbox(
                "vote",
                block_num=event.block_num,
                at=event.timestamp,
                community=community,
                post_id=post_id,
                voter=event.voter,
                weight=event.weight,
            )
        elif isinstance(event, BadgeAwarded):
            badge = event.badge
            badge_id = tx.insert_badge(
                recipient=badge.recipient,
                badge=badge.badge,
                image_url=badge.image_url,
                achievement=badge.achievement,
                next_target=badge.next_target,
                notice=event.notice,
                block_num=event.block_num,
                at=event.timestamp,
            )
            if badge_id is None:
                continue
            tx.add_outbox("badge", block_num=event.block_num, at=event.timestamp, badge_id=badge_id)
        elif isinstance(event, LinkClaimed):
            # Linked only for the member's open, unexpired code for exactly this account (the one
            # posting authority that signed the op); in this batch's transaction, like everything else.
            if not tx.complete_link(
                user_id=event.user_id,
                account=event.account,
                code=event.code,
                chain_time=chain_time(event.timestamp),
                block_num=event.block_num,
                at=event.timestamp,
            ):
                log.info("block %d: a hivecord link claim by @%s matched no open code", event.block_num, event.account)
                continue
            log.info("block %d: @%s linked to Discord user %d", event.block_num, event.account, event.user_id)
        elif isinstance(event, RoleSet | PostMuteOp):
            if not apply_moderation(tx, event):
                continue
        elif isinstance(event, ReplyCreated | ReplyEdited | ReplyDeleted) and not apply_reply(tx, event):
            continue
        applied += 1
    return applied


def apply_reply(tx: ChainWriter, event: ReplyCreated | ReplyEdited | ReplyDeleted) -> bool:
    """A reply in a kept post's tree: stored with its root post, and queued for that post's thread."""
    if isinstance(event, ReplyCreated):
        if tx.live_reply_ref(event.author, event.permlink) is not None:
            return False  # stored already by a thread's late start (bridge.get_discussion)
        # The parent is the root post itself, or a reply whose root is known.
        root: tuple[int, str] | None = tx.live_post_ref(event.parent_author, event.parent_permlink)
        if root is None:
            parent = tx.live_reply_ref(event.parent_author, event.parent_permlink)
            if parent is None:
                return False
            root = (parent[1], parent[2])
        post_id, community = root
        if tx.moderation.role(community, event.author) == "muted":
            # The community muted the author: hivemind hides the reply, and so does every thread.
            log.info("block %d: reply %s/%s not mirrored: its author is muted in %s",
                     event.block_num, event.author, event.permlink, community)  # fmt: skip
            return False
        reply_id = tx.insert_reply(
            post_id=post_id,
            community=community,
            author=event.author,
            permlink=event.permlink,
            parent_author=event.parent_author,
            parent_permlink=event.parent_permlink,
            body=bounded_body(event.body),
            block_num=event.block_num,
            at=event.timestamp,
        )
        kind: OutboxKind = "reply_created"
    else:
        ref = tx.live_reply_ref(event.author, event.permlink)
        if ref is None:
            return False
        reply_id, post_id, community = ref
        if isinstance(event, ReplyEdited):
            # The same rule as a post's body: a diff-match-patch patch against the stored text, or the text.
            tx.update_reply(reply_id, edited_body(tx.reply_body(reply_id), event, "reply"), event.timestamp)
            kind = "reply_edited"
        else:
            tx.mark_reply_deleted(reply_id, event.block_num, event.timestamp)
            kind = "reply_deleted"
    tx.add_outbox(
        kind, block_num=event.block_num, at=event.timestamp, community=community, post_id=post_id, reply_id=reply_id
    )
    return True


def apply_moderation(tx: ChainWriter, event: RoleSet | PostMuteOp) -> bool:
    """A community op, applied as hivemind would by the roles stored: from anyone else it changes nothing."""
    actor_role = tx.moderation.role(event.community, event.actor)
    if isinstance(event, RoleSet):
        current = tx.moderation.role(event.community, event.account)
        if not may_set_role(actor_role, current, event.role, self_change=event.actor == event.account):
            log.info("block %d: setRole of @%s in %s by @%s (%s) ignored: not theirs to set",
                     event.block_num, event.account, event.community, event.actor, actor_role)  # fmt: skip
            return False
        tx.moderation.set_role(event.community, event.account, event.role, set_at=chain_time(event.timestamp))
        log.info("block %d: @%s is %s in %s (set by @%s)",
                 event.block_num, event.account, event.role, event.community, event.actor)  # fmt: skip
        return True
    what = "mutePost" if event.mute else "unmutePost"
    key = (event.author, event.permlink)
    found = tx.live_post_ref(*key)
    reply = None
    if found is None:  # a reply in a kept post's tree: hidden in place, like a deleted one, until unmuted
        reply = tx.live_reply_ref(*key) if event.mute else tx.moderation.muted_reply_ref(*key)
    if reply is not None:
        found = (reply[1], reply[2])  # a reply in a kept post's tree: muted like a post, in its thread
    if found is None or found[1] != event.community:
        return False  # a post of another community: hivemind refuses it too
    if not is_moderator(actor_role):
        log.info("block %d: %s of %s/%s by @%s (%s) ignored: only the community's moderators may",
                 event.block_num, what, event.author, event.permlink, event.actor, actor_role)  # fmt: skip
        return False
    post_id = found[0]
    if reply is not None:
        changed = tx.mute_reply(reply[0]) if event.mute else tx.moderation.unmute_reply(reply[0])
    elif event.mute:
        changed = tx.moderation.mute_post(
            post_id, notes=event.notes, actor=event.actor, block_num=event.block_num, at=event.timestamp
        )
    else:
        changed = tx.moderation.unmute_post(post_id)
    if not changed:
        return False  # muted already, or not muted: nothing to show
    log.info("block %d: %s of %s/%s by @%s", event.block_num, what, event.author, event.permlink, event.actor)
    kind: OutboxKind = "post_muted" if event.mute else "post_unmuted"
    if reply is not None:
        kind = "reply_muted" if event.mute else "reply_unmuted"
    tx.add_outbox(
        kind,
        block_num=event.block_num,
        at=event.timestamp,
        community=event.community,
        post_id=post_id,
        reply_id=reply[0] if reply is not None else None,
    )
    return True
