"""The store: a per-user SQLite file or a team's PostgreSQL database (Peewee models, migrations, shared queries)."""
