"""The followed community's life: reviews, their edits, deletes, votes, replies and HiveBuzz badges."""

from __future__ import annotations

import json
import re
from typing import Any

from .formats import HBD, asset, slugify
from .ops import comment_op, vote_op
from .text import TextPools
from .truth import BadgeInfo, EditInfo, ReviewInfo
from .words import APPS, B36, BADGE_STEPS, BADGES, REPLY_TEXTS, SERIES, SUBTITLES

RATING = re.compile(r"\*\*Rating: (\d+)/10\*\*")


class CommunityEvents(TextPools):
    """Reviews and the events scheduled after them; the ground truth is kept as they are made."""

    def _schedule(self, block: int, kind: str, review: ReviewInfo, arg: Any = None) -> None:
        if block < self.start_block + self.count:
            self._pending.setdefault(block, []).append((kind, review, arg))

    def _new_review(self, num: int, ts: str) -> list[dict[str, Any]]:
        rng = self._rng
        series, tag, kind = rng.choice(SERIES)
        author = rng.choice(self._reviewers)
        form = rng.randrange(5)
        if form == 0:
            title = f"Review: {series} — {rng.choice(SUBTITLES)}"
        elif form == 1:
            title = f"{series} Episode {rng.randint(1, 24)} thoughts"
        elif form == 2:
            title = f"Review {series} {rng.choice(('🤖', '✨', '🔥', ''))}{rng.choice(SUBTITLES)}".strip()
        elif form == 3:
            title = f"{series} Vol. {rng.randint(1, 30)} – manga review"
        else:
            title = f"First impressions: {series}"
        permlink = slugify(title) or f"review-{num}"
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
            comment_op("", self.community, author, permlink, title, body, meta),
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
            "app": rng.choice(APPS),
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
            return [vote_op(voter, review.author, review.permlink, weight)]
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
                body = rng.choice(REPLY_TEXTS)
                if rng.random() < 0.4:
                    body += " " + self._paragraph(1, 3)
            review.replies.append((num, author, permlink))
            self.summary.replies_to_reviews += 1
            meta = json.dumps({"app": rng.choice(APPS), "tags": [self.community]})
            return [comment_op(review.author, review.permlink, author, permlink, "", body, meta)]
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
                paras[j] = RATING.sub(lambda m: f"**Rating: {max(1, int(m.group(1)) - 1)}/10**", p, count=1)
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
        return comment_op("", self.community, review.author, review.permlink, title, sent, review.json_metadata)

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
            permlink += rng.choice(B36)
        self._permlinks.add(("hivebuzz", permlink))
        kinds = rng.sample(BADGES, 2 if rng.random() < 0.2 else 1)
        rows, names, urls, texts = [], [], [], []
        for name, first, nxt in kinds:
            step = rng.randrange(len(BADGE_STEPS) - 1)
            url = f"https://hivebuzz.me/@{recipient}/{name}.png?{stamp[:8]}{stamp[9:13]}"
            text = first.format(n=BADGE_STEPS[step]) + "<br>" + nxt.format(m=BADGE_STEPS[step + 1])
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
        return comment_op(recipient, parent, "hivebuzz", permlink, "", body, meta), badge

