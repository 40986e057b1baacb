"""What several cogs share: the paginator, permits, the answer embed, parsing what members type, choices."""
