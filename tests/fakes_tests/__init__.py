"""The test doubles themselves: the fake Discord, the fake Hive node and chain generator, the loopback guard."""
