"""Workflows (process graphs): submission with validation, dependency release, graph state,
failure handling, cancel, add-child, and the graph's wire form with its layout
(protocol core/30-semantics.md section 6, core/10-objects.md section 8).

Releasing work is incremental so that a graph costs O(nodes + edges) to run however large it is:
each process counts its parents that have not succeeded yet (``pendingparents``); a parent's
success decrements its children's counts and releases those that reach zero, and the graph counts
its successful processes to know when it is done.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..rpc import RPCError
from ..timefmt import format_ns
from . import channels
from .context import ServerContext, new_id
from .processes import build_process, emit
from .store.records import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, GraphRecord, ProcessRecord

__all__ = [
    "add_child",
    "cancel_graph",
    "graph_wire",
    "on_assigned",
    "on_failed",
    "on_succeeded",
    "submit_workflow",
    "validate_specs",
]

_INVALID_DEPENDENCIES = (
    "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?"
)
_COLORS = {WAITING: "#eee8d8", RUNNING: "#4689cd", SUCCESS: "#92d050", FAILED: "#cb4239", CANCELLED: "#f5a623"}


def validate_specs(specs: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each node's parents by name; raises RPCError(400) for missing, duplicate, unknown or cyclic names."""
    parents: dict[str, list[str]] = {}
    for spec in specs:
        name = spec["nodename"]
        if not name:
            raise RPCError(400, "Nodename is missing, check function spec for errors")
        if name in parents:
            raise RPCError(400, f"Duplicate nodename: {name}")
        deps = spec["conditions"]["dependencies"] or []
        parents[name] = list(dict.fromkeys(deps))  # a dependency named twice is one parent
    for name, deps in parents.items():
        for dep in deps:
            if dep not in parents:
                raise RPCError(400, f"{_INVALID_DEPENDENCIES} ({name} depends on unknown {dep})")
    cycle = _find_cycle(parents)
    if cycle:
        raise RPCError(400, "Failed to submit workflow, the dependencies form a cycle: " + " -> ".join(cycle))
    return parents


def _find_cycle(parents: dict[str, list[str]]) -> list[str]:
    """A dependency cycle as a list of names (first name repeated at the end), or []."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in parents:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                path.append(node)
            deps = parents[node]
            if index < len(deps):
                stack.append((node, index + 1))
                dep = deps[index]
                if state.get(dep) == 1:
                    return [*path[path.index(dep) :], dep]
                if not state.get(dep):
                    stack.append((dep, 0))
            else:
                state[node] = 2
                path.pop()
    return []


async def submit_workflow(
    ctx: ServerContext,
    spec: dict[str, Any],
    initiatorid: str,
    initiatorname: str,
    root_input: list[Any] | None = None,
) -> GraphRecord:
    """Create a graph and its processes from a decoded WorkflowSpec; nothing is stored if it is invalid.
    ``root_input`` (a cron's previous outputs) becomes the input of the root processes."""
    colonyname = spec["colonyname"]
    specs = spec["functionspecs"] or []
    if not specs:
        raise RPCError(400, "Failed to submit workflow, the workflow has no function specs")
    parents_by_name = validate_specs(specs)
    now = ctx.now()
    graphid = new_id()
    by_name: dict[str, ProcessRecord] = {}
    processes: list[ProcessRecord] = []
    for raw in specs:
        fs = dict(raw)
        fs["conditions"] = dict(raw["conditions"], colonyname=colonyname)
        if fs["maxexectime"] == 0:
            fs["maxexectime"] = -1
        deps = parents_by_name[fs["nodename"]]
        p = build_process(
            fs,
            initiatorid=initiatorid,
            initiatorname=initiatorname,
            now=now,
            processgraphid=graphid,
            waitforparents=bool(deps),
        )
        p.pendingparents = len(deps)
        if root_input and not deps:
            p.input = orjson.dumps(root_input).decode()
        by_name[fs["nodename"]] = p
        processes.append(p)
    for p, raw in zip(processes, specs, strict=True):
        for dep in parents_by_name[raw["nodename"]]:
            parent = by_name[dep]
            p.parents.append(parent.processid)
            parent.children.append(p.processid)
    graph = GraphRecord(
        processgraphid=graphid,
        colonyname=colonyname,
        initiatorid=initiatorid,
        initiatorname=initiatorname,
        rootprocessids=[p.processid for p in processes if not p.parents],
        processids=[p.processid for p in processes],
        state=WAITING,
        submissiontime=now,
        nprocesses=len(processes),
    )
    await ctx.store.add_graph(graph, processes)
    for p in processes:
        if not p.parents:
            emit(ctx, p)
    return graph


async def on_assigned(ctx: ServerContext, p: ProcessRecord) -> None:
    """The first assignment moves the graph from WAITING to RUNNING."""
    await ctx.store.update_graph(p.processgraphid, (WAITING,), {"state": RUNNING, "starttime": ctx.now()})


async def on_succeeded(ctx: ServerContext, p: ProcessRecord) -> None:
    """Release the children whose parents have now all succeeded; finish the graph when all did."""
    store = ctx.store
    for childid in p.children:
        if await store.parent_succeeded(childid) == 0:
            await _release(ctx, childid)
    counted = await store.count_graph_success(p.processgraphid)
    if counted is not None and counted[0] >= counted[1] and counted[2] in (WAITING, RUNNING):
        await store.update_graph(p.processgraphid, (WAITING, RUNNING), {"state": SUCCESS, "endtime": ctx.now()})


async def _release(ctx: ServerContext, processid: str) -> None:
    """All parents succeeded: the input is their outputs in parents order (null if all empty)."""
    child = await ctx.store.get_process(processid)
    if child is None or child.state != WAITING or not child.waitforparents:
        return
    outputs = await ctx.store.outputs(child.parents)
    values: list[Any] = []
    for parentid in child.parents:
        values.extend(orjson.loads(outputs.get(parentid, "[]")) or [])
    child.input = orjson.dumps(values).decode() if values else "null"
    if await ctx.store.update_process(
        processid, (WAITING,), {"waitforparents": False, "input": child.input}, mirror_attributes=False
    ):
        child.waitforparents = False
        emit(ctx, child)


async def on_failed(ctx: ServerContext, p: ProcessRecord) -> None:
    """A failed process fails its graph, and its waiting descendants (which can never run); processes
    that already succeeded, and branches that do not depend on it, are left as they are."""
    store = ctx.store
    now = ctx.now()
    await store.update_graph(p.processgraphid, (WAITING, RUNNING, SUCCESS), {"state": FAILED, "endtime": now})
    if not p.children:
        return
    graph = {q.processid: q for q in await store.graph_processes(p.processgraphid)}
    stack, seen = list(p.children), set()
    while stack:
        qid = stack.pop()
        if qid in seen or qid not in graph:
            continue
        seen.add(qid)
        q = graph[qid]
        stack.extend(q.children)
        if q.state != WAITING:
            continue
        errors = [f"Parent process {p.processid} failed"]
        fields = {"state": FAILED, "endtime": now, "errors": errors}
        if await store.update_process(qid, (WAITING,), fields, mirror_attributes=q.nattributes > 0):
            q.state, q.endtime, q.errors = FAILED, now, errors
            emit(ctx, q)


async def cancel_graph(ctx: ServerContext, graph: GraphRecord) -> None:
    """Cancel every waiting or running process of the graph, and the graph."""
    cancelled = await ctx.store.cancel_graph(graph.processgraphid, ctx.now())
    for processid in cancelled:
        if ctx.hub.has_process_subscribers(processid):
            process = await ctx.store.get_process(processid)
            if process is not None:
                emit(ctx, process)
    await channels.close_many(ctx, cancelled)


async def add_child(
    ctx: ServerContext, graphid: str, parent: ProcessRecord, before: str, spec: dict[str, Any], insert: bool
) -> ProcessRecord:
    """Add a process under a running parent (protocol core/30-semantics.md 6.5)."""
    if graphid and graphid != parent.processgraphid:
        raise RPCError(400, f"Process with Id {parent.processid} does not belong to processgraph {graphid}")
    graphid = parent.processgraphid
    if before and not insert:
        other = await ctx.store.get_process(before)
        if other is None or other.processgraphid != graphid:
            raise RPCError(400, f"Failed to add child to processgraph, process with Id {before} is not in the graph")
    child = build_process(
        spec, initiatorid="", initiatorname="", now=ctx.now(), processgraphid=graphid, waitforparents=True
    )
    child.parents = [parent.processid]
    child.pendingparents = 1
    if not await ctx.store.add_child(child, parent.processid, insert, "" if insert else before):
        raise RPCError(400, f"Process with Id {parent.processid} is not running")
    stored = await ctx.store.get_process(child.processid)
    if stored is None:
        raise RPCError(500, "Failed to submit process spec, addedProcess is nil")
    return stored


def _depth_first(graph: GraphRecord, processes: dict[str, ProcessRecord]) -> list[tuple[str, int]]:
    """(process id, depth) from the roots along children, each process once, depth at first visit."""
    order: list[tuple[str, int]] = []
    seen: set[str] = set()
    for root in graph.rootprocessids:
        stack = [(root, 0)]
        while stack:
            pid, depth = stack.pop()
            if pid in seen or pid not in processes:
                continue
            seen.add(pid)
            order.append((pid, depth))
            stack.extend((c, depth + 1) for c in reversed(processes[pid].children))
    order.extend((pid, 0) for pid in graph.processids if pid not in seen and pid in processes)
    return order


def _layout(order: list[tuple[str, int]], processes: dict[str, ProcessRecord]) -> tuple[list[Any], list[Any]]:
    width_of = {}
    levels: dict[int, int] = {}
    for _, depth in order:
        levels[depth] = levels.get(depth, 0) + 1
    for depth, m in levels.items():
        width_of[depth] = m * 150 + (m - 1) * 50
    widest = max(width_of.values(), default=150)
    nodes, edges, index = [], [], dict.fromkeys(levels, 0)
    for pid, depth in order:
        p = processes[pid]
        shift = widest // 2 - width_of[depth] // 2
        nodes.append(
            {
                "id": pid,
                "data": {"label": orjson.loads(p.spec)["nodename"]},
                "position": {"x": index[depth] * 200 + shift, "y": depth * 80},
                "type": "input" if not p.parents else "output" if not p.children else "",
                "style": {"color": "", "background": _COLORS.get(p.state, "")},
            }
        )
        index[depth] += 1
        for child in p.children:
            edges.append({"id": f"{pid}-{child}", "source": pid, "target": child, "animated": p.state == RUNNING})
    return nodes, edges


async def graph_wire(
    ctx: ServerContext, graph: GraphRecord, *, layout: bool = False, spec_order: bool = False
) -> dict[str, Any]:
    """The ProcessGraph object; ``processids`` depth-first unless ``spec_order``; nodes and edges with ``layout``."""
    processids = graph.processids
    nodes: list[Any] = []
    edges: list[Any] = []
    if not spec_order or layout:
        processes = {p.processid: p for p in await ctx.store.graph_processes(graph.processgraphid)}
        order = _depth_first(graph, processes)
        processids = [pid for pid, _ in order]
        if layout:
            nodes, edges = _layout(order, processes)
    return {
        "processgraphid": graph.processgraphid,
        "initiatorid": graph.initiatorid,
        "initiatorname": graph.initiatorname,
        "colonyname": graph.colonyname,
        "rootprocessids": graph.rootprocessids,
        "state": graph.state,
        "submissiontime": format_ns(graph.submissiontime),
        "starttime": format_ns(graph.starttime),
        "endtime": format_ns(graph.endtime),
        "processids": processids,
        "nodes": nodes,
        "edges": edges,
    }
