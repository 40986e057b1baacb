"""What several cogs share: the paginator view."""
