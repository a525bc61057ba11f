"""Stored files as a download reads them: one attachment and its blob's facts, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from kitlib.db.sqlite_backend import SqliteClient


@dataclass(frozen=True)
class Attachment:
    """What serving one file needs, read in one query."""

    id: int
    filename: str
    resource_id: int
    visibility: str
    file_id: int
    sha256: str
    size: int
    media_type: str
    storage_key: str
    created_at: datetime


_ATTACHMENT_SQL = (
    "SELECT rf.id, rf.filename, rf.resource_id, r.visibility, sf.id AS file_id, sf.sha256, "
    "sf.size, sf.media_type, sf.storage_key, sf.created_at FROM resource_file rf "
    "JOIN resource r ON r.id = rf.resource_id JOIN stored_file sf ON sf.id = rf.file_id "
    "WHERE rf.id = {}")


async def find_attachment(attachment_id: int, *, immediate: bool = False) -> Attachment | None:
    """One hand-written query instead of an ORM select_related, which rebuilt its SQL on
    every request and cost a sixth of the event loop under concurrent range reads.

    ``immediate`` (kitlib behind nginx) reads SQLite on the event loop, skipping the trip to
    the shared connection's thread. Only there: when kitlib sends the bytes itself, that
    trip's queue, shared with every page and search, is what keeps 50 clients seeking in a
    recording from starving them; skipping it gave 7 times the ranges and hundreds of page
    timeouts (bench/load.py). Behind nginx a download costs kitlib so little that skipping
    it left pages and searches at their usual rates, with no error (docs/benchmarks.md).
    """
    connection = connections.get("default")
    rows: list[dict[str, Any]] | None = None
    if immediate and isinstance(connection, SqliteClient):
        rows = connection.read_now(_ATTACHMENT_SQL.format("?"), [attachment_id])
    if rows is None:
        placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
        rows = await connection.execute_query_dict(_ATTACHMENT_SQL.format(placeholder),
                                                   [attachment_id])
    if not rows:
        return None
    row = dict(rows[0])
    created = row["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    row["created_at"] = created
    return Attachment(**row)
