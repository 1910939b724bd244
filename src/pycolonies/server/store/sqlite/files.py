"""The ColonyFS part of the SQLite store (tables of migration 0007), mixed into ``SQLiteStore``:
file versions and snapshots of label trees. The latest version of a name is the one with the
highest ``sequencenr`` (SQLite's ``MAX()`` aggregate returns the other columns of that row)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import orjson

from ..colonyfs import FILE_COLUMNS, SNAPSHOT_COLUMNS, LabelMatch, file_from_row, snapshot_from_row

__all__ = ["FileTables"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _qmark(_: int) -> str:
    return "?"


class FileTables:
    """Store methods for files and snapshots."""

    _db: sqlite3.Connection

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- files --------------------------------------------------------------------------------

    async def add_file(self, file: dict[str, Any]) -> dict[str, Any] | None:
        row = self._db.execute(
            "INSERT INTO files (fileid, colonyname, label, name, size, checksum, checksumalg, ref, added) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING {FILE_COLUMNS}",
            (
                file["fileid"],
                file["colonyname"],
                file["label"],
                file["name"],
                file["size"],
                file["checksum"],
                file["checksumalg"],
                _dumps(file["ref"]),
                file["added"],
            ),
        ).fetchone()
        return file_from_row(row) if row else None

    async def get_file(self, colonyname: str, fileid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE fileid = ? AND colonyname = ?", (fileid, colonyname)
        ).fetchone()
        return file_from_row(row) if row else None

    async def get_file_versions(self, colonyname: str, label: str, name: str, latest: bool) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE colonyname = ? AND label = ? AND name = ? "
            "ORDER BY sequencenr DESC LIMIT ?",
            (colonyname, label, name, 1 if latest else -1),
        ).fetchall()
        return [file_from_row(r) for r in rows]

    async def list_latest_files(self, colonyname: str, label: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {FILE_COLUMNS}, MAX(sequencenr) FROM files WHERE colonyname = ? AND label = ? "
            "GROUP BY name ORDER BY name",
            (colonyname, label),
        ).fetchall()
        return [file_from_row(r) for r in rows]

    async def list_file_labels(self, colonyname: str, name: str = "", exact: bool = False) -> list[dict[str, Any]]:
        match = LabelMatch.tree(name) if exact else LabelMatch.prefix(name)
        cond, args = match.sql(_qmark) if name else ("1", [])
        rows = self._db.execute(
            f"SELECT label, COUNT(*) FROM files WHERE colonyname = ? AND {cond} GROUP BY label ORDER BY label",
            (colonyname, *args),
        ).fetchall()
        return [{"name": r[0], "files": r[1]} for r in rows]

    async def remove_file(self, colonyname: str, fileid: str) -> bool:
        cur = self._db.execute("DELETE FROM files WHERE fileid = ? AND colonyname = ?", (fileid, colonyname))
        return cur.rowcount == 1

    async def remove_file_versions(self, colonyname: str, label: str, name: str) -> int:
        cur = self._db.execute(
            "DELETE FROM files WHERE colonyname = ? AND label = ? AND name = ?", (colonyname, label, name)
        )
        return cur.rowcount

    # -- snapshots ----------------------------------------------------------------------------

    async def add_snapshot(self, snapshot: dict[str, Any]) -> dict[str, Any] | None:
        colonyname = snapshot["colonyname"]
        cond, args = LabelMatch.tree(snapshot["label"]).sql(_qmark)
        with self._tx() as db:
            rows = db.execute(
                f"SELECT fileid, MAX(sequencenr) FROM files WHERE colonyname = ? AND {cond} "
                "GROUP BY label, name ORDER BY label, name",
                (colonyname, *args),
            ).fetchall()
            stored = {**snapshot, "fileids": [r[0] for r in rows] or None}
            inserted = db.execute(
                "INSERT INTO snapshots (snapshotid, colonyname, name, label, fileids, added) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
                (
                    stored["snapshotid"],
                    colonyname,
                    stored["name"],
                    stored["label"],
                    _dumps(stored["fileids"]),
                    stored["added"],
                ),
            ).fetchone()
        return stored if inserted is not None else None

    def _snapshot(self, where: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
        row = self._db.execute(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE {where}", args).fetchone()
        return snapshot_from_row(row) if row else None

    async def get_snapshot(self, colonyname: str, snapshotid: str) -> dict[str, Any] | None:
        return self._snapshot("snapshotid = ? AND colonyname = ?", (snapshotid, colonyname))

    async def get_snapshot_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return self._snapshot("colonyname = ? AND name = ?", (colonyname, name))

    async def list_snapshots(self, colonyname: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE colonyname = ? ORDER BY added DESC, seq DESC",
            (colonyname,),
        ).fetchall()
        return [snapshot_from_row(r) for r in rows]

    async def remove_snapshot(self, colonyname: str, snapshotid: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM snapshots WHERE snapshotid = ? AND colonyname = ?", (snapshotid, colonyname)
        )
        return cur.rowcount == 1

    async def remove_snapshot_by_name(self, colonyname: str, name: str) -> bool:
        cur = self._db.execute("DELETE FROM snapshots WHERE colonyname = ? AND name = ?", (colonyname, name))
        return cur.rowcount == 1

    async def remove_snapshots(self, colonyname: str) -> int:
        return self._db.execute("DELETE FROM snapshots WHERE colonyname = ?", (colonyname,)).rowcount
