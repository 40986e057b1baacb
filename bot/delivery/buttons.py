"""The Upvote button on a mirrored review: its custom_id names the post's row, which the press looks up."""

from __future__ import annotations

import discord

UPVOTE_PREFIX = "hc:up:"
# What a press may carry back; the id is only a key to look up, never trusted as more.
UPVOTE_TEMPLATE = r"hc:up:(?P<post_id>[0-9]{1,19})"


def upvote_id(post_id: int) -> str:
    return f"{UPVOTE_PREFIX}{post_id}"


def upvote_view(post_id: int) -> discord.ui.View:
    """A view to send with the message. It is stopped before it is sent: discord.py then keeps no copy per
    message, and presses reach the persistent handler registered for the template (cogs/curation.py)."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Upvote", emoji="\N{UPWARDS BLACK ARROW}", custom_id=upvote_id(post_id),
                                    style=discord.ButtonStyle.success))
    view.stop()
    return view
