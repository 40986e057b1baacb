"""Slash commands, one file per command group: each translates between Discord and the core."""
