"""The retention purge (COLONIES_RETENTION; protocol core/30-semantics.md section 10, ext/40-logs.md
section 3): on a real server with a 3 s policy, old successful processes and graphs go with their
attributes, every old log line goes, and everything else stays, including the successful
processes of graphs that stay; the store's batches; the configuration."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pycolonies import Conditions, FuncSpec, Workflow
from pycolonies.server.config import ConfigError, load_server_config
from pycolonies.server.processes import build_process
from pycolonies.server.store.base import Store
from pycolonies.server.store.records import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, GraphRecord, ProcessRecord
from pycolonies.server.store.sqlite import SQLiteStore
from pycolonies.wire import decode

from ..backends import new_store, sqlite_only
from ..conftest import Env, ServerProcess, make_env
from .proc_helpers import assign, call_ok, submit, wait_for
from .raw import raw_call

POLICY = 3  # seconds: more than it takes to set everything up
INTERVAL = 0.25  # seconds between passes


def _server(tmp_path: Path, retention: bool, policy: int = POLICY) -> Iterator[Env]:
    srv = ServerProcess(
        tmp_path / "data",
        env={
            "COLONIES_RETENTION": "true" if retention else "false",
            "COLONIES_RETENTION_POLICY": str(policy),
            "COLONIES_RETENTION_INTERVAL": str(INTERVAL),
        },
    )
    srv.start()
    try:
        yield from make_env(srv)
    finally:
        srv.stop()


@pytest.fixture
def renv(tmp_path: Path) -> Iterator[Env]:
    """A colony on a server of its own that purges what is older than POLICY seconds."""
    yield from _server(tmp_path, retention=True)


@pytest.fixture
def keeping_env(tmp_path: Path) -> Iterator[Env]:
    """A server with COLONIES_RETENTION=false (and a policy of 1 s)."""
    yield from _server(tmp_path, retention=False, policy=1)


# -- helpers ------------------------------------------------------------------------------------


def _nobody(env: Env) -> str:
    """An executor type no executor has: its processes stay WAITING."""
    return env.executortype + "-nobody"


def _assigned(env: Env) -> str:
    status, p = assign(env)
    assert status == 200, p
    return str(p["processid"])


def _close(env: Env, pid: str, fail: bool = False) -> None:
    if fail:
        call_ok(env, {"msgtype": "closefailedmsg", "processid": pid, "errors": ["boom"]})
    else:
        call_ok(env, {"msgtype": "closesuccessfulmsg", "processid": pid, "out": []})


def _attribute(env: Env, pid: str) -> str:
    return str(env.client.add_attribute(pid, "k", "v", env.executor_prvkey)["attributeid"])


def _log(env: Env, pid: str, message: str) -> None:
    call_ok(env, {"msgtype": "addlogmsg", "processid": pid, "message": message})


def _standalone(env: Env, *, fail: bool = False) -> tuple[str, str]:
    """A process run to SUCCESS (or FAILED) with an attribute and a log line: (process, attribute)."""
    pid = submit(env)["processid"]
    assert _assigned(env) == pid
    attributeid = _attribute(env, pid)
    _log(env, pid, f"line of {pid}")
    _close(env, pid, fail)
    return pid, attributeid


def _node(env: Env, name: str, after: list[str] | None = None, executortype: str | None = None) -> FuncSpec:
    conditions = Conditions(executortype=executortype or env.executortype, dependencies=after or [])
    return FuncSpec(nodename=name, funcname=name, conditions=conditions, maxexectime=-1)


def _workflow(env: Env, *nodes: FuncSpec) -> tuple[str, dict[str, str]]:
    """Submit a workflow: (graph id, process id by node name)."""
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=list(nodes)), env.user_prvkey)
    processes = env.client.get_processes_for_workflow(graph.processgraphid, env.colonyname, env.user_prvkey)
    return graph.processgraphid, {p["spec"]["nodename"]: p["processid"] for p in processes}


def _status(env: Env, msg: dict[str, Any]) -> int:
    return raw_call(env.server, msg, env.user_prvkey)[0]


def _process(env: Env, pid: str) -> dict[str, Any] | None:
    status, p = raw_call(env.server, {"msgtype": "getprocessmsg", "processid": pid}, env.user_prvkey)
    assert status in (200, 404), p
    return p if status == 200 else None  # type: ignore[no-any-return]


def _graph_exists(env: Env, graphid: str) -> bool:
    status = _status(env, {"msgtype": "getprocessgraphmsg", "processgraphid": graphid})
    assert status in (200, 500)  # upstream's "Failed to get processgraph, graph is nil" is a 500
    return status == 200


def _attribute_exists(env: Env, attributeid: str) -> bool:
    status = _status(env, {"msgtype": "getattributemsg", "attributeid": attributeid})
    assert status in (200, 400)  # "Attribute does not exists"
    return status == 200


def _logs(env: Env, pid: str = "") -> list[str]:
    """The lines of a process (that exists), or else all lines of the colony's executor."""
    msg = {
        "msgtype": "getlogsmsg",
        "colonyname": env.colonyname,
        "processid": pid,
        "executorname": "" if pid else env.executorname,
        "count": 100,
        "since": 0,
        "latest": False,
    }
    got = call_ok(env, msg, env.user_prvkey)
    return [line["message"] for line in got or []]


def _stats(env: Env) -> dict[str, int]:
    stats = call_ok(env, {"msgtype": "getcolonystatsmsg", "colonyname": env.colonyname}, env.user_prvkey)
    keys = ("waiting", "running", "successful", "failed", "cancelled")
    return {
        **{f"{k}processes": stats[f"{k}processes"] for k in keys},
        **{f"{k}workflows": stats[f"{k}workflows"] for k in keys},
    }


def _stats_of(processes: tuple[int, int, int, int, int], workflows: tuple[int, int, int, int, int]) -> dict[str, int]:
    keys = ("waiting", "running", "successful", "failed", "cancelled")
    return {
        **{f"{k}processes": n for k, n in zip(keys, processes, strict=True)},
        **{f"{k}workflows": n for k, n in zip(keys, workflows, strict=True)},
    }


def _everything(env: Env) -> dict[str, Any]:
    """One of each kind of record, all submitted now."""
    made: dict[str, Any] = {}
    made["done"], made["done_attr"] = _standalone(env)
    made["failed"], made["failed_attr"] = _standalone(env, fail=True)
    made["cancelled"] = submit(env, executortype=_nobody(env))["processid"]
    call_ok(env, {"msgtype": "cancelprocessmsg", "processid": made["cancelled"]}, env.user_prvkey)
    made["waiting"] = submit(env, executortype=_nobody(env))["processid"]
    made["running"] = submit(env)["processid"]
    assert _assigned(env) == made["running"]
    _log(env, made["running"], "line of running")
    # a successful graph a -> b (a with an attribute)
    made["graph_done"], made["done_nodes"] = _workflow(env, _node(env, "a"), _node(env, "b", ["a"]))
    a, b = made["done_nodes"]["a"], made["done_nodes"]["b"]
    assert _assigned(env) == a
    made["graph_done_attr"] = _attribute(env, a)
    _close(env, a)
    assert _assigned(env) == b
    _close(env, b)
    # a failed graph whose other root succeeded
    made["graph_failed"], made["failed_nodes"] = _workflow(env, _node(env, "ok"), _node(env, "bad"))
    for _ in range(2):
        pid = _assigned(env)
        _close(env, pid, fail=pid == made["failed_nodes"]["bad"])
    # a running graph x -> y: x succeeded (with an attribute), y waits for an executor that never comes
    made["graph_running"], made["running_nodes"] = _workflow(
        env, _node(env, "x"), _node(env, "y", ["x"], executortype=_nobody(env))
    )
    x = made["running_nodes"]["x"]
    assert _assigned(env) == x
    made["graph_running_attr"] = _attribute(env, x)
    _close(env, x)
    return made


# -- on the server --------------------------------------------------------------------------------


def test_retention_purges_old_successful_work_and_old_logs(renv: Env) -> None:
    made = _everything(renv)
    # successful: done, a, b, ok, x; failed: failed, bad; waiting: waiting, y
    assert _stats(renv) == _stats_of((2, 1, 5, 2, 1), (0, 1, 1, 1, 0))
    time.sleep(1.5)
    fresh, fresh_attr = _standalone(renv)  # younger than the rest by 1.5 s

    def old_ones_gone() -> bool:  # (a pass on PostgreSQL lets requests in between its steps)
        gone = _process(renv, made["done"]) is None and not _graph_exists(renv, made["graph_done"])
        return gone and len(_logs(renv)) == 1

    wait_for(old_ones_gone, timeout=POLICY + 8)
    # the same passes kept the younger process, its attribute and its line
    assert _process(renv, fresh) is not None
    assert _attribute_exists(renv, fresh_attr)
    assert _logs(renv, fresh) == [f"line of {fresh}"]

    # gone: the successful process and graph, with their processes and attributes
    for pid in (made["done"], *made["done_nodes"].values()):
        assert _process(renv, pid) is None
    assert not _attribute_exists(renv, made["done_attr"])
    assert not _attribute_exists(renv, made["graph_done_attr"])
    # gone: every old log line, whatever the state of its process
    assert _logs(renv, made["failed"]) == [] and _logs(renv, made["running"]) == []
    assert _logs(renv) == [f"line of {fresh}"]

    # kept: failed, cancelled, waiting and running processes, with their attributes
    states = {name: _process(renv, made[name]) for name in ("failed", "cancelled", "waiting", "running")}
    assert {name: p["state"] if p else None for name, p in states.items()} == {
        "failed": FAILED,
        "cancelled": CANCELLED,
        "waiting": WAITING,
        "running": RUNNING,
    }
    assert _attribute_exists(renv, made["failed_attr"])
    # kept: the failed and the running graph, with their successful processes
    for graph, nodes in (("graph_failed", "failed_nodes"), ("graph_running", "running_nodes")):
        assert _graph_exists(renv, made[graph])
        for pid in made[nodes].values():
            assert _process(renv, pid) is not None
    x = _process(renv, made["running_nodes"]["x"])
    assert x is not None and x["state"] == SUCCESS and x["attributes"][0]["state"] == SUCCESS
    assert _attribute_exists(renv, made["graph_running_attr"])
    graph = renv.client.get_processgraph(made["graph_running"], renv.user_prvkey)
    assert graph.state == RUNNING and sorted(graph.processids) == sorted(made["running_nodes"].values())

    # the statistics count what is left: successful ok, x and the younger process
    assert _stats(renv) == _stats_of((2, 1, 3, 2, 1), (0, 1, 0, 1, 0))

    # the younger process goes in its turn (its line, stored a little later, then or a pass later)
    wait_for(lambda: _process(renv, fresh) is None and _logs(renv) == [], timeout=POLICY + 8)
    assert not _attribute_exists(renv, fresh_attr)


def test_nothing_is_purged_without_retention(keeping_env: Env) -> None:
    env = keeping_env
    done, attributeid = _standalone(env)
    graphid, nodes = _workflow(env, _node(env, "a"))
    _close(env, _assigned(env))
    time.sleep(1 + 4 * INTERVAL)
    assert _process(env, done) is not None and _attribute_exists(env, attributeid)
    assert _logs(env, done) == [f"line of {done}"]
    assert _graph_exists(env, graphid) and _process(env, nodes["a"]) is not None
    assert _stats(env) == _stats_of((0, 0, 2, 0, 0), (0, 0, 1, 0, 0))


# -- the store's batches (both backends) --------------------------------------------------------


def _record(colonyname: str, now: int, state: int, graphid: str = "") -> ProcessRecord:
    spec = decode(FuncSpec, {"funcname": "f", "conditions": {"colonyname": colonyname, "executortype": "t"}})
    p = build_process(spec, initiatorid="i", initiatorname="n", now=now, processgraphid=graphid)
    p.state = state
    p.attributes = [
        {
            "attributeid": secrets.token_hex(32),
            "targetid": p.processid,
            "targetcolonyname": colonyname,
            "targetprocessgraphid": graphid,
            "state": state,
            "attributetype": 1,
            "key": "k",
            "value": "v",
        }
    ]
    return p


async def _graph(
    store: Store, colonyname: str, now: int, state: int, *states: int, last_at: int | None = None
) -> tuple[GraphRecord, list[ProcessRecord]]:
    """A graph submitted at ``now`` with processes in ``states`` (the last one submitted at
    ``last_at``, as a child added later would be)."""
    graphid = secrets.token_hex(32)
    processes = [_record(colonyname, now, s, graphid) for s in states]
    if last_at is not None:
        processes[-1].submissiontime = last_at
    ids = [p.processid for p in processes]
    graph = GraphRecord(graphid, colonyname, "i", "n", ids[:1], ids, state, now, nprocesses=len(ids))
    await store.add_graph(graph, processes)
    return graph, processes


async def _gone(store: Store, processes: list[ProcessRecord]) -> list[bool]:
    """Per process: whether it and its attribute are gone (both or neither, else an error)."""
    out = []
    for p in processes:
        stored = await store.get_process(p.processid) is not None
        attribute = await store.get_attribute(p.attributes[0]["attributeid"]) is not None
        assert stored == attribute, p.processid
        out.append(not stored)
    return out


def test_store_removes_bounded_batches(tmp_path: Path) -> None:
    async def run() -> None:
        store = await new_store(tmp_path)
        try:
            await check(store)
        finally:
            await store.close()

    async def check(store: Store) -> None:
        await store.add_colony({"name": "c", "colonyid": "c" * 64})
        old = [_record("c", 100 + i, SUCCESS) for i in range(5)]
        kept = [_record("c", 100, s) for s in (0, 1, 3, 4)] + [_record("c", 1_000, SUCCESS)]
        await store.add_processes(old + kept)
        # batches of two, oldest first; each call says how many it removed
        assert [await store.remove_succeeded_processes(500, 2) for _ in range(4)] == [2, 2, 1, 0]
        assert await _gone(store, old) == [True] * 5
        assert await _gone(store, kept) == [False] * 5

        done = [await _graph(store, "c", 100 + i, SUCCESS, SUCCESS, SUCCESS, last_at=1_000) for i in range(3)]
        young = await _graph(store, "c", 1_000, SUCCESS, SUCCESS)
        running = await _graph(store, "c", 100, RUNNING, SUCCESS, 0)
        failed = await _graph(store, "c", 100, FAILED, SUCCESS, FAILED)
        # a cron whose next run takes the outputs of its previous graph keeps that graph
        chained = await _graph(store, "c", 100, SUCCESS, SUCCESS)
        graphid = chained[0].processgraphid
        cron = {
            "cronid": "r" * 64,
            "colonyname": "c",
            "name": "chain",
            "initiatorid": "i",
            "initiatorname": "n",
            "cronexpression": "",
            "interval": 60,
            "random": False,
            "nextrun": 0,
            "lastrun": 0,
            "workflowspec": "{}",
            "prevprocessgraphid": graphid,
            "waitforprevprocessgraph": False,
        }
        assert await store.add_cron(cron)
        # successful processes of graphs go with their graph only, at the graph's age
        assert await store.remove_succeeded_processes(500, 100) == 0
        assert [await store.remove_succeeded_graphs(500, 2) for _ in range(3)] == [2, 1, 0]
        for graph, processes in done:
            assert await store.get_graph(graph.processgraphid) is None
            assert await _gone(store, processes) == [True, True]
        for graph, processes in (young, running, failed, chained):
            assert await store.get_graph(graph.processgraphid) is not None
            assert await _gone(store, processes) == [False] * len(processes)
        assert (await store.count_graphs("c")).get(SUCCESS) == 2  # young and chained

        for i, added in enumerate((10, 20, 30, 40, 600)):
            line = {"processid": "p", "colonyname": "c", "executorname": "e", "message": f"m{i}", "timestamp": added}
            await store.add_log(line, added=added)
        assert [await store.remove_logs_before(500, 3) for _ in range(3)] == [3, 1, 0]
        assert [line["message"] for line in await store.get_process_logs("p", 10)] == ["m4"]

    asyncio.run(run())


@sqlite_only
def test_sqlite_batches_are_index_ranges(tmp_path: Path) -> None:
    """Every statement of a purge reads indexes only (a scan would hold the writer for a time
    growing with the tables, and the event loop with it)."""

    async def run() -> list[str]:
        store = SQLiteStore(tmp_path / "c.db")
        try:
            await store.add_colony({"name": "c", "colonyid": "c" * 64})
            await store.add_processes([_record("c", 100, SUCCESS)])
            await _graph(store, "c", 100, SUCCESS, SUCCESS)
            line = {"processid": "p", "colonyname": "c", "executorname": "e", "message": "m", "timestamp": 1}
            await store.add_log(line, added=1)
            trace: list[str] = []
            store._db.set_trace_callback(trace.append)
            assert await store.remove_succeeded_graphs(500, 10) == 1
            assert await store.remove_succeeded_processes(500, 10) == 1
            assert await store.remove_logs_before(500, 10) == 1
            store._db.set_trace_callback(None)
            statements = [s for s in trace if s.startswith(("SELECT", "DELETE"))]
            return [" ".join(str(r) for r in store._db.execute("EXPLAIN QUERY PLAN " + s)) for s in statements]
        finally:
            await store.close()

    plans = asyncio.run(run())
    assert len(plans) == 7  # graphs with their processes and attributes; processes (pick, delete x2); logs
    for table in ("processes", "process_graphs", "attributes", "logs"):
        assert not [plan for plan in plans if f"SCAN {table}" in plan], table


# -- configuration --------------------------------------------------------------------------------


def test_configuration() -> None:
    plain = load_server_config(env={})
    assert (plain.retention, plain.retention_policy_seconds, plain.retention_interval_seconds) == (False, 0, 60.0)
    on = load_server_config(
        env={"COLONIES_RETENTION": "true", "COLONIES_RETENTION_POLICY": "604800", "COLONIES_RETENTION_INTERVAL": "0.5"}
    )
    assert (on.retention, on.retention_policy_seconds, on.retention_interval_seconds) == (True, 604800, 0.5)
    # a policy without retention is accepted (compose files set both)
    assert load_server_config(env={"COLONIES_RETENTION_POLICY": "200"}).retention is False
    on_without = {"COLONIES_RETENTION": "true"}
    with pytest.raises(ConfigError, match="COLONIES_RETENTION=true needs COLONIES_RETENTION_POLICY"):
        load_server_config(env=on_without)
    for policy, message in (("1w", "COLONIES_RETENTION_POLICY='1w' is not an integer"), ("0", "must be at least 1")):
        with pytest.raises(ConfigError, match=message):
            load_server_config(env={**on_without, "COLONIES_RETENTION_POLICY": policy})
    with pytest.raises(ConfigError, match="COLONIES_RETENTION='maybe' is not a boolean"):
        load_server_config(env={"COLONIES_RETENTION": "maybe", "COLONIES_RETENTION_POLICY": "60"})
    for interval in ("soon", "0", "-1", "nan", "inf"):
        with pytest.raises(ConfigError, match="COLONIES_RETENTION_INTERVAL"):
            load_server_config(env={"COLONIES_RETENTION_INTERVAL": interval})
