"""The channels part of the SQLite store (tables of migration 0005), mixed into ``SQLiteStore``.

An append runs in one ``BEGIN IMMEDIATE`` transaction that reads the channel row, places the
entry by upstream's ordering rule and bumps the row's entry count: appends to a channel are
serialised, so arrival numbers are gapless and visible in order, the property subscribers rely on
to resume without missing or repeating an entry."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

__all__ = ["ChannelTables"]

_ENTRY_COLUMNS = "arrival, sequence, inreplyto, ts, senderid, payload, type"


def _entry(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "arrival": row[0],
        "sequence": row[1],
        "inreplyto": row[2],
        "timestamp": row[3],
        "senderid": row[4],
        "payload": row[5],
        "type": row[6],
    }


def _channel(row: Sequence[Any]) -> dict[str, Any]:
    return {"processid": row[0], "name": row[1], "submitterid": row[2], "executorid": row[3], "entries": row[4]}


class ChannelTables:
    """Store methods for channels and their entries."""

    _db: sqlite3.Connection

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    async def get_channel(self, processid: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT processid, name, submitterid, executorid, entries FROM channels WHERE processid = ? AND name = ?",
            (processid, name),
        ).fetchone()
        return _channel(row) if row else None

    async def add_channel(self, channel: dict[str, Any], max_channels: int) -> dict[str, Any] | None:
        with self._tx() as db:
            key = (channel["processid"], channel["name"])
            row = db.execute(
                "SELECT processid, name, submitterid, executorid, entries FROM channels "
                "WHERE processid = ? AND name = ?",
                key,
            ).fetchone()
            if row:
                return _channel(row)
            count = db.execute("SELECT COUNT(*) FROM channels WHERE processid = ?", key[:1]).fetchone()[0]
            if count >= max_channels:
                return None
            db.execute(
                "INSERT INTO channels (processid, name, submitterid, executorid, entries) VALUES (?, ?, ?, ?, 0)",
                (*key, channel["submitterid"], channel["executorid"]),
            )
        return dict(channel, entries=0)

    async def bind_channels(self, processid: str, executorid: str) -> None:
        self._db.execute("UPDATE channels SET executorid = ? WHERE processid = ?", (executorid, processid))

    async def append_channel_entry(self, processid: str, name: str, entry: dict[str, Any], max_entries: int) -> int:
        with self._tx() as db:
            key = (processid, name)
            row = db.execute("SELECT entries FROM channels WHERE processid = ? AND name = ?", key).fetchone()
            if row is None:
                return -1
            count = row[0]
            if count >= max_entries:
                return 0
            before = db.execute(
                "SELECT MIN(pos) FROM channel_entries "
                "WHERE processid = ? AND name = ? AND senderid = ? AND sequence > ?",
                (*key, entry["senderid"], entry["sequence"]),
            ).fetchone()[0]
            if before is None:
                pos = count  # entries are never removed one by one: positions are 0..count-1
            else:
                pos = before
                db.execute(
                    "UPDATE channel_entries SET pos = pos + 1 WHERE processid = ? AND name = ? AND pos >= ?",
                    (processid, name, pos),
                )
            arrival = count + 1
            db.execute(
                "INSERT INTO channel_entries (processid, name, arrival, pos, sequence, inreplyto, ts, senderid, "
                "payload, type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                ),
            )
            db.execute("UPDATE channels SET entries = ? WHERE processid = ? AND name = ?", (arrival, processid, name))
        return arrival

    async def read_channel(
        self, processid: str, name: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        # no await between the two statements: nothing can append in between
        row = self._db.execute(
            "SELECT entries FROM channels WHERE processid = ? AND name = ?", (processid, name)
        ).fetchone()
        if row is None:
            return None
        rows = self._db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM channel_entries WHERE processid = ? AND name = ? AND pos >= ? "
            "ORDER BY pos LIMIT ?",
            (processid, name, max(offset, 0), limit if limit > 0 else -1),
        ).fetchall()
        return [_entry(r) for r in rows], row[0]

    async def read_channel_after(
        self, processid: str, name: str, arrival: int, limit: int
    ) -> list[dict[str, Any]] | None:
        row = self._db.execute(
            "SELECT entries FROM channels WHERE processid = ? AND name = ?", (processid, name)
        ).fetchone()
        if row is None:
            return None
        if row[0] <= arrival:
            return []
        rows = self._db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM channel_entries WHERE processid = ? AND name = ? AND arrival > ? "
            "ORDER BY arrival LIMIT ?",
            (processid, name, arrival, limit if limit > 0 else -1),
        ).fetchall()
        return [_entry(r) for r in rows]

    async def remove_channels(self, processid: str) -> int:
        if self._db.execute("SELECT 1 FROM channels WHERE processid = ? LIMIT 1", (processid,)).fetchone() is None:
            return 0
        with self._tx() as db:
            removed = db.execute("DELETE FROM channels WHERE processid = ?", (processid,)).rowcount
            if removed:
                db.execute("DELETE FROM channel_entries WHERE processid = ?", (processid,))
        return int(removed)

    async def remove_orphan_channels(self) -> int:
        with self._tx() as db:
            orphans = db.execute(
                "SELECT DISTINCT c.processid FROM channels c LEFT JOIN processes p ON p.processid = c.processid "
                "WHERE p.processid IS NULL OR p.state IN (2, 3)"
            ).fetchall()
            removed = 0
            for (processid,) in orphans:
                removed += db.execute("DELETE FROM channels WHERE processid = ?", (processid,)).rowcount
                db.execute("DELETE FROM channel_entries WHERE processid = ?", (processid,))
        return removed
