"""The bot on Discord: the real `hivecord run` against the loopback Hive node and the fake Discord."""
