"""Health: whether the database answers, for the load balancer's check."""

from __future__ import annotations

from tortoise import connections


async def check_database() -> None:
    """Raise whatever the database raises when it cannot answer a trivial query."""
    await connections.get("default").execute_query("SELECT 1")
