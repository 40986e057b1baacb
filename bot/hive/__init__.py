"""The chain: talks to Hive nodes and decodes blocks, ops and posts; knows nothing of the store."""
