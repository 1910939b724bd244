"""The blueprints part of the PostgreSQL store (tables of migration 0006), mixed into
``PostgresStore``: definitions, blueprints and their history as JSON documents (text, so that the
wire's key order is kept) with indexed lookup columns."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson

__all__ = ["BlueprintTables"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


def _location(blueprint: dict[str, Any]) -> str:
    return str((blueprint.get("metadata") or {}).get("locationname") or "")


def _document(text: str | None) -> dict[str, Any] | None:
    return orjson.loads(text) if text is not None else None  # type: ignore[no-any-return]


class BlueprintTables:
    """Store methods for blueprint definitions, blueprints and blueprint history."""

    if TYPE_CHECKING:

        @property
        def pool(self) -> asyncpg.Pool: ...

        def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    # -- definitions --------------------------------------------------------------------------

    async def add_blueprint_definition(self, definition: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "INSERT INTO blueprint_definitions (definitionid, colonyname, name, kind, document) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            definition["blueprintdefinitionid"],
            definition["metadata"]["colonyname"],
            definition["metadata"]["name"],
            definition["spec"]["names"]["kind"],
            _dumps(definition),
        )
        return _count(status) == 1

    async def get_blueprint_definition(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return _document(
            await self.pool.fetchval(
                "SELECT document FROM blueprint_definitions WHERE colonyname = $1 AND name = $2", colonyname, name
            )
        )

    async def list_blueprint_definitions(self, colonyname: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT document FROM blueprint_definitions WHERE colonyname = $1 ORDER BY name", colonyname
        )
        return [orjson.loads(r[0]) for r in rows]

    async def find_blueprint_definition(self, colonyname: str, kind: str) -> dict[str, Any] | None:
        return _document(
            await self.pool.fetchval(
                "SELECT document FROM blueprint_definitions WHERE colonyname = $1 AND kind = $2 ORDER BY name LIMIT 1",
                colonyname,
                kind,
            )
        )

    async def remove_blueprint_definition(self, colonyname: str, name: str) -> bool:
        status = await self.pool.execute(
            "DELETE FROM blueprint_definitions WHERE colonyname = $1 AND name = $2", colonyname, name
        )
        return _count(status) == 1

    # -- blueprints ---------------------------------------------------------------------------

    async def add_blueprint(self, blueprint: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "INSERT INTO blueprints (blueprintid, colonyname, name, kind, locationname, document) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            blueprint["blueprintid"],
            blueprint["metadata"]["colonyname"],
            blueprint["metadata"]["name"],
            blueprint["kind"],
            _location(blueprint),
            _dumps(blueprint),
        )
        return _count(status) == 1

    async def get_blueprint(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return _document(
            await self.pool.fetchval(
                "SELECT document FROM blueprints WHERE colonyname = $1 AND name = $2", colonyname, name
            )
        )

    async def get_blueprint_by_id(self, blueprintid: str) -> dict[str, Any] | None:
        return _document(
            await self.pool.fetchval("SELECT document FROM blueprints WHERE blueprintid = $1", blueprintid)
        )

    async def list_blueprints(self, colonyname: str, kind: str = "", locationname: str = "") -> list[dict[str, Any]]:
        where, args = "colonyname = $1", [colonyname]
        if kind:
            args.append(kind)
            where += f" AND kind = ${len(args)}"
            if locationname:
                args.append(locationname)
                where += f" AND lower(locationname) = lower(${len(args)})"
        rows = await self.pool.fetch(f"SELECT document FROM blueprints WHERE {where} ORDER BY name", *args)
        return [orjson.loads(r[0]) for r in rows]

    async def count_blueprints(self, colonyname: str, kind: str, locationname: str | None = None) -> int:
        if locationname is None:
            value = await self.pool.fetchval(
                "SELECT COUNT(*) FROM blueprints WHERE colonyname = $1 AND kind = $2", colonyname, kind
            )
        else:
            value = await self.pool.fetchval(
                "SELECT COUNT(*) FROM blueprints WHERE colonyname = $1 AND kind = $2 AND locationname = $3",
                colonyname,
                kind,
                locationname,
            )
        return int(value)

    async def replace_blueprint(self, blueprint: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "UPDATE blueprints SET colonyname = $1, name = $2, kind = $3, locationname = $4, document = $5 "
            "WHERE blueprintid = $6",
            blueprint["metadata"]["colonyname"],
            blueprint["metadata"]["name"],
            blueprint["kind"],
            _location(blueprint),
            _dumps(blueprint),
            blueprint["blueprintid"],
        )
        return _count(status) == 1

    async def set_blueprint_status(self, colonyname: str, name: str, status: dict[str, Any] | None) -> bool:
        # the row is locked from read to write: the status is replaced atomically, whatever else
        # changes the document; the other keys keep their order (as SQLite's json_set does)
        async with self._tx() as conn:
            text = await conn.fetchval(
                "SELECT document FROM blueprints WHERE colonyname = $1 AND name = $2 FOR UPDATE", colonyname, name
            )
            if text is None:
                return False
            document = orjson.loads(text)
            if status:
                document["status"] = status
            else:
                document.pop("status", None)
            await conn.execute(
                "UPDATE blueprints SET document = $1 WHERE colonyname = $2 AND name = $3",
                _dumps(document),
                colonyname,
                name,
            )
        return True

    async def remove_blueprint(self, colonyname: str, name: str) -> bool:
        status = await self.pool.execute("DELETE FROM blueprints WHERE colonyname = $1 AND name = $2", colonyname, name)
        return _count(status) == 1

    # -- history ------------------------------------------------------------------------------

    async def add_blueprint_history(self, entry: dict[str, Any], timestamp: int) -> None:
        await self.pool.execute(
            "INSERT INTO blueprint_history (historyid, blueprintid, ts, document) VALUES ($1, $2, $3, $4)",
            entry["historyid"],
            entry["blueprintid"],
            timestamp,
            _dumps(entry),
        )

    async def blueprint_history(self, blueprintid: str, limit: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT document FROM blueprint_history WHERE blueprintid = $1 ORDER BY ts DESC, seq DESC LIMIT $2",
            blueprintid,
            limit if limit > 0 else None,
        )
        return [orjson.loads(r[0]) for r in rows]
