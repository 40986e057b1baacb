"""Cogs: slash commands that translate between Discord and the core; no SQL, no node calls."""
