"""The fake node as a hived that takes signed transactions: checks, blocks made from them, statuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from beembase.operations import Comment, Vote
from beembase.signedtransactions import Signed_Transaction
from beemgraphenebase.account import PrivateKey

from tests.fakes.chain_gen import format_time
from tests.fakes.chain_gen.ops import comment_op
from tests.fakes.hive import DropConnection, FakeHiveNode, hive_account

START = 80_000_000
HEAD = START + 5
RC_REFUSAL = ("rc_plugin exception: Account: animerealm.cur has 0 RC, needs 1000 RC. Please wait to transact, "
              "or power up HIVE.")


class Keys:
    bot = PrivateKey()
    alice = PrivateKey()


@pytest.fixture
def node() -> Iterator[FakeHiveNode]:
    blocks: dict[int, dict[str, Any]] = {n: {"transactions": []} for n in range(START, HEAD + 1)}
    blocks[START] = {"transactions": [{"operations": [
        comment_op("", "hive-123456", "alice", "my-review", "A review", "Body", "{}")]}]}
    old = {"author": "alice", "permlink": "old-review", "created": format_time(0), "category": "hive-123456",
           "parent_author": "", "parent_permlink": "hive-123456"}
    n = FakeHiveNode(blocks, posts=[old])
    n.posts[("alice", "old-review")]["created"] = format_time(n.chain_now() - 8 * 24 * 3600)
    n.accounts["bot"] = hive_account("bot", [(str(Keys.bot.pubkey), 1)])
    n.accounts["alice"] = hive_account("alice", [(str(Keys.alice.pubkey), 1)])
    n.accounts["user"] = hive_account("user", [], account_auths=[("bot", 1)])
    n.accounts["animerealm.cur"] = hive_account("animerealm.cur", [(str(Keys.bot.pubkey), 1)])
    yield n


def vote(voter: str = "bot", permlink: str = "my-review", weight: int = 10000) -> Vote:
    return Vote(voter=voter, author="alice", permlink=permlink, weight=weight)


def reply(author: str, permlink: str, body: str = "Thanks!") -> Comment:
    return Comment(parent_author="alice", parent_permlink="my-review", author=author, permlink=permlink, title="",
                   body=body, json_metadata='{"app":"hivecord/0.1"}')


def sign(node: FakeHiveNode, ops: list[Any], keys: list[PrivateKey], *, chain: str = "HIVE2",
         expires_in: int = 60, ref: tuple[int, int] | None = None) -> dict[str, Any]:
    ref_num, ref_prefix = ref or node.tapos_of(node.served_head)
    trx = Signed_Transaction(ref_block_num=ref_num, ref_block_prefix=ref_prefix,
                             expiration=format_time(node.chain_now() + expires_in), operations=ops)
    trx.sign([str(k) for k in keys], chain=chain)
    out: dict[str, Any] = trx.json()
    return out


def trx_id(trx: dict[str, Any]) -> str:
    return str(Signed_Transaction(**json.loads(json.dumps(trx))).id)


def call(node: FakeHiveNode, method: str, params: Any) -> dict[str, Any]:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    answer: dict[str, Any] = json.loads(node.dispatch(body))
    return answer


def broadcast(node: FakeHiveNode, trx: dict[str, Any], *, condenser: bool = False) -> dict[str, Any]:
    if condenser:
        return call(node, "condenser_api.broadcast_transaction", [trx])
    return call(node, "network_broadcast_api.broadcast_transaction", {"trx": trx, "max_block_age": -1})


def refusal(answer: dict[str, Any]) -> str:
    assert "result" not in answer, answer
    assert answer["error"]["code"] == -32000
    return str(answer["error"]["message"])


# ---------------------------------------------------------------------------------------------------


def test_accepted_vote_lands_in_a_served_final_block(node: FakeHiveNode) -> None:
    trx = sign(node, [vote()], [Keys.bot])
    tid = trx_id(trx)
    assert broadcast(node, trx) == {"jsonrpc": "2.0", "result": {}, "id": 1}
    assert node.accepted == [tid] and node.pending == []
    num = node.broadcasts[0]["block_num"]
    assert num == HEAD + 1 and node.broadcasts[0]["outcome"] == "accepted" and node.broadcasts[0]["trx_id"] == tid
    dgp = call(node, "database_api.get_dynamic_global_properties", {})["result"]
    assert dgp["last_irreversible_block_num"] >= num
    blocks = call(node, "block_api.get_block_range", {"starting_block_num": HEAD, "count": 10})["result"]["blocks"]
    block = next(b for b in blocks if int(b["block_id"][:8], 16) == num)
    assert block["transaction_ids"] == [tid]
    assert block["transactions"][0]["operations"] == [{"type": "vote_operation", "value": {
        "voter": "bot", "author": "alice", "permlink": "my-review", "weight": 10000}}]
    assert block["transactions"][0]["signatures"] == trx["signatures"]
    assert block["previous"] == blocks[0]["block_id"]
    assert call(node, "block_api.get_block", {"block_num": num})["result"]["block"] == block
    legacy = call(node, "condenser_api.get_block", [num])["result"]
    assert legacy["transactions"][0]["operations"][0][0] == "vote"
    assert legacy["transactions"][0]["transaction_id"] == tid
    ops = call(node, "account_history_api.get_ops_in_block", {"block_num": num})["result"]["ops"]
    assert [o["op"]["type"] for o in ops] == ["vote_operation", "effective_comment_vote_operation"]
    assert {o["trx_id"] for o in ops} == {tid}
    assert int(ops[1]["op"]["value"]["rshares"]) > 0
    assert call(node, "condenser_api.get_ops_in_block", [num, True])["result"][0]["op"][0] == "effective_comment_vote"
    enum = call(node, "account_history_api.enum_virtual_ops", {"block_range_begin": HEAD, "block_range_end": num + 1,
                                                               "filter": 0x400000})["result"]["ops"]
    assert enum == [ops[1]]
    votes = call(node, "condenser_api.get_active_votes", ["alice", "my-review"])["result"]
    assert [(v["voter"], v["percent"]) for v in votes] == [("bot", 10000)]
    assert int(votes[0]["rshares"]) == int(ops[1]["op"]["value"]["rshares"])
    content = call(node, "condenser_api.get_content", ["alice", "my-review"])["result"]
    assert content["category"] == "hive-123456" and content["active_votes"] == votes
    status = call(node, "transaction_status_api.find_transaction", {"transaction_id": tid})["result"]
    assert status == {"status": "within_irreversible_block"}


def test_condenser_broadcast_takes_appbase_operations(node: FakeHiveNode) -> None:
    trx = sign(node, [vote()], [Keys.bot])
    name, value = trx["operations"][0]
    trx["operations"] = [{"type": f"{name}_operation", "value": value}]
    assert broadcast(node, trx, condenser=True)["result"] == {}
    assert node.accepted == [trx_id(trx)]


def test_a_duplicate_is_refused_and_reaches_the_chain_once(node: FakeHiveNode) -> None:
    trx = sign(node, [vote()], [Keys.bot])
    assert "result" in broadcast(node, trx)
    head = node.head
    assert "Duplicate transaction check failed" in refusal(broadcast(node, trx, condenser=True))
    assert node.head == head and len(node.accepted) == 1
    assert [b["outcome"] for b in node.broadcasts] == ["accepted", "refused"]
    assert node.broadcasts[1]["trx_id"] == node.accepted[0]


@pytest.mark.parametrize("chain", ["HIVE2", "HIVE"])
def test_wrong_key_or_chain_id_is_missing_authority(node: FakeHiveNode, chain: str) -> None:
    # alice's key for bot's vote; or bot's own key over the all-zero chain id beem calls "HIVE".
    key = Keys.alice if chain == "HIVE2" else Keys.bot
    message = refusal(broadcast(node, sign(node, [vote()], [key], chain=chain)))
    assert "missing required posting authority:Missing Posting Authority bot" in message
    assert node.accepted == [] and node.head == HEAD


def test_an_extra_signature_is_refused(node: FakeHiveNode) -> None:
    message = refusal(broadcast(node, sign(node, [vote()], [Keys.bot, Keys.alice])))
    assert "Unnecessary signature" in message


def test_posting_authority_granted_to_an_app(node: FakeHiveNode) -> None:
    # user granted bot posting authority: bot's key signs user's reply.
    assert "result" in broadcast(node, sign(node, [reply("user", "re-1")], [Keys.bot]))
    assert node.accepted
    node.accounts["user"]["posting"]["account_auths"] = []  # revoked
    message = refusal(broadcast(node, sign(node, [reply("user", "re-2")], [Keys.bot])))
    assert "Missing Posting Authority user" in message
    node.accounts["user"] = hive_account("user", [], threshold=2, account_auths=[("bot", 1)])
    assert "Missing Posting Authority user" in refusal(broadcast(node, sign(node, [reply("user", "re-3")],
                                                                            [Keys.bot])))
    node.accounts["user"] = hive_account("user", [], threshold=2, account_auths=[("bot", 1), ("alice", 1)])
    assert "result" in broadcast(node, sign(node, [reply("user", "re-4")], [Keys.bot, Keys.alice]))
    assert len(node.accepted) == 2
    replies = call(node, "condenser_api.get_content", ["user", "re-4"])["result"]
    assert replies["parent_permlink"] == "my-review" and replies["category"] == "hive-123456"


def test_expiration_and_tapos(node: FakeHiveNode) -> None:
    for expires_in in (0, -30, 3601):
        assert "transaction expiration exception" in refusal(
            broadcast(node, sign(node, [vote()], [Keys.bot], expires_in=expires_in)))
    assert "result" in broadcast(node, sign(node, [vote(weight=100)], [Keys.bot], expires_in=3600))
    ref_num, prefix = node.tapos_of(node.served_head - 1)
    for ref in ((ref_num, prefix ^ 1), node.tapos_of(node.head + 1), node.tapos_of(START - 70_000)):
        assert "transaction tapos exception" in refusal(broadcast(node, sign(node, [vote()], [Keys.bot], ref=ref)))
    assert "result" in broadcast(node, sign(node, [vote(weight=200)], [Keys.bot], ref=(ref_num, prefix)))
    assert len(node.accepted) == 2


def test_chain_time_is_the_served_head_time(node: FakeHiveNode) -> None:
    node.behind = 3  # the served head is older: a trx valid for the real head's time may be expired here
    trx = sign(node, [vote()], [Keys.bot], expires_in=3)
    node.behind = 0
    assert "result" in broadcast(node, sign(node, [vote(weight=1)], [Keys.bot], expires_in=3))
    assert "transaction expiration exception" in refusal(broadcast(node, trx))


def test_vote_rules(node: FakeHiveNode) -> None:
    assert "result" in broadcast(node, sign(node, [vote(weight=5000)], [Keys.bot]))
    assert "You have already voted in a similar way." in refusal(
        broadcast(node, sign(node, [vote(weight=5000)], [Keys.bot], expires_in=61)))
    assert "result" in broadcast(node, sign(node, [vote(weight=-100)], [Keys.bot]))
    votes = call(node, "condenser_api.get_active_votes", {"author": "alice", "permlink": "my-review"})["result"]
    assert [(v["voter"], v["percent"]) for v in votes] == [("bot", -100)] and int(votes[0]["rshares"]) < 0
    paid = refusal(broadcast(node, sign(node, [vote(permlink="old-review")], [Keys.bot])))
    assert "Cannot vote after payout" in paid and "Votes evaluating for comment that is paid out is forbidden." in paid
    assert "does not exist" in refusal(broadcast(node, sign(node, [vote(permlink="nope")], [Keys.bot])))
    assert "Weight is not a HIVE percentage" in refusal(broadcast(node, sign(node, [vote(weight=10001)], [Keys.bot])))
    assert len(node.accepted) == 2


def test_votes_in_given_blocks_count(node: FakeHiveNode) -> None:
    node.add_blocks({HEAD + 1: {"transactions": [{"operations": [{"type": "vote_operation", "value": {
        "voter": "bot", "author": "alice", "permlink": "my-review", "weight": 300}}]}]}})
    assert "already voted in a similar way" in refusal(broadcast(node, sign(node, [vote(weight=300)], [Keys.bot])))
    votes = call(node, "condenser_api.get_active_votes", ["alice", "my-review"])["result"]
    assert [(v["voter"], v["percent"]) for v in votes] == [("bot", 300)]


def test_comment_rules(node: FakeHiveNode) -> None:
    node.auto_produce = False
    assert "result" in broadcast(node, sign(node, [reply("bot", "re-a")], [Keys.bot]))
    assert "You may only comment once every 3 seconds." in refusal(
        broadcast(node, sign(node, [reply("bot", "re-b")], [Keys.bot])))
    assert "result" in broadcast(node, sign(node, [reply("bot", "re-a", "Edited")], [Keys.bot]))  # edits may
    assert "too large" in refusal(broadcast(node, sign(node, [reply("alice", "re-c", "x" * 65537)], [Keys.alice])))
    node.produce_block()
    node.produce_block()
    assert "result" in broadcast(node, sign(node, [reply("bot", "re-b")], [Keys.bot]))
    # a vote on a reply still in the pending pool: hived applies pending transactions to its state
    assert "result" in broadcast(node, sign(node, [Vote(voter="alice", author="bot", permlink="re-b",
                                                        weight=100)], [Keys.alice]))
    assert len(node.accepted) == 4 and len(node.pending) == 2


def test_pending_pool_and_transaction_statuses(node: FakeHiveNode) -> None:
    node.auto_produce = False

    def status(tid: str, expiration: str | None = None) -> str:
        params: dict[str, Any] = {"transaction_id": tid}
        if expiration is not None:
            params["expiration"] = expiration
        return str(call(node, "transaction_status_api.find_transaction", params)["result"]["status"])

    trx = sign(node, [vote()], [Keys.bot])
    tid = trx_id(trx)
    assert "result" in broadcast(node, trx) and node.pending == [tid] and node.head == HEAD
    assert status(tid) == "within_mempool"
    assert "Duplicate transaction check failed" in refusal(broadcast(node, trx))
    # the same vote signed again (another expiration, another id): the pending vote already counts
    assert "already voted in a similar way" in refusal(broadcast(node, sign(node, [vote()], [Keys.bot], expires_in=9)))
    num = node.produce_block()
    assert num == HEAD + 1 and node.head == num and node.pending == []
    assert status(tid) == "within_reversible_block"
    assert call(node, "block_api.get_block", {"block_num": num})["result"]["block"]["transaction_ids"] == [tid]
    node.head += 1
    assert status(tid) == "within_irreversible_block"
    assert status("ab" * 20) == "unknown"
    assert status("ab" * 20, format_time(node.chain_now() + 30)) == "unknown"
    assert status("ab" * 20, format_time(node.chain_now())) == "expired_reversible"
    assert status("ab" * 20, format_time(node.chain_now() - 60)) == "expired_irreversible"
    node.serves_transaction_status = False
    answer = call(node, "transaction_status_api.find_transaction", {"transaction_id": tid})
    assert "Could not find API transaction_status_api" in answer["error"]["message"]
    assert "transaction_status_api.find_transaction" not in call(node, "jsonrpc.get_methods", {})["result"]


def test_injected_refusals_come_after_the_signature_check(node: FakeHiveNode) -> None:
    node.broadcast_refusals["animerealm.cur"] = RC_REFUSAL
    curator_vote = vote(voter="animerealm.cur")
    assert "Missing Posting Authority" in refusal(broadcast(node, sign(node, [curator_vote], [Keys.alice])))
    assert refusal(broadcast(node, sign(node, [curator_vote], [Keys.bot]))) == RC_REFUSAL
    assert "result" in broadcast(node, sign(node, [vote()], [Keys.bot]))
    node.broadcast_refusal = "rc_plugin exception: everyone is out of RC"
    assert "everyone is out of RC" in refusal(broadcast(node, sign(node, [vote(weight=1)], [Keys.bot])))
    assert len(node.accepted) == 1


def test_drop_broadcasts_accepts_nothing(node: FakeHiveNode) -> None:
    node.drop_broadcasts = True
    body = json.dumps({"jsonrpc": "2.0", "method": "condenser_api.broadcast_transaction",
                       "params": [sign(node, [vote()], [Keys.bot])], "id": 1}).encode()
    with pytest.raises(DropConnection):
        node.dispatch(body)
    assert node.accepted == [] and node.broadcasts[0]["outcome"] == "dropped" and node.head == HEAD


async def test_on_broadcast_runs_after_acceptance_before_the_answer() -> None:
    review = comment_op("", "hive-1", "alice", "my-review", "T", "B", "")
    blocks: dict[int, dict[str, Any]] = {n: {"transactions": [{"operations": [review]}] if n == START else []}
                                         for n in range(START, HEAD + 1)}
    node = FakeHiveNode(blocks)
    node.accounts["bot"] = hive_account("bot", [(str(Keys.bot.pubkey), 1)])
    seen: list[tuple[str, str, list[str]]] = []

    def crash(tid: str) -> None:  # the bot is killed here: the vote is on chain, the answer never sent
        block = call(node, "block_api.get_block", {"block_num": node.served_head - 1})["result"]["block"]
        seen.append((tid, node.transaction_status(tid), block["transaction_ids"]))
        raise DropConnection(tid)

    url = node.start_in_thread()
    try:
        trx = sign(node, [vote()], [Keys.bot])
        body = {"jsonrpc": "2.0", "method": "network_broadcast_api.broadcast_transaction",
                "params": {"trx": trx, "max_block_age": -1}, "id": 1}
        async with aiohttp.ClientSession() as s:
            node.on_broadcast = crash
            with pytest.raises(aiohttp.ClientConnectionError):
                async with s.post(url, json=body) as resp:
                    await resp.read()
            node.on_broadcast = lambda tid: seen.append((tid, "second", []))
            trx2 = sign(node, [vote(weight=1)], [Keys.bot])
            async with s.post(url, json={**body, "params": {"trx": trx2, "max_block_age": -1}}) as resp:
                assert (await resp.json())["result"] == {}
    finally:
        node.stop_thread()
    tid = trx_id(trx)
    assert seen == [(tid, "within_irreversible_block", [tid]), (trx_id(trx2), "second", [])]
    assert node.accepted == [tid, trx_id(trx2)] and node.faults["drop"] == 1


def test_a_lagging_node_puts_the_transaction_in_the_real_chain(node: FakeHiveNode) -> None:
    node.behind = 2
    trx = sign(node, [vote()], [Keys.bot])
    assert "result" in broadcast(node, trx)
    num = node.broadcasts[0]["block_num"]
    assert num == HEAD + 1 and node.served_head < num  # in the chain; this node has not caught up
    assert node.transaction_status(trx_id(trx)) == "within_mempool"
    assert call(node, "block_api.get_block", {"block_num": num})["result"] == {}
    node.behind = 0
    assert node.transaction_status(trx_id(trx)) == "within_irreversible_block"
    assert call(node, "block_api.get_block", {"block_num": num})["result"]["block"]["transaction_ids"] == [trx_id(trx)]


def test_beems_transaction_builder_broadcasts_to_it(node: FakeHiveNode) -> None:
    from beem import Hive
    from beem.transactionbuilder import TransactionBuilder

    url = node.start_in_thread()
    try:
        hive = Hive(node=[url], keys=[str(Keys.bot)], num_retries=0)
        builder = TransactionBuilder(blockchain_instance=hive)
        builder.appendOps(vote())
        builder.appendWif(str(Keys.bot))
        builder.sign()
        builder.broadcast()
    finally:
        node.stop_thread()
    assert [b["outcome"] for b in node.broadcasts] == ["accepted"]
    assert node.accepted == [node.broadcasts[0]["trx_id"]]
