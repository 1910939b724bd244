"""Workflows on the real server: dependencies, output to input, graph state, failures, cancel,
add-child (map-reduce), validation, layout."""

from __future__ import annotations

from typing import Any

import pytest

from pycolonies import Conditions, FuncSpec, Workflow
from pycolonies.errors import BadRequestError

from ..conftest import Env


def node(env: Env, name: str, after: list[str] | None = None, **extra: Any) -> FuncSpec:
    return FuncSpec(
        nodename=name,
        funcname=name,
        conditions=Conditions(executortype=env.executortype, dependencies=after or []),
        maxexectime=60,
        **extra,
    )


def run_one(env: Env, out: list[Any] | None = None, fail: bool = False) -> Any:
    """Assign the next process and close it with ``out`` (or fail it)."""
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    if fail:
        env.client.fail(process.processid, ["boom"], env.executor_prvkey)
    else:
        env.client.close(process.processid, out or [], env.executor_prvkey)
    return process


def graph_state(env: Env, graphid: str) -> int:
    return env.client.get_processgraph(graphid, env.executor_prvkey).state


def test_chain_passes_outputs_as_inputs(env: Env) -> None:
    wf = Workflow(colonyname=env.colonyname, functionspecs=[node(env, "gen_nums"), node(env, "sum_nums", ["gen_nums"])])
    graph = env.client.submit_workflow(wf, env.executor_prvkey)
    assert graph.state == 0 and len(graph.processids) == 2 and graph.rootprocessids == [graph.processids[0]]
    first = run_one(env, [1, 2])
    assert first.spec.nodename == "gen_nums"
    assert graph_state(env, graph.processgraphid) == 1
    second = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert second is not None and second.spec.nodename == "sum_nums"
    assert second.input == [1, 2] and second.parents == [first.processid]
    env.client.close(second.processid, [3], env.executor_prvkey)
    done = env.client.get_processgraph(graph.processgraphid, env.executor_prvkey)
    assert done.state == 2 and done.endtime.year > 1
    assert [n.data["label"] for n in done.nodes] == ["gen_nums", "sum_nums"]
    assert [(e.source, e.target) for e in done.edges] == [(first.processid, second.processid)]
    assert done.nodes[0].type == "input" and done.nodes[1].type == "output"


def test_diamond_waits_for_both_parents_in_dependency_order(env: Env) -> None:
    specs = [node(env, "a"), node(env, "b", ["a"]), node(env, "c", ["a"]), node(env, "d", ["c", "b"])]
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=specs), env.executor_prvkey)
    run_one(env, ["from-a"])
    first = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    second = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert first is not None and second is not None
    assert {first.spec.nodename, second.spec.nodename} == {"b", "c"}
    assert first.input == ["from-a"] and second.input == ["from-a"]
    env.client.close(first.processid, [f"from-{first.spec.nodename}"], env.executor_prvkey)
    assert env.client.assign(env.colonyname, -1, env.executor_prvkey) is None  # d waits for both
    env.client.close(second.processid, [f"from-{second.spec.nodename}"], env.executor_prvkey)
    d = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert d is not None and d.spec.nodename == "d"
    assert d.input == ["from-c", "from-b"]  # parents in d's dependency order
    env.client.close(d.processid, [], env.executor_prvkey)
    assert graph_state(env, graph.processgraphid) == 2


def test_a_failed_parent_fails_the_graph_and_its_waiting_descendants_only(env: Env) -> None:
    specs = [node(env, "root"), node(env, "left", ["root"]), node(env, "right", ["root"]), node(env, "leaf", ["left"])]
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=specs), env.executor_prvkey)
    run_one(env, ["x"])
    left = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    right = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert left is not None and right is not None
    if left.spec.nodename != "left":
        left, right = right, left
    env.client.close(right.processid, ["r"], env.executor_prvkey)
    env.client.fail(left.processid, ["boom"], env.executor_prvkey)
    view = env.client.get_processgraph(graph.processgraphid, env.executor_prvkey)
    assert view.state == 3
    states = {p.spec.nodename: p for p in (env.client.get_process(i, env.executor_prvkey) for i in view.processids)}
    assert states["root"].state == 2 and states["right"].state == 2  # succeeded stay succeeded
    assert states["left"].state == 3 and states["leaf"].state == 3
    assert states["leaf"].errors == [f"Parent process {left.processid} failed"]


def test_cancel_a_running_graph(env: Env) -> None:
    specs = [node(env, "a"), node(env, "b", ["a"])]
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=specs), env.executor_prvkey)
    a = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert a is not None
    env.client.cancel_processgraph(graph.processgraphid, env.executor_prvkey)
    assert graph_state(env, graph.processgraphid) == 4
    with pytest.raises(BadRequestError):
        env.client.close(a.processid, [], env.executor_prvkey)
    assert env.client.assign(env.colonyname, -1, env.executor_prvkey) is None


def test_map_reduce_with_add_child(env: Env) -> None:
    specs = [node(env, "map"), node(env, "reduce", ["map"])]
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=specs), env.executor_prvkey)
    mapper = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert mapper is not None and mapper.spec.nodename == "map"
    reduce_id = mapper.children[0]
    for i in range(5):
        child = FuncSpec(
            funcname="gen_nums",
            conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
            maxexectime=60,
        )
        added = env.client.add_child(
            graph.processgraphid, mapper.processid, reduce_id, child, f"gen_nums_{i}", False, env.executor_prvkey
        )
        assert added["parents"] == [mapper.processid] and added["children"] == [reduce_id]
    assert env.client.assign(env.colonyname, -1, env.executor_prvkey) is None  # children wait for map
    env.client.close(mapper.processid, [], env.executor_prvkey)
    for _ in range(5):
        run_one(env, [1, 2])
    reducer = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert reducer is not None and reducer.spec.nodename == "reduce"
    assert sum(reducer.input) == 15 and len(reducer.parents) == 6
    env.client.close(reducer.processid, [15], env.executor_prvkey)
    view = env.client.get_processgraph(graph.processgraphid, env.executor_prvkey)
    assert view.state == 2 and len(view.processids) == 7


def test_add_child_with_insert_takes_over_the_children(env: Env) -> None:
    specs = [node(env, "t1"), node(env, "t2", ["t1"]), node(env, "t3", ["t1"])]
    graph = env.client.submit_workflow(Workflow(colonyname=env.colonyname, functionspecs=specs), env.executor_prvkey)
    t1 = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert t1 is not None
    child = FuncSpec(funcname="t4", conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype))
    t4 = env.client.add_child(graph.processgraphid, t1.processid, "", child, "t4", True, env.executor_prvkey)
    assert sorted(t4["children"]) == sorted(t1.children)
    assert env.client.get_process(t1.processid, env.executor_prvkey).children == [t4["processid"]]
    for pid in t1.children:
        assert env.client.get_process(pid, env.executor_prvkey).parents == [t4["processid"]]
    env.client.close(t1.processid, [], env.executor_prvkey)
    nxt = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert nxt is not None and nxt.processid == t4["processid"]


@pytest.mark.parametrize(
    ("specs", "text"),
    [
        ([("a", ["b"]), ("b", ["a"])], "cycle"),
        ([("a", []), ("b", ["missing"])], "does not exits"),
        ([("a", []), ("a", [])], "Duplicate nodename: a"),
        ([("", [])], "Nodename is missing"),
    ],
)
def test_invalid_workflows_are_refused_and_nothing_is_stored(env: Env, specs: list[Any], text: str) -> None:
    wf = Workflow(colonyname=env.colonyname, functionspecs=[node(env, n, deps) for n, deps in specs])
    with pytest.raises(BadRequestError) as info:
        env.client.submit_workflow(wf, env.executor_prvkey)
    assert text in info.value.message
    assert env.client.get_processgraphs(env.colonyname, 10, env.executor_prvkey) is None
    assert env.client.list_processes(env.colonyname, 10, 0, env.executor_prvkey) is None


def test_graph_lists_and_removal(env: Env) -> None:
    wf = Workflow(colonyname=env.colonyname, functionspecs=[node(env, "only")])
    graph = env.client.submit_workflow(wf, env.executor_prvkey)
    listed = env.client.get_processgraphs(env.colonyname, 10, env.executor_prvkey)
    assert [g["processgraphid"] for g in listed] == [graph.processgraphid]
    assert listed[0]["nodes"] == [] and listed[0]["edges"] == []
    stats = env.client.stats(env.colonyname, env.executor_prvkey)
    assert stats["waitingworkflows"] == 1
    env.client.remove_processgraph(graph.processgraphid, env.executor_prvkey)
    assert env.client.get_processgraphs(env.colonyname, 10, env.executor_prvkey) is None
    assert env.client.list_processes(env.colonyname, 10, 0, env.executor_prvkey) is None
