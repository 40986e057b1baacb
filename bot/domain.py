"""The things hivecord keeps and moves: posts, badges, feeds, jobs, subscriptions, shared by every stage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

DAY = 86400.0  # seconds: daily vote caps, retention, the day /status counts over

# What happened on the chain, as the ingest stage records it in the outbox for delivery to plan from.
OutboxKind = Literal[
    "post_created",
    "post_edited",
    "post_deleted",
    "vote",
    "badge",
    "reply_created",
    "reply_edited",
    "reply_deleted",
    "post_muted",  # the community's moderators muted the post (mutePost), or lifted it (unmutePost)
    "post_unmuted",
]
# What a job sends or edits in its lane.
JobAction = Literal[
    "post",
    "edit",
    "tombstone",
    "vote",
    "votes",
    "badge",
    "preview",
    "alert",
    "role_add",
    "role_remove",
    "notice",
    "reply",
    "reply_edit",
    "reply_tombstone",
    "replies_more",
    "audit",
    "reply_failed",  # a reply from Discord that never reached Hive: its copy in the thread says so
]
# A lane's recorded state; a lane without a record is healthy.
LaneState = Literal["backoff", "refused"]
# Which votes a feed mirrors.
VoteMode = Literal["off", "curators", "all"]
# Where a post's conversation goes: nowhere, a thread on its message, or its own forum post.
ThreadMode = Literal["off", "on", "forum"]
# Where a subscription's alerts go: the member's DMs, or the channel they subscribed in.
DeliveryMode = Literal["dm", "here"]
SubscribeOutcome = Literal["added", "updated", "full"]
# Which linked members a role rule gives its role to.
RoleKind = Literal["linked", "subscriber", "team", "reputation"]
ROLE_ACTIONS: tuple[JobAction, ...] = ("role_add", "role_remove")


def dm_lane(user_id: int) -> int:
    """The lane of a member's DMs: their user id negated, so it never meets a channel id. The DM
    channel itself is opened when something is sent there."""
    return -user_id


def is_dm_lane(lane: int) -> bool:
    """Whether `lane` is a member's DM lane (see dm_lane) rather than a channel."""
    return lane < 0


@dataclass(frozen=True, slots=True)
class PostRow:
    id: int
    author: str
    permlink: str
    community: str
    title: str
    body: str
    json_metadata: str
    tags: tuple[str, ...]
    series: str | None
    series_key: str | None
    image: str | None
    created_block: int
    created_at: str
    updated_block: int
    updated_at: str
    edits: int
    deleted: bool
    vote_count: int
    pending_payout: str | None

    @property
    def url(self) -> str:
        return f"https://hive.blog/{self.community}/@{self.author}/{self.permlink}"


@dataclass(frozen=True, slots=True)
class PostContent:
    """What a post says, as stored: its fields and what was read from them."""

    title: str
    body: str
    json_metadata: str
    tags: tuple[str, ...]
    series: str | None
    series_key: str | None
    image: str | None


@dataclass(frozen=True, slots=True)
class Badge:
    """A hivebuzz badge as announced on the chain."""

    recipient: str
    badge: str
    image_url: str
    achievement: str
    next_target: str | None


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which new posts a feed mirrors; empty lists and no minimum let every post through.

    `passes` is the one decision: the planner (new posts), backfill and /feed test all ask it.
    """

    tags: tuple[str, ...] = ()  # any of these
    exclude_tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    min_reputation: float | None = None  # the score Hive front ends show, e.g. 25

    @property
    def empty(self) -> bool:
        return self == NO_FILTER

    def passes(self, author: str, tags: tuple[str, ...] | list[str], reputation: float | None) -> bool:
        """Whether a post by `author` with `tags` goes to the feed. A reputation the nodes did not
        tell (None) is let through: a node's hiccup must not lose a post."""
        author = author.lower()
        if author in self.exclude_authors or (self.authors and author not in self.authors):
            return False
        lowered = {t.lower() for t in tags}
        if lowered & set(self.exclude_tags) or (self.tags and not lowered & set(self.tags)):
            return False
        return self.min_reputation is None or reputation is None or reputation >= self.min_reputation

    @property
    def of_account(self) -> FeedFilter:
        """The part that judges an account rather than a post, for a HiveBuzz badge: it has a recipient
        (authors, exclude_authors) and their reputation (min_reputation), but no tags to ask about."""
        return replace(self, tags=(), exclude_tags=())


NO_FILTER = FeedFilter()


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    guild_id: int
    channel_id: int
    community: str
    posts: bool
    votes: VoteMode
    curators: tuple[str, ...]
    badges: bool
    role_id: int | None
    outbox_cursor: int
    broken: str | None
    last_error: str | None = None  # the last send Discord rejected (400), as Discord put it
    threads: ThreadMode = "off"
    mute: tuple[str, ...] = ()  # accounts whose replies stay out of the threads
    mention_authors: bool = True  # a linked author is mentioned on their post
    filter: FeedFilter = NO_FILTER  # decided once per post, when it is new


@dataclass(frozen=True, slots=True)
class ReplyRow:
    """A comment in the tree of a stored post (replies to replies too): the conversation of a review."""

    id: int
    post_id: int  # the root post of the tree
    author: str
    permlink: str
    parent_author: str  # whom it answers: the post's author for a top-level reply
    parent_permlink: str
    body: str
    created_block: int
    created_at: str
    updated_at: str
    edits: int
    deleted: bool

    @property
    def url(self) -> str:
        return f"https://hive.blog/@{self.author}/{self.permlink}"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    kind: OutboxKind
    community: str | None
    post_id: int | None
    badge_id: int | None
    voter: str | None
    weight: int | None
    block_num: int
    at: str
    reply_id: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    channel_id: int
    feed_id: int | None
    action: JobAction
    post_id: int | None
    badge_id: int | None
    user_id: int | None
    detail: Any
    nonce: str
    attempts: int
    reply_id: int | None = None


@dataclass(frozen=True, slots=True)
class LaneCounts:
    """Delivery lanes in use by state, and sends Discord rejected (400) recently: for /status."""

    ok: int
    backoff: int
    refused: int
    rejected: int


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: int
    series_key: str
    series: str
    delivery: DeliveryMode
    guild_id: int | None
    channel_id: int | None
    created_at: str


# How a member proved they hold a Hive account: a custom_json on chain, or a signed text.
LinkProof = Literal["custom_json", "signature"]
# Where a /link code stands: open, used to link, or replaced by a newer /link.
ChallengeState = Literal["open", "used", "replaced"]


@dataclass(frozen=True, slots=True)
class Link:
    """One Discord user <-> one Hive account, each in at most one link."""

    user_id: int
    account: str
    proof: LinkProof
    linked_at: str  # ISO time
    proof_ref: str | None = None  # custom_json: the block it was seen in


@dataclass(frozen=True, slots=True)
class LinkChallenge:
    """A code /link issued to a member for one account."""

    id: int
    user_id: int
    account: str
    code: str
    issued_at: float  # unix seconds
    expires_at: float
    state: ChallengeState


@dataclass(frozen=True, slots=True)
class LinkChange:
    """What one proof did: the pairing it made, and the pairings it ended (the user's old account, the
    account's old user). `linked` is None for an unlink; `unlinked` is empty when the pairing was new."""

    linked: Link | None
    unlinked: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleRule:
    """A role the bot gives to the linked members who meet a Hive fact (its lane is the role's id)."""

    role_id: int
    guild_id: int
    kind: RoleKind
    community: str | None
    min_reputation: float | None
    created_by: int
    created_at: str


@dataclass(frozen=True, slots=True)
class RoleChanges:
    """What one reconciliation queued: role grants and removals."""

    added: int
    removed: int


@dataclass(frozen=True, slots=True)
class NotifyPrefs:
    """Which personal notices a linked author gets by DM."""

    votes: bool
    badges: bool


# What became of a vote the bot signed: stored before the broadcast, then sent, on chain, or not.
VoteState = Literal["signed", "sent", "landed", "failed"]
VOTE_STATE_WORDS: dict[VoteState, str] = {
    "signed": "being sent",
    "sent": "sent",
    "landed": "on chain",
    "failed": "failed",
}


@dataclass(frozen=True, slots=True)
class CurationRule:
    """Who may vote from a server with a community's curation account, and how."""

    guild_id: int
    community: str
    role_id: int
    weight: int  # basis points, the default of a press
    daily_cap: int  # votes per curator per 24 hours
    audit_channel: int | None


@dataclass(frozen=True, slots=True)
class CastVote:
    """A vote the bot signed for a curator (curation_votes)."""

    id: int
    community: str
    voter: str
    post_id: int
    author: str
    permlink: str
    weight: int
    guild_id: int
    user_id: int
    trx_id: str
    trx: str
    expiration: str
    state: VoteState
    error: str | None
    created_at: float
    checks: int


@dataclass(frozen=True, slots=True)
class SentReply:
    """A reply the bot signed for a member, from Discord (discord_replies)."""

    id: int
    guild_id: int
    channel_id: int  # the feed's channel
    thread_id: int
    post_id: int
    user_id: int
    author: str
    permlink: str
    parent_author: str
    parent_permlink: str
    message_id: int | None
    own_message: bool
    trx_id: str
    trx: str
    expiration: str
    state: VoteState  # the same life as a vote's: signed, sent, landed or failed
    error: str | None
    created_at: float
    checks: int
