"""The per-user SQLite store (Peewee models, migrations, shared queries)."""
