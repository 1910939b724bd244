"""The PostgreSQL backend of the Store contract, in process, on fresh databases: migrations applied
once by stores connecting together, the one-statement claim under concurrent claimers on several
pools (no process handed out twice), its filters and index, the lookup cache told of another
replica's writes, and the leader lock moving when its holder goes. (Everything else runs through
the whole suite with COLONIES_TEST_BACKEND=postgres.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pycolonies.models import FuncSpec
from pycolonies.server.processes import build_process
from pycolonies.server.store import connect_store
from pycolonies.server.store.postgres import PostgresStore, ReplicaLink
from pycolonies.server.store.records import RUNNING, ProcessRecord
from pycolonies.wire import decode

from ..backends import POSTGRES, create_database_async

pytestmark = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (COLONIES_TEST_BACKEND=postgres)")


def new_process(priority: int = 0, now: int = 1_000, **conditions: Any) -> ProcessRecord:
    raw = {"funcname": "f", "conditions": {"colonyname": "c", "executortype": "t", **conditions}}
    spec = decode(FuncSpec, raw)
    spec["priority"] = priority
    return build_process(spec, initiatorid="i", initiatorname="n", now=now)


async def claim(store: PostgresStore, name: str = "e", location: str = "", cpu: int | None = None) -> Any:
    got = await store.claim_process(
        colonyname="c",
        executortype="t",
        executorid="id-" + name,
        executorname=name,
        locationname=location,
        cpu=cpu,
        mem=None,
        now=2_000,
    )
    return got.process


def run(body: Callable[[str], Awaitable[None]]) -> None:
    async def main() -> None:
        await body(await create_database_async())

    asyncio.run(main())


async def open_store(url: str) -> PostgresStore:
    store = await connect_store(url, pool_size=4)
    assert isinstance(store, PostgresStore)
    return store


def test_stores_connecting_together_apply_each_migration_once() -> None:
    async def body(url: str) -> None:
        stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
        conn = await asyncpg.connect(url)
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
        await conn.close()
        folder = Path(__file__).parents[2] / "src" / "pycolonies" / "server" / "store" / "postgres" / "migrations"
        assert versions == sorted(int(f.name.split("_", 1)[0]) for f in folder.glob("*.sql"))
        for store in stores:
            await store.close()
        again = await open_store(url)  # and reopening changes nothing
        assert await again.get_server_id() is None
        await again.close()

    run(body)


def test_concurrent_claims_on_several_pools_never_hand_out_a_process_twice() -> None:
    async def body(url: str) -> None:
        stores = [await open_store(url) for _ in range(3)]
        await stores[0].add_colony({"name": "c", "colonyid": "x" * 64})
        await stores[0].add_processes([new_process(now=i) for i in range(300)])
        got: list[str] = []

        async def claimer(store: PostgresStore, name: str) -> None:
            while (p := await claim(store, name)) is not None:
                assert p.state == RUNNING and p.assignedexecutorid == "id-" + name
                got.append(p.processid)

        await asyncio.gather(*(claimer(s, f"e{i}-{j}") for i, s in enumerate(stores) for j in range(4)))
        assert len(got) == len(set(got)) == 300
        for store in stores:
            await store.close()

    run(body)


def test_claim_takes_the_best_priority_and_honours_names_location_resources_and_pause() -> None:
    async def body(url: str) -> None:
        store = await open_store(url)
        await store.add_colony({"name": "c", "colonyid": "x" * 64})
        low, high = new_process(now=1_000), new_process(priority=1, now=5_000)
        await store.add_processes([low])
        await store.add_processes([high])
        assert (await claim(store, "a")).processid == high.processid
        assert (await claim(store, "b")).processid == low.processid
        assert await claim(store, "c") is None
        targeted, placed, big = (
            new_process(executornames=["b"]),
            new_process(locationname="Lab"),
            new_process(cpu="4000m"),
        )
        await store.add_processes([targeted, placed, big])
        await store.set_paused("c", True)
        paused = await store.claim_process(
            colonyname="c", executortype="t", executorid="x", executorname="b", locationname="lab", cpu=8000,
            mem=None, now=1,
        )  # fmt: skip
        assert paused.process is None and paused.paused and paused.skipped
        await store.set_paused("c", False)
        assert await claim(store, "a", location="elsewhere", cpu=1000) is None
        assert (await claim(store, "a", location="LAB", cpu=1000)).processid == placed.processid
        assert (await claim(store, "b", cpu=1000)).processid == targeted.processid
        assert (await claim(store, "a", cpu=4000)).processid == big.processid
        await store.close()

    run(body)


def test_the_claim_can_use_the_partial_index() -> None:
    async def body(url: str) -> None:
        store = await open_store(url)
        await store.add_colony({"name": "c", "colonyid": "x" * 64})
        # mostly other executor types: the type-and-state index finds the claimable ones directly
        others = [new_process(now=i) for i in range(2000)]
        for p in others:
            p.executortype = "other"
        await store.add_processes([new_process(now=i) for i in range(50)] + others)
        async with store.pool.acquire() as conn:
            await conn.execute("ANALYZE processes")
            plan = "\n".join(
                r[0]
                for r in await conn.fetch(
                    "EXPLAIN SELECT processid FROM processes p WHERE p.colonyname = 'c' AND p.executortype = 't' "
                    "AND p.state = 0 AND NOT p.waitforparents ORDER BY p.prioritytime LIMIT 1 FOR UPDATE SKIP LOCKED"
                )
            )
        assert "processes_assignable" in plan, plan
        await store.close()

    run(body)


def test_the_lookup_cache_hears_of_another_replicas_writes() -> None:
    async def body(url: str) -> None:
        a, b = await open_store(url), await open_store(url)
        links = [a.replica_link(), b.replica_link()]
        for link in links:
            await link.start(lambda message: None, lambda: None)
        for link in links:  # each counts the other before sending anything
            await link._count_peers()
        a.cache.ttl = 60.0  # only a notification can refresh it in time
        executor = {
            "executorid": "e" * 64,
            "colonyname": "c",
            "executorname": "ex",
            "executortype": "t",
            "state": 0,
            "requirefuncreg": False,
            "commissiontime": 1,
            "lastheardfromtime": 0,
            "locationname": "",
            "capabilities": {},
            "allocations": {},
            "blueprintid": "",
            "blueprintgen": 0,
        }
        assert await a.get_executor_by_id("e" * 64, "c") is None  # cached as missing
        await b.add_executor(executor, replace=False)
        await b.set_executor_state("c", "ex", 1)
        deadline = time.monotonic() + 5
        while True:
            found = await a.get_executor_by_id("e" * 64, "c")
            if found is not None and found["state"] == 1:
                break
            assert time.monotonic() < deadline, "replica A never heard of B's writes"
            await asyncio.sleep(0.02)
        for link in links:
            await link.stop()
        await a.close()
        await b.close()

    run(body)


def test_the_leader_lock_moves_when_its_holder_goes() -> None:
    async def body(url: str) -> None:
        first, second = ReplicaLink(url, interval=0.2), ReplicaLink(url, interval=0.2)
        for link in (first, second):
            await link.start(lambda message: None, lambda: None)
        assert first.is_leader and not second.is_leader
        await first.stop()
        deadline = time.monotonic() + 5
        while not second.is_leader:
            assert time.monotonic() < deadline, "nobody took over"
            await asyncio.sleep(0.05)
        await second.stop()

    run(body)
