"""Keeping the bot process alive and readable: supervised loops, retries, the log, unreadable events."""
