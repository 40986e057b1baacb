"""What a post's raw fields mean: edits merged, metadata read, cover image and series found."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from bot.hive.names import is_community
from bot.series.detect import detect_series, series_key
from bot.text.safe import safe_url

MAX_TAGS = 25
MAX_TAG_LEN = 64
# Markdown images, HTML <img src>, and bare https links (kept only when they name an image), in body
# order. Bounded quantifiers over classes that stop at the next "[", "<" or URL delimiter: a crafted
# body ("![" or "<img " or "https://" repeated) must not make the search quadratic.
_BODY_IMAGE = re.compile(
    r"!\[[^\[\]\n]{0,500}\]\(\s{0,100}(?P<md>[^)\s]{1,2048})"
    r"|<img\b[^<>]{0,2000}?\ssrc\s{0,20}=\s{0,20}[\"']?(?P<html>[^\"'\s<>]{1,2048})"
    r"|(?P<bare>https://[^\s<>\"'()\[\]]{1,2048})",
    re.IGNORECASE,
)
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True, slots=True)
class PostFacts:
    tags: tuple[str, ...]
    image: str | None
    series: str | None
    series_key: str | None


def read_metadata(json_metadata: str) -> dict[str, Any]:
    """json_metadata is a JSON string that may be empty, invalid, or not an object."""
    if not json_metadata:
        return {}
    try:
        data = msgspec.json.decode(json_metadata)
    except (msgspec.MsgspecError, RecursionError):  # RecursionError: "[[[[..." nested ~1000 deep
        return {}
    return data if isinstance(data, dict) else {}


def read_tags(metadata: dict[str, Any]) -> tuple[str, ...]:
    raw = metadata.get("tags")
    if isinstance(raw, str):
        raw = raw.split()
    if not isinstance(raw, list):
        return ()
    tags: list[str] = []
    for tag in raw:
        if not isinstance(tag, str):
            continue
        tag = tag.strip().lower()[:MAX_TAG_LEN]
        if tag and not is_community(tag) and tag not in tags:
            tags.append(tag)
        if len(tags) >= MAX_TAGS:
            break
    return tuple(tags)


def cover_image(metadata: dict[str, Any], body: str) -> str | None:
    """json_metadata.image[0], else the first image of the body; https only (Discord proxies those)."""
    images = metadata.get("image")
    candidates: list[object] = []
    if isinstance(images, list) and images:
        candidates.append(images[0])
    elif isinstance(images, str):
        candidates.append(images)
    for found in _BODY_IMAGE.finditer(body[:100_000]):
        bare = found.group("bare")
        if bare is not None and not bare.lower().endswith(_IMAGE_EXT):
            continue  # a plain link, not a picture
        candidates.append(found.group("md") or found.group("html") or bare)
        break
    for candidate in candidates:
        url = safe_url(candidate)
        if url is not None and url.lower().startswith("https://"):
            return url
    return None


def describe_post(title: str, json_metadata: str, body: str, community: str | None) -> PostFacts:
    metadata = read_metadata(json_metadata)
    tags = read_tags(metadata)
    series = detect_series(title, tags, community)
    key = series_key(series) if series else None
    return PostFacts(tags=tags, image=cover_image(metadata, body), series=series, series_key=key or None)
