"""The channels part of the PostgreSQL store (tables of migration 0005), mixed into
``PostgresStore``. An append runs in one transaction that locks the channel row, places the entry
by upstream's ordering rule and bumps the row's entry count: appends to a channel are serialised
across replicas, so arrival numbers are gapless and become visible in order (entry and count
commit together), the property subscribers rely on to resume without missing or repeating an
entry. Reads are single statements, each one snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

__all__ = ["ChannelTables"]

_ENTRY_COLUMNS = "e.arrival, e.sequence, e.inreplyto, e.ts, e.senderid, e.payload, e.type"
_CHANNEL_COLUMNS = "processid, name, submitterid, executorid, entries"


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


def _entry(row: Sequence[Any], first: int) -> dict[str, Any]:
    return {
        "arrival": row[first],
        "sequence": row[first + 1],
        "inreplyto": row[first + 2],
        "timestamp": row[first + 3],
        "senderid": row[first + 4],
        "payload": row[first + 5],
        "type": row[first + 6],
    }


def _channel(row: Sequence[Any]) -> dict[str, Any]:
    return {"processid": row[0], "name": row[1], "submitterid": row[2], "executorid": row[3], "entries": row[4]}


class ChannelTables:
    """Store methods for channels and their entries."""

    if TYPE_CHECKING:

        @property
        def pool(self) -> asyncpg.Pool: ...

        def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def get_channel(self, processid: str, name: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE processid = $1 AND name = $2", processid, name
        )
        return _channel(row) if row else None

    async def add_channel(self, channel: dict[str, Any], max_channels: int) -> dict[str, Any] | None:
        processid, name = channel["processid"], channel["name"]
        async with self._tx() as conn:
            # one creator per process at a time, on any replica: the count below stays exact
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", processid)
            row = await conn.fetchrow(
                f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE processid = $1 AND name = $2", processid, name
            )
            if row:
                return _channel(row)
            if await conn.fetchval("SELECT COUNT(*) FROM channels WHERE processid = $1", processid) >= max_channels:
                return None
            await conn.execute(
                "INSERT INTO channels (processid, name, submitterid, executorid, entries) VALUES ($1, $2, $3, $4, 0)",
                processid,
                name,
                channel["submitterid"],
                channel["executorid"],
            )
        return dict(channel, entries=0)

    async def bind_channels(self, processid: str, executorid: str) -> None:
        await self.pool.execute("UPDATE channels SET executorid = $1 WHERE processid = $2", executorid, processid)

    async def append_channel_entry(self, processid: str, name: str, entry: dict[str, Any], max_entries: int) -> int:
        async with self._tx() as conn:
            count = await conn.fetchval(
                "SELECT entries FROM channels WHERE processid = $1 AND name = $2 FOR UPDATE", processid, name
            )
            if count is None:
                return -1
            if count >= max_entries:
                return 0
            before = await conn.fetchval(
                "SELECT MIN(pos) FROM channel_entries "
                "WHERE processid = $1 AND name = $2 AND senderid = $3 AND sequence > $4",
                processid,
                name,
                entry["senderid"],
                entry["sequence"],
            )
            if before is None:
                pos = count  # entries are never removed one by one: positions are 0..count-1
            else:
                pos = before
                await conn.execute(
                    "UPDATE channel_entries SET pos = pos + 1 WHERE processid = $1 AND name = $2 AND pos >= $3",
                    processid,
                    name,
                    pos,
                )
            arrival = count + 1
            await conn.execute(
                "INSERT INTO channel_entries (processid, name, arrival, pos, sequence, inreplyto, ts, senderid, "
                "payload, type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                processid,
                name,
                arrival,
                pos,
                entry["sequence"],
                entry["inreplyto"],
                entry["timestamp"],
                entry["senderid"],
                entry["payload"],
                entry["type"],
            )
            await conn.execute(
                "UPDATE channels SET entries = $1 WHERE processid = $2 AND name = $3", arrival, processid, name
            )
        return int(arrival)

    async def read_channel(
        self, processid: str, name: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        rows = await self.pool.fetch(
            f"SELECT c.entries, {_ENTRY_COLUMNS} FROM channels c LEFT JOIN LATERAL (SELECT * FROM channel_entries "
            "WHERE processid = c.processid AND name = c.name AND pos >= $3 ORDER BY pos LIMIT $4) e ON TRUE "
            "WHERE c.processid = $1 AND c.name = $2 ORDER BY e.pos",
            processid,
            name,
            max(offset, 0),
            limit if limit > 0 else None,
        )
        if not rows:
            return None
        return [_entry(r, 1) for r in rows if r[1] is not None], rows[0][0]

    async def read_channel_after(
        self, processid: str, name: str, arrival: int, limit: int
    ) -> list[dict[str, Any]] | None:
        rows = await self.pool.fetch(
            f"SELECT c.entries, {_ENTRY_COLUMNS} FROM channels c LEFT JOIN LATERAL (SELECT * FROM channel_entries "
            "WHERE processid = c.processid AND name = c.name AND arrival > $3 ORDER BY arrival LIMIT $4) e ON TRUE "
            "WHERE c.processid = $1 AND c.name = $2 ORDER BY e.arrival",
            processid,
            name,
            arrival,
            limit if limit > 0 else None,
        )
        if not rows:
            return None
        return [_entry(r, 1) for r in rows if r[1] is not None]

    async def remove_channels(self, processid: str) -> int:
        removed = await self.pool.fetchval(
            "WITH gone AS (DELETE FROM channels WHERE processid = $1 RETURNING 1), "
            "entries AS (DELETE FROM channel_entries WHERE processid = $1) SELECT COUNT(*) FROM gone",
            processid,
        )
        return int(removed)

    async def remove_orphan_channels(self) -> int:
        removed = await self.pool.fetchval(
            "WITH orphans AS (SELECT DISTINCT c.processid FROM channels c LEFT JOIN processes p "
            "ON p.processid = c.processid WHERE p.processid IS NULL OR p.state IN (2, 3)), "
            "gone AS (DELETE FROM channels WHERE processid IN (SELECT processid FROM orphans) RETURNING 1), "
            "entries AS (DELETE FROM channel_entries WHERE processid IN (SELECT processid FROM orphans)) "
            "SELECT COUNT(*) FROM gone"
        )
        return int(removed)
