"""The rest of the chain: votes, comments, transfers, claims and custom_json elsewhere, from pools built once."""

from __future__ import annotations

import json
from typing import Any

from .formats import HBD, HIVE, VESTS, asset, block_time, slugify
from .ops import comment_op, vote_op
from .text import TextPools
from .vops import vote_vop_value
from .words import APPS, OTHER_COMMUNITIES, REPLY_TEXTS, SERIES, SM_IDS, SSC_ACTIONS, SSC_TOKENS, WORDS


class Noise(TextPools):
    """Noise ops for every block, drawn from pools built once."""

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
        self._targets += [(rng.choice(accounts), f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{self._b36(6)}")
                          for _ in range(500)]
        self._pool_votes = []
        for _ in range(2500):
            author, permlink = rng.choice(self._targets)
            op = vote_op(rng.choice(accounts), author, permlink,
                       rng.choice((10000, 10000, 5000, 2500, 1500, 100, -10000)))
            self._vop_cache[id(op)] = vote_vop_value(op["value"])
            self._pool_votes.append(op)
        self._pool_custom = [self._custom_json(ts) for _ in range(3000)]
        self._pool_replies = []
        for _ in range(800):
            author, permlink = rng.choice(self._targets)
            body = self._paragraph(1, 4) if rng.random() < 0.7 else rng.choice(REPLY_TEXTS)
            meta = json.dumps({"app": rng.choice(APPS), "tags": [rng.choice(OTHER_COMMUNITIES)]})
            self._pool_replies.append(
                comment_op(author, permlink, rng.choice(accounts), f"re-{author}-{self._b36(6)}", "", body, meta))
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
        parent = rng.choice(OTHER_COMMUNITIES)
        title = self._sentence(rng).rstrip(".!?…")[:80]
        if rng.random() < 0.15:
            series = rng.choice(SERIES)[0]
            title = f"Review: {series} — not in Anime Realm"
        permlink = slugify(title)[:60] + "-" + self._b36(4)
        body = self._text(rng.randint(1000, 6000))
        tags = [parent, "life", rng.choice(("photography", "art", "gaming", "anime", "crypto"))]
        if rng.random() < 0.05:
            tags.append(self.community)  # tagged, but not posted in it: must not count
        meta = json.dumps({"app": rng.choice(APPS), "format": "markdown", "tags": tags,
                           "image": [f"https://files.peakd.com/file/peakd-hive/{author}/{self._b36(10)}/x.jpg"]})
        ops = [comment_op("", parent, author, permlink, title, body, meta)]
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
            cid = rng.choice(SM_IDS)
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
                contract, action = rng.choice(SSC_ACTIONS)
                token = rng.choice(SSC_TOKENS)
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
            com = self.community if rng.random() < 0.1 else rng.choice(OTHER_COMMUNITIES[:24])
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

