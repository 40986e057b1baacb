"""Deterministic generator of mainnet-like Hive blocks around one followed community.

Blocks are in the ``block_api`` shape (ops as ``{"type": "..._operation", "value": {...}}``, assets as
NAI dicts) and weigh ~20-25 KB of JSON with ~40 ops each, the size and op mix of busy mainnet blocks, so
that decoding and filtering costs in benchmarks are realistic. Most ops are noise (custom_json, votes and comments
elsewhere); the followed community gets reviews, edits, deletes, votes, replies and HiveBuzz badges,
and the generator keeps the ground truth (:class:`ReviewInfo`, :class:`BadgeInfo`) for assertions.

``ChainGenerator`` is lazy (iterate it to get one block at a time, for big benchmark chains);
``generate_chain`` builds everything in memory.
"""

from __future__ import annotations

import gc
import json
import random
import re
import time
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import msgspec
from diff_match_patch import diff_match_patch

__all__ = [
    "GENESIS_EPOCH",
    "HBD",
    "HIVE",
    "SERIES",
    "VESTS",
    "BadgeInfo",
    "ChainGenerator",
    "ChainSummary",
    "EditInfo",
    "GeneratedChain",
    "ReviewInfo",
    "asset",
    "block_epoch",
    "block_time",
    "build_vote_vops",
    "dump_json",
    "format_time",
    "generate_chain",
    "make_block_id",
    "vote_vops_for_block",
]

HBD = "@@000000013"
HIVE = "@@000000021"
VESTS = "@@000000037"

# Steem/Hive genesis; with 3 s blocks, block ~80M lands in late 2023 as on mainnet.
GENESIS_EPOCH = 1458835200  # 2016-03-24T16:00:00Z
BLOCK_INTERVAL = 3

# (name, tag, kind): accents, colons, "×", "!" and ";" on purpose, since title parsing must cope.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("Frieren: Beyond Journey's End", "frieren", "anime"),
    ("Pokémon", "pokemon", "anime"),
    ("Re:Zero − Starting Life in Another World", "rezero", "anime"),
    ("Metallic Rouge", "metallicrouge", "anime"),
    ("Spy × Family", "spyxfamily", "anime"),
    ("Jujutsu Kaisen", "jujutsukaisen", "manga"),
    ("One Piece", "onepiece", "manga"),
    ("Attack on Titan", "attackontitan", "anime"),
    ("Chainsaw Man", "chainsawman", "manga"),
    ("Demon Slayer: Kimetsu no Yaiba", "demonslayer", "anime"),
    ("Fullmetal Alchemist: Brotherhood", "fullmetalalchemist", "anime"),
    ("Neon Genesis Evangelion", "evangelion", "anime"),
    ("Cowboy Bebop", "cowboybebop", "anime"),
    ("Steins;Gate", "steinsgate", "anime"),
    ("Mob Psycho 100", "mobpsycho100", "anime"),
    ("Oshi no Ko", "oshinoko", "anime"),
    ("Bocchi the Rock!", "bocchitherock", "anime"),
    ("Dr. Stone", "drstone", "manga"),
    ("Made in Abyss", "madeinabyss", "manga"),
    ("Vinland Saga", "vinlandsaga", "manga"),
    ("Violet Evergarden", "violetevergarden", "anime"),
    ("K-On!", "kon", "anime"),
    ("Haikyu!!", "haikyu", "manga"),
    ("Kaguya-sama: Love Is War", "kaguyasama", "anime"),
    ("Mushoku Tensei: Jobless Reincarnation", "mushokutensei", "anime"),
    ("The Apothecary Diaries", "apothecarydiaries", "anime"),
    ("Delicious in Dungeon", "dungeonmeshi", "manga"),
    ("Solo Leveling", "sololeveling", "manga"),
    ("Blue Lock", "bluelock", "manga"),
    ("Berserk", "berserk", "manga"),
    ("Naruto Shippūden", "naruto", "anime"),
    ("Bleach: Thousand-Year Blood War", "bleach", "anime"),
    ("Hunter × Hunter", "hunterxhunter", "manga"),
    ("JoJo's Bizarre Adventure", "jojo", "manga"),
    ("Sailor Moon", "sailormoon", "anime"),
    ("Dragon Ball Z", "dragonballz", "anime"),
    ("Tokyo Ghoul:re", "tokyoghoul", "manga"),
    ("Puella Magi Madoka★Magica", "madokamagica", "anime"),
    ("Gintama°", "gintama", "anime"),
    ("86 EIGHTY-SIX", "eightysix", "anime"),
    ("Cyberpunk: Edgerunners", "edgerunners", "anime"),
    ("Lycoris Recoil", "lycorisrecoil", "anime"),
)

_SUBTITLES = (
    "Mars, Machines, and Meaning",
    "a slow burn that pays off",
    "why the quiet episodes matter",
    "¿vale la pena?",
    "the best arc so far",
    "first impressions ✨",
    "animation, music & pacing",
    "a spoiler-free look",
    "what the adaptation changed",
    "my verdict after the finale",
    "grief, time and friendship",
    "hype vs. reality",
)

_WORD_TEXT = (
    "the story animation character arc episode season studio pacing soundtrack opening ending villain hero "
    "friendship journey world magic battle scene moment plot twist finale adaptation manga chapter panel "
    "art style direction voice acting cast theme emotion memory time quiet loud fast slow beautiful "
    "strange honest brilliant messy clever gentle brutal warm cold bright dark simple complex really "
    "almost never always often sometimes maybe clearly quietly and but because while although when "
    "after before during with without about through between every each this that these those my your "
    "their our I you we they it is was feels felt seems seemed works worked lands landed builds built "
    "shows showed hides revealed carries carried keeps kept drops dropped deserves deserved a an of to "
    "in on for from by as at than more less most least very quite rather pretty truly"
)
_WORDS = tuple(_WORD_TEXT.split())

_REPLY_TEXTS = (
    "Great review!",
    "Interesante propuesta.",
    "Looks so nice. Good post 👍",
    "I had the same feeling about the ending.",
    "Adding this to my watchlist, thanks!",
    "Hard disagree on the pacing, but well written.",
    "The soundtrack really is something else.",
    "¡Excelente reseña! Me dieron ganas de verla.",
    "Did you read the manga too? The anime skips a lot.",
    "Congratulations, your post has been curated by the Anime Realm team.",
)

_APPS = ("peakd/2024.5.2", "ecency/3.2.1", "hiveblog/0.1", "inleo/0.3", "liketu/1.0")
_BADGES = (
    # (image name, sentence with {n}, sentence with {m})
    ("upvotes", "You distributed more than {n} upvotes.", "Your next target is to reach {m} upvotes."),
    ("upvoted", "You received more than {n} upvotes.", "Your next target is to reach {m} upvotes."),
    ("posts", "You published more than {n} posts.", "Your next target is to reach {m} posts."),
    ("comments", "You made more than {n} comments.", "Your next target is to reach {m} comments."),
    ("replies", "You got more than {n} replies.", "Your next target is to reach {m} replies."),
    (
        "payout",
        "You received more than {n} HP as payout for your posts, comments and curation.",
        "Your next payout target is {m} HP.",
    ),
)
_BADGE_STEPS = (10, 50, 100, 200, 300, 400, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000)
_COMMUNITY_NUMBERS = (
    167922, 174578, 148441, 194913, 163772, 180932, 122108, 196037, 161155, 139531, 110369, 193552,
    120586, 176853, 107605, 112019, 195284, 147010, 124452, 105017, 102930, 150329, 181335, 196708,
)
_OTHER_COMMUNITIES = (*(f"hive-{n}" for n in _COMMUNITY_NUMBERS), "photography", "leofinance", "gaming",
                      "life", "travel", "food")
_SM_IDS = (
    "sm_find_match", "sm_submit_team", "sm_team_reveal", "sm_claim_reward", "sm_stake_tokens",
    "sm_market_purchase", "sm_sell_cards", "sm_combine_cards", "sm_token_transfer",
)
_SSC_ACTIONS = (
    ("tokens", "transfer"), ("tokens", "stake"), ("market", "buy"), ("market", "sell"),
    ("market", "cancel"), ("nft", "transfer"), ("marketpools", "swapTokens"),
)
_SSC_TOKENS = ("SWAP.HIVE", "LEO", "SPS", "DEC", "BEE", "POB", "VKBT", "CENT", "SWAP.HBD", "ALIVE")
_WITNESSES = ("blocktrades", "gtg", "arcange", "deathwing", "good-karma", "roelandp", "themarkymark",
              "stoodkev", "quochuy", "ausbitbank", "yabapmatt", "steempeak", "therealwolf", "emrebeyler")
_B36 = "abcdefghijklmnopqrstuvwxyz0123456789"
_encode = msgspec.json.Encoder().encode
_RATING = re.compile(r"\*\*Rating: (\d+)/10\*\*")


def dump_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON as hived sends it (non-ASCII unescaped); same bytes as
    ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``, but msgspec is ~4x faster."""
    return _encode(obj)


def asset(amount: int, nai: str) -> dict[str, Any]:
    return {"amount": str(amount), "precision": 6 if nai == VESTS else 3, "nai": nai}


def block_epoch(num: int) -> int:
    return GENESIS_EPOCH + BLOCK_INTERVAL * num


def format_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def block_time(num: int) -> str:
    return format_time(block_epoch(num))


def make_block_id(num: int, salt: int = 0) -> str:
    """Block ids start with the block number in hex (clients derive the number from it)."""
    return f"{num:08x}" + blake2b(f"{salt}:{num}".encode(), digest_size=16).hexdigest()


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = []
    dash = False
    for ch in plain:
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:200]


# ---------------------------------------------------------------------------------------------------
# Virtual ops


def _vote_vop_value(v: Mapping[str, Any]) -> dict[str, Any]:
    # A CRC, not hash() (salted per process), so a test and a node subprocess agree.
    crc = zlib.crc32(f"{v['voter']}/{v['author']}/{v['permlink']}".encode())
    weight = int(v["weight"])
    # Mainnet-sized: mostly above 2**32, so hived writes them as strings (see hive.numbers.hived_numbers).
    rshares = (crc % 4_000_000_000 + 1_000_000) * 1000 * weight // 10000
    return {
        "voter": v["voter"],
        "author": v["author"],
        "permlink": v["permlink"],
        "weight": abs(rshares) * 31 // 7,
        "rshares": rshares,
        "total_vote_weight": str(crc * 104729),
        "pending_payout": asset(crc % 50_000 if weight > 0 else 0, HBD),
    }


def vote_vops_for_block(num: int, block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``effective_comment_vote`` entries (enum_virtual_ops shape) for every vote op of one block.

    rshares are derived from voter/author/permlink and the weight: deterministic, negative for
    downvotes, 0 for a vote removal.
    """
    out: list[dict[str, Any]] = []
    timestamp = block.get("timestamp") or block_time(num)
    trx_ids = block.get("transaction_ids") or []
    pos = 0
    for trx_in_block, trx in enumerate(block.get("transactions") or ()):
        trx_id = trx_ids[trx_in_block] if trx_in_block < len(trx_ids) else "0" * 40
        for op_in_trx, op in enumerate(trx.get("operations") or ()):
            pos += 1
            if op.get("type") != "vote_operation":
                continue
            out.append({
                "trx_id": trx_id,
                "block": num,
                "trx_in_block": trx_in_block,
                "op_in_trx": op_in_trx + 1,
                "virtual_op": True,
                "timestamp": timestamp,
                "op": {"type": "effective_comment_vote_operation", "value": _vote_vop_value(op["value"])},
                # HAF numbering: block in the high bits, position in block, op type id (72) low.
                "operation_id": (num << 32) | (pos << 8) | 72,
            })
    return out


def build_vote_vops(blocks: Mapping[int, Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Vote vops for a whole block mapping (seed fixture, hivemind mock or generated chain)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for num, block in blocks.items():
        vops = vote_vops_for_block(int(num), block)
        if vops:
            out[int(num)] = vops
    return out


# ---------------------------------------------------------------------------------------------------
# Ground truth


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


# ---------------------------------------------------------------------------------------------------
# Generator


class ChainGenerator:
    """Lazy, deterministic chain: ``for num, block, vops in ChainGenerator(...)``.

    Ground truth (``reviews``, ``badges``) and ``summary`` fill up while iterating. Events scheduled
    past the last block (a vote due later, say) are simply never emitted, and never recorded.
    """

    def __init__(
        self,
        start_block: int,
        count: int,
        *,
        community: str = "hive-158489",
        review_every: int = 20,
        seed: int = 0,
        sample_bytes_every: int = 16,
    ) -> None:
        if start_block < 1 or count < 0:
            raise ValueError("start_block must be >= 1 and count >= 0")
        self.start_block = start_block
        self.count = count
        self.community = community
        self.review_every = max(1, review_every)
        self.seed = seed
        self.sample_bytes_every = max(1, sample_bytes_every)
        self.summary = ChainSummary()
        self.reviews: list[ReviewInfo] = []
        self.badges: list[BadgeInfo] = []
        self._rng = random.Random(seed)
        self._dmp = diff_match_patch()
        self._started = False
        rng = self._rng
        self._accounts = self._make_accounts(rng, 3000)
        self._reviewers = rng.sample(self._accounts, 40)
        self._readers = rng.sample(self._accounts, 250)
        self._sentences = [self._sentence(rng) for _ in range(2500)]
        self._signatures = [f"1f{rng.getrandbits(512):0128x}" for _ in range(4096)]
        keys = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        self._witnesses = [(w, "STM" + "".join(rng.choices(keys, k=50))) for w in _WITNESSES]
        self._vop_cache: dict[int, dict[str, Any]] = {}
        self._build_pools()
        self._pending: dict[int, list[tuple[str, ReviewInfo, Any]]] = {}
        self._welcomed: set[str] = set()
        self._permlinks: set[tuple[str, str]] = set()

    # -- pools -----------------------------------------------------------------------------------

    @staticmethod
    def _make_accounts(rng: random.Random, n: int) -> list[str]:
        syll = ("ka", "mi", "ro", "zen", "tak", "lu", "na", "shi", "ve", "dra", "ko", "ri", "an", "el",
                "mo", "jo", "pix", "tor", "sa", "yu", "ne", "on", "ix", "bel")
        names: set[str] = set()
        while len(names) < n:
            name = "".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))
            r = rng.random()
            if r < 0.3:
                name += str(rng.randint(1, 999))
            elif r < 0.4:
                name += "." + rng.choice(("art", "games", "cur", "fan", "hive"))
            if 3 <= len(name) <= 16:
                names.add(name)
        return sorted(names)

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        words = rng.choices(_WORDS, k=rng.randint(7, 19))
        return " ".join(words).capitalize() + rng.choice((".", ".", ".", "!", "?", "…"))

    def _paragraph(self, lo: int = 3, hi: int = 7) -> str:
        return " ".join(self._rng.choices(self._sentences, k=self._rng.randint(lo, hi)))

    def _text(self, size: int) -> str:
        parts: list[str] = []
        total = 0
        while total < size:
            p = self._paragraph()
            parts.append(p)
            total += len(p) + 2
        return "\n\n".join(parts)

    def _hex(self, n: int) -> str:
        return f"{self._rng.getrandbits(4 * n):0{n}x}"

    def _b36(self, n: int) -> str:
        return "".join(self._rng.choices(_B36, k=n))

    # -- iteration -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        if self._started:
            raise RuntimeError("a ChainGenerator can be iterated once; make a new one")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        rng = self._rng
        rnd = rng.random
        bits = rng.getrandbits
        sigs = self._signatures
        nsig = len(sigs)
        witnesses = self._witnesses
        vop_cache = self._vop_cache
        next_review = self.start_block + rng.randint(0, self.review_every)
        prev_id = make_block_id(self.start_block - 1, self.seed)
        summary = self.summary
        sampled = 0
        for i, num in enumerate(range(self.start_block, self.start_block + self.count)):
            epoch = block_epoch(num)
            ts = format_time(epoch)
            trxs: list[list[dict[str, Any]]] = []
            if num >= next_review:
                trxs.append(self._new_review(num, ts))
                lo = max(1, self.review_every // 2)
                next_review = num + rng.randint(lo, self.review_every + lo)
            for kind, review, arg in self._pending.pop(num, ()):
                ops = self._emit_event(kind, review, arg, num, ts)
                if ops:
                    trxs.append(ops)
            self._noise(trxs, num, ts)
            rng.shuffle(trxs)
            # Transaction envelopes are cheap on purpose: signatures come from a pool, ids are fresh.
            ref = num - 3
            exps = [format_time(epoch + d) for d in (45, 60, 120, 600)]
            transactions = []
            ids = []
            vops: list[dict[str, Any]] = []
            pos = 0
            for trx_in_block, ops in enumerate(trxs):
                trx_id = f"{bits(160):040x}"
                ids.append(trx_id)
                transactions.append({
                    "ref_block_num": (ref - int(rnd() * 21)) & 0xFFFF,
                    "ref_block_prefix": bits(32),
                    "expiration": exps[int(rnd() * 4)],
                    "operations": ops,
                    "extensions": [],
                    "signatures": [sigs[int(rnd() * nsig)]],
                })
                for op_in_trx, op in enumerate(ops):
                    pos += 1
                    t = op["type"]
                    if t == "vote_operation":
                        value = vop_cache.get(id(op)) or _vote_vop_value(op["value"])
                        vops.append({
                            "trx_id": trx_id, "block": num, "trx_in_block": trx_in_block,
                            "op_in_trx": op_in_trx + 1, "virtual_op": True, "timestamp": ts,
                            "op": {"type": "effective_comment_vote_operation", "value": value},
                            "operation_id": (num << 32) | (pos << 8) | 72,
                        })
                    elif t == "custom_json_operation":
                        summary.custom_json += 1
                    elif t == "comment_operation":
                        summary.comments += 1
            summary.votes += len(vops)
            summary.total_ops += pos
            witness, signing_key = witnesses[int(rnd() * len(witnesses))]
            block_id = make_block_id(num, self.seed)
            block = {
                "previous": prev_id,
                "timestamp": ts,
                "witness": witness,
                "transaction_merkle_root": f"{bits(160):040x}",
                "extensions": [],
                "witness_signature": sigs[int(rnd() * nsig)],
                "transactions": transactions,
                "block_id": block_id,
                "signing_key": signing_key,
                "transaction_ids": ids,
            }
            prev_id = block_id
            summary.blocks += 1
            summary.total_transactions += len(trxs)
            if i % self.sample_bytes_every == 0:
                sampled += 1
                summary._sampled_bytes += len(dump_json(block))
                summary.sampled_blocks = sampled
                summary.mean_block_bytes = round(summary._sampled_bytes / sampled, 1)
            yield num, block, vops

    def _schedule(self, block: int, kind: str, review: ReviewInfo, arg: Any = None) -> None:
        if block < self.start_block + self.count:
            self._pending.setdefault(block, []).append((kind, review, arg))

    # -- the followed community ------------------------------------------------------------------

    def _new_review(self, num: int, ts: str) -> list[dict[str, Any]]:
        rng = self._rng
        series, tag, kind = rng.choice(SERIES)
        author = rng.choice(self._reviewers)
        form = rng.randrange(5)
        if form == 0:
            title = f"Review: {series} — {rng.choice(_SUBTITLES)}"
        elif form == 1:
            title = f"{series} Episode {rng.randint(1, 24)} thoughts"
        elif form == 2:
            title = f"Review {series} {rng.choice(('🤖', '✨', '🔥', ''))}{rng.choice(_SUBTITLES)}".strip()
        elif form == 3:
            title = f"{series} Vol. {rng.randint(1, 30)} – manga review"
        else:
            title = f"First impressions: {series}"
        permlink = _slug(title) or f"review-{num}"
        while (author, permlink) in self._permlinks:
            permlink = f"{permlink}-{self._b36(4)}"
        self._permlinks.add((author, permlink))
        cover = f"https://files.peakd.com/file/peakd-hive/{author}/{self._b36(10)}/{tag}-cover.jpg"
        body = self._review_body(series, title, cover)
        meta, malformed = self._review_metadata(tag, kind, cover, body)
        review = ReviewInfo(
            author=author, permlink=permlink, series=series, series_tag=tag, kind=kind,
            created_block=num, created_at=ts, title=title, body=body, json_metadata=meta,
            original_body=body, malformed_metadata=malformed, cover=cover,
        )
        self.reviews.append(review)
        self.summary.reviews += 1
        self.summary.malformed_metadata += malformed
        ops: list[dict[str, Any]] = [
            _comment("", self.community, author, permlink, title, body, meta),
            {"type": "comment_options_operation", "value": {
                "author": author, "permlink": permlink,
                "max_accepted_payout": asset(1_000_000_000, HBD), "percent_hbd": 10000,
                "allow_votes": True, "allow_curation_rewards": True, "extensions": [],
            }},
        ]
        r = rng.random()
        if r < 1 / 15:
            # Doomed: the chain refuses deletes of posts with replies or positive votes, so none.
            self._schedule(num + rng.randint(2, 60), "delete", review)
            return ops
        if r < 1 / 15 + 0.25:
            self._schedule(num + rng.randint(3, 150), "edit", review, rng.random() < 0.5)
        for voter in rng.sample(self._readers, rng.randint(2, 8)):
            at = num + rng.randint(1, 120)
            w = rng.random()
            weight = (-rng.choice((10000, 2500, 100)) if w < 0.07
                      else rng.choice((10000, 10000, 5000, 2500, 1000, 100, 7500)))
            self._schedule(at, "vote", review, (voter, weight))
            if rng.random() < 0.12:
                self._schedule(at + rng.randint(1, 60), "vote", review, (voter, 0))
        if rng.random() < 0.3:
            self._schedule(num, "vote", review, (author, 10000))  # self-vote, same block
        if author not in self._welcomed:
            self._welcomed.add(author)
            self._schedule(num + rng.randint(5, 40), "reply", review, self.community)
        for _ in range(rng.randint(0, 4)):
            self._schedule(num + rng.randint(1, 200), "reply", review, None)
        if rng.random() < 0.35:
            self._schedule(num + rng.randint(5, 300), "badge", review)
        return ops

    def _review_body(self, series: str, title: str, cover: str) -> str:
        rng = self._rng
        others = [s for s, _, _ in rng.sample(SERIES, 6) if s != series]
        target = rng.randint(2000, 8000)
        parts = [
            f"![cover]({cover})",
            f"# {title}",
            self._paragraph(),
            f"Before anything else: if you came here from {others[0]} or {others[1]}, expect something "
            f"different. I kept thinking about {others[0]} while watching.",
            "## Story",
            self._paragraph(),
            f"> {self._sentence(rng)}",
            "## Characters",
            self._paragraph(),
            f"The cast reminded me of {others[2]}, and the soundtrack of {others[3]} — not a bad thing.",
        ]
        tail = [
            "## Verdict",
            f"**Rating: {rng.randint(4, 10)}/10** — {self._sentence(rng)}",
            f"If you enjoyed {others[-1]}, give it a try. Thanks for reading! 🙏",
            "---\n<center><sub>Images: screenshots, © their owners.</sub></center>",
        ]
        size = sum(len(p) + 2 for p in parts + tail)
        while size < target:
            heading = rng.choice(("## Animation", "## Music", "## Pacing", "### Spoilers ahead ⚠️", ""))
            paragraph = self._paragraph()
            parts += [heading, paragraph] if heading else [paragraph]
            size += len(heading) + len(paragraph) + 4
        return "\n\n".join(parts + tail)

    def _review_metadata(self, tag: str, kind: str, cover: str, body: str) -> tuple[str, bool]:
        rng = self._rng
        if rng.random() < 1 / 12:
            return rng.choice(("", "{not json", "[1,2]")), True
        extra = rng.sample(("review", "animereview", "otaku", "spanish", "neoxian", "ocd"), 2)
        tags = [self.community, kind, tag, "review", *[t for t in extra if t != "review"]][:6]
        meta = {
            "app": rng.choice(_APPS),
            "format": "markdown",
            "tags": tags,
            "image": [cover],
            "description": body.split("\n\n")[2][:140],
        }
        if rng.random() < 0.3:
            meta["users"] = rng.sample(self._readers, 2)
        return json.dumps(meta, ensure_ascii=False), False

    def _emit_event(self, kind: str, review: ReviewInfo, arg: Any, num: int, ts: str) -> list[dict[str, Any]]:
        if review.deleted_block is not None:
            return []  # the chain would refuse anything on a deleted post
        rng = self._rng
        if kind == "vote":
            voter, weight = arg
            review.votes.append((num, voter, weight))
            self.summary.votes_on_reviews += 1
            return [_vote(voter, review.author, review.permlink, weight)]
        if kind == "delete":
            review.deleted_block = num
            self.summary.deletes += 1
            return [{"type": "delete_comment_operation",
                     "value": {"author": review.author, "permlink": review.permlink}}]
        if kind == "reply":
            author = arg or rng.choice(self._readers)
            if arg:
                permlink = f"re-{review.author}-welcome-{ts[:10].replace('-', '')}"
                body = (f"Hello @{review.author}! The Anime Realm team here 👋.\nThanks for choosing "
                        f"Anime Realm to share your review. {self._sentence(rng)}")
            else:
                permlink = f"re-{review.author}-{self._b36(6)}"
                body = rng.choice(_REPLY_TEXTS)
                if rng.random() < 0.4:
                    body += " " + self._paragraph(1, 3)
            review.replies.append((num, author, permlink))
            self.summary.replies_to_reviews += 1
            meta = json.dumps({"app": rng.choice(_APPS), "tags": [self.community]})
            return [_comment(review.author, review.permlink, author, permlink, "", body, meta)]
        if kind == "badge":
            op, badge = self._badge(review.author, review.permlink, num, ts, True)
            review.badges.append(badge)
            self.summary.badges += 1
            return [op]
        if kind == "edit":
            return [self._edit(review, bool(arg), num)]
        raise ValueError(kind)

    def _edit(self, review: ReviewInfo, as_patch: bool, num: int) -> dict[str, Any]:
        rng = self._rng
        old = review.body
        paras = old.split("\n\n")
        # A real change: rewrite one paragraph's sentence, bump the rating, append an edit note.
        prose = [i for i, p in enumerate(paras) if len(p) > 150 and p[0] not in "#>*![-"]
        idx = rng.choice(prose or range(2, len(paras) - 1))
        sentences = paras[idx].split(". ")
        sentences[rng.randrange(len(sentences))] = self._sentence(rng).rstrip(".!?…")
        paras[idx] = ". ".join(sentences)
        for j, p in enumerate(paras):
            if p.startswith("**Rating: "):
                paras[j] = _RATING.sub(lambda m: f"**Rating: {max(1, int(m.group(1)) - 1)}/10**", p, count=1)
        paras.append(f"**Edit:** {self._sentence(rng)} Thanks @{rng.choice(self._readers)}!")
        new = "\n\n".join(paras)
        if as_patch:
            sent = self._dmp.patch_toText(self._dmp.patch_make(old, self._diff_paragraphs(review.body, new)))
            self.summary.patch_edits += 1
        else:
            sent = new
            self.summary.full_edits += 1
        self.summary.edits += 1
        title = review.title + " (updated)" if rng.random() < 0.2 else review.title
        review.edits.append(EditInfo(num, "patch" if as_patch else "full", sent, old, new, title,
                                     review.json_metadata))
        review.body, review.title = new, title
        return _comment("", self.community, review.author, review.permlink, title, sent, review.json_metadata)

    def _diff_paragraphs(self, old: str, new: str) -> list[tuple[int, str]]:
        """diff-match-patch diffs built paragraph by paragraph, each as prefix/delete/insert/suffix.

        diff_main over a whole 8 KB body takes ~15 ms, and its time-out would make the result depend on
        machine speed. These diffs are coarser than diff_main's but just as valid for patch_make.
        """
        dmp = self._dmp
        a, b = old.split("\n\n"), new.split("\n\n")
        diffs: list[tuple[int, str]] = []
        for i, pa in enumerate(a):
            if i:
                diffs.append((dmp.DIFF_EQUAL, "\n\n"))
            pb = b[i]
            if pa == pb:
                diffs.append((dmp.DIFF_EQUAL, pa))
                continue
            pre = dmp.diff_commonPrefix(pa, pb)
            suf = dmp.diff_commonSuffix(pa[pre:], pb[pre:])
            diffs += [(dmp.DIFF_EQUAL, pa[:pre]), (dmp.DIFF_DELETE, pa[pre:len(pa) - suf]),
                      (dmp.DIFF_INSERT, pb[pre:len(pb) - suf]), (dmp.DIFF_EQUAL, pa[len(pa) - suf:])]
        if len(b) > len(a):
            diffs.append((dmp.DIFF_INSERT, "\n\n" + "\n\n".join(b[len(a):])))
        dmp.diff_cleanupMerge(diffs)
        return diffs

    def _badge(self, recipient: str, parent: str, num: int, ts: str, to_review: bool
               ) -> tuple[dict[str, Any], BadgeInfo]:
        rng = self._rng
        stamp = ts.replace("-", "").replace(":", "").lower()
        permlink = f"hivebuzz-notify-{recipient}-{stamp}"
        while ("hivebuzz", permlink) in self._permlinks:
            permlink += rng.choice(_B36)
        self._permlinks.add(("hivebuzz", permlink))
        kinds = rng.sample(_BADGES, 2 if rng.random() < 0.2 else 1)
        rows, names, urls, texts = [], [], [], []
        for name, first, nxt in kinds:
            step = rng.randrange(len(_BADGE_STEPS) - 1)
            url = f"https://hivebuzz.me/@{recipient}/{name}.png?{stamp[:8]}{stamp[9:13]}"
            text = first.format(n=_BADGE_STEPS[step]) + "<br>" + nxt.format(m=_BADGE_STEPS[step + 1])
            rows.append(f"<tr><td><img src=\"https://images.hive.blog/60x70/{url}\"></td><td>{text}</td></tr>\n")
            names.append(name)
            urls.append(url)
            texts.append(text)
        body = (
            f"Congratulations @{recipient}! You have completed the following achievement on the Hive "
            "blockchain And have been rewarded with New badge(s)\n\n<table>" + "".join(rows) + "</table>\n\n"
            f"<sub>_You can view your badges on [your board](https://hivebuzz.me/@{recipient}) and compare "
            "yourself to others in the [Ranking](https://hivebuzz.me/ranking)_</sub>\n"
            "<sub>_If you no longer want to receive notifications, reply to this comment with the word_ "
            "`STOP`</sub>"
        )
        meta = '{"image": ["https://hivebuzz.me/notify.t6.png"]}'
        badge = BadgeInfo(num, recipient, permlink, parent, names, urls, texts, to_review)
        self.badges.append(badge)
        return _comment(recipient, parent, "hivebuzz", permlink, "", body, meta), badge

    # -- the rest of the chain -------------------------------------------------------------------

    def _build_pools(self) -> None:
        """Noise ops come from pools built once and reused across blocks.

        Building ~40 fresh ops per block costs ~1.5 ms (30 s for a 20,000-block benchmark chain); a
        noise op recurring in another block changes nothing for a reader that filters them out.
        """
        rng = self._rng
        accounts = self._accounts
        ts = block_time(self.start_block)
        self._pool_posts = [self._other_post() for _ in range(200)]
        self._targets = [(p[0]["value"]["author"], p[0]["value"]["permlink"]) for p in self._pool_posts]
        self._targets += [(rng.choice(accounts), f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{self._b36(6)}")
                          for _ in range(500)]
        self._pool_votes = []
        for _ in range(2500):
            author, permlink = rng.choice(self._targets)
            op = _vote(rng.choice(accounts), author, permlink,
                       rng.choice((10000, 10000, 5000, 2500, 1500, 100, -10000)))
            self._vop_cache[id(op)] = _vote_vop_value(op["value"])
            self._pool_votes.append(op)
        self._pool_custom = [self._custom_json(ts) for _ in range(3000)]
        self._pool_replies = []
        for _ in range(800):
            author, permlink = rng.choice(self._targets)
            body = self._paragraph(1, 4) if rng.random() < 0.7 else rng.choice(_REPLY_TEXTS)
            meta = json.dumps({"app": rng.choice(_APPS), "tags": [rng.choice(_OTHER_COMMUNITIES)]})
            self._pool_replies.append(
                _comment(author, permlink, rng.choice(accounts), f"re-{author}-{self._b36(6)}", "", body, meta))
        self._pool_transfers = []
        for _ in range(800):
            nai = HIVE if rng.random() < 0.7 else HBD
            memo = rng.choice(("", "", "thanks!", f"order {self._hex(12)}", "#" + self._b36(120)))
            self._pool_transfers.append({"type": "transfer_operation", "value": {
                "from": rng.choice(accounts), "to": rng.choice([*accounts[:50], "honey-swap", "hive-engine"]),
                "amount": asset(rng.randint(1, 500_000), nai), "memo": memo}})
        self._pool_claims = [{"type": "claim_reward_balance_operation", "value": {
            "account": rng.choice(accounts), "reward_hive": asset(0, HIVE),
            "reward_hbd": asset(rng.randint(0, 2000), HBD),
            "reward_vests": asset(rng.randint(1, 9_000_000_000), VESTS)}} for _ in range(800)]

    def _noise(self, trxs: list[list[dict[str, Any]]], num: int, ts: str) -> None:
        rnd = self._rng.random
        votes, customs, replies = self._pool_votes, self._pool_custom, self._pool_replies
        nv, nc, nr = len(votes), len(customs), len(replies)
        # Votes elsewhere; curation bots batch a few in one transaction.
        for _ in range(9 + int(rnd() * 9)):
            op = votes[int(rnd() * nv)]
            if trxs and rnd() < 0.15 and trxs[-1][0]["type"] == "vote_operation":
                trxs[-1].append(op)
            else:
                trxs.append([op])
        for _ in range(15 + int(rnd() * 11)):
            trxs.append([customs[int(rnd() * nc)]])
        for _ in range(int(rnd() * 4)):
            trxs.append([replies[int(rnd() * nr)]])
        if rnd() < 0.3:
            trxs.append(self._pool_posts[int(rnd() * len(self._pool_posts))])
        for _ in range(1 + int(rnd() * 4)):
            trxs.append([self._pool_transfers[int(rnd() * len(self._pool_transfers))]])
        for _ in range(int(rnd() * 4)):
            trxs.append([self._pool_claims[int(rnd() * len(self._pool_claims))]])
        if rnd() < 0.05:
            author, permlink = self._targets[int(rnd() * len(self._targets))]
            op, _ = self._badge(author, permlink, num, ts, False)
            self.summary.badges_elsewhere += 1
            trxs.append([op])

    def _other_post(self) -> list[dict[str, Any]]:
        rng = self._rng
        author = rng.choice(self._accounts)
        parent = rng.choice(_OTHER_COMMUNITIES)
        title = self._sentence(rng).rstrip(".!?…")[:80]
        if rng.random() < 0.15:
            series = rng.choice(SERIES)[0]
            title = f"Review: {series} — not in Anime Realm"
        permlink = _slug(title)[:60] + "-" + self._b36(4)
        body = self._text(rng.randint(1000, 6000))
        tags = [parent, "life", rng.choice(("photography", "art", "gaming", "anime", "crypto"))]
        if rng.random() < 0.05:
            tags.append(self.community)  # tagged, but not posted in it: must not count
        meta = json.dumps({"app": rng.choice(_APPS), "format": "markdown", "tags": tags,
                           "image": [f"https://files.peakd.com/file/peakd-hive/{author}/{self._b36(10)}/x.jpg"]})
        ops = [_comment("", parent, author, permlink, title, body, meta)]
        if rng.random() < 0.7:
            ext: list[Any] = []
            if rng.random() < 0.4:
                bens = sorted(rng.sample(self._accounts, rng.randint(1, 3)))
                ext = [{"type": "comment_payout_beneficiaries", "value": {
                    "beneficiaries": [{"account": b, "weight": rng.choice((100, 500, 1000))} for b in bens]}}]
            ops.append({"type": "comment_options_operation", "value": {
                "author": author, "permlink": permlink, "max_accepted_payout": asset(1_000_000_000, HBD),
                "percent_hbd": rng.choice((10000, 0)), "allow_votes": True, "allow_curation_rewards": True,
                "extensions": ext}})
        return ops

    def _custom_json(self, ts: str) -> dict[str, Any]:
        rng = self._rng
        acct = rng.choice(self._accounts)
        r = rng.random()
        active = False
        if r < 0.38:
            cid = rng.choice(_SM_IDS)
            n = self._b36(10)
            if cid == "sm_submit_team":
                mons = ",".join(f'"{self._b36(2)}-{rng.randint(1, 500)}-{self._b36(10)}"'
                                for _ in range(rng.randint(3, 7)))
                payload = (f'{{"trx_id":"{self._hex(40)}","team_hash":"{self._hex(32)}",'
                           f'"summoner":"starter-{rng.randint(1, 400)}-{self._b36(5)}","monsters":[{mons}],'
                           f'"secret":"{self._b36(10)}","app":"splinterlands/0.7.176","n":"{n}"}}')
            elif cid == "sm_market_purchase" or cid == "sm_sell_cards":
                cards = ",".join(f'"C{rng.randint(1, 12)}-{rng.randint(1, 500)}-{self._b36(10).upper()}"'
                                 for _ in range(rng.randint(1, 12)))
                payload = (f'{{"items":[{cards}],"price":{rng.randint(1, 9000) / 100},"currency":"DEC",'
                           f'"market":"peakmonsters","app":"peakmonsters","n":"{n}"}}')
            else:
                payload = (f'{{"match_type":"Ranked","mana_cap":{rng.randint(12, 99)},"token":"SPS",'
                           f'"qty":{rng.randint(1, 99999) / 1000},"app":"splinterlands/0.7.176","n":"{n}"}}')
        elif r < 0.68:
            cid = "ssc-mainnet-hive"
            active = rng.random() < 0.6
            actions = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                contract, action = rng.choice(_SSC_ACTIONS)
                token = rng.choice(_SSC_TOKENS)
                actions.append(
                    f'{{"contractName":"{contract}","contractAction":"{action}","contractPayload":'
                    f'{{"symbol":"{token}","to":"{rng.choice(self._accounts)}",'
                    f'"quantity":"{rng.randint(1, 10**7) / 1000:.3f}","price":"{rng.randint(1, 10**5) / 10**5:.5f}",'
                    f'"memo":"{self._hex(16) if rng.random() < 0.5 else ""}"}}}}'
                )
            payload = actions[0] if len(actions) == 1 else "[" + ",".join(actions) + "]"
        elif r < 0.83:
            cid = "follow"
            if rng.random() < 0.5:
                author, permlink = rng.choice(self._targets)
                payload = f'["reblog",{{"account":"{acct}","author":"{author}","permlink":"{permlink}"}}]'
            else:
                payload = (f'["follow",{{"follower":"{acct}","following":"{rng.choice(self._accounts)}",'
                           f'"what":["{rng.choice(("blog", "blog", "ignore", ""))}"]}}]')
                payload = payload.replace('[""]', "[]")
        elif r < 0.91:
            cid = "community"
            com = self.community if rng.random() < 0.1 else rng.choice(_OTHER_COMMUNITIES[:24])
            action = rng.choice(("subscribe", "subscribe", "unsubscribe"))
            payload = f'["{action}",{{"community":"{com}"}}]'
        elif r < 0.96:
            cid = "notify"
            payload = f'["setLastRead",{{"date":"{ts}"}}]'
        else:
            cid = rng.choice(("peakd", "ecency_notify", "leothreads", "dlux_claim"))
            payload = f'{{"action":"{self._b36(8)}","data":"{self._b36(rng.randint(20, 300))}"}}'
        return {"type": "custom_json_operation", "value": {
            "required_auths": [acct] if active else [],
            "required_posting_auths": [] if active else [acct],
            "id": cid,
            "json": payload,
        }}


def _comment(parent_author: str, parent_permlink: str, author: str, permlink: str, title: str, body: str,
             meta: str) -> dict[str, Any]:
    return {"type": "comment_operation", "value": {
        "parent_author": parent_author, "parent_permlink": parent_permlink, "author": author,
        "permlink": permlink, "title": title, "body": body, "json_metadata": meta}}


def _vote(voter: str, author: str, permlink: str, weight: int) -> dict[str, Any]:
    return {"type": "vote_operation",
            "value": {"voter": voter, "author": author, "permlink": permlink, "weight": weight}}


def generate_chain(
    start_block: int,
    count: int,
    *,
    community: str = "hive-158489",
    review_every: int = 20,
    seed: int = 0,
) -> GeneratedChain:
    """Build ``count`` blocks from ``start_block`` in memory (20,000 blocks take a few seconds)."""
    gen = ChainGenerator(start_block, count, community=community, review_every=review_every, seed=seed)
    blocks: dict[int, dict[str, Any]] = {}
    vops: dict[int, list[dict[str, Any]]] = {}
    # Millions of new (acyclic) dicts would trigger ever longer GC passes: half the run time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for num, block, block_vops in gen:
            blocks[num] = block
            if block_vops:
                vops[num] = block_vops
    finally:
        if gc_was_enabled:
            gc.enable()
    return GeneratedChain(start_block, community, blocks, vops, gen.summary, gen.reviews, gen.badges)
