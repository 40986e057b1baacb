"""Members as Hive accounts: /link opens a code, a custom_json on chain or a signed text proves the account,
/unlink ends it. Whoever acts on links (roles, mentions) registers with on_linked / on_unlinked."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain import Link, LinkChallenge, LinkChange
from bot.hive.client import HiveClient, HiveUnavailable, RpcError
from bot.hive.identity import (
    BadSignature,
    HiveAccount,
    hivesigner_url,
    read_account,
    read_signature,
    recover_public_key,
    reputation_score,
    signed_text,
)
from bot.hive.names import account_name, is_account
from bot.hive.rpc import ANSWER_DEADLINE
from bot.services import Refused
from bot.store.store import Store

log = logging.getLogger("hivecord.links")

CODE_MINUTES = 15  # how long a /link code proves anything
LINKS_PER_HOUR = 5  # /link requests a member may make in an hour

# Told a member and an account: (Discord user id, Hive account).
LinkListener = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LinkInstructions:
    """What /link answers: the two ways to prove `account` with `code` before `expires_at`."""

    account: str
    code: str
    expires_at: float  # unix seconds
    hivesigner_url: str  # broadcasts the hivecord custom_json
    text_to_sign: str  # for Keychain's sign-message, then /verify


@dataclass(frozen=True, slots=True)
class WhoIs:
    link: Link
    profile_url: str
    reputation: float | None  # None when the nodes did not answer
    posts_here: int  # posts of the account mirrored on this server
    badges: tuple[str, ...]  # HiveBuzz badges seen awarded to it


class LinkService:
    """The use cases of linking. Listeners hear every pairing made and ended, whichever path made it:
    a link that moves is an on_unlinked for the old pairing, then an on_linked for the new one.

    They are told after the change is committed, in this process: a kill in between leaves the link
    stored and the listener untold, so whatever a listener keeps in step (roles) should also be
    reconciled from all_links() at start-up."""

    def __init__(self, store: Store, hive: HiveClient, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._hive = hive
        self._clock = clock
        self._linked: list[LinkListener] = []
        self._unlinked: list[LinkListener] = []

    def on_linked(self, listener: LinkListener) -> None:
        """`listener(user_id, account)` is awaited after each new pairing is committed."""
        self._linked.append(listener)

    def on_unlinked(self, listener: LinkListener) -> None:
        """`listener(user_id, account)` is awaited after each pairing ends (an /unlink, or a link that moved)."""
        self._unlinked.append(listener)

    async def account_of(self, user_id: int) -> str | None:
        return await self._store.links.account_of(user_id)

    async def user_of(self, account: str) -> int | None:
        return await self._store.links.user_of(account)

    async def all_links(self) -> list[Link]:
        return await self._store.links.all_links()

    async def start(self, user_id: int, account_text: str) -> LinkInstructions:
        """Opens a code for `user_id` to prove `account_text` with, replacing their open one."""
        account = account_name(account_text)
        if not is_account(account):
            raise Refused("That is not a Hive account name (3 to 16 lowercase letters, digits, dots or dashes).")
        if await self._account(account) is None:
            raise Refused(f"Hive has no account `{account}`. Check the spelling.")
        code = secrets.token_urlsafe(12)
        now = self._clock()
        outcome = await self._store.links.open_challenge(
            user_id=user_id, account=account, code=code, now=now, ttl=CODE_MINUTES * 60, per_hour=LINKS_PER_HOUR
        )
        if outcome == "too_many":
            raise Refused(
                f"You asked for {LINKS_PER_HOUR} link codes in the last hour, the most there can be. "
                "Use the last one, or try again within the hour."
            )
        return LinkInstructions(
            account=account,
            code=code,
            expires_at=now + CODE_MINUTES * 60,
            hivesigner_url=hivesigner_url(account, user_id, code),
            text_to_sign=signed_text(account, user_id, code),
        )

    async def verify(self, user_id: int, signature: str) -> Link:
        """Links the member to the account of their open code if `signature` (Keychain's sign-message,
        hex) was made over its text by a key that holds that account's posting authority."""
        challenge = await self._usable_challenge(user_id)
        try:
            raw = read_signature(signature)
        except BadSignature as exc:
            raise Refused(f"That is not a Keychain signature: {exc}. Paste the whole result of sign-message.") from None
        text = signed_text(challenge.account, user_id, challenge.code)
        try:
            # ~0.1 s of elliptic-curve arithmetic: off the event loop.
            key = await asyncio.to_thread(recover_public_key, text, raw)
        except BadSignature:
            key = ""
        account = await self._account(challenge.account)
        if account is None:
            raise Refused(f"Hive has no account `{challenge.account}` any more.")
        if not key or not account.posting_key_suffices(key):
            raise Refused(
                f"That signature was not made by a posting key of @{challenge.account}, so nothing was linked. "
                f"Sign exactly `{text}` with @{challenge.account}'s posting key."
            )
        change = await self._store.links.complete(challenge, proof="signature", at=self.iso_now())
        if change is None:
            raise Refused("That code was used or replaced meanwhile, so nothing was linked. Run `/link` again.")
        await self._announce([change])
        link = await self._store.links.of_user(user_id)
        assert link is not None
        return link

    async def _usable_challenge(self, user_id: int) -> LinkChallenge:
        challenge = await self._store.links.latest_challenge(user_id)
        if challenge is None:
            raise Refused("You have no link code. Run `/link account:NAME` first.")
        if challenge.state != "open":
            raise Refused("Your last link code was already used. Run `/link` again for a new one.")
        if self._clock() > challenge.expires_at:
            raise Refused(f"Your link code expired ({CODE_MINUTES} minutes). Run `/link` again for a new one.")
        return challenge

    async def _account(self, name: str) -> HiveAccount | None:
        """The account as the nodes show it now; None when Hive has no such account."""
        try:
            answer: Any = await self._hive.call("condenser_api.get_accounts", [[name]], deadline=ANSWER_DEADLINE)
        except (HiveUnavailable, RpcError):
            raise Refused("The Hive nodes are not answering right now; try again in a minute.") from None
        found = [read_account(a) for a in answer] if isinstance(answer, list) else []
        return next((a for a in found if a is not None and a.name == name), None)

    async def whois_member(self, user_id: int, guild_id: int) -> WhoIs | None:
        link = await self._store.links.of_user(user_id)
        return await self._whois(link, guild_id) if link is not None else None

    async def whois_account(
        self, account_text: str, guild_id: int, *, is_member: Callable[[int], Awaitable[bool]]
    ) -> WhoIs | None:
        """The link of `account`, only when its member is in the server asking (`is_member`): a link
        made elsewhere is none of this server's business. None otherwise."""
        account = account_name(account_text)
        if not is_account(account):
            raise Refused("That is not a Hive account name (3 to 16 lowercase letters, digits, dots or dashes).")
        link = await self._store.links.of_account(account)
        if link is None or not await is_member(link.user_id):
            return None
        return await self._whois(link, guild_id)

    async def _whois(self, link: Link, guild_id: int) -> WhoIs:
        try:
            account = await self._account(link.account)
        except Refused:
            account = None  # the link is still worth showing without the reputation
        reputation = reputation_score(account.reputation) if account is not None else None
        return WhoIs(
            link=link,
            profile_url=f"https://hive.blog/@{link.account}",
            reputation=None if reputation is None or math.isnan(reputation) else reputation,
            posts_here=await self._store.links.posts_mirrored(link.account, guild_id),
            badges=tuple(await self._store.links.badges_of(link.account)),
        )

    async def unlink(self, user_id: int) -> Link:
        link = await self._store.links.unlink(user_id)
        if link is None:
            raise Refused("You have no Hive account linked.")
        await self._announce([LinkChange(linked=None, unlinked=(link,))])
        return link

    def iso_now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")

    async def linked_on_chain(self, changes: Sequence[LinkChange]) -> None:
        """The links a batch of blocks completed, once committed: the follower is given this when made."""
        await self._announce(changes)

    async def _announce(self, changes: Sequence[LinkChange]) -> None:
        for change in changes:
            for old in change.unlinked:
                await self._tell(self._unlinked, old)
            if change.linked is not None:
                await self._tell(self._linked, change.linked)

    async def _tell(self, listeners: list[LinkListener], link: Link) -> None:
        for listener in listeners:
            try:
                await listener(link.user_id, link.account)
            except Exception:
                # One listener's failure must not stop the follower nor the others.
                log.exception("a link listener failed for user %d and @%s", link.user_id, link.account)
