"""Ground truth of a generated chain, and the bridge answers it implies (community, ranked posts)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .formats import block_epoch, block_time, format_time


@dataclass
class EditInfo:
    block: int
    kind: str  # "patch" | "full"
    sent_body: str  # what the op carried (a patch or the full text)
    previous_body: str
    new_body: str
    title: str
    json_metadata: str


@dataclass
class BadgeInfo:
    block: int
    recipient: str
    permlink: str
    parent_permlink: str
    badges: list[str]  # badge image names, e.g. ["upvotes"]
    image_urls: list[str]
    texts: list[str]
    to_review: bool  # parent is a review in the followed community


@dataclass
class ReviewInfo:
    author: str
    permlink: str
    series: str
    series_tag: str
    kind: str  # "anime" | "manga"
    created_block: int
    created_at: str
    title: str  # current (after emitted edits)
    body: str  # current
    json_metadata: str  # current
    original_body: str
    malformed_metadata: bool
    cover: str
    edits: list[EditInfo] = field(default_factory=list)
    deleted_block: int | None = None
    votes: list[tuple[int, str, int]] = field(default_factory=list)  # (block, voter, weight)
    replies: list[tuple[int, str, str]] = field(default_factory=list)  # (block, author, permlink)
    badges: list[BadgeInfo] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://peakd.com/@{self.author}/{self.permlink}"

    def final_votes(self) -> dict[str, int]:
        """Latest weight per voter (0 = removed)."""
        return {voter: weight for _, voter, weight in self.votes}


@dataclass
class ChainSummary:
    blocks: int = 0
    reviews: int = 0
    edits: int = 0
    patch_edits: int = 0
    full_edits: int = 0
    deletes: int = 0
    votes_on_reviews: int = 0
    replies_to_reviews: int = 0
    badges: int = 0  # HiveBuzz notices on reviews
    badges_elsewhere: int = 0
    malformed_metadata: int = 0
    votes: int = 0
    comments: int = 0
    custom_json: int = 0
    total_ops: int = 0
    total_transactions: int = 0
    mean_block_bytes: float = 0.0
    sampled_blocks: int = 0
    _sampled_bytes: int = 0

    @property
    def mean_ops_per_block(self) -> float:
        return self.total_ops / self.blocks if self.blocks else 0.0

    def as_dict(self) -> dict[str, float]:
        d: dict[str, float] = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["mean_ops_per_block"] = round(self.mean_ops_per_block, 2)
        return d


@dataclass
class GeneratedChain:
    start_block: int
    community: str
    blocks: dict[int, dict[str, Any]]
    vops: dict[int, list[dict[str, Any]]]
    summary: ChainSummary
    reviews: list[ReviewInfo]
    badges: list[BadgeInfo]

    @property
    def head(self) -> int:
        return max(self.blocks)

    def live_reviews(self) -> list[ReviewInfo]:
        return [r for r in self.reviews if r.deleted_block is None]

    def community_info(self) -> dict[str, Any]:
        return community_info(self.community, self.reviews)

    def ranked_posts(self) -> list[dict[str, Any]]:
        return ranked_posts(self.community, self.reviews)


def community_info(name: str, reviews: Iterable[ReviewInfo] = ()) -> dict[str, Any]:
    """A ``bridge.get_community`` answer for the followed community."""
    authors = {r.author for r in reviews if r.deleted_block is None}
    return {
        "id": 1378,
        "name": name,
        "title": "Anime Realm" if name == "hive-158489" else f"Community {name}",
        "about": "Reviews, news and discussions about anime and manga.",
        "lang": "en",
        "type_id": 1,
        "is_nsfw": False,
        "subscribers": 2113,
        "sum_pending": 0,
        "num_pending": 0,
        "num_authors": len(authors),
        "created_at": "2021-03-02 10:00:00",
        "avatar_url": "",
        "context": {},
        "description": "A home for anime and manga fans on Hive.",
        "flag_text": "",
        "settings": {},
        "team": [[name, "owner", ""], ["animerealm.mod", "admin", "Mod"]],
    }


def ranked_posts(community: str, reviews: Iterable[ReviewInfo]) -> list[dict[str, Any]]:
    """Live reviews as ``bridge.get_ranked_posts(sort="created")`` lists them, newest first."""
    live = [r for r in reviews if r.deleted_block is None]
    live.sort(key=lambda r: r.created_block, reverse=True)
    out = []
    for r in live:
        try:
            meta = json.loads(r.json_metadata) if r.json_metadata else {}
        except ValueError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        votes: list[dict[str, Any]] = [{"voter": v, "rshares": w * 1000} for v, w in r.final_votes().items() if w]
        updated = r.edits[-1].block if r.edits else r.created_block
        out.append({
            "post_id": r.created_block,
            "author": r.author,
            "permlink": r.permlink,
            "category": community,
            "community": community,
            "community_title": "Anime Realm" if community == "hive-158489" else community,
            "title": r.title,
            "body": r.body,
            "json_metadata": meta,
            "created": r.created_at,
            "updated": block_time(updated),
            "depth": 0,
            "children": len(r.replies) + len(r.badges),
            "net_rshares": sum(v["rshares"] for v in votes),
            "active_votes": votes,
            "author_reputation": 55.0,
            "author_role": "guest",
            "author_title": "",
            "beneficiaries": [],
            "blacklists": [],
            "is_paidout": False,
            "payout": 0.0,
            "payout_at": format_time(block_epoch(r.created_block) + 7 * 86400),
            "pending_payout_value": "0.000 HBD",
            "author_payout_value": "0.000 HBD",
            "curator_payout_value": "0.000 HBD",
            "max_accepted_payout": "1000000.000 HBD",
            "percent_hbd": 10000,
            "reblogs": 0,
            "replies": [],
            "stats": {"flag_weight": 0.0, "gray": False, "hide": False, "total_votes": len(votes)},
            "url": f"/{community}/@{r.author}/{r.permlink}",
        })
    return out

