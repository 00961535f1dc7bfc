"""Persistence: SQLAlchemy 2 async over SQLite or PostgreSQL, schema owned by Alembic.

`engine` maps URLs, opens engines and upgrades the schema; `tables` is the metadata the
migrations mirror; the repository modules (`workspaces`, `audit`, `secrets`) are plain async
functions taking an `AsyncSession`, with `now` passed in wherever time matters.
"""
