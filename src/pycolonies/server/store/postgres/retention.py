"""The retention part of the PostgreSQL store (COLONIES_RETENTION), mixed into ``PostgresStore``:
old successful processes and graphs, removed in bounded batches through the same deletions as
``removeprocessmsg`` and ``removeprocessgraphmsg``. Each batch is one short statement or
transaction on index ranges (``processes_retention`` of migration 0008,
``process_graphs_by_state``). The rows are picked ``FOR UPDATE SKIP LOCKED``: a row another
replica is changing right now waits for the next batch instead of blocking this one. Nothing of it
is cached: the store's cache holds executors, users and functions only."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

__all__ = ["RetentionTables"]


class RetentionTables:
    """Store methods for the retention purge."""

    if TYPE_CHECKING:

        @property
        def pool(self) -> asyncpg.Pool: ...

        def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

        @staticmethod
        async def _delete_processes(conn: asyncpg.Pool | asyncpg.Connection, where: str, *args: Any) -> int: ...

        @classmethod
        async def _delete_graphs(cls, conn: asyncpg.Connection, where: str, *args: Any) -> int: ...

    async def remove_succeeded_processes(self, before: int, limit: int) -> int:
        pick = (
            "SELECT processid FROM processes WHERE state = 2 AND processgraphid = '' AND submissiontime < $1 "
            "ORDER BY submissiontime LIMIT $2 FOR UPDATE SKIP LOCKED"
        )
        return await self._delete_processes(self.pool, f"processid IN ({pick})", before, max(limit, 0))

    async def remove_succeeded_graphs(self, before: int, limit: int) -> int:
        # Per colony (every graph belongs to an existing one), a range of process_graphs_by_state.
        pick = (
            "SELECT processgraphid FROM process_graphs WHERE colonyname IN (SELECT name FROM colonies) "
            "AND state = 2 AND submissiontime < $1 "
            "AND processgraphid NOT IN (SELECT prevprocessgraphid FROM crons WHERE prevprocessgraphid <> '') "
            "LIMIT $2 FOR UPDATE OF process_graphs SKIP LOCKED"
        )
        async with self._tx() as conn:
            return await self._delete_graphs(conn, f"processgraphid IN ({pick})", before, max(limit, 0))
