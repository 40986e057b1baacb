"""Chain events: what a block means to hivecord, decoded from only the ops that matter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from bot.hive.blocks import Block, CommentHead, CommentOp, DeleteCommentOp, VoteOp
from bot.hive.hivebuzz import HIVEBUZZ_ACCOUNT, Badge, is_hivebuzz_notice, parse_badge
from bot.hive.identity import CUSTOM_JSON_ID, CustomJsonId, read_link_claim
from bot.hive.moderation import COMMUNITY_JSON_ID, read_community_op


@dataclass(frozen=True, slots=True)
class PostCreated:
    block_num: int
    timestamp: str
    author: str
    permlink: str
    community: str
    title: str
    body: str
    json_metadata: str


@dataclass(frozen=True, slots=True)
class PostAdopted:
    """A post first seen by a later edit or re-send: stored as bridge shows it now, never announced."""

    block_num: int
    timestamp: str
    author: str
    permlink: str
    community: str
    title: str
    body: str
    json_metadata: str
    created: str  # when bridge says it was created


@dataclass(frozen=True, slots=True)
class PostEdited:
    block_num: int
    timestamp: str
    author: str
    permlink: str
    title: str
    body: str  # the full new text or a diff-match-patch patch against the stored body
    json_metadata: str


@dataclass(frozen=True, slots=True)
class PostDeleted:
    block_num: int
    timestamp: str
    author: str
    permlink: str


@dataclass(frozen=True, slots=True)
class VoteCast:
    block_num: int
    timestamp: str
    voter: str
    author: str
    permlink: str
    weight: int
    rshares: int | None = None
    pending_payout: str | None = None


@dataclass(frozen=True, slots=True)
class BadgeAwarded:
    block_num: int
    timestamp: str
    notice: str  # the notice's permlink: unique, so a replayed block cannot award twice
    badge: Badge


@dataclass(frozen=True, slots=True)
class LinkClaimed:
    """A hivecord custom_json: `account`'s posting authority asks to be linked to Discord user `user_id`."""

    block_num: int
    timestamp: str
    account: str
    user_id: int
    code: str


@dataclass(frozen=True, slots=True)
class ReplyCreated:
    """A comment in the tree of a kept post: its parent is a kept post or a kept reply."""

    block_num: int
    timestamp: str
    author: str
    permlink: str
    parent_author: str
    parent_permlink: str
    body: str


@dataclass(frozen=True, slots=True)
class ReplyEdited:
    block_num: int
    timestamp: str
    author: str
    permlink: str
    body: str  # the full new text or a diff-match-patch patch against the stored body


@dataclass(frozen=True, slots=True)
class ReplyDeleted:
    block_num: int
    timestamp: str
    author: str
    permlink: str


@dataclass(frozen=True, slots=True)
class RoleSet:
    """A setRole community op in a followed community: `actor` (its one posting signer) gives `account` `role`."""

    block_num: int
    timestamp: str
    actor: str
    community: str
    account: str
    role: str


@dataclass(frozen=True, slots=True)
class PostMuteOp:
    """A mutePost (`mute`) or unmutePost community op on a live post or reply; `actor` is its one posting signer."""

    block_num: int
    timestamp: str
    actor: str
    community: str
    author: str
    permlink: str
    notes: str
    mute: bool


ChainEvent = (
    PostCreated
    | PostAdopted
    | PostEdited
    | PostDeleted
    | VoteCast
    | BadgeAwarded
    | ReplyCreated
    | ReplyEdited
    | ReplyDeleted
    | LinkClaimed
    | RoleSet
    | PostMuteOp
)

_comment_head = msgspec.json.Decoder(CommentHead)
_comment = msgspec.json.Decoder(CommentOp)
_vote = msgspec.json.Decoder(VoteOp)
_delete = msgspec.json.Decoder(DeleteCommentOp)
_custom_json_id = msgspec.json.Decoder(CustomJsonId)


class EventDecoder:
    """Turns blocks into events for the followed communities.

    It remembers which posts are live and which authors have posted, so a vote, an edit, a delete
    or a badge is kept only when it concerns them; the caller seeds both sets from the store.
    """

    def __init__(
        self,
        communities: Iterable[str],
        live_posts: set[tuple[str, str]],
        authors: set[str],
        live_replies: set[tuple[str, str]] | None = None,
        claims_until: Callable[[], str] = lambda: "~",
    ) -> None:
        self.communities = set(communities)
        self.live_posts = live_posts
        self.authors = authors
        # The block time (as blocks write it) up to which an open /link code could still be used: a
        # custom_json in a later block can link nothing, so it is not even read. "" when no code is open.
        self.claims_until = claims_until
        # Replies in the trees of live posts: a comment answering one of them is conversation too.
        self.live_replies: set[tuple[str, str]] = live_replies if live_replies is not None else set()
        self.skipped_ops = 0  # ops that would matter but could not be decoded

    def decode(self, blocks: Iterable[Block]) -> list[ChainEvent]:
        events: list[ChainEvent] = []
        until = self.claims_until()
        live_posts, decode_vote, decode_id = self.live_posts, _vote.decode, _custom_json_id.decode
        for block in blocks:
            number = block.number
            # ISO times of one format compare as strings; almost always False, so a hivecord custom_json
            # is read only while a /link code is open.
            claims = block.timestamp <= until
            for trx in block.transactions:
                for op in trx.operations:
                    kind = op.type
                    if kind == "vote_operation":
                        # A third of all ops: handled here, without a call per vote (measured: 13% less decoding).
                        try:
                            vote = decode_vote(op.value)
                        except msgspec.MsgspecError:
                            self.skipped_ops += 1
                            continue
                        if (vote.author, vote.permlink) in live_posts:
                            events.append(
                                VoteCast(number, block.timestamp, vote.voter, vote.author, vote.permlink, vote.weight)
                            )
                    elif kind == "comment_operation":
                        self._comment(op.value, number, block.timestamp, events)
                    elif kind == "delete_comment_operation":
                        self._delete(op.value, number, block.timestamp, events)
                    elif kind == "custom_json_operation" and (claims or self.communities):
                        # Half of all ops: the id is read here, and only a community op or a /link claim
                        # goes further (measured: ~1 us an op, ~10% of decoding).
                        try:
                            json_id = decode_id(op.value).id
                        except msgspec.MsgspecError:
                            continue  # someone else's malformed op: nothing hivecord would have used
                        if json_id == COMMUNITY_JSON_ID:
                            self._community_op(op.value, number, block.timestamp, events)
                        elif claims and json_id == CUSTOM_JSON_ID:
                            self._link_claim(op.value, number, block.timestamp, events)
        return events

    def _comment(self, raw: msgspec.Raw, number: int, ts: str, out: list[ChainEvent]) -> None:
        try:
            head = _comment_head.decode(raw)
        except msgspec.MsgspecError:
            self.skipped_ops += 1
            return
        key = (head.author, head.permlink)
        if head.parent_author == "":
            followed = head.parent_permlink in self.communities
            if not followed and key not in self.live_posts:
                return
            try:
                op = _comment.decode(raw)
            except msgspec.MsgspecError:
                self.skipped_ops += 1
                return
            if key in self.live_posts:
                out.append(PostEdited(number, ts, op.author, op.permlink, op.title, op.body, op.json_metadata))
            else:
                self.live_posts.add(key)
                self.authors.add(op.author)
                out.append(
                    PostCreated(
                        number, ts, op.author, op.permlink, op.parent_permlink, op.title, op.body, op.json_metadata
                    )
                )
        elif head.parent_author in self.authors and is_hivebuzz_notice(head.author, head.permlink, head.parent_author):
            try:
                op = _comment.decode(raw)
            except msgspec.MsgspecError:
                self.skipped_ops += 1
                return
            badge = parse_badge(op.body, op.parent_author)
            if badge is not None:
                out.append(BadgeAwarded(number, ts, op.permlink, badge))
        elif key in self.live_replies:
            try:
                op = _comment.decode(raw)
            except msgspec.MsgspecError:
                self.skipped_ops += 1
                return
            out.append(ReplyEdited(number, ts, op.author, op.permlink, op.body))
        elif head.author != HIVEBUZZ_ACCOUNT and (
            (parent := (head.parent_author, head.parent_permlink)) in self.live_posts or parent in self.live_replies
        ):
            # HiveBuzz's replies are badge notices (or its chatter), never conversation.
            try:
                op = _comment.decode(raw)
            except msgspec.MsgspecError:
                self.skipped_ops += 1
                return
            self.live_replies.add(key)
            out.append(ReplyCreated(number, ts, op.author, op.permlink, op.parent_author, op.parent_permlink, op.body))

    def _delete(self, raw: msgspec.Raw, number: int, ts: str, out: list[ChainEvent]) -> None:
        try:
            op = _delete.decode(raw)
        except msgspec.MsgspecError:
            self.skipped_ops += 1
            return
        key = (op.author, op.permlink)
        if key in self.live_posts:
            self.live_posts.discard(key)
            out.append(PostDeleted(number, ts, op.author, op.permlink))
        elif key in self.live_replies:
            self.live_replies.discard(key)
            out.append(ReplyDeleted(number, ts, op.author, op.permlink))

    def _link_claim(self, raw: msgspec.Raw, number: int, ts: str, out: list[ChainEvent]) -> None:
        claim = read_link_claim(raw)
        if claim is None:
            self.skipped_ops += 1
            return
        out.append(LinkClaimed(number, ts, claim.account, claim.user_id, claim.code))

    def _community_op(self, raw: msgspec.Raw, number: int, ts: str, out: list[ChainEvent]) -> None:
        """A followed community's moderation: setRole, and mutePost / unmutePost of a live post or a reply in
        its tree. Whether the signer may is the ledger's question (it holds the roles)."""
        op = read_community_op(raw)
        if op is None or op.community not in self.communities:
            return  # another command (subscribe, pinPost...), another community, or unreadable
        if op.action == "setRole":
            out.append(RoleSet(number, ts, op.actor, op.community, op.account, op.role))
        elif (key := (op.account, op.permlink)) in self.live_posts or key in self.live_replies:
            mute = op.action == "mutePost"
            out.append(PostMuteOp(number, ts, op.actor, op.community, op.account, op.permlink, op.notes, mute))
