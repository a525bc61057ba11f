"""Tortoise's SQLite backend, with transactions that take the write lock when they begin.

SQLite starts a plain ``BEGIN`` transaction as a reader and upgrades it at its first write.
If another process (a second server worker, ``kitlib reindex``, ``kitlib check --repair``)
wrote in between, the upgrade fails at once with "database is locked": waiting could not
help, so SQLite does not call the busy handler. A transaction that reads before it writes
(replacing a file, deleting a resource) then answered 500 under concurrent writes.
``BEGIN IMMEDIATE`` takes the write lock first, waiting up to the busy timeout like any
other write. Selected by ``db.tortoise_config`` as the engine of SQLite URLs.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any
from urllib.parse import quote

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite import client as base
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(base.SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransactionWrapper(self))


class SqliteClient(base.SqliteClient):
    _reader: sqlite3.Connection | None = None

    def _in_transaction(self) -> TransactionContext:
        return base.SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    def read_now(self, sql: str, params: list[Any]) -> list[dict[str, Any]] | None:
        """Rows of a read by primary key, on the calling thread; None for an in-memory file.

        Each query on the shared aiosqlite connection is a trip to its thread and back;
        behind nginx, that trip was the largest cost left of a download (bench/download.py).
        A read-only connection of this process's own, in WAL mode, never waits for a writer
        and sees exactly what was committed: an indexed lookup takes microseconds, less than
        the trip. It blocks the event loop that long, so only a lookup that must be cheap
        uses it (services/files.find_attachment says when).
        """
        if self.filename == ":memory:":
            return None
        try:
            if self._reader is None:
                reader = sqlite3.connect(f"file:{quote(self.filename)}?mode=ro", uri=True,
                                         check_same_thread=False, isolation_level=None)
                reader.row_factory = sqlite3.Row
                # WAL readers wait only while the log is recovered after a crash: briefly.
                reader.execute("PRAGMA busy_timeout = 200")
                self._reader = reader
            return [dict(row) for row in self._reader.execute(sql, params)]
        except sqlite3.Error:
            # Whatever went wrong, the shared connection can still answer: the caller falls
            # back to it, and the next read opens a fresh reader.
            self._close_reader()
            return None

    def _close_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(sqlite3.Error):
                self._reader.close()
            self._reader = None

    async def close(self) -> None:
        self._close_reader()
        await super().close()


client_class = SqliteClient
