"""The SQLite backend of the Store contract, on real files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pycolonies.models import FuncSpec
from pycolonies.server.processes import build_process
from pycolonies.server.store.records import RUNNING, ProcessRecord
from pycolonies.server.store.sqlite import SQLiteStore
from pycolonies.wire import decode

from ..backends import sqlite_only

pytestmark = sqlite_only  # the PostgreSQL store has its own (tests/server/test_store_postgres.py)


def spec(executortype: str = "t", **conditions: Any) -> dict[str, Any]:
    raw = {"funcname": "f", "conditions": {"colonyname": "c", "executortype": executortype, **conditions}}
    return decode(FuncSpec, raw)


def new_process(executortype: str = "t", priority: int = 0, now: int = 1_000, **conditions: Any) -> ProcessRecord:
    s = spec(executortype, **conditions)
    s["priority"] = priority
    return build_process(s, initiatorid="i", initiatorname="n", now=now)


def claim(store: SQLiteStore, name: str = "e", location: str = "", cpu: int | None = None) -> ProcessRecord | None:
    async def run() -> ProcessRecord | None:
        claim = await store.claim_process(
            colonyname="c",
            executortype="t",
            executorid="id-" + name,
            executorname=name,
            locationname=location,
            cpu=cpu,
            mem=None,
            now=2_000,
        )
        return claim.process

    return asyncio.run(run())


def test_schema_is_created_once_and_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "data" / "colonies.db"
    store = SQLiteStore(path)
    p = new_process()
    asyncio.run(store.add_colony({"name": "c", "colonyid": "x" * 64}))
    asyncio.run(store.add_processes([p]))
    asyncio.run(store.close())
    again = SQLiteStore(path)  # migrations must not run twice
    stored = asyncio.run(again.get_process(p.processid))
    assert stored is not None and stored.spec == p.spec
    versions = again._db.execute("SELECT version FROM schema_migrations").fetchall()
    folder = Path(__file__).parents[2] / "src" / "pycolonies" / "server" / "store" / "sqlite" / "migrations"
    expected = sorted(int(f.name.split("_", 1)[0]) for f in folder.glob("*.sql"))
    assert [v for (v,) in versions] == expected  # each migration applied exactly once


def test_claim_takes_the_best_priority_and_never_twice(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    asyncio.run(store.add_colony({"name": "c", "colonyid": "x" * 64}))
    low, high = new_process(now=1_000), new_process(priority=1, now=5_000)
    asyncio.run(store.add_processes([low]))
    asyncio.run(store.add_processes([high]))
    first, second, third = claim(store, "a"), claim(store, "b"), claim(store, "c")
    assert first is not None and first.processid == high.processid and first.state == RUNNING
    assert second is not None and second.processid == low.processid
    assert third is None


def test_claim_honours_names_location_resources_and_pause(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    asyncio.run(store.add_colony({"name": "c", "colonyid": "x" * 64}))
    targeted = new_process(executornames=["b"])
    placed = new_process(locationname="Lab")
    big = new_process(cpu="4000m")
    for p in (targeted, placed, big):
        asyncio.run(store.add_processes([p]))
    asyncio.run(store.set_paused("c", True))
    assert claim(store, "b", location="lab", cpu=8000) is None
    asyncio.run(store.set_paused("c", False))
    assert claim(store, "a", location="elsewhere", cpu=1000) is None
    got = claim(store, "a", location="LAB", cpu=1000)
    assert got is not None and got.processid == placed.processid
    got = claim(store, "b", cpu=1000)
    assert got is not None and got.processid == targeted.processid
    got = claim(store, "a", cpu=4000)
    assert got is not None and got.processid == big.processid


def test_assign_query_uses_the_partial_index(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    asyncio.run(store.add_colony({"name": "c", "colonyid": "x" * 64}))
    asyncio.run(store.add_processes([new_process(now=i) for i in range(1, 200)]))
    trace: list[str] = []
    store._db.set_trace_callback(trace.append)
    assert claim(store) is not None
    claim_sql = next(s for s in trace if s.startswith("UPDATE processes SET state = 1"))
    plan = " ".join(str(row) for row in store._db.execute("EXPLAIN QUERY PLAN " + claim_sql))
    assert "processes_assignable" in plan
