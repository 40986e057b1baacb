"""hivecord: Hive communities mirrored into Discord."""
