"""The Store contract on SQLite: one file, WAL mode, created and migrated on first open.

Calls run on the event loop's thread: each is a few short indexed statements, cheaper than a hop
to a worker thread, and running to completion without an ``await`` makes every method atomic with
respect to the others in this process. Multi-statement writes still run in ``BEGIN IMMEDIATE``
transactions so that a crash leaves nothing half-written and a second process on the same file
stays correct.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from ..base import Store
from ..records import RUNNING, WAITING, Claim, GraphRecord, ProcessRecord
from ..rows import GRAPH_COLUMNS, executor_values, graph_from_row, process_values
from ..rows import attribute_from_row as _attribute_from_row
from ..rows import dumps as _dumps
from ..rows import executor_from_row as _executor_from_row
from ..rows import process_from_row as _process_from_row
from .blueprints import BlueprintTables
from .channels import ChannelTables
from .files import FileTables
from .retention import RetentionTables
from .triggers import TriggerTables

__all__ = ["SQLiteStore", "StoreInUseError", "ensure_available"]

log = logging.getLogger("pycolonies.store")

_PROCESS_COLUMNS = (
    "processid, colonyname, executortype, locationname, executornames, state, isassigned, "
    "waitforparents, prioritytime, cpu, mem, assignedexecutorid, initiatorid, initiatorname, "
    "submissiontime, starttime, endtime, waitdeadline, execdeadline, retries, maxwaittime, "
    "maxexectime, maxretries, label, funcname, processgraphid, spec, parents, children, input, "
    "output, errors, nattributes, pendingparents"
)
_PROCESS_PLACEHOLDERS = ", ".join("?" * len(_PROCESS_COLUMNS.split(",")))
_CLAIMED_COLUMNS = ", ".join(f"processes.{c.strip()}" for c in _PROCESS_COLUMNS.split(","))
_EXECUTOR_COLUMNS = (
    "executorid, colonyname, executorname, executortype, state, requirefuncreg, commissiontime, "
    "lastheardfromtime, locationname, capabilities, allocations, blueprintid, blueprintgen"
)
_INT64_MAX = 2**63 - 1
_DAY_NS = 86_400 * 1_000_000_000
_ATTRIBUTE_COLUMNS = "attributeid, targetid, targetcolonyname, targetprocessgraphid, state, attributetype, key, value"


class StoreInUseError(RuntimeError):
    """Another server process has this store open."""


def _claim_ownership(path: str) -> Any:
    """Hold an exclusive lock on ``<path>.lock`` for the life of the store: one server per file."""
    handle = open(path + ".lock", "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StoreInUseError(f"the store {path} is in use by another server") from None
    return handle


def ensure_available(path: str) -> None:
    """Raise StoreInUseError now if another server holds the store (for a friendly start-up error)."""
    if path != ":memory:" and Path(path).parent.exists():
        _claim_ownership(path).close()


class _Checkpointer:
    """A thread that checkpoints the WAL every ``interval`` seconds on its own connection."""

    def __init__(self, path: str, interval: float) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stop.wait(self._interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; retrying", exc_info=True)
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class SQLiteStore(TriggerTables, ChannelTables, BlueprintTables, FileTables, RetentionTables, Store):
    """Everything the server keeps, in one SQLite file."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", checkpoint_interval: float = 0.5) -> None:
        self.path = str(path)
        self._owner: Any = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._owner = _claim_ownership(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.execute("PRAGMA journal_size_limit=67108864")
        self._migrate()
        # This process alone writes the file (see _claim_ownership), so lookups made on every
        # request can be cached exactly: each cache is dropped by every write to what it holds.
        self._executor_cache: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._user_cache: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._function_cache: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._checkpointer: _Checkpointer | None = None
        if self.path != ":memory:":
            # Checkpoints (copying the WAL into the database, with its fsync) run on a thread of
            # their own instead of inside whichever commit crosses the threshold.
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = _Checkpointer(self.path, checkpoint_interval)

    def _forget(self, *, executors: bool = False, users: bool = False, functions: bool = False) -> None:
        if executors:
            self._executor_cache.clear()
        if users:
            self._user_cache.clear()
        if functions:
            self._function_cache.clear()

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _migrate(self) -> None:
        db = self._db
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        folder = resources.files(__package__).joinpath("migrations")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".sql"):
                continue
            version = int(entry.name.split("_", 1)[0])
            if version in done:
                continue
            script = entry.read_text()
            db.executescript(f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_migrations VALUES ({version});\nCOMMIT;")

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
        if self._owner is not None:
            self._owner.close()

    # -- server -----------------------------------------------------------------------------

    async def get_server_id(self) -> str | None:
        row = self._db.execute("SELECT serverid FROM server WHERE id = 1").fetchone()
        return row[0] if row else None

    async def set_server_id(self, serverid: str) -> None:
        self._db.execute(
            "INSERT INTO server (id, serverid) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET serverid = excluded.serverid",
            (serverid,),
        )

    # -- colonies ---------------------------------------------------------------------------

    async def add_colony(self, colony: dict[str, Any]) -> bool:
        cur = self._db.execute(
            "INSERT INTO colonies (name, colonyid) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (colony["name"], colony["colonyid"]),
        )
        return cur.rowcount == 1

    async def get_colony(self, name: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT colonyid, name FROM colonies WHERE name = ?", (name,)).fetchone()
        return {"colonyid": row[0], "name": row[1]} if row else None

    async def list_colonies(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT colonyid, name FROM colonies ORDER BY rowid").fetchall()
        return [{"colonyid": r[0], "name": r[1]} for r in rows]

    async def set_colony_id(self, name: str, colonyid: str) -> bool:
        cur = self._db.execute("UPDATE colonies SET colonyid = ? WHERE name = ?", (colonyid, name))
        return cur.rowcount == 1

    async def remove_colony(self, name: str) -> bool:
        self._forget(executors=True, users=True, functions=True)
        with self._tx() as db:
            cur = db.execute("DELETE FROM colonies WHERE name = ?", (name,))
            if cur.rowcount == 0:
                return False
            for table in ("executors", "functions", "users", "locations", "crons", "generators", "generator_args"):
                db.execute(f"DELETE FROM {table} WHERE colonyname = ?", (name,))
            db.execute(
                "DELETE FROM attributes WHERE targetcolonyname = ? OR targetid IN "
                "(SELECT processid FROM processes WHERE colonyname = ?)",
                (name, name),
            )
            db.execute("DELETE FROM processes WHERE colonyname = ?", (name,))
            db.execute("DELETE FROM process_graphs WHERE colonyname = ?", (name,))
            db.execute("DELETE FROM logs WHERE colonyname = ?", (name,))
            db.execute("DELETE FROM files WHERE colonyname = ?", (name,))
            db.execute("DELETE FROM snapshots WHERE colonyname = ?", (name,))
        return True

    async def set_paused(self, name: str, paused: bool) -> bool:
        cur = self._db.execute("UPDATE colonies SET paused = ? WHERE name = ?", (int(paused), name))
        return cur.rowcount == 1

    async def is_paused(self, name: str) -> bool:
        row = self._db.execute("SELECT paused FROM colonies WHERE name = ?", (name,)).fetchone()
        return bool(row and row[0])

    # -- executors --------------------------------------------------------------------------

    async def add_executor(self, e: dict[str, Any], *, replace: bool) -> bool:
        self._forget(executors=True, functions=True)
        values = executor_values(e)
        with self._tx() as db:
            exists = db.execute(
                "SELECT executorid FROM executors WHERE colonyname = ? AND executorname = ?",
                (e["colonyname"], e["executorname"]),
            ).fetchone()
            if exists:
                if not replace:
                    return False
                self._unregister(db, exists[0], e["colonyname"], e["executorname"])
                db.execute(
                    "DELETE FROM executors WHERE colonyname = ? AND executorname = ?",
                    (e["colonyname"], e["executorname"]),
                )
            db.execute(f"INSERT INTO executors ({_EXECUTOR_COLUMNS}) VALUES ({', '.join('?' * 13)})", values)
        return True

    async def get_executor(self, colonyname: str, executorname: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE colonyname = ? AND executorname = ?",
            (colonyname, executorname),
        ).fetchone()
        return _executor_from_row(row) if row else None

    async def get_executor_by_id(self, executorid: str, colonyname: str = "") -> dict[str, Any] | None:
        """The executor with this id (in ``colonyname`` when given; one key may serve several colonies).
        The result is shared: treat it as read-only."""
        key = (executorid, colonyname)
        if key in self._executor_cache:
            return self._executor_cache[key]
        if colonyname:
            row = self._db.execute(
                f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE executorid = ? AND colonyname = ?",
                (executorid, colonyname),
            ).fetchone()
        else:
            row = self._db.execute(
                f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE executorid = ? ORDER BY state = 3 LIMIT 1",
                (executorid,),
            ).fetchone()
        executor = _executor_from_row(row) if row else None
        self._executor_cache[key] = executor
        return executor

    async def list_executors(self, colonyname: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {_EXECUTOR_COLUMNS} FROM executors WHERE colonyname = ? ORDER BY commissiontime",
            (colonyname,),
        ).fetchall()
        return [_executor_from_row(r) for r in rows]

    async def set_executor_state(self, colonyname: str, executorname: str, state: int) -> bool:
        self._forget(executors=True)
        cur = self._db.execute(
            "UPDATE executors SET state = ? WHERE colonyname = ? AND executorname = ?",
            (state, colonyname, executorname),
        )
        return cur.rowcount == 1

    async def update_executor(self, colonyname: str, executorname: str, **fields: Any) -> bool:
        self._forget(executors=True)
        sets, values = [], []
        for key, value in fields.items():
            sets.append(f"{key} = ?")
            values.append(_dumps(value) if key in ("capabilities", "allocations") else value)
        cur = self._db.execute(
            f"UPDATE executors SET {', '.join(sets)} WHERE colonyname = ? AND executorname = ?",
            (*values, colonyname, executorname),
        )
        return cur.rowcount == 1

    async def touch_executor(self, executorid: str, now: int) -> None:
        self._forget(executors=True)
        self._db.execute("UPDATE executors SET lastheardfromtime = ? WHERE executorid = ?", (now, executorid))

    async def unregister_executor(self, colonyname: str, executorname: str) -> list[str]:
        self._forget(executors=True, functions=True)
        with self._tx() as db:
            row = db.execute(
                "SELECT executorid FROM executors WHERE colonyname = ? AND executorname = ?",
                (colonyname, executorname),
            ).fetchone()
            if not row:
                return []
            released = self._unregister(db, row[0], colonyname, executorname)
            db.execute(
                "UPDATE executors SET state = 3 WHERE colonyname = ? AND executorname = ?",
                (colonyname, executorname),
            )
        return released

    def _unregister(self, db: sqlite3.Connection, executorid: str, colonyname: str, executorname: str) -> list[str]:
        """Delete the executor's functions and put its running processes back in the queue."""
        db.execute("DELETE FROM functions WHERE colonyname = ? AND executorname = ?", (colonyname, executorname))
        released = [
            r[0]
            for r in db.execute(
                "SELECT processid FROM processes WHERE state = 1 AND assignedexecutorid = ? AND colonyname = ?",
                (executorid, colonyname),
            )
        ]
        for pid in released:
            db.execute(
                "UPDATE processes SET state = 0, isassigned = 0, assignedexecutorid = '', starttime = 0, "
                "endtime = 0, execdeadline = 0 WHERE processid = ?",
                (pid,),
            )
            db.execute("UPDATE attributes SET state = 0 WHERE targetid = ?", (pid,))
        return released

    async def stale_executors(self, older_than: int) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT colonyname, executorname FROM executors WHERE state != 3 AND lastheardfromtime > 0 "
            "AND lastheardfromtime < ?",
            (older_than,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    async def change_executor_id(self, oldid: str, colonyname: str, newid: str) -> bool:
        self._forget(executors=True)
        cur = self._db.execute(
            "UPDATE executors SET executorid = ? WHERE executorid = ? AND colonyname = ?",
            (newid, oldid, colonyname),
        )
        return cur.rowcount > 0

    # -- functions --------------------------------------------------------------------------

    async def add_function(self, fn: dict[str, Any], now: int) -> bool:
        self._forget(functions=True)
        cur = self._db.execute(
            "INSERT INTO functions (functionid, colonyname, executorname, funcname, added, body) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (fn["functionid"], fn["colonyname"], fn["executorname"], fn["funcname"], now, _dumps(fn)),
        )
        return cur.rowcount == 1

    async def get_function(self, functionid: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM functions WHERE functionid = ?", (functionid,)).fetchone()
        return orjson.loads(row[0]) if row else None

    async def list_functions(self, colonyname: str, executorname: str = "") -> list[dict[str, Any]]:
        if executorname:
            rows = self._db.execute(
                "SELECT body FROM functions WHERE colonyname = ? AND executorname = ? ORDER BY added",
                (colonyname, executorname),
            ).fetchall()
        else:
            rows = self._db.execute(
                "SELECT body FROM functions WHERE colonyname = ? ORDER BY added", (colonyname,)
            ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    async def remove_function(self, functionid: str) -> bool:
        self._forget(functions=True)
        return self._db.execute("DELETE FROM functions WHERE functionid = ?", (functionid,)).rowcount == 1

    async def find_functions(self, colonyname: str, executorname: str, funcname: str) -> list[dict[str, Any]]:
        key = (colonyname, executorname, funcname)
        if key not in self._function_cache:
            rows = self._db.execute(
                "SELECT body FROM functions WHERE colonyname = ? AND executorname = ? AND funcname = ?",
                (colonyname, executorname, funcname),
            ).fetchall()
            self._function_cache[key] = [orjson.loads(r[0]) for r in rows]
        return [dict(fn) for fn in self._function_cache[key]]

    async def update_function(self, fn: dict[str, Any]) -> None:
        self._forget(functions=True)
        self._db.execute("UPDATE functions SET body = ? WHERE functionid = ?", (_dumps(fn), fn["functionid"]))

    # -- users ------------------------------------------------------------------------------

    async def add_user(self, user: dict[str, Any]) -> bool:
        self._forget(users=True)
        cur = self._db.execute(
            "INSERT INTO users (colonyname, name, userid, email, phone) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (user["colonyname"], user["name"], user["userid"], user["email"], user["phone"]),
        )
        return cur.rowcount == 1

    @staticmethod
    def _user(row: Sequence[Any] | None) -> dict[str, Any] | None:
        if not row:
            return None
        return {"colonyname": row[0], "userid": row[1], "name": row[2], "email": row[3], "phone": row[4]}

    async def get_user(self, colonyname: str, name: str) -> dict[str, Any] | None:
        return self._user(
            self._db.execute(
                "SELECT colonyname, userid, name, email, phone FROM users WHERE colonyname = ? AND name = ?",
                (colonyname, name),
            ).fetchone()
        )

    async def get_user_by_id(self, colonyname: str, userid: str) -> dict[str, Any] | None:
        key = (colonyname, userid)
        if key not in self._user_cache:
            self._user_cache[key] = self._user(
                self._db.execute(
                    "SELECT colonyname, userid, name, email, phone FROM users WHERE colonyname = ? AND userid = ?",
                    (colonyname, userid),
                ).fetchone()
            )
        return self._user_cache[key]

    async def list_users(self, colonyname: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT colonyname, userid, name, email, phone FROM users WHERE colonyname = ? ORDER BY rowid",
            (colonyname,),
        ).fetchall()
        return [u for u in map(self._user, rows) if u]

    async def remove_user(self, colonyname: str, name: str) -> bool:
        self._forget(users=True)
        cur = self._db.execute("DELETE FROM users WHERE colonyname = ? AND name = ?", (colonyname, name))
        return cur.rowcount == 1

    async def change_user_id(self, colonyname: str, oldid: str, newid: str) -> bool:
        self._forget(users=True)
        cur = self._db.execute(
            "UPDATE users SET userid = ? WHERE colonyname = ? AND userid = ?", (newid, colonyname, oldid)
        )
        return cur.rowcount > 0

    # -- locations --------------------------------------------------------------------------

    async def add_location(self, loc: dict[str, Any]) -> bool:
        cur = self._db.execute(
            "INSERT INTO locations (colonyname, name, locationid, description, long, lat) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (loc["colonyname"], loc["name"], loc["locationid"], loc["description"], loc["long"], loc["lat"]),
        )
        return cur.rowcount == 1

    @staticmethod
    def _location(row: Sequence[Any]) -> dict[str, Any]:
        return {
            "locationid": row[0],
            "name": row[1],
            "colonyname": row[2],
            "description": row[3],
            "long": row[4],
            "lat": row[5],
        }

    async def get_location(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT locationid, name, colonyname, description, long, lat FROM locations "
            "WHERE colonyname = ? AND name = ?",
            (colonyname, name),
        ).fetchone()
        return self._location(row) if row else None

    async def list_locations(self, colonyname: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT locationid, name, colonyname, description, long, lat FROM locations "
            "WHERE colonyname = ? ORDER BY rowid",
            (colonyname,),
        ).fetchall()
        return [self._location(r) for r in rows]

    async def remove_location(self, colonyname: str, name: str) -> bool:
        cur = self._db.execute("DELETE FROM locations WHERE colonyname = ? AND name = ?", (colonyname, name))
        return cur.rowcount == 1

    # -- processes --------------------------------------------------------------------------

    def _attributes_of(self, pid: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {_ATTRIBUTE_COLUMNS} FROM attributes WHERE targetid = ? ORDER BY added, rowid", (pid,)
        ).fetchall()
        return [_attribute_from_row(r) for r in rows]

    def _insert_attribute(self, db: sqlite3.Connection, a: dict[str, Any], now: int) -> None:
        db.execute(
            f"INSERT INTO attributes ({_ATTRIBUTE_COLUMNS}, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a["attributeid"],
                a["targetid"],
                a["targetcolonyname"],
                a["targetprocessgraphid"],
                a["state"],
                a["attributetype"],
                a["key"],
                a["value"],
                now,
            ),
        )

    async def add_processes(self, processes: Sequence[ProcessRecord]) -> None:
        insert = f"INSERT INTO processes ({_PROCESS_COLUMNS}) VALUES ({_PROCESS_PLACEHOLDERS})"
        if len(processes) == 1 and not processes[0].attributes:
            self._db.execute(insert, process_values(processes[0]))  # one statement: atomic on its own
            return
        with self._tx() as db:
            for p in processes:
                p.nattributes = len(p.attributes)
                db.execute(insert, process_values(p))
                for a in p.attributes:
                    self._insert_attribute(db, a, p.submissiontime)

    async def get_process(self, processid: str) -> ProcessRecord | None:
        row = self._db.execute(f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE processid = ?", (processid,)).fetchone()
        if not row:
            return None
        p = _process_from_row(row)
        if p.nattributes:
            p.attributes = self._attributes_of(processid)
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
        """Assign the best eligible process to the executor. Nothing is assigned while the colony's
        assignments are paused."""
        pick = (
            "SELECT p.processid FROM processes p INDEXED BY processes_assignable "
            "WHERE p.colonyname = ? AND p.executortype = ? "
            "AND p.state = 0 AND p.waitforparents = 0 AND (p.locationname = '' OR p.locationname = ?) "
            "AND (p.executornames IS NULL OR EXISTS (SELECT 1 FROM json_each(p.executornames) WHERE value = ?))"
        )
        args: list[Any] = [executorid, now, now, colonyname, executortype, locationname.lower(), executorname]
        if cpu is not None:
            pick += " AND p.cpu <= ?"
            args.append(cpu)
        if mem is not None:
            pick += " AND p.mem <= ?"
            args.append(mem)
        pick += " AND NOT EXISTS (SELECT 1 FROM colonies WHERE name = ? AND paused = 1) ORDER BY p.prioritytime LIMIT 1"
        args.append(colonyname)
        sql = (
            "UPDATE processes SET state = 1, isassigned = 1, assignedexecutorid = ?, starttime = ?, "
            "execdeadline = CASE WHEN maxexectime > 0 THEN ? + maxexectime * 1000000000 ELSE 0 END "
            f"WHERE processid = ({pick}) RETURNING {_CLAIMED_COLUMNS}"
        )
        row = self._db.execute(sql, args).fetchone()  # one statement: select and assign atomically
        if row is None:
            paused, others = self._db.execute(
                "SELECT (SELECT paused FROM colonies WHERE name = ?), EXISTS (SELECT 1 FROM processes "
                "INDEXED BY processes_assignable WHERE colonyname = ? AND executortype = ? AND state = 0 "
                "AND waitforparents = 0)",
                (colonyname, colonyname, executortype),
            ).fetchone()
            return Claim(None, skipped=bool(others), paused=bool(paused))
        p = _process_from_row(row)
        if p.nattributes:
            self._db.execute("UPDATE attributes SET state = 1 WHERE targetid = ?", (p.processid,))
            p.attributes = self._attributes_of(p.processid)
        return Claim(p)

    async def update_process(
        self,
        processid: str,
        from_states: Sequence[int] | None,
        fields: dict[str, Any],
        assigned_to: str | None = None,
        mirror_attributes: bool = True,
    ) -> bool:
        """Set ``fields`` on the process if its state is one of ``from_states`` (and, when given,
        it is assigned to ``assigned_to``); a new ``state`` is mirrored onto its attributes unless
        the caller knows it has none."""
        sets, values = [], []
        for key, value in fields.items():
            sets.append(f"{key} = ?")
            if key in ("parents", "children", "errors") or (key == "executornames" and value is not None):
                value = _dumps(value)
            elif isinstance(value, bool):
                value = int(value)
            values.append(value)
        sql = f"UPDATE processes SET {', '.join(sets)} WHERE processid = ?"
        values.append(processid)
        if from_states is not None:
            sql += f" AND state IN ({', '.join(str(int(s)) for s in from_states)})"
        if assigned_to is not None:
            sql += " AND assignedexecutorid = ?"
            values.append(assigned_to)
        if "state" not in fields or not mirror_attributes:
            return self._db.execute(sql, values).rowcount == 1
        with self._tx() as db:
            if db.execute(sql, values).rowcount != 1:
                return False
            db.execute("UPDATE attributes SET state = ? WHERE targetid = ?", (fields["state"], processid))
        return True

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
        sql = f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE colonyname = ? AND state = ?"
        args: list[Any] = [colonyname, state]
        if executortype:
            sql += " AND executortype = ?"
            args.append(executortype)
        elif initiatorid:
            sql += " AND initiatorid = ?"
            args.append(initiatorid)
        elif label:
            sql += " AND label = ?"
            args.append(label)
        if state == WAITING:
            sql += " ORDER BY prioritytime"
        elif state == RUNNING:
            sql += " ORDER BY starttime"
        else:
            sql += " ORDER BY endtime DESC"
        sql += " LIMIT ?"
        args.append(count)
        return self._with_attributes(self._db.execute(sql, args).fetchall())

    def _with_attributes(self, rows: list[Any]) -> list[ProcessRecord]:
        out = []
        for row in rows:
            p = _process_from_row(row)
            if p.nattributes:
                p.attributes = self._attributes_of(p.processid)
            out.append(p)
        return out

    async def process_history(self, colonyname: str, executorid: str, since: int, state: int) -> list[ProcessRecord]:
        sql = f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE colonyname = ? AND state = ? AND submissiontime >= ?"
        args: list[Any] = [colonyname, state, since]
        if executorid:
            sql += " AND assignedexecutorid = ?"
            args.append(executorid)
        sql += " ORDER BY submissiontime"
        return self._with_attributes(self._db.execute(sql, args).fetchall())

    async def remove_process(self, processid: str) -> bool:
        with self._tx() as db:
            return self._delete_processes(db, "processid = ?", (processid,)) == 1

    async def remove_processes(self, colonyname: str, state: int | None, *, workflows: bool) -> int:
        graph = "processgraphid != ''" if workflows else "processgraphid = ''"
        where = f"colonyname = ? AND {graph} AND state != 1"
        args: list[Any] = [colonyname]
        if state is not None:
            where += " AND state = ?"
            args.append(state)
        with self._tx() as db:
            return self._delete_processes(db, where, args)

    @staticmethod
    def _delete_processes(db: sqlite3.Connection, where: str, args: Sequence[Any]) -> int:
        """Delete the processes matching ``where`` with their attributes (inside a transaction);
        returns how many processes. Channels left behind are swept (``remove_orphan_channels``)."""
        db.execute(f"DELETE FROM attributes WHERE targetid IN (SELECT processid FROM processes WHERE {where})", args)
        return int(db.execute(f"DELETE FROM processes WHERE {where}", args).rowcount)

    async def expired_running(self, before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = self._db.execute(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 1 AND execdeadline > 0 "
            "AND execdeadline < ? ORDER BY execdeadline LIMIT ?",
            (before, limit),
        ).fetchall()
        return [_process_from_row(r) for r in rows]

    async def unresponsive_running(self, heard_before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = self._db.execute(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 1 AND EXISTS (SELECT 1 FROM executors e "
            "WHERE e.executorid = processes.assignedexecutorid AND e.colonyname = processes.colonyname "
            "AND e.lastheardfromtime < ?) LIMIT ?",
            (heard_before, limit),
        ).fetchall()
        return [_process_from_row(r) for r in rows]

    async def expired_waiting(self, before: int, limit: int = 1000) -> list[ProcessRecord]:
        rows = self._db.execute(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE state = 0 AND waitdeadline > 0 "
            "AND waitdeadline < ? ORDER BY prioritytime LIMIT ?",
            (before, limit),
        ).fetchall()
        return [_process_from_row(r) for r in rows]

    async def count_processes(self, colonyname: str | None) -> dict[int, int]:
        if colonyname is None:
            rows = self._db.execute("SELECT state, COUNT(*) FROM processes GROUP BY state").fetchall()
        else:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM processes WHERE colonyname = ? GROUP BY state", (colonyname,)
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    async def count_executors(self, colonyname: str | None) -> dict[int, int]:
        if colonyname is None:
            rows = self._db.execute("SELECT state, COUNT(*) FROM executors GROUP BY state").fetchall()
        else:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM executors WHERE colonyname = ? GROUP BY state", (colonyname,)
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    async def count_colonies(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM colonies").fetchone()[0])

    # -- process graphs -------------------------------------------------------------------

    async def add_graph(self, graph: GraphRecord, processes: Sequence[ProcessRecord]) -> None:
        """Store a graph and all its processes in one transaction."""
        insert = f"INSERT INTO processes ({_PROCESS_COLUMNS}) VALUES ({_PROCESS_PLACEHOLDERS})"
        with self._tx() as db:
            db.execute(
                f"INSERT INTO process_graphs ({GRAPH_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                (
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
                ),
            )
            for p in processes:
                p.nattributes = len(p.attributes)
                db.execute(insert, process_values(p))
                for a in p.attributes:
                    self._insert_attribute(db, a, p.submissiontime)

    async def get_graph(self, processgraphid: str) -> GraphRecord | None:
        row = self._db.execute(
            f"SELECT {GRAPH_COLUMNS} FROM process_graphs WHERE processgraphid = ?", (processgraphid,)
        ).fetchone()
        return graph_from_row(row) if row else None

    async def list_graphs(self, colonyname: str, state: int, count: int) -> list[GraphRecord]:
        rows = self._db.execute(
            f"SELECT {GRAPH_COLUMNS} FROM process_graphs WHERE colonyname = ? AND state = ? "
            "ORDER BY submissiontime DESC LIMIT ?",
            (colonyname, state, count),
        ).fetchall()
        return [graph_from_row(r) for r in rows]

    async def count_graphs(self, colonyname: str) -> dict[int, int]:
        rows = self._db.execute(
            "SELECT state, COUNT(*) FROM process_graphs WHERE colonyname = ? GROUP BY state", (colonyname,)
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    async def update_graph(
        self, processgraphid: str, from_states: Sequence[int] | None, fields: dict[str, Any]
    ) -> bool:
        sets = ", ".join(f"{key} = ?" for key in fields)
        sql = f"UPDATE process_graphs SET {sets} WHERE processgraphid = ?"
        if from_states is not None:
            sql += f" AND state IN ({', '.join(str(int(s)) for s in from_states)})"
        return self._db.execute(sql, (*fields.values(), processgraphid)).rowcount == 1

    async def count_graph_success(self, processgraphid: str) -> tuple[int, int, int] | None:
        """One more process of the graph succeeded: returns (successful, total, graph state)."""
        row = self._db.execute(
            "UPDATE process_graphs SET nsuccessful = nsuccessful + 1 WHERE processgraphid = ? "
            "RETURNING nsuccessful, nprocesses, state",
            (processgraphid,),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    async def graph_processes(self, processgraphid: str) -> list[ProcessRecord]:
        rows = self._db.execute(
            f"SELECT {_PROCESS_COLUMNS} FROM processes WHERE processgraphid = ? AND processgraphid != ''",
            (processgraphid,),
        ).fetchall()
        return [_process_from_row(r) for r in rows]

    async def parent_succeeded(self, childid: str) -> int | None:
        """One parent of ``childid`` succeeded: returns how many of its parents are still pending."""
        row = self._db.execute(
            "UPDATE processes SET pendingparents = pendingparents - 1 WHERE processid = ? RETURNING pendingparents",
            (childid,),
        ).fetchone()
        return row[0] if row else None

    async def outputs(self, processids: Sequence[str]) -> dict[str, str]:
        """The output JSON text of each process."""
        out: dict[str, str] = {}
        for start in range(0, len(processids), 500):
            chunk = processids[start : start + 500]
            rows = self._db.execute(
                f"SELECT processid, output FROM processes WHERE processid IN ({', '.join('?' * len(chunk))})", chunk
            ).fetchall()
            out.update((r[0], r[1]) for r in rows)
        return out

    async def add_child(self, child: ProcessRecord, parent: str, insert: bool, before: str) -> bool:
        """Store ``child`` under ``parent`` and rewire the graph (protocol core/30-semantics.md 6.5):
        ``insert`` hands the parent's children to the child; otherwise the child is a new leaf, or,
        with ``before``, a new parent of that existing process. False if the parent is not RUNNING."""
        with self._tx() as db:
            row = db.execute("SELECT children, state FROM processes WHERE processid = ?", (parent,)).fetchone()
            if row is None or row[1] != RUNNING:
                return False
            children: list[str] = orjson.loads(row[0])
            if insert:
                child.children = children
                for grandchild in children:
                    got = db.execute("SELECT parents FROM processes WHERE processid = ?", (grandchild,)).fetchone()
                    if got is not None:
                        parents = [child.processid if p == parent else p for p in orjson.loads(got[0])]
                        db.execute(
                            "UPDATE processes SET parents = ? WHERE processid = ?", (_dumps(parents), grandchild)
                        )
                children = [child.processid]
            else:
                children = [*children, child.processid]
                if before:
                    got = db.execute("SELECT parents FROM processes WHERE processid = ?", (before,)).fetchone()
                    if got is not None:
                        child.children = [before]
                        db.execute(
                            "UPDATE processes SET parents = ?, pendingparents = pendingparents + 1 WHERE processid = ?",
                            (_dumps([*orjson.loads(got[0]), child.processid]), before),
                        )
            db.execute("UPDATE processes SET children = ? WHERE processid = ?", (_dumps(children), parent))
            child.nattributes = len(child.attributes)
            db.execute(
                f"INSERT INTO processes ({_PROCESS_COLUMNS}) VALUES ({_PROCESS_PLACEHOLDERS})", process_values(child)
            )
            for a in child.attributes:
                self._insert_attribute(db, a, child.submissiontime)
            graph = db.execute(
                "SELECT processids FROM process_graphs WHERE processgraphid = ?", (child.processgraphid,)
            ).fetchone()
            if graph is not None:
                db.execute(
                    "UPDATE process_graphs SET processids = ?, nprocesses = nprocesses + 1 WHERE processgraphid = ?",
                    (_dumps([*orjson.loads(graph[0]), child.processid]), child.processgraphid),
                )
        return True

    async def cancel_graph(self, processgraphid: str, now: int) -> list[str]:
        """Cancel every waiting or running process of the graph, and the graph unless it has finished;
        returns the ids of the cancelled processes."""
        with self._tx() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "UPDATE processes SET state = 4, endtime = ? WHERE processgraphid = ? AND processgraphid != '' "
                    "AND state IN (0, 1) RETURNING processid",
                    (now, processgraphid),
                )
            ]
            for pid in ids:
                db.execute("UPDATE attributes SET state = 4 WHERE targetid = ?", (pid,))
            db.execute(
                "UPDATE process_graphs SET state = 4, endtime = ? WHERE processgraphid = ? AND state IN (0, 1)",
                (now, processgraphid),
            )
        return ids

    async def remove_graph(self, processgraphid: str) -> bool:
        with self._tx() as db:
            return self._delete_graphs(db, "processgraphid = ?", (processgraphid,)) == 1

    async def remove_graphs(self, colonyname: str, state: int | None) -> int:
        """Remove the colony's graphs in ``state`` (all but running ones for None) with their processes."""
        where, args = "colonyname = ? AND state != 1", [colonyname]
        if state is not None:
            where += " AND state = ?"
            args.append(state)
        with self._tx() as db:
            return self._delete_graphs(db, where, args)

    def _delete_graphs(self, db: sqlite3.Connection, where: str, args: Sequence[Any]) -> int:
        """Delete the graphs matching ``where`` with all their processes and the processes'
        attributes (inside a transaction); returns how many graphs."""
        ids = [r[0] for r in db.execute(f"DELETE FROM process_graphs WHERE {where} RETURNING processgraphid", args)]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # "!= ''" lets SQLite use the partial index processes_by_graph (it cannot infer it)
            self._delete_processes(
                db, f"processgraphid IN ({', '.join('?' * len(chunk))}) AND processgraphid != ''", chunk
            )
        return len(ids)

    # -- attributes -------------------------------------------------------------------------

    async def add_attribute(self, attribute: dict[str, Any], now: int) -> bool:
        try:
            with self._tx() as db:
                self._insert_attribute(db, attribute, now)
                db.execute(
                    "UPDATE processes SET nattributes = nattributes + 1 WHERE processid = ?", (attribute["targetid"],)
                )
        except sqlite3.IntegrityError:
            return False
        return True

    async def get_attribute(self, attributeid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {_ATTRIBUTE_COLUMNS} FROM attributes WHERE attributeid = ?", (attributeid,)
        ).fetchone()
        return _attribute_from_row(row) if row else None

    # -- logs -------------------------------------------------------------------------------

    _LOG_COLUMNS = "processid, colonyname, executorname, message, ts"

    @staticmethod
    def _logs(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return [
            {"processid": r[0], "colonyname": r[1], "executorname": r[2], "message": r[3], "timestamp": r[4]}
            for r in rows
        ]

    def _select_logs(self, where: str, args: list[Any], count: int, since: int, latest: bool) -> list[dict[str, Any]]:
        """The first ``count`` matching lines after ``since``, or the newest ``count`` when ``latest``;
        oldest first either way."""
        sql = f"SELECT {self._LOG_COLUMNS} FROM logs WHERE {where}"
        if latest:
            sql += " ORDER BY ts DESC, id DESC LIMIT ?"
        else:
            if since > 0:
                sql += " AND ts > ?"
                args.append(min(since, _INT64_MAX))
            sql += " ORDER BY ts, id LIMIT ?"
        args.append(min(max(count, 0), _INT64_MAX))  # SQLite reads a negative LIMIT as "no limit"
        rows = self._db.execute(sql, args).fetchall()
        if latest:
            rows.reverse()
        return self._logs(rows)

    async def add_log(self, log: dict[str, Any], added: int) -> None:
        self._db.execute(
            "INSERT INTO logs (processid, colonyname, executorname, message, ts, added) VALUES (?, ?, ?, ?, ?, ?)",
            (log["processid"], log["colonyname"], log["executorname"], log["message"], log["timestamp"], added),
        )

    async def get_process_logs(
        self, processid: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        return self._select_logs("processid = ?", [processid], count, since, latest)

    async def get_executor_logs(
        self, colonyname: str, executorname: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        where = "colonyname = ? AND executorname = ?"
        return self._select_logs(where, [colonyname, executorname], count, since, latest)

    async def search_logs(self, colonyname: str, text: str, days: int, count: int, now: int) -> list[dict[str, Any]]:
        # instr() is a case-sensitive literal match: no LIKE wildcards, no case folding.
        rows = self._db.execute(
            f"SELECT {self._LOG_COLUMNS} FROM logs INDEXED BY logs_by_colony_added "
            "WHERE colonyname = ? AND added > ? AND instr(message, ?) > 0 ORDER BY added, id LIMIT ?",
            (colonyname, now - max(days, 0) * _DAY_NS, text, min(max(count, 0), _INT64_MAX)),
        ).fetchall()
        return self._logs(rows)

    async def remove_logs(self, colonyname: str) -> int:
        return self._db.execute("DELETE FROM logs WHERE colonyname = ?", (colonyname,)).rowcount

    async def remove_logs_before(self, before: int, limit: int | None = None) -> int:
        # Every line belongs to an existing colony (removing a colony removes its lines), so a
        # range scan per colony on logs_by_colony_added finds them all without a time index.
        where = "colonyname IN (SELECT name FROM colonies) AND added < ?"
        if limit is None:
            return self._db.execute(f"DELETE FROM logs WHERE {where}", (before,)).rowcount
        return self._db.execute(
            f"DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE {where} LIMIT ?)", (before, max(limit, 0))
        ).rowcount
