"""The cron and generator trigger passes on a real store (of the backend under test), in process: first evaluation,
exactly-once claims when several loops act on the same (stale) view, failed submissions giving
their claim back, batches in FIFO order, and removal with the colony."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from pycolonies.server.config import ServerConfig
from pycolonies.server.context import ServerContext, new_id
from pycolonies.server.store.records import WAITING
from pycolonies.server.triggers import _check_cron, _check_generator, check_crons, check_generators

from ..backends import new_store

NS = 1_000_000_000
USER = "a" * 64
WORKFLOW = orjson.dumps(
    {
        "colonyname": "c",
        "functionspecs": [
            {"nodename": "a", "funcname": "f", "kwargs": {"k": 1}, "conditions": {"executortype": "t"}},
            {
                "nodename": "b",
                "funcname": "g",
                "args": ["keep"],
                "conditions": {"executortype": "t", "dependencies": ["a"]},
            },
        ],
    }
).decode()


def run(tmp_path: Path, body: Callable[[ServerContext], Awaitable[None]], *, user: bool = True) -> None:
    async def main() -> None:
        store = await new_store(tmp_path)
        ctx = ServerContext(config=ServerConfig(), store=store)
        await store.add_colony({"name": "c", "colonyid": "c" * 64})
        if user:
            await add_user(ctx)
        try:
            await body(ctx)
        finally:
            await store.close()

    asyncio.run(main())


async def add_user(ctx: ServerContext) -> None:
    await ctx.store.add_user({"colonyname": "c", "userid": USER, "name": "alice", "email": "", "phone": ""})


def cron(**fields: Any) -> dict[str, Any]:
    return {
        "cronid": new_id(),
        "initiatorid": USER,
        "initiatorname": "alice",
        "colonyname": "c",
        "name": "cron-" + new_id()[:6],
        "cronexpression": "0 0 0 1 1 *",
        "interval": -1,
        "random": False,
        "nextrun": 0,
        "lastrun": 0,
        "workflowspec": WORKFLOW,
        "prevprocessgraphid": "",
        "waitforprevprocessgraph": False,
        **fields,
    }


def generator(**fields: Any) -> dict[str, Any]:
    return {
        "generatorid": new_id(),
        "initiatorid": USER,
        "initiatorname": "alice",
        "colonyname": "c",
        "name": "gen-" + new_id()[:6],
        "workflowspec": WORKFLOW,
        "trigger": 2,
        "timeout": 0,
        "firstpack": 0,
        "lastrun": 0,
        **fields,
    }


async def graphs(ctx: ServerContext) -> list[Any]:
    return await ctx.store.list_graphs("c", WAITING, 100)


async def pack(ctx: ServerContext, generatorid: str, *args: str) -> None:
    for arg in args:
        await ctx.store.pack_generator(
            {"argid": new_id(), "generatorid": generatorid, "colonyname": "c", "arg": arg}, ctx.now()
        )


def test_first_tick_only_schedules(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        c = cron(cronexpression="* * * * * *", lastrun=5, prevprocessgraphid="x")
        assert await ctx.store.add_cron(c)
        assert not await ctx.store.add_cron(dict(c, cronid=new_id()))  # same name in the colony
        now = ctx.now()
        assert await check_crons(ctx) == 0
        stored = await ctx.store.get_cron(c["cronid"])
        assert stored is not None and now < stored["nextrun"] <= now + 2 * NS
        assert (stored["lastrun"], stored["prevprocessgraphid"]) == (0, "")
        assert await graphs(ctx) == []

    run(tmp_path, body)


def test_a_due_instant_fires_once_however_many_loops_see_it(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        due = ctx.now() - NS
        c = cron(nextrun=due)
        await ctx.store.add_cron(c)
        now = ctx.now()
        stale = await ctx.store.crons_to_check(now)
        assert [x["cronid"] for x in stale] == [c["cronid"]]
        # Three loops (or replicas) act on the same view of the cron: one wins the claim.
        fired = [await _check_cron(ctx, stale[0], now) for _ in range(3)]
        fired.append(await check_crons(ctx))
        assert sum(fired) == 1
        [graph] = await graphs(ctx)
        stored = await ctx.store.get_cron(c["cronid"])
        assert stored is not None
        assert stored["prevprocessgraphid"] == graph.processgraphid and stored["lastrun"] == now
        assert stored["nextrun"] > now  # next Jan 1
        assert await ctx.store.crons_to_check(ctx.now()) == []

    run(tmp_path, body)


def test_a_failed_submission_leaves_the_cron_due(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        due = ctx.now() - NS
        c = cron(nextrun=due)
        await ctx.store.add_cron(c)
        assert await check_crons(ctx) == 0  # the initiator cannot be resolved
        stored = await ctx.store.get_cron(c["cronid"])
        assert stored is not None and stored["nextrun"] == due and stored["lastrun"] == 0
        await add_user(ctx)
        assert await check_crons(ctx) == 1
        assert len(await graphs(ctx)) == 1

    run(tmp_path, body, user=False)


def test_interval_and_invalid_expression(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        every = cron(interval=5, cronexpression="")
        broken = cron(interval=-2, cronexpression="not a cron")
        await ctx.store.add_cron(every)
        await ctx.store.add_cron(broken)
        now = ctx.now()
        await check_crons(ctx)
        stored = await ctx.store.get_cron(every["cronid"])
        assert stored is not None and now + 5 * NS <= stored["nextrun"] <= ctx.now() + 5 * NS
        stored = await ctx.store.get_cron(broken["cronid"])
        assert stored is not None and stored["nextrun"] == 0  # re-initialized on every tick, never fires
        assert await check_crons(ctx) == 0

    run(tmp_path, body)


def test_a_random_interval_cron_runs_at_random_points_within_its_interval(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        crons = [cron(interval=3600, cronexpression="", random=True) for _ in range(8)]
        for c in crons:
            await ctx.store.add_cron(c)
        now = ctx.now()
        await check_crons(ctx)
        offsets = []
        for c in crons:
            stored = await ctx.store.get_cron(c["cronid"])
            assert stored is not None and now < stored["nextrun"] <= ctx.now() + 3600 * NS
            offsets.append(stored["nextrun"] - now)
        assert len({o // NS for o in offsets}) > 1  # 8 draws over 3600 s: not one fixed point
        assert min(offsets) < 3599 * NS  # not all at the end of the interval, as without random

    run(tmp_path, body)


def test_generator_batches_in_fifo_order_once(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        g = generator(trigger=2)
        await ctx.store.add_generator(g)
        await pack(ctx, g["generatorid"], "a0", "a1", "a2", "a3", "a4")
        stored = await ctx.store.get_generator(g["generatorid"])
        assert stored is not None and stored["firstpack"] > 0
        [(view, counter)] = await ctx.store.pending_generators()
        now = ctx.now()
        fired = await _check_generator(ctx, view, counter, now)
        fired += await _check_generator(ctx, view, counter, now)  # a second loop with the same view
        assert fired == 2
        assert await ctx.store.count_generator_args(g["generatorid"]) == 1
        roots: list[list[Any]] = []
        for graph in await graphs(ctx):
            processes = {p.processid: p for p in await ctx.store.graph_processes(graph.processgraphid)}
            for pid in graph.processids:
                spec = orjson.loads(processes[pid].spec)
                if pid in graph.rootprocessids:
                    assert spec["kwargs"] == {}
                    roots.append(spec["args"])
                else:
                    assert spec["args"] == ["keep"]
        assert sorted(roots) == [["a0", "a1"], ["a2", "a3"]]
        stored = await ctx.store.get_generator(g["generatorid"])
        assert stored is not None and stored["lastrun"] == now

    run(tmp_path, body)


def test_generator_timeout_takes_what_is_pending(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        g = generator(trigger=10, timeout=1)
        await ctx.store.add_generator(g)
        await pack(ctx, g["generatorid"], "x", "y")
        assert await check_generators(ctx) == 0  # not timed out yet
        [(view, counter)] = await ctx.store.pending_generators()
        later = ctx.now() + 3 * NS
        assert await _check_generator(ctx, view, counter, later) == 1
        assert await ctx.store.count_generator_args(g["generatorid"]) == 0
        [graph] = await graphs(ctx)
        root = await ctx.store.get_process(graph.rootprocessids[0])
        assert root is not None and orjson.loads(root.spec)["args"] == ["x", "y"]

    run(tmp_path, body)


def test_generator_failed_submission_keeps_its_args(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        g = generator(trigger=2)
        await ctx.store.add_generator(g)
        await pack(ctx, g["generatorid"], "a0", "a1", "a2")
        assert await check_generators(ctx) == 0  # the initiator cannot be resolved
        stored = await ctx.store.get_generator(g["generatorid"])
        assert stored is not None and stored["lastrun"] == 0
        taken = await ctx.store.take_generator_args(g["generatorid"], 3, exact=True, lastrun=0, now=1)
        assert [a["arg"] for a in taken] == ["a0", "a1", "a2"]  # back in their places

    run(tmp_path, body, user=False)


def test_removing_the_colony_removes_its_triggers(tmp_path: Path) -> None:
    async def body(ctx: ServerContext) -> None:
        c, g = cron(), generator()
        await ctx.store.add_cron(c)
        await ctx.store.add_generator(g)
        await pack(ctx, g["generatorid"], "a")
        assert await ctx.store.remove_colony("c")
        assert await ctx.store.get_cron(c["cronid"]) is None
        assert await ctx.store.get_generator(g["generatorid"]) is None
        assert await ctx.store.count_generator_args(g["generatorid"]) == 0

    run(tmp_path, body)
