"""The Store contract on PostgreSQL (asyncpg with a connection pool), for one server or several
replicas on one database.

Every method is one statement or one transaction. Other replicas write the same rows, so the only
cache is a short-lived one of the per-request lookups (``cache.py``): exact for this replica's own
writes, told of the others' writes by their notifications, and at most a second old otherwise.
Multi-statement changes lock the rows they read (``FOR UPDATE``), so concurrent replicas
serialise on them instead of overwriting each other; a process is claimed by
one ``UPDATE ... WHERE processid = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)``, so any replica
can assign and no process is handed out twice. The schema is created and migrated on connect,
under an advisory lock so that replicas starting together apply each migration once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, TypeVar

import asyncpg
import orjson

from ..base import Store
from ..records import RUNNING, WAITING, Claim, GraphRecord, ProcessRecord
from ..rows import GRAPH_COLUMNS, executor_values, graph_from_row, process_values
from ..rows import attribute_from_row as _attribute_from_row
from ..rows import dumps as _dumps
from ..rows import executor_from_row as _executor_from_row
from ..rows import process_from_row as _process_from_row
from .blueprints import BlueprintTables
from .cache import EXECUTORS, FUNCTIONS, USERS, LookupCache
from .channels import ChannelTables
from .files import FileTables
from .notify import ReplicaLink
from .retention import RetentionTables
from .triggers import TriggerTables

__all__ = ["MIGRATION_LOCK", "PostgresStore"]


def _pg_values(p: ProcessRecord) -> tuple[Any, ...]:
    return process_values(p, bool)


log = logging.getLogger("pycolonies.store")

MIGRATION_LOCK = 0x636F6C6F6E696573  # "colonies": the advisory lock key held while migrating

_PROCESS_COLUMNS = (
    "processid, colonyname, executortype, locationname, executornames, state, isassigned, "
    "waitforparents, prioritytime, cpu, mem, assignedexecutorid, initiatorid, initiatorname, "
    "submissiontime, starttime, endtime, waitdeadline, execdeadline, retries, maxwaittime, "
    "maxexectime, maxretries, label, funcname, processgraphid, spec, parents, children, input, "
    "output, errors, nattributes, pendingparents"
)
_PROCESS_INSERT = (
    f"INSERT INTO processes ({_PROCESS_COLUMNS}) VALUES "
    f"({', '.join(f'${i + 1}' for i in range(len(_PROCESS_COLUMNS.split(','))))})"
)
_EXECUTOR_COLUMNS = (
    "executorid, colonyname, executorname, executortype, state, requirefuncreg, commissiontime, "
    "lastheardfromtime, locationname, capabilities, allocations, blueprintid, blueprintgen"
)
_ATTRIBUTE_COLUMNS = "attributeid, targetid, targetcolonyname, targetprocessgraphid, state, attributetype, key, value"
_ATTRIBUTE_INSERT = f"INSERT INTO attributes ({_ATTRIBUTE_COLUMNS}, added) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
_USER_COLUMNS = "colonyname, userid, name, email, phone"
_LOCATION_COLUMNS = "locationid, name, colonyname, description, long, lat"
_LOG_COLUMNS = "processid, colonyname, executorname, message, ts"
_INT64_MAX = 2**63 - 1
_Method = TypeVar("_Method", bound=Callable[..., Awaitable[Any]])
_DAY_NS = 86_400 * 1_000_000_000


def _count(status: str) -> int:
    """The row count of a command status such as ``UPDATE 1`` or ``INSERT 0 1``."""
    return int(status.rsplit(" ", 1)[-1])


def _in(states: Sequence[int]) -> str:
    return ", ".join(str(int(s)) for s in states)


def _attribute_values(a: dict[str, Any], now: int) -> tuple[Any, ...]:
    return (
        a["attributeid"],
        a["targetid"],
        a["targetcolonyname"],
        a["targetprocessgraphid"],
        a["state"],
        a["attributetype"],
        a["key"],
        a["value"],
        now,
    )


def _user(row: Sequence[Any] | None) -> dict[str, Any] | None:
    if not row:
        return None
    return {"colonyname": row[0], "userid": row[1], "name": row[2], "email": row[3], "phone": row[4]}


def _location(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "locationid": row[0],
        "name": row[1],
        "colonyname": row[2],
        "description": row[3],
        "long": row[4],
        "lat": row[5],
    }


def _logs(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [
        {"processid": r[0], "colonyname": r[1], "executorname": r[2], "message": r[3], "timestamp": r[4]} for r in rows
    ]


def _changes(kinds: str, *, announce: bool = True) -> Callable[[_Method], _Method]:
    """The method writes records of ``kinds``: once it has (committed or not), the cache drops them
    and, unless told otherwise, the other replicas hear of it."""

    def wrap(method: _Method) -> _Method:
        @functools.wraps(method)
        async def run(self: PostgresStore, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            finally:
                self.cache.changed(kinds, announce=announce)

        return run  # type: ignore[return-value]

    return wrap


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release (by default a round trip of RESET ALL, UNLISTEN and the like on
    every query): the store sets no session state, and migrations release their lock themselves."""


class PostgresStore(TriggerTables, ChannelTables, BlueprintTables, FileTables, RetentionTables, Store):
    """Everything the server keeps, in one PostgreSQL database shared by every replica."""

    input_errors = (
        asyncpg.exceptions.CharacterNotInRepertoireError,  # NUL in a text value
        asyncpg.exceptions.UntranslatableCharacterError,  # \u0000 in a jsonb value
    )

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self.dsn = dsn
        self.pool_size = max(pool_size, 1)
        self._pool: asyncpg.Pool | None = None
        self.cache = LookupCache()
        self._link: ReplicaLink | None = None

    # -- plumbing ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the pool and bring the schema up to date."""
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=min(2, self.pool_size),
            max_size=self.pool_size,
            command_timeout=60,
            server_settings={"application_name": "pycolonies", "jit": "off"},
            reset=_keep_session,
        )
        try:
            await self._migrate()
        except BaseException:
            await self._pool.close()
            raise

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the PostgreSQL store is not connected (await connect() first)")
        return self._pool

    def replica_link(self) -> ReplicaLink:
        """Cross-replica wake-ups and leader election on this database (see ``server/bridge.py``);
        the store's cache hears of the other replicas' writes through it, and tells them of its own."""
        link = ReplicaLink(self.dsn)
        link.on_store_message = self.cache.forget
        link.on_store_reset = self.cache.forget
        self.cache.announce = link.send_store_message
        self._link = link
        return link

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def _migrate(self) -> None:
        folder = resources.files(__package__).joinpath("migrations")
        scripts = sorted((e for e in folder.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
                done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for entry in scripts:
                    version = int(entry.name.split("_", 1)[0])
                    if version in done:
                        continue
                    log.info("applying PostgreSQL migration %s", entry.name)
                    async with conn.transaction():
                        await conn.execute(entry.read_text())
                        await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # -- server -----------------------------------------------------------------------------

    async def get_server_id(self) -> str | None:
        value: str | None = await self.pool.fetchval("SELECT serverid FROM server WHERE id = 1")
        return value

    async def set_server_id(self, serverid: str) -> None:
        await self.pool.execute(
            "INSERT INTO server (id, serverid) VALUES (1, $1) "
            "ON CONFLICT (id) DO UPDATE SET serverid = excluded.serverid",
            serverid,
        )

    # -- colonies ---------------------------------------------------------------------------

    async def add_colony(self, colony: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "INSERT INTO colonies (name, colonyid) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            colony["name"],
            colony["colonyid"],
        )
        return _count(status) == 1

    async def get_colony(self, name: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT colonyid, name FROM colonies WHERE name = $1", name)
        return {"colonyid": row[0], "name": row[1]} if row else None

    async def list_colonies(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT colonyid, name FROM colonies ORDER BY seq")
        return [{"colonyid": r[0], "name": r[1]} for r in rows]

    async def set_colony_id(self, name: str, colonyid: str) -> bool:
        status = await self.pool.execute("UPDATE colonies SET colonyid = $1 WHERE name = $2", colonyid, name)
        return _count(status) == 1

    @_changes(EXECUTORS + USERS + FUNCTIONS)
    async def remove_colony(self, name: str) -> bool:
        async with self._tx() as conn:
            if _count(await conn.execute("DELETE FROM colonies WHERE name = $1", name)) == 0:
                return False
            for table in ("executors", "functions", "users", "locations", "crons", "generators", "generator_args"):
                await conn.execute(f"DELETE FROM {table} WHERE colonyname = $1", name)
            await conn.execute(
                "DELETE FROM attributes WHERE targetcolonyname = $1 OR targetid IN "
                "(SELECT processid FROM processes WHERE colonyname = $1)",
                name,
            )
            await conn.execute("DELETE FROM processes WHERE colonyname = $1", name)
            await conn.execute("DELETE FROM process_graphs WHERE colonyname = $1", name)
            await conn.execute("DELETE FROM logs WHERE colonyname = $1", name)
            await conn.execute("DELETE FROM files WHERE colonyname = $1", name)
            await conn.execute("DELETE FROM snapshots WHERE colonyname = $1", name)
        return True

    async def set_paused(self, name: str, paused: bool) -> bool:
        status = await self.pool.execute("UPDATE colonies SET paused = $1 WHERE name = $2", bool(paused), name)
        return _count(status) == 1

    async def is_paused(self, name: str) -> bool:
        return bool(await self.pool.fetchval("SELECT paused FROM colonies WHERE name = $1", name))

    # -- executors --------------------------------------------------------------------------

    @_changes(EXECUTORS + FUNCTIONS)
    async def add_executor(self, e: dict[str, Any], *, replace: bool) -> bool:
        values = executor_values(e, bool)
        async with self._tx() as conn:
            existing = await conn.fetchval(
                "SELECT executorid FROM executors WHERE colonyname = $1 AND executorname = $2 FOR UPDATE",
                e["colonyname"],
                e["executorname"],
            )
            if existing is not None:
                if not replace:
                    return False
                await self._unregister(conn, existing, e["colonyname"], e["executorname"])
                await conn.execute(
                    "DELETE FROM executors WHERE colonyname = $1 AND executorname = $2",
                    e["colonyname"],
                    e["executorname"],
                )
            status = await conn.execute(
                f"INSERT INTO executors ({_EXECUTOR_COLUMNS}) VALUES "
                f"({', '.join(f'${i + 1}' for i in range(13))}) ON CONFLICT DO NOTHING",
                *values,
            )
        return _count(status) == 1

    async def get_executor(self, colonyname: str, executorname: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE colonyname = $1 AND executorname = $2",
            colonyname,
            executorname,
        )
        return _executor_from_row(row) if row else None

    async def get_executor_by_id(self, executorid: str, colonyname: str = "") -> dict[str, Any] | None:
        """The executor with this id (in ``colonyname`` when given). The result is shared: treat it
        as read-only."""
        key = (executorid, colonyname)
        found, executor, generation = self.cache.get(EXECUTORS, key)
        if found:
            return executor  # type: ignore[no-any-return]
        if colonyname:
            row = await self.pool.fetchrow(
                f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE executorid = $1 AND colonyname = $2 LIMIT 1",
                executorid,
                colonyname,
            )
        else:
            row = await self.pool.fetchrow(
                f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE executorid = $1 ORDER BY (state = 3) LIMIT 1",
                executorid,
            )
        executor = _executor_from_row(row) if row else None
        self.cache.put(EXECUTORS, key, executor, generation)
        return executor

    async def list_executors(self, colonyname: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE colonyname = $1 ORDER BY commissiontime", colonyname
        )
        return [_executor_from_row(r) for r in rows]

    @_changes(EXECUTORS)
    async def set_executor_state(self, colonyname: str, executorname: str, state: int) -> bool:
        status = await self.pool.execute(
            "UPDATE executors SET state = $1 WHERE colonyname = $2 AND executorname = $3",
            state,
            colonyname,
            executorname,
        )
        return _count(status) == 1

    @_changes(EXECUTORS)
    async def update_executor(self, colonyname: str, executorname: str, **fields: Any) -> bool:
        sets, values = [], []
        for i, (key, value) in enumerate(fields.items(), start=1):
            sets.append(f"{key} = ${i}")
            values.append(_dumps(value) if key in ("capabilities", "allocations") else value)
        n = len(values)
        status = await self.pool.execute(
            f"UPDATE executors SET {', '.join(sets)} WHERE colonyname = ${n + 1} AND executorname = ${n + 2}",
            *values,
            colonyname,
            executorname,
        )
        return _count(status) == 1

    # only lastheardfromtime changes: exact here; elsewhere the entry ages out within the TTL
    @_changes(EXECUTORS, announce=False)
    async def touch_executor(self, executorid: str, now: int) -> None:
        await self.pool.execute("UPDATE executors SET lastheardfromtime = $1 WHERE executorid = $2", now, executorid)

    @_changes(EXECUTORS + FUNCTIONS)
    async def unregister_executor(self, colonyname: str, executorname: str) -> list[str]:
        async with self._tx() as conn:
            executorid = await conn.fetchval(
                "SELECT executorid FROM executors WHERE colonyname = $1 AND executorname = $2 FOR UPDATE",
                colonyname,
                executorname,
            )
            if executorid is None:
                return []
            released = await self._unregister(conn, executorid, colonyname, executorname)
            await conn.execute(
                "UPDATE executors SET state = 3 WHERE colonyname = $1 AND executorname = $2", colonyname, executorname
            )
        return released

    @staticmethod
    async def _unregister(conn: asyncpg.Connection, executorid: str, colonyname: str, executorname: str) -> list[str]:
        """Delete the executor's functions and put its running processes back in the queue."""
        await conn.execute(
            "DELETE FROM functions WHERE colonyname = $1 AND executorname = $2", colonyname, executorname
        )
        rows = await conn.fetch(
            "UPDATE processes SET state = 0, isassigned = FALSE, assignedexecutorid = '', starttime = 0, "
            "endtime = 0, execdeadline = 0 WHERE state = 1 AND assignedexecutorid = $1 AND colonyname = $2 "
            "RETURNING processid",
            executorid,
            colonyname,
        )
        released = [r[0] for r in rows]
        if released:
            await conn.execute("UPDATE attributes SET state = 0 WHERE targetid = ANY($1::text[])", released)
        return released

    async def stale_executors(self, older_than: int) -> list[tuple[str, str]]:
        rows = await self.pool.fetch(
            "SELECT colonyname, executorname FROM executors WHERE state <> 3 AND lastheardfromtime > 0 "
            "AND lastheardfromtime < $1",
            older_than,
        )
        return [(r[0], r[1]) for r in rows]

    @_changes(EXECUTORS)
    async def change_executor_id(self, oldid: str, colonyname: str, newid: str) -> bool:
        status = await self.pool.execute(
            "UPDATE executors SET executorid = $1 WHERE executorid = $2 AND colonyname = $3", newid, oldid, colonyname
        )
        return _count(status) > 0

    # -- functions --------------------------------------------------------------------------

    @_changes(FUNCTIONS)
    async def add_function(self, fn: dict[str, Any], now: int) -> bool:
        status = await self.pool.execute(
            "INSERT INTO functions (functionid, colonyname, executorname, funcname, added, body) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            fn["functionid"],
            fn["colonyname"],
            fn["executorname"],
            fn["funcname"],
            now,
            _dumps(fn),
        )
        return _count(status) == 1

    async def get_function(self, functionid: str) -> dict[str, Any] | None:
        body = await self.pool.fetchval("SELECT body FROM functions WHERE functionid = $1", functionid)
        return orjson.loads(body) if body is not None else None

    async def list_functions(self, colonyname: str, executorname: str = "") -> list[dict[str, Any]]:
        if executorname:
            rows = await self.pool.fetch(
                "SELECT body FROM functions WHERE colonyname = $1 AND executorname = $2 ORDER BY added, functionid",
                colonyname,
                executorname,
            )
        else:
            rows = await self.pool.fetch(
                "SELECT body FROM functions WHERE colonyname = $1 ORDER BY added, functionid", colonyname
            )
        return [orjson.loads(r[0]) for r in rows]

    @_changes(FUNCTIONS)
    async def remove_function(self, functionid: str) -> bool:
        return _count(await self.pool.execute("DELETE FROM functions WHERE functionid = $1", functionid)) == 1

    async def find_functions(self, colonyname: str, executorname: str, funcname: str) -> list[dict[str, Any]]:
        key = (colonyname, executorname, funcname)
        found, functions, generation = self.cache.get(FUNCTIONS, key)
        if not found:
            rows = await self.pool.fetch(
                "SELECT body FROM functions WHERE colonyname = $1 AND executorname = $2 AND funcname = $3",
                colonyname,
                executorname,
                funcname,
            )
            functions = [orjson.loads(r[0]) for r in rows]
            self.cache.put(FUNCTIONS, key, functions, generation)
        return [dict(fn) for fn in functions]

    @_changes(FUNCTIONS)
    async def update_function(self, fn: dict[str, Any]) -> None:
        await self.pool.execute("UPDATE functions SET body = $1 WHERE functionid = $2", _dumps(fn), fn["functionid"])

    # -- users ------------------------------------------------------------------------------

    @_changes(USERS)
    async def add_user(self, user: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "INSERT INTO users (colonyname, name, userid, email, phone) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT DO NOTHING",
            user["colonyname"],
            user["name"],
            user["userid"],
            user["email"],
            user["phone"],
        )
        return _count(status) == 1

    async def get_user(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return _user(
            await self.pool.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users WHERE colonyname = $1 AND name = $2", colonyname, name
            )
        )

    async def get_user_by_id(self, colonyname: str, userid: str) -> dict[str, Any] | None:
        key = (colonyname, userid)
        found, user, generation = self.cache.get(USERS, key)
        if not found:
            user = _user(
                await self.pool.fetchrow(
                    f"SELECT {_USER_COLUMNS} FROM users WHERE colonyname = $1 AND userid = $2 ORDER BY seq LIMIT 1",
                    colonyname,
                    userid,
                )
            )
            self.cache.put(USERS, key, user, generation)
        return user  # type: ignore[no-any-return]

    async def list_users(self, colonyname: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE colonyname = $1 ORDER BY seq", colonyname
        )
        return [u for u in map(_user, rows) if u]

    @_changes(USERS)
    async def remove_user(self, colonyname: str, name: str) -> bool:
        status = await self.pool.execute("DELETE FROM users WHERE colonyname = $1 AND name = $2", colonyname, name)
        return _count(status) == 1

    @_changes(USERS)
    async def change_user_id(self, colonyname: str, oldid: str, newid: str) -> bool:
        status = await self.pool.execute(
            "UPDATE users SET userid = $1 WHERE colonyname = $2 AND userid = $3", newid, colonyname, oldid
        )
        return _count(status) > 0

    # -- locations --------------------------------------------------------------------------

    async def add_location(self, loc: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            "INSERT INTO locations (colonyname, name, locationid, description, long, lat) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            loc["colonyname"],
            loc["name"],
            loc["locationid"],
            loc["description"],
            float(loc["long"]),
            float(loc["lat"]),
        )
        return _count(status) == 1

    async def get_location(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_LOCATION_COLUMNS} FROM locations WHERE colonyname = $1 AND name = $2", colonyname, name
        )
        return _location(row) if row else None

    async def list_locations(self, colonyname: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {_LOCATION_COLUMNS} FROM locations WHERE colonyname = $1 ORDER BY seq", colonyname
        )
        return [_location(r) for r in rows]

    async def remove_location(self, colonyname: str, name: str) -> bool:
        status = await self.pool.execute("DELETE FROM locations WHERE colonyname = $1 AND name = $2", colonyname, name)
        return _count(status) == 1

    # -- processes --------------------------------------------------------------------------

    async def _load_attributes(self, conn: Any, processes: Sequence[ProcessRecord]) -> None:
        """Fill in the attributes of the processes that have any, with one query."""
        ids = [p.processid for p in processes if p.nattributes]
        if not ids:
            return
        rows = await conn.fetch(
            f"SELECT {_ATTRIBUTE_COLUMNS} FROM attributes WHERE targetid = ANY($1::text[]) ORDER BY added, seq", ids
        )
        by_target: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_target.setdefault(r[1], []).append(_attribute_from_row(r))
        for p in processes:
            if p.nattributes:
                p.attributes = by_target.get(p.processid, [])

    async def add_processes(self, processes: Sequence[ProcessRecord]) -> None:
        if len(processes) == 1 and not processes[0].attributes:
            await self.pool.execute(_PROCESS_INSERT, *_pg_values(processes[0]))
            return
        async with self._tx() as conn:
            await self._insert_processes(conn, processes)

    @staticmethod
    async def _insert_processes(conn: asyncpg.Connection, processes: Sequence[ProcessRecord]) -> None:
        for p in processes:
            p.nattributes = len(p.attributes)
        await conn.executemany(_PROCESS_INSERT, [_pg_values(p) for p in processes])
        attributes = [_attribute_values(a, p.submissiontime) for p in processes for a in p.attributes]
        if attributes:
            await conn.executemany(_ATTRIBUTE_INSERT, attributes)

    async def get_process(self, processid: str) -> ProcessRecord | None:
        row = await self.pool.fetchrow(f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE processid = $1", processid)
        if not row:
            return None
        p = _process_from_row(row)
        await self._load_attributes(self.pool, [p])
        return p

    async def claim_process(
        self,
        *,
        colonyname: str,
        executortype: str,
        executorid: str,
        executorname: str,
        locationname: str,
        cpu: int | None,
        mem: int | None,
        now: int,
    ) -> Claim:
        """Assign the best eligible process to the executor, in one statement: the inner SELECT
        locks the best waiting row no other claim holds (SKIP LOCKED), the UPDATE assigns it, a
        second data-modifying CTE mirrors the new state onto its attributes, and the result also
        says why nothing was claimed (paused, or only processes this executor may not take).
        Nothing is assigned while the colony's assignments are paused."""
        args: list[Any] = [executorid, now, colonyname, executortype, locationname.lower(), executorname]
        pick = (
            "SELECT p.processid FROM processes p WHERE p.colonyname = $3 AND p.executortype = $4 "
            "AND p.state = 0 AND NOT p.waitforparents AND (p.locationname = '' OR p.locationname = $5) "
            "AND (p.executornames IS NULL OR p.executornames::jsonb ? $6)"
        )
        if cpu is not None:
            args.append(cpu)
            pick += f" AND p.cpu <= ${len(args)}"
        if mem is not None:
            args.append(mem)
            pick += f" AND p.mem <= ${len(args)}"
        pick += (
            " AND NOT EXISTS (SELECT 1 FROM colonies WHERE name = $3 AND paused) "
            "ORDER BY p.prioritytime LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
        sql = (
            "WITH claimed AS (UPDATE processes SET state = 1, isassigned = TRUE, assignedexecutorid = $1, "
            "starttime = $2, execdeadline = CASE WHEN maxexectime > 0 THEN $2 + maxexectime * 1000000000 ELSE 0 END "
            f"WHERE processid = ({pick}) RETURNING {_PROCESS_COLUMNS}), "
            "mirrored AS (UPDATE attributes SET state = 1 WHERE targetid IN "
            "(SELECT processid FROM claimed WHERE nattributes > 0)) "
            # why nothing was claimed, in the same round trip (read from the statement's snapshot)
            "SELECT claimed.*, status.paused, status.others FROM (SELECT "
            "(SELECT paused FROM colonies WHERE name = $3) AS paused, EXISTS (SELECT 1 FROM processes "
            "WHERE colonyname = $3 AND executortype = $4 AND state = 0 AND NOT waitforparents) AS others) status "
            "LEFT JOIN claimed ON TRUE"
        )
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(sql, *args)
            if row[0] is None:
                return Claim(None, skipped=bool(row[-1]), paused=bool(row[-2]))
            p = _process_from_row(row)
            await self._load_attributes(conn, [p])
        return Claim(p)

    async def update_process(
        self,
        processid: str,
        from_states: Sequence[int] | None,
        fields: dict[str, Any],
        assigned_to: str | None = None,
        mirror_attributes: bool = True,
    ) -> bool:
        sets, values = [], []
        for key, value in fields.items():
            if key in ("parents", "children", "errors") or (key == "executornames" and value is not None):
                value = _dumps(value)
            values.append(value)
            sets.append(f"{key} = ${len(values)}")
        values.append(processid)
        sql = f"UPDATE processes SET {', '.join(sets)} WHERE processid = ${len(values)}"
        if from_states is not None:
            sql += f" AND state IN ({_in(from_states)})"
        if assigned_to is not None:
            values.append(assigned_to)
            sql += f" AND assignedexecutorid = ${len(values)}"
        if "state" not in fields or not mirror_attributes:
            return _count(await self.pool.execute(sql, *values)) == 1
        state_param = list(fields).index("state") + 1
        changed = await self.pool.fetchval(
            f"WITH changed AS ({sql} RETURNING processid), mirrored AS (UPDATE attributes SET state = ${state_param} "
            "WHERE targetid IN (SELECT processid FROM changed)) SELECT count(*) FROM changed",
            *values,
        )
        return bool(changed == 1)

    async def list_processes(
        self,
        colonyname: str,
        state: int,
        count: int,
        *,
        executortype: str = "",
        label: str = "",
        initiatorid: str = "",
    ) -> list[ProcessRecord]:
        sql = f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE colonyname = $1 AND state = $2"
        args: list[Any] = [colonyname, state]
        if executortype:
            args.append(executortype)
            sql += f" AND executortype = ${len(args)}"
        elif initiatorid:
            args.append(initiatorid)
            sql += f" AND initiatorid = ${len(args)}"
        elif label:
            args.append(label)
            sql += f" AND label = ${len(args)}"
        if state == WAITING:
            sql += " ORDER BY prioritytime"
        elif state == RUNNING:
            sql += " ORDER BY starttime"
        else:
            sql += " ORDER BY endtime DESC"
        args.append(max(count, 0))
        sql += f" LIMIT ${len(args)}"
        return await self._fetch_processes(sql, args)

    async def _fetch_processes(self, sql: str, args: Sequence[Any]) -> list[ProcessRecord]:
        async with self.pool.acquire() as conn:
            processes = [_process_from_row(r) for r in await conn.fetch(sql, *args)]
            await self._load_attributes(conn, processes)
        return processes

    async def process_history(self, colonyname: str, executorid: str, since: int, state: int) -> list[ProcessRecord]:
        sql = f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE colonyname = $1 AND state = $2 AND submissiontime >= $3"
        args: list[Any] = [colonyname, state, since]
        if executorid:
            args.append(executorid)
            sql += " AND assignedexecutorid = $4"
        sql += " ORDER BY submissiontime"
        return await self._fetch_processes(sql, args)

    async def remove_process(self, processid: str) -> bool:
        return await self._delete_processes(self.pool, "processid = $1", processid) == 1

    async def remove_processes(self, colonyname: str, state: int | None, *, workflows: bool) -> int:
        graph = "processgraphid <> ''" if workflows else "processgraphid = ''"
        where = f"colonyname = $1 AND {graph} AND state <> 1"
        args: list[Any] = [colonyname]
        if state is not None:
            args.append(state)
            where += " AND state = $2"
        return await self._delete_processes(self.pool, where, *args)

    @staticmethod
    async def _delete_processes(conn: asyncpg.Pool | asyncpg.Connection, where: str, *args: Any) -> int:
        """Delete the processes matching ``where`` and their attributes, in one statement (atomic
        on its own, ``where`` evaluated once); returns how many processes. Channels left behind
        are swept (``remove_orphan_channels``)."""
        count = await conn.fetchval(
            f"WITH gone AS (DELETE FROM processes WHERE {where} RETURNING processid), "
            "attrs AS (DELETE FROM attributes WHERE targetid IN (SELECT processid FROM gone)) "
            "SELECT COUNT(*) FROM gone",
            *args,
        )
        return int(count)

    async def expired_running(self, before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 1 AND execdeadline > 0 "
            "AND execdeadline < $1 ORDER BY execdeadline LIMIT $2",
            before,
            limit,
        )
        return [_process_from_row(r) for r in rows]

    async def unresponsive_running(self, heard_before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 1 AND EXISTS (SELECT 1 FROM executors e "
            "WHERE e.executorid = processes.assignedexecutorid AND e.colonyname = processes.colonyname "
            "AND e.lastheardfromtime < $1) LIMIT $2",
            heard_before,
            limit,
        )
        return [_process_from_row(r) for r in rows]

    async def expired_waiting(self, before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 0 AND waitdeadline > 0 "
            "AND waitdeadline < $1 ORDER BY prioritytime LIMIT $2",
            before,
            limit,
        )
        return [_process_from_row(r) for r in rows]

    async def _count_by_state(self, table: str, colonyname: str | None) -> dict[int, int]:
        if colonyname is None:
            rows = await self.pool.fetch(f"SELECT state, COUNT(*) FROM {table} GROUP BY state")
        else:
            rows = await self.pool.fetch(
                f"SELECT state, COUNT(*) FROM {table} WHERE colonyname = $1 GROUP BY state", colonyname
            )
        return {r[0]: r[1] for r in rows}

    async def count_processes(self, colonyname: str | None) -> dict[int, int]:
        return await self._count_by_state("processes", colonyname)

    async def count_executors(self, colonyname: str | None) -> dict[int, int]:
        return await self._count_by_state("executors", colonyname)

    async def count_colonies(self) -> int:
        return int(await self.pool.fetchval("SELECT COUNT(*) FROM colonies"))

    # -- process graphs -------------------------------------------------------------------

    async def add_graph(self, graph: GraphRecord, processes: Sequence[ProcessRecord]) -> None:
        async with self._tx() as conn:
            await conn.execute(
                f"INSERT INTO process_graphs ({GRAPH_COLUMNS}) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                graph.processgraphid,
                graph.colonyname,
                graph.initiatorid,
                graph.initiatorname,
                _dumps(graph.rootprocessids),
                _dumps(graph.processids),
                graph.state,
                graph.submissiontime,
                graph.starttime,
                graph.endtime,
                graph.nprocesses,
                graph.nsuccessful,
            )
            await self._insert_processes(conn, processes)

    async def get_graph(self, processgraphid: str) -> GraphRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {GRAPH_COLUMNS} FROM process_graphs WHERE processgraphid = $1", processgraphid
        )
        return graph_from_row(row) if row else None

    async def list_graphs(self, colonyname: str, state: int, count: int) -> list[GraphRecord]:
        rows = await self.pool.fetch(
            f"SELECT {GRAPH_COLUMNS} FROM process_graphs WHERE colonyname = $1 AND state = $2 "
            "ORDER BY submissiontime DESC LIMIT $3",
            colonyname,
            state,
            max(count, 0),
        )
        return [graph_from_row(r) for r in rows]

    async def count_graphs(self, colonyname: str) -> dict[int, int]:
        return await self._count_by_state("process_graphs", colonyname)

    async def update_graph(
        self, processgraphid: str, from_states: Sequence[int] | None, fields: dict[str, Any]
    ) -> bool:
        sets = ", ".join(f"{key} = ${i}" for i, key in enumerate(fields, start=1))
        sql = f"UPDATE process_graphs SET {sets} WHERE processgraphid = ${len(fields) + 1}"
        if from_states is not None:
            sql += f" AND state IN ({_in(from_states)})"
        return _count(await self.pool.execute(sql, *fields.values(), processgraphid)) == 1

    async def count_graph_success(self, processgraphid: str) -> tuple[int, int, int] | None:
        row = await self.pool.fetchrow(
            "UPDATE process_graphs SET nsuccessful = nsuccessful + 1 WHERE processgraphid = $1 "
            "RETURNING nsuccessful, nprocesses, state",
            processgraphid,
        )
        return (row[0], row[1], row[2]) if row else None

    async def graph_processes(self, processgraphid: str) -> list[ProcessRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE processgraphid = $1", processgraphid
        )
        return [_process_from_row(r) for r in rows]

    async def parent_succeeded(self, childid: str) -> int | None:
        value: int | None = await self.pool.fetchval(
            "UPDATE processes SET pendingparents = pendingparents - 1 WHERE processid = $1 RETURNING pendingparents",
            childid,
        )
        return value

    async def outputs(self, processids: Sequence[str]) -> dict[str, str]:
        rows = await self.pool.fetch(
            "SELECT processid, output FROM processes WHERE processid = ANY($1::text[])", list(processids)
        )
        return {r[0]: r[1] for r in rows}

    async def add_child(self, child: ProcessRecord, parent: str, insert: bool, before: str) -> bool:
        async with self._tx() as conn:
            row = await conn.fetchrow("SELECT children, state FROM processes WHERE processid = $1 FOR UPDATE", parent)
            if row is None or row[1] != RUNNING:
                return False
            children: list[str] = orjson.loads(row[0])
            if insert:
                child.children = children
                for grandchild in children:
                    got = await conn.fetchval(
                        "SELECT parents FROM processes WHERE processid = $1 FOR UPDATE", grandchild
                    )
                    if got is not None:
                        parents = [child.processid if p == parent else p for p in orjson.loads(got)]
                        await conn.execute(
                            "UPDATE processes SET parents = $1 WHERE processid = $2", _dumps(parents), grandchild
                        )
                children = [child.processid]
            else:
                children = [*children, child.processid]
                if before:
                    got = await conn.fetchval("SELECT parents FROM processes WHERE processid = $1 FOR UPDATE", before)
                    if got is not None:
                        child.children = [before]
                        await conn.execute(
                            "UPDATE processes SET parents = $1, pendingparents = pendingparents + 1 "
                            "WHERE processid = $2",
                            _dumps([*orjson.loads(got), child.processid]),
                            before,
                        )
            await conn.execute("UPDATE processes SET children = $1 WHERE processid = $2", _dumps(children), parent)
            await self._insert_processes(conn, [child])
            graph = await conn.fetchval(
                "SELECT processids FROM process_graphs WHERE processgraphid = $1 FOR UPDATE", child.processgraphid
            )
            if graph is not None:
                await conn.execute(
                    "UPDATE process_graphs SET processids = $1, nprocesses = nprocesses + 1 WHERE processgraphid = $2",
                    _dumps([*orjson.loads(graph), child.processid]),
                    child.processgraphid,
                )
        return True

    async def cancel_graph(self, processgraphid: str, now: int) -> list[str]:
        async with self._tx() as conn:
            rows = await conn.fetch(
                "UPDATE processes SET state = 4, endtime = $1 WHERE processgraphid = $2 AND state IN (0, 1) "
                "RETURNING processid",
                now,
                processgraphid,
            )
            ids = [r[0] for r in rows]
            if ids:
                await conn.execute("UPDATE attributes SET state = 4 WHERE targetid = ANY($1::text[])", ids)
            await conn.execute(
                "UPDATE process_graphs SET state = 4, endtime = $1 WHERE processgraphid = $2 AND state IN (0, 1)",
                now,
                processgraphid,
            )
        return ids

    async def remove_graph(self, processgraphid: str) -> bool:
        async with self._tx() as conn:
            return await self._delete_graphs(conn, "processgraphid = $1", processgraphid) == 1

    async def remove_graphs(self, colonyname: str, state: int | None) -> int:
        where, args = "colonyname = $1 AND state <> 1", [colonyname]
        if state is not None:
            where += " AND state = $2"
            args.append(state)
        async with self._tx() as conn:
            return await self._delete_graphs(conn, where, *args)

    @classmethod
    async def _delete_graphs(cls, conn: asyncpg.Connection, where: str, *args: Any) -> int:
        """Delete the graphs matching ``where`` with all their processes and the processes'
        attributes (in the caller's transaction); returns how many graphs."""
        rows = await conn.fetch(f"DELETE FROM process_graphs WHERE {where} RETURNING processgraphid", *args)
        if rows:
            ids = [r[0] for r in rows]
            await cls._delete_processes(conn, "processgraphid = ANY($1::text[]) AND processgraphid <> ''", ids)
        return len(rows)

    # -- attributes -------------------------------------------------------------------------

    async def add_attribute(self, attribute: dict[str, Any], now: int) -> bool:
        async with self._tx() as conn:
            status = await conn.execute(
                _ATTRIBUTE_INSERT + " ON CONFLICT DO NOTHING", *_attribute_values(attribute, now)
            )
            if _count(status) != 1:
                return False
            await conn.execute(
                "UPDATE processes SET nattributes = nattributes + 1 WHERE processid = $1", attribute["targetid"]
            )
        return True

    async def get_attribute(self, attributeid: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_ATTRIBUTE_COLUMNS} FROM attributes WHERE attributeid = $1", attributeid
        )
        return _attribute_from_row(row) if row else None

    # -- logs -------------------------------------------------------------------------------

    async def _select_logs(
        self, where: str, args: list[Any], count: int, since: int, latest: bool
    ) -> list[dict[str, Any]]:
        """The first ``count`` matching lines after ``since``, or the newest ``count`` when ``latest``;
        oldest first either way."""
        sql = f"SELECT {_LOG_COLUMNS} FROM logs WHERE {where}"
        if latest:
            sql += " ORDER BY ts DESC, id DESC"
        else:
            if since > 0:
                args.append(min(since, _INT64_MAX))
                sql += f" AND ts > ${len(args)}"
            sql += " ORDER BY ts, id"
        args.append(min(max(count, 0), _INT64_MAX))
        sql += f" LIMIT ${len(args)}"
        rows = list(await self.pool.fetch(sql, *args))
        if latest:
            rows.reverse()
        return _logs(rows)

    async def add_log(self, log: dict[str, Any], added: int) -> None:
        await self.pool.execute(
            "INSERT INTO logs (processid, colonyname, executorname, message, ts, added) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            log["processid"],
            log["colonyname"],
            log["executorname"],
            log["message"],
            log["timestamp"],
            added,
        )

    async def get_process_logs(
        self, processid: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        return await self._select_logs("processid = $1", [processid], count, since, latest)

    async def get_executor_logs(
        self, colonyname: str, executorname: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        return await self._select_logs(
            "colonyname = $1 AND executorname = $2", [colonyname, executorname], count, since, latest
        )

    async def search_logs(self, colonyname: str, text: str, days: int, count: int, now: int) -> list[dict[str, Any]]:
        # strpos() is a case-sensitive literal match: no LIKE wildcards, no case folding.
        rows = await self.pool.fetch(
            f"SELECT {_LOG_COLUMNS} FROM logs WHERE colonyname = $1 AND added > $2 AND strpos(message, $3) > 0 "
            "ORDER BY added, id LIMIT $4",
            colonyname,
            now - max(days, 0) * _DAY_NS,
            text,
            min(max(count, 0), _INT64_MAX),
        )
        return _logs(rows)

    async def remove_logs(self, colonyname: str) -> int:
        return _count(await self.pool.execute("DELETE FROM logs WHERE colonyname = $1", colonyname))

    async def remove_logs_before(self, before: int, limit: int | None = None) -> int:
        where = "colonyname IN (SELECT name FROM colonies) AND added < $1"
        if limit is None:
            return _count(await self.pool.execute(f"DELETE FROM logs WHERE {where}", before))
        return _count(
            await self.pool.execute(
                f"DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE {where} LIMIT $2)", before, max(limit, 0)
            )
        )
