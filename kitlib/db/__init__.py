"""The database: Tortoise configuration, open, close and migrate, the SQLite backend, migrations.

Imports ``settings`` only (the models are named by their module path in the config).
"""

from __future__ import annotations

from kitlib.db.connection import (
    APP_LABEL,
    close_db,
    connection_url,
    migrate,
    open_db,
    tortoise_config,
)

__all__ = ["APP_LABEL", "close_db", "connection_url", "migrate", "open_db", "tortoise_config"]
