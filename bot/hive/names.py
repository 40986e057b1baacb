"""How Hive spells accounts and community ids: one rule for every module that checks them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Hive account names: 3 to 16 characters, lowercase letters, digits, dots and dashes.
_ACCOUNT = re.compile(r"[a-z][a-z0-9.-]{2,15}")
# A community is an account named hive- followed by 5 to 7 digits (hive-158489 is Anime Realm).
_COMMUNITY = re.compile(r"hive-[0-9]{5,7}")


def is_account(name: str) -> bool:
    return bool(_ACCOUNT.fullmatch(name))


def is_community(name: str) -> bool:
    return bool(_COMMUNITY.fullmatch(name))


# hived's rule for a new account, one dot-separated segment: a letter, then letters, digits or hyphens,
# ending in a letter or digit, 3 characters at least.
_SEGMENT = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")


def account_name_problem(name: str) -> str | None:
    """Why `name` cannot be a Hive account (hived's is_valid_account_name), or None when it can.

    Stricter than is_account, which reads names the chain already holds: this is for names a user
    writes into the config, where a typo should be named before a node is asked.
    """
    if not 3 <= len(name) <= 16:
        return f"a Hive account name is 3 to 16 characters, not {len(name)}"
    if name != name.lower():
        return "a Hive account name is lowercase"
    for segment in name.split("."):
        if len(segment) < 3:
            return "each dot-separated part of a Hive account name is 3 characters at least"
        if not _SEGMENT.fullmatch(segment):
            return (
                "each dot-separated part of a Hive account name starts with a letter, holds only letters, "
                "digits and hyphens, and does not end with a hyphen"
            )
    return None


def account_name(text: str) -> str:
    """ "@Reader01 " -> "reader01": how people type an account, as the chain spells it."""
    return text.strip().lstrip("@").strip().lower()


def account_names(text: str) -> tuple[list[str], str | None]:
    """A list of accounts as a member types it ("reader01, @Spammer01"): the names as the chain spells
    them, each once, sorted; and the first entry, as typed, that is no account name (None when none is)."""
    entries = [entry for entry in re.split(r"[,\s]+", text) if entry.strip()]
    names = [account_name(entry) for entry in entries]
    bad = next((entry for entry, name in zip(entries, names, strict=True) if not is_account(name)), None)
    return sorted(set(names)), bad


DEFAULT_PORTS = {"http": 80, "https": 443}


def node_label(url: str) -> str:
    """A node URL as scheme://host[:port]: never its userinfo, path, query or fragment (keys live there)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(a node URL that does not parse)"
    if not host:
        return "(a node URL without a host)"
    if ":" in host:
        host = f"[{host}]"  # IPv6
    scheme = parts.scheme.lower()
    shown_port = f":{port}" if port is not None and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown_port}"


# A post as people paste it: a hive.blog, peakd or ecency address (with or without the community or
# tag before the author), or @author/permlink.
_POST_URL_HOSTS = ("hive.blog", "peakd.com", "ecency.com")
_AUTHOR_PERMLINK = re.compile(r"@([a-z][a-z0-9.-]{2,15})/([a-z0-9-]{1,255})")


def post_ref(text: str) -> tuple[str, str] | None:
    """(author, permlink) of a post link or `@author/permlink`; None when it is neither."""
    text = text.strip()
    if text.startswith("@"):
        match = _AUTHOR_PERMLINK.fullmatch(text.lower())
        return (match.group(1), match.group(2)) if match else None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").removeprefix("www.")
    if parts.scheme not in ("http", "https") or host not in _POST_URL_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    match = _AUTHOR_PERMLINK.fullmatch(f"{segments[-2]}/{segments[-1]}".lower())
    return (match.group(1), match.group(2)) if match else None
