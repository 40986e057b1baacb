"""Turning message bodies (REST, webhook, interaction callback) into stored messages and edits."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

from .errors import DiscordError
from .state import FakeDiscordState, StoredMessage

# Flags a client may set on a message it sends (SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS,
# IS_COMPONENTS_V2); Discord ignores the others.
SETTABLE_FLAGS = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 15)


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    size: int


def with_component_ids(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord numbers every component of a message (depth first, from 1) in what it returns."""
    result = copy.deepcopy(components)
    counter = 0

    def walk(items: list[Any]) -> None:
        nonlocal counter
        for item in items:
            if not isinstance(item, dict):
                continue
            counter += 1
            item.setdefault("id", counter)
            for key in ("components", "items"):
                if isinstance(item.get(key), list):
                    walk(item[key])
            for key in ("accessory", "component"):
                if isinstance(item.get(key), dict):
                    walk([item[key]])

    walk(result)
    return result


def attachments_for(state: FakeDiscordState, channel_id: int, uploads: list[Upload]) -> list[dict[str, Any]]:
    found = []
    for upload in uploads:
        attachment_id = state.ids.next()
        url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{upload.filename}"
        found.append(
            {
                "id": str(attachment_id),
                "filename": upload.filename,
                "size": upload.size,
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
            }
        )
    return found


def _has_content(body: dict[str, Any], uploads: list[Upload]) -> bool:
    return bool(
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or uploads
    )


def new_message(
    state: FakeDiscordState,
    *,
    channel_id: int,
    author_id: int,
    body: dict[str, Any],
    uploads: list[Upload],
    type: int = 0,
    webhook_id: int | None = None,
    interaction_id: int | None = None,
    extra_flags: int = 0,
    allow_empty: bool = False,
) -> StoredMessage:
    if not allow_empty and not _has_content(body, uploads):
        raise DiscordError(400, 50006, misuse=True)
    reference = body.get("message_reference")
    return StoredMessage(
        id=state.ids.next(),
        channel_id=channel_id,
        author_id=author_id,
        content=body.get("content") or "",
        embeds=[_embed_as_stored(e) for e in body.get("embeds") or []],
        components=with_component_ids(body.get("components") or []),
        attachments=attachments_for(state, channel_id, uploads),
        allowed_mentions=body.get("allowed_mentions"),
        nonce=body.get("nonce"),
        flags=(int(body.get("flags") or 0) & SETTABLE_FLAGS) | extra_flags,
        tts=bool(body.get("tts")),
        type=19 if reference and type == 0 else type,
        message_reference=reference,
        webhook_id=webhook_id,
        interaction_id=interaction_id,
    )


def apply_edit(state: FakeDiscordState, message: StoredMessage, body: dict[str, Any], uploads: list[Upload]) -> None:
    """PATCH semantics: only the keys present change; the old version goes to `history`."""
    before = copy.deepcopy(message)
    if "content" in body:
        message.content = body["content"] or ""
    if "embeds" in body:
        message.embeds = [_embed_as_stored(e) for e in body["embeds"] or []]
        message.embeds_dropped = False
    if "components" in body:
        message.components = with_component_ids(body["components"] or [])
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    if "flags" in body and body["flags"] is not None:
        message.flags = (message.flags & ~SETTABLE_FLAGS) | (int(body["flags"]) & SETTABLE_FLAGS)
    if "attachments" in body or uploads:
        kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
        kept = [a for a in message.attachments if a["id"] in kept_ids]
        message.attachments = kept + attachments_for(state, message.channel_id, uploads)
    if not message.content and not message.embeds and not message.components and not message.attachments:
        message.__dict__.update(before.__dict__)
        raise DiscordError(400, 50006, misuse=True)
    message.history.append(before.snapshot())
    message.edited_at = datetime.datetime.now(datetime.UTC)


def _embed_as_stored(embed: Any) -> dict[str, Any]:
    # Discord fills in the type of embeds a bot sends.
    return {"type": "rich", **embed} if isinstance(embed, dict) else embed
