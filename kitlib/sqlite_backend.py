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

import sqlite3

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
    def _in_transaction(self) -> TransactionContext:
        return base.SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = SqliteClient
