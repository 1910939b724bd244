"""The ColonyFS part of the PostgreSQL store (tables of migration 0007), mixed into
``PostgresStore``: file versions and snapshots of label trees. The latest version of a name is the
one with the highest ``sequencenr`` (``DISTINCT ON`` the name, newest first). A snapshot's file set
is read and the snapshot inserted in one transaction; the unique (colonyname, name) decides
between concurrent creations, on any replica."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson

from ..colonyfs import FILE_COLUMNS, SNAPSHOT_COLUMNS, LabelMatch, file_from_row, snapshot_from_row

__all__ = ["FileTables"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


def _after(first: int) -> Callable[[int], str]:
    """Placeholders ``$<first+1>``, ``$<first+2>``, ... for arguments following ``first`` others."""
    return lambda i: f"${first + 1 + i}"


class FileTables:
    """Store methods for files and snapshots."""

    if TYPE_CHECKING:

        @property
        def pool(self) -> asyncpg.Pool: ...

        def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    # -- files --------------------------------------------------------------------------------

    async def add_file(self, file: dict[str, Any]) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "INSERT INTO files (fileid, colonyname, label, name, size, checksum, checksumalg, ref, added) "
            f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING {FILE_COLUMNS}",
            file["fileid"],
            file["colonyname"],
            file["label"],
            file["name"],
            file["size"],
            file["checksum"],
            file["checksumalg"],
            _dumps(file["ref"]),
            file["added"],
        )
        return file_from_row(row) if row else None

    async def get_file(self, colonyname: str, fileid: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {FILE_COLUMNS} FROM files WHERE fileid = $1 AND colonyname = $2", fileid, colonyname
        )
        return file_from_row(row) if row else None

    async def get_file_versions(self, colonyname: str, label: str, name: str, latest: bool) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {FILE_COLUMNS} FROM files WHERE colonyname = $1 AND label = $2 AND name = $3 "
            "ORDER BY sequencenr DESC LIMIT $4",
            colonyname,
            label,
            name,
            1 if latest else None,  # LIMIT NULL: no limit
        )
        return [file_from_row(r) for r in rows]

    async def list_latest_files(self, colonyname: str, label: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT DISTINCT ON (name) {FILE_COLUMNS} FROM files WHERE colonyname = $1 AND label = $2 "
            "ORDER BY name, sequencenr DESC",
            colonyname,
            label,
        )
        return [file_from_row(r) for r in rows]

    async def list_file_labels(self, colonyname: str, name: str = "", exact: bool = False) -> list[dict[str, Any]]:
        match = LabelMatch.tree(name) if exact else LabelMatch.prefix(name)
        cond, args = match.sql(_after(1)) if name else ("TRUE", [])
        rows = await self.pool.fetch(
            f"SELECT label, COUNT(*) FROM files WHERE colonyname = $1 AND {cond} GROUP BY label ORDER BY label",
            colonyname,
            *args,
        )
        return [{"name": r[0], "files": r[1]} for r in rows]

    async def remove_file(self, colonyname: str, fileid: str) -> bool:
        status = await self.pool.execute("DELETE FROM files WHERE fileid = $1 AND colonyname = $2", fileid, colonyname)
        return _count(status) == 1

    async def remove_file_versions(self, colonyname: str, label: str, name: str) -> int:
        status = await self.pool.execute(
            "DELETE FROM files WHERE colonyname = $1 AND label = $2 AND name = $3", colonyname, label, name
        )
        return _count(status)

    # -- snapshots ----------------------------------------------------------------------------

    async def add_snapshot(self, snapshot: dict[str, Any]) -> dict[str, Any] | None:
        colonyname = snapshot["colonyname"]
        cond, args = LabelMatch.tree(snapshot["label"]).sql(_after(1))
        async with self._tx() as conn:
            rows = await conn.fetch(
                f"SELECT DISTINCT ON (label, name) fileid FROM files WHERE colonyname = $1 AND {cond} "
                "ORDER BY label, name, sequencenr DESC",
                colonyname,
                *args,
            )
            stored = {**snapshot, "fileids": [r[0] for r in rows] or None}
            inserted = await conn.fetchval(
                "INSERT INTO snapshots (snapshotid, colonyname, name, label, fileids, added) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING seq",
                stored["snapshotid"],
                colonyname,
                stored["name"],
                stored["label"],
                _dumps(stored["fileids"]),
                stored["added"],
            )
        return stored if inserted is not None else None

    async def _snapshot(self, where: str, *args: Any) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE {where}", *args)
        return snapshot_from_row(row) if row else None

    async def get_snapshot(self, colonyname: str, snapshotid: str) -> dict[str, Any] | None:
        return await self._snapshot("snapshotid = $1 AND colonyname = $2", snapshotid, colonyname)

    async def get_snapshot_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return await self._snapshot("colonyname = $1 AND name = $2", colonyname, name)

    async def list_snapshots(self, colonyname: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE colonyname = $1 ORDER BY added DESC, seq DESC",
            colonyname,
        )
        return [snapshot_from_row(r) for r in rows]

    async def remove_snapshot(self, colonyname: str, snapshotid: str) -> bool:
        status = await self.pool.execute(
            "DELETE FROM snapshots WHERE snapshotid = $1 AND colonyname = $2", snapshotid, colonyname
        )
        return _count(status) == 1

    async def remove_snapshot_by_name(self, colonyname: str, name: str) -> bool:
        status = await self.pool.execute("DELETE FROM snapshots WHERE colonyname = $1 AND name = $2", colonyname, name)
        return _count(status) == 1

    async def remove_snapshots(self, colonyname: str) -> int:
        return _count(await self.pool.execute("DELETE FROM snapshots WHERE colonyname = $1", colonyname))
