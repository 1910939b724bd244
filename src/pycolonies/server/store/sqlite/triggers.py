"""The crons and generators part of the SQLite store (tables of migration 0004), mixed into
``SQLiteStore``. Each firing is claimed by one conditional statement or ``BEGIN IMMEDIATE``
transaction: a cron's ``nextrun`` moves from the value the caller saw to the next one, a
generator's batch of arguments is removed together with the move of its ``lastrun``. Whoever loses
the race changes nothing, so no instant and no argument is ever submitted twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..rows import CRON_COLUMNS, GENERATOR_COLUMNS, cron_from_row, generator_from_row

__all__ = ["TriggerTables"]


class TriggerTables:
    """Store methods for crons, generators and generator arguments."""

    _db: sqlite3.Connection

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- crons ------------------------------------------------------------------------------

    async def add_cron(self, cron: dict[str, Any]) -> bool:
        cur = self._db.execute(
            f"INSERT INTO crons ({CRON_COLUMNS}) VALUES ({', '.join('?' * 13)}) ON CONFLICT DO NOTHING",
            (
                cron["cronid"],
                cron["colonyname"],
                cron["name"],
                cron["initiatorid"],
                cron["initiatorname"],
                cron["cronexpression"],
                cron["interval"],
                int(cron["random"]),
                cron["nextrun"],
                cron["lastrun"],
                cron["workflowspec"],
                cron["prevprocessgraphid"],
                int(cron["waitforprevprocessgraph"]),
            ),
        )
        return cur.rowcount == 1

    async def get_cron(self, cronid: str) -> dict[str, Any] | None:
        row = self._db.execute(f"SELECT {CRON_COLUMNS} FROM crons WHERE cronid = ?", (cronid,)).fetchone()
        return cron_from_row(row) if row else None

    async def list_crons(self, colonyname: str, count: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {CRON_COLUMNS} FROM crons WHERE colonyname = ? ORDER BY rowid LIMIT ?", (colonyname, count)
        ).fetchall()
        return [cron_from_row(r) for r in rows]

    async def crons_to_check(self, now: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {CRON_COLUMNS} FROM crons WHERE nextrun = 0 OR nextrun < ? ORDER BY nextrun", (now,)
        ).fetchall()
        return [cron_from_row(r) for r in rows]

    async def remove_cron(self, cronid: str) -> bool:
        return self._db.execute("DELETE FROM crons WHERE cronid = ?", (cronid,)).rowcount == 1

    async def move_cron_nextrun(self, cronid: str, expected: int, nextrun: int, *, first: bool = False) -> bool:
        reset = ", lastrun = 0, prevprocessgraphid = ''" if first else ""
        cur = self._db.execute(
            f"UPDATE crons SET nextrun = ?{reset} WHERE cronid = ? AND nextrun = ?", (nextrun, cronid, expected)
        )
        return cur.rowcount == 1

    async def record_cron_run(self, cronid: str, lastrun: int, prevprocessgraphid: str, nextrun: int | None) -> None:
        if nextrun is None:
            self._db.execute(
                "UPDATE crons SET lastrun = ?, prevprocessgraphid = ? WHERE cronid = ?",
                (lastrun, prevprocessgraphid, cronid),
            )
        else:
            self._db.execute(
                "UPDATE crons SET lastrun = ?, prevprocessgraphid = ?, nextrun = ? WHERE cronid = ?",
                (lastrun, prevprocessgraphid, nextrun, cronid),
            )

    # -- generators -------------------------------------------------------------------------

    async def add_generator(self, generator: dict[str, Any]) -> bool:
        cur = self._db.execute(
            f"INSERT INTO generators ({GENERATOR_COLUMNS}) VALUES ({', '.join('?' * 10)}) ON CONFLICT DO NOTHING",
            (
                generator["generatorid"],
                generator["colonyname"],
                generator["name"],
                generator["initiatorid"],
                generator["initiatorname"],
                generator["workflowspec"],
                generator["trigger"],
                generator["timeout"],
                generator["firstpack"],
                generator["lastrun"],
            ),
        )
        return cur.rowcount == 1

    async def get_generator(self, generatorid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE generatorid = ?", (generatorid,)
        ).fetchone()
        return generator_from_row(row) if row else None

    async def get_generator_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE colonyname = ? AND name = ?", (colonyname, name)
        ).fetchone()
        return generator_from_row(row) if row else None

    async def list_generators(self, colonyname: str, count: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE colonyname = ? ORDER BY rowid LIMIT ?",
            (colonyname, count),
        ).fetchall()
        return [generator_from_row(r) for r in rows]

    async def remove_generator(self, generatorid: str) -> bool:
        with self._tx() as db:
            if db.execute("DELETE FROM generators WHERE generatorid = ?", (generatorid,)).rowcount != 1:
                return False
            db.execute("DELETE FROM generator_args WHERE generatorid = ?", (generatorid,))
        return True

    async def pack_generator(self, arg: dict[str, Any], now: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO generator_args (argid, generatorid, colonyname, arg, added) VALUES (?, ?, ?, ?, ?)",
                (arg["argid"], arg["generatorid"], arg["colonyname"], arg["arg"], now),
            )
            db.execute(
                "UPDATE generators SET firstpack = ? WHERE generatorid = ? AND firstpack = 0", (now, arg["generatorid"])
            )

    async def count_generator_args(self, generatorid: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM generator_args WHERE generatorid = ?", (generatorid,)).fetchone()
        return int(row[0])

    async def pending_generators(self) -> list[tuple[dict[str, Any], int]]:
        columns = ", ".join(f"g.{c.strip()}" for c in GENERATOR_COLUMNS.split(","))
        rows = self._db.execute(
            f"SELECT {columns}, a.n FROM generators g JOIN (SELECT generatorid, COUNT(*) AS n FROM generator_args "
            "GROUP BY generatorid) a ON a.generatorid = g.generatorid ORDER BY g.rowid"
        ).fetchall()
        return [(generator_from_row(r), r[10]) for r in rows]

    async def take_generator_args(
        self, generatorid: str, count: int, *, exact: bool, lastrun: int, now: int
    ) -> list[dict[str, Any]]:
        if count <= 0:
            return []
        with self._tx() as db:
            row = db.execute("SELECT lastrun FROM generators WHERE generatorid = ?", (generatorid,)).fetchone()
            if row is None or row[0] != lastrun:
                return []
            rows = db.execute(
                "SELECT seq, argid, colonyname, arg, added FROM generator_args WHERE generatorid = ? "
                "ORDER BY seq LIMIT ?",
                (generatorid, count),
            ).fetchall()
            if not rows or (exact and len(rows) < count):
                return []
            db.execute("DELETE FROM generator_args WHERE generatorid = ? AND seq <= ?", (generatorid, rows[-1][0]))
            db.execute("UPDATE generators SET lastrun = ? WHERE generatorid = ?", (now, generatorid))
        return [
            {"seq": r[0], "argid": r[1], "generatorid": generatorid, "colonyname": r[2], "arg": r[3], "added": r[4]}
            for r in rows
        ]

    async def return_generator_args(
        self, generatorid: str, args: Sequence[dict[str, Any]], lastrun: int, now: int
    ) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM generators WHERE generatorid = ?", (generatorid,)).fetchone() is None:
                return  # removed meanwhile: its arguments go with it
            db.executemany(
                "INSERT OR IGNORE INTO generator_args (seq, argid, generatorid, colonyname, arg, added) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(a["seq"], a["argid"], generatorid, a["colonyname"], a["arg"], a["added"]) for a in args],
            )
            db.execute(
                "UPDATE generators SET lastrun = ? WHERE generatorid = ? AND lastrun = ?", (lastrun, generatorid, now)
            )
