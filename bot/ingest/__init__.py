"""Ingest: follows the chain's decoded events and applies them to the store (events -> state)."""
