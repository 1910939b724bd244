"""The retention part of the SQLite store (COLONIES_RETENTION), mixed into ``SQLiteStore``: old
successful processes and graphs, removed in bounded batches through the same deletions as
``removeprocessmsg`` and ``removeprocessgraphmsg``. Each batch is one ``BEGIN IMMEDIATE``
transaction on index ranges (``processes_retention`` of migration 0008, ``process_graphs_by_state``),
so a large purge holds the writer lock only briefly at a time. Nothing of it is cached: the
store's caches hold executors, users and functions only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

__all__ = ["RetentionTables"]


class RetentionTables:
    """Store methods for the retention purge."""

    _db: sqlite3.Connection

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

        @staticmethod
        def _delete_processes(db: sqlite3.Connection, where: str, args: Sequence[Any]) -> int: ...

        def _delete_graphs(self, db: sqlite3.Connection, where: str, args: Sequence[Any]) -> int: ...

    async def remove_succeeded_processes(self, before: int, limit: int) -> int:
        with self._tx() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT processid FROM processes INDEXED BY processes_retention "
                    "WHERE state = 2 AND processgraphid = '' AND submissiontime < ? ORDER BY submissiontime LIMIT ?",
                    (before, max(limit, 0)),
                )
            ]
            removed = 0
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                removed += self._delete_processes(db, f"processid IN ({', '.join('?' * len(chunk))})", chunk)
        return removed

    async def remove_succeeded_graphs(self, before: int, limit: int) -> int:
        # Per colony (every graph belongs to an existing one), a range of process_graphs_by_state.
        pick = (
            "SELECT processgraphid FROM process_graphs WHERE colonyname IN (SELECT name FROM colonies) "
            "AND state = 2 AND submissiontime < ? "
            "AND processgraphid NOT IN (SELECT prevprocessgraphid FROM crons WHERE prevprocessgraphid != '') LIMIT ?"
        )
        with self._tx() as db:
            return self._delete_graphs(db, f"processgraphid IN ({pick})", (before, max(limit, 0)))
