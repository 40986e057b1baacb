"""The store stage: the one SQLite file, its migrations and the tables over it; the only place with SQL."""
