"""The blueprints part of the SQLite store (tables of migration 0006), mixed into ``SQLiteStore``:
definitions, blueprints and their history as JSON documents with indexed lookup columns."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

__all__ = ["BlueprintTables"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _location(blueprint: dict[str, Any]) -> str:
    return str((blueprint.get("metadata") or {}).get("locationname") or "")


class BlueprintTables:
    """Store methods for blueprint definitions, blueprints and blueprint history."""

    _db: sqlite3.Connection

    # -- definitions --------------------------------------------------------------------------

    async def add_blueprint_definition(self, definition: dict[str, Any]) -> bool:
        cur = self._db.execute(
            "INSERT INTO blueprint_definitions (definitionid, colonyname, name, kind, document) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                definition["blueprintdefinitionid"],
                definition["metadata"]["colonyname"],
                definition["metadata"]["name"],
                definition["spec"]["names"]["kind"],
                _dumps(definition),
            ),
        )
        return cur.rowcount == 1

    async def get_blueprint_definition(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT document FROM blueprint_definitions WHERE colonyname = ? AND name = ?", (colonyname, name)
        ).fetchone()
        return orjson.loads(row[0]) if row else None  # type: ignore[no-any-return]

    async def list_blueprint_definitions(self, colonyname: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT document FROM blueprint_definitions WHERE colonyname = ? ORDER BY name", (colonyname,)
        ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    async def find_blueprint_definition(self, colonyname: str, kind: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT document FROM blueprint_definitions WHERE colonyname = ? AND kind = ? ORDER BY name LIMIT 1",
            (colonyname, kind),
        ).fetchone()
        return orjson.loads(row[0]) if row else None  # type: ignore[no-any-return]

    async def remove_blueprint_definition(self, colonyname: str, name: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM blueprint_definitions WHERE colonyname = ? AND name = ?", (colonyname, name)
        )
        return cur.rowcount == 1

    # -- blueprints ---------------------------------------------------------------------------

    async def add_blueprint(self, blueprint: dict[str, Any]) -> bool:
        cur = self._db.execute(
            "INSERT INTO blueprints (blueprintid, colonyname, name, kind, locationname, document) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                blueprint["blueprintid"],
                blueprint["metadata"]["colonyname"],
                blueprint["metadata"]["name"],
                blueprint["kind"],
                _location(blueprint),
                _dumps(blueprint),
            ),
        )
        return cur.rowcount == 1

    async def get_blueprint(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT document FROM blueprints WHERE colonyname = ? AND name = ?", (colonyname, name)
        ).fetchone()
        return orjson.loads(row[0]) if row else None  # type: ignore[no-any-return]

    async def get_blueprint_by_id(self, blueprintid: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT document FROM blueprints WHERE blueprintid = ?", (blueprintid,)).fetchone()
        return orjson.loads(row[0]) if row else None  # type: ignore[no-any-return]

    async def list_blueprints(self, colonyname: str, kind: str = "", locationname: str = "") -> list[dict[str, Any]]:
        where, args = "colonyname = ?", [colonyname]
        if kind:
            where += " AND kind = ?"
            args.append(kind)
            if locationname:
                where += " AND lower(locationname) = lower(?)"
                args.append(locationname)
        rows = self._db.execute(f"SELECT document FROM blueprints WHERE {where} ORDER BY name", args).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    async def count_blueprints(self, colonyname: str, kind: str, locationname: str | None = None) -> int:
        if locationname is None:
            row = self._db.execute(
                "SELECT COUNT(*) FROM blueprints WHERE colonyname = ? AND kind = ?", (colonyname, kind)
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM blueprints WHERE colonyname = ? AND kind = ? AND locationname = ?",
                (colonyname, kind, locationname),
            ).fetchone()
        return int(row[0])

    async def replace_blueprint(self, blueprint: dict[str, Any]) -> bool:
        cur = self._db.execute(
            "UPDATE blueprints SET colonyname = ?, name = ?, kind = ?, locationname = ?, document = ? "
            "WHERE blueprintid = ?",
            (
                blueprint["metadata"]["colonyname"],
                blueprint["metadata"]["name"],
                blueprint["kind"],
                _location(blueprint),
                _dumps(blueprint),
                blueprint["blueprintid"],
            ),
        )
        return cur.rowcount == 1

    async def set_blueprint_status(self, colonyname: str, name: str, status: dict[str, Any] | None) -> bool:
        # one statement: the status is replaced atomically, whatever else changes the document
        if status:
            cur = self._db.execute(
                "UPDATE blueprints SET document = json_set(document, '$.status', json(?)) "
                "WHERE colonyname = ? AND name = ?",
                (_dumps(status), colonyname, name),
            )
        else:
            cur = self._db.execute(
                "UPDATE blueprints SET document = json_remove(document, '$.status') WHERE colonyname = ? AND name = ?",
                (colonyname, name),
            )
        return cur.rowcount == 1

    async def remove_blueprint(self, colonyname: str, name: str) -> bool:
        cur = self._db.execute("DELETE FROM blueprints WHERE colonyname = ? AND name = ?", (colonyname, name))
        return cur.rowcount == 1

    # -- history ------------------------------------------------------------------------------

    async def add_blueprint_history(self, entry: dict[str, Any], timestamp: int) -> None:
        self._db.execute(
            "INSERT INTO blueprint_history (historyid, blueprintid, ts, document) VALUES (?, ?, ?, ?)",
            (entry["historyid"], entry["blueprintid"], timestamp, _dumps(entry)),
        )

    async def blueprint_history(self, blueprintid: str, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT document FROM blueprint_history WHERE blueprintid = ? ORDER BY ts DESC, rowid DESC LIMIT ?",
            (blueprintid, limit if limit > 0 else -1),
        ).fetchall()
        return [orjson.loads(r[0]) for r in rows]
