"""Alembic migrations of the server database, run in code by ``server.db.migrate``."""
