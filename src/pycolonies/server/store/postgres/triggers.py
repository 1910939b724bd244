"""The crons and generators part of the PostgreSQL store (tables of migration 0004), mixed into
``PostgresStore``. As on SQLite, each firing is claimed by one conditional statement or one
transaction: a cron's ``nextrun`` moves from the value the caller saw to the next one, and a
generator's batch of arguments is removed together with the move of its ``lastrun`` while the
generator row is locked. Whoever loses the race, on this replica or another, changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import asyncpg

from ..rows import CRON_COLUMNS, GENERATOR_COLUMNS, cron_from_row, generator_from_row

__all__ = ["TriggerTables"]


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


class TriggerTables:
    """Store methods for crons, generators and generator arguments."""

    if TYPE_CHECKING:

        @property
        def pool(self) -> asyncpg.Pool: ...

        def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    # -- crons ------------------------------------------------------------------------------

    async def add_cron(self, cron: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            f"INSERT INTO crons ({CRON_COLUMNS}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(13))}) ON CONFLICT DO NOTHING",
            cron["cronid"],
            cron["colonyname"],
            cron["name"],
            cron["initiatorid"],
            cron["initiatorname"],
            cron["cronexpression"],
            cron["interval"],
            bool(cron["random"]),
            cron["nextrun"],
            cron["lastrun"],
            cron["workflowspec"],
            cron["prevprocessgraphid"],
            bool(cron["waitforprevprocessgraph"]),
        )
        return _count(status) == 1

    async def get_cron(self, cronid: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(f"SELECT {CRON_COLUMNS} FROM crons WHERE cronid = $1", cronid)
        return cron_from_row(row) if row else None

    async def list_crons(self, colonyname: str, count: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {CRON_COLUMNS} FROM crons WHERE colonyname = $1 ORDER BY seq LIMIT $2",
            colonyname,
            max(count, 0),
        )
        return [cron_from_row(r) for r in rows]

    async def crons_to_check(self, now: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {CRON_COLUMNS} FROM crons WHERE nextrun = 0 OR nextrun < $1 ORDER BY nextrun", now
        )
        return [cron_from_row(r) for r in rows]

    async def remove_cron(self, cronid: str) -> bool:
        return _count(await self.pool.execute("DELETE FROM crons WHERE cronid = $1", cronid)) == 1

    async def move_cron_nextrun(self, cronid: str, expected: int, nextrun: int, *, first: bool = False) -> bool:
        reset = ", lastrun = 0, prevprocessgraphid = ''" if first else ""
        status = await self.pool.execute(
            f"UPDATE crons SET nextrun = $1{reset} WHERE cronid = $2 AND nextrun = $3", nextrun, cronid, expected
        )
        return _count(status) == 1

    async def record_cron_run(self, cronid: str, lastrun: int, prevprocessgraphid: str, nextrun: int | None) -> None:
        if nextrun is None:
            await self.pool.execute(
                "UPDATE crons SET lastrun = $1, prevprocessgraphid = $2 WHERE cronid = $3",
                lastrun,
                prevprocessgraphid,
                cronid,
            )
        else:
            await self.pool.execute(
                "UPDATE crons SET lastrun = $1, prevprocessgraphid = $2, nextrun = $3 WHERE cronid = $4",
                lastrun,
                prevprocessgraphid,
                nextrun,
                cronid,
            )

    # -- generators -------------------------------------------------------------------------

    async def add_generator(self, generator: dict[str, Any]) -> bool:
        status = await self.pool.execute(
            f"INSERT INTO generators ({GENERATOR_COLUMNS}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(10))}) ON CONFLICT DO NOTHING",
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
        )
        return _count(status) == 1

    async def get_generator(self, generatorid: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE generatorid = $1", generatorid
        )
        return generator_from_row(row) if row else None

    async def get_generator_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE colonyname = $1 AND name = $2", colonyname, name
        )
        return generator_from_row(row) if row else None

    async def list_generators(self, colonyname: str, count: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {GENERATOR_COLUMNS} FROM generators WHERE colonyname = $1 ORDER BY seq LIMIT $2",
            colonyname,
            max(count, 0),
        )
        return [generator_from_row(r) for r in rows]

    async def remove_generator(self, generatorid: str) -> bool:
        async with self._tx() as conn:
            if _count(await conn.execute("DELETE FROM generators WHERE generatorid = $1", generatorid)) != 1:
                return False
            await conn.execute("DELETE FROM generator_args WHERE generatorid = $1", generatorid)
        return True

    async def pack_generator(self, arg: dict[str, Any], now: int) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO generator_args (argid, generatorid, colonyname, arg, added) VALUES ($1, $2, $3, $4, $5)",
                arg["argid"],
                arg["generatorid"],
                arg["colonyname"],
                arg["arg"],
                now,
            )
            await conn.execute(
                "UPDATE generators SET firstpack = $1 WHERE generatorid = $2 AND firstpack = 0", now, arg["generatorid"]
            )

    async def count_generator_args(self, generatorid: str) -> int:
        return int(await self.pool.fetchval("SELECT COUNT(*) FROM generator_args WHERE generatorid = $1", generatorid))

    async def pending_generators(self) -> list[tuple[dict[str, Any], int]]:
        columns = ", ".join(f"g.{c.strip()}" for c in GENERATOR_COLUMNS.split(","))
        rows = await self.pool.fetch(
            f"SELECT {columns}, a.n FROM generators g JOIN (SELECT generatorid, COUNT(*) AS n FROM generator_args "
            "GROUP BY generatorid) a ON a.generatorid = g.generatorid ORDER BY g.seq"
        )
        return [(generator_from_row(r), r[10]) for r in rows]

    async def take_generator_args(
        self, generatorid: str, count: int, *, exact: bool, lastrun: int, now: int
    ) -> list[dict[str, Any]]:
        if count <= 0:
            return []
        async with self._tx() as conn:
            current = await conn.fetchval(
                "SELECT lastrun FROM generators WHERE generatorid = $1 FOR UPDATE", generatorid
            )
            if current is None or current != lastrun:
                return []
            rows = await conn.fetch(
                "SELECT seq, argid, colonyname, arg, added FROM generator_args WHERE generatorid = $1 "
                "ORDER BY seq LIMIT $2",
                generatorid,
                count,
            )
            if not rows or (exact and len(rows) < count):
                return []
            await conn.execute(
                "DELETE FROM generator_args WHERE generatorid = $1 AND seq <= $2", generatorid, rows[-1][0]
            )
            await conn.execute("UPDATE generators SET lastrun = $1 WHERE generatorid = $2", now, generatorid)
        return [
            {"seq": r[0], "argid": r[1], "generatorid": generatorid, "colonyname": r[2], "arg": r[3], "added": r[4]}
            for r in rows
        ]

    async def return_generator_args(
        self, generatorid: str, args: Sequence[dict[str, Any]], lastrun: int, now: int
    ) -> None:
        async with self._tx() as conn:
            exists = await conn.fetchval("SELECT 1 FROM generators WHERE generatorid = $1 FOR UPDATE", generatorid)
            if exists is None:
                return  # removed meanwhile: its arguments go with it
            await conn.executemany(
                "INSERT INTO generator_args (seq, argid, generatorid, colonyname, arg, added) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                [(a["seq"], a["argid"], generatorid, a["colonyname"], a["arg"], a["added"]) for a in args],
            )
            await conn.execute(
                "UPDATE generators SET lastrun = $1 WHERE generatorid = $2 AND lastrun = $3", lastrun, generatorid, now
            )
