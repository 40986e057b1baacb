"""The store on PostgreSQL: its connections, migrations, search and the processes' coordination."""
