"""Ingest: the real follower against the loopback Hive node (mock blocks, seed, faults, garbage, kills)."""
