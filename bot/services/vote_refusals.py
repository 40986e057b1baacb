"""A node's refusal of a vote, in one sentence a curator understands."""

from __future__ import annotations

# hived's messages, lower-cased fragments -> what they mean for the curator. The first match wins.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("already voted in a similar way",), "@{account} has already voted on this post with that weight."),
    (
        ("paid out", "after payout", "cashout", "payout window"),
        "the post's payout window has closed, so a vote would earn it nothing.",
    ),
    (
        ("rc_plugin", "resource credits", " rc,", " rc ", "has 0 rc"),
        "@{account} does not have enough resource credits to vote now; they come back over the day.",
    ),
    (
        ("voting power", "voting mana", "enough mana", "current_mana"),
        "@{account} does not have enough voting mana now; it comes back over the day.",
    ),
    (
        ("missing posting authority", "missing required posting authority", "missing authority"),
        "the key the bot holds is not a posting key of @{account}; curation is off until the operator fixes it.",
    ),
    (
        ("does not exist", "not found", "unknown comment", "comment_not_found"),
        "the post was not found on chain.",
    ),
    (("expiration", "tapos"), "the transaction was out of date when it reached the node; try again."),
)


def explain(message: str, account: str) -> str:
    lowered = message.lower()
    for fragments, sentence in _REASONS:
        if any(fragment in lowered for fragment in fragments):
            return sentence.format(account=account)
    return f"the node refused it: {message[:200]}"


def is_authority_refusal(message: str) -> bool:
    lowered = message.lower()
    return any(f in lowered for f in _REASONS[4][0])
