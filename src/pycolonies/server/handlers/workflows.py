"""Process graph (workflow) messages: submit, get, list, remove, remove all, cancel, add child."""

from __future__ import annotations

from typing import Any

from ...messages import (
    AddChildMsg,
    GetProcessGraphsMsg,
    ProcessGraphIdMsg,
    RemoveAllProcessGraphsMsg,
    SubmitWorkflowSpecMsg,
)
from ...rpc import RPCError
from .. import workflows
from ..auth import require_colony_owner, require_member
from ..encode import process_wire
from ..store.records import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, GraphRecord
from . import Call, handler

MAX_COUNT = 100


@handler("submitworkflowspecmsg", SubmitWorkflowSpecMsg, "submit workflow")
async def submit_workflow(call: Call, msg: SubmitWorkflowSpecMsg) -> Any:
    spec = msg["spec"]
    if spec is None:
        raise RPCError(400, "Failed to submit workflow, msg.WorkflowSpec is nil")
    member = await require_member(call.ctx, call.rid, spec["colonyname"])
    graph = await workflows.submit_workflow(call.ctx, spec, member.id, member.name)
    return await workflows.graph_wire(call.ctx, graph, spec_order=True)


async def _graph(call: Call, processgraphid: str, verb: str) -> GraphRecord:
    graph = await call.ctx.store.get_graph(processgraphid)
    if graph is None:
        raise RPCError(500, f"Failed to {verb} processgraph, graph is nil")
    await require_member(call.ctx, call.rid, graph.colonyname)
    return graph


@handler("getprocessgraphmsg", ProcessGraphIdMsg, "get processgraph")
async def get_processgraph(call: Call, msg: ProcessGraphIdMsg) -> Any:
    graph = await _graph(call, msg["processgraphid"], "get")
    return await workflows.graph_wire(call.ctx, graph, layout=True)


@handler("getprocessgraphsmsg", GetProcessGraphsMsg, "get processgraphs")
async def get_processgraphs(call: Call, msg: GetProcessGraphsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    if msg["count"] > MAX_COUNT:
        raise RPCError(400, f"Count is larger than MaxCount limit <{MAX_COUNT}>")
    if msg["state"] not in (WAITING, RUNNING, SUCCESS, FAILED, CANCELLED):
        raise RPCError(400, "invalid msg.State")
    graphs = await call.ctx.store.list_graphs(msg["colonyname"], msg["state"], max(msg["count"], 0))
    return [await workflows.graph_wire(call.ctx, g) for g in graphs] or None


@handler("removeprocessgraphmsg", ProcessGraphIdMsg, "remove processgraph")
async def remove_processgraph(call: Call, msg: ProcessGraphIdMsg) -> Any:
    graph = await _graph(call, msg["processgraphid"], "remove")
    if graph.state == RUNNING:
        raise RPCError(400, "Failed to remove processgraph, cannot remove a running processgraph")
    await call.ctx.store.remove_graph(graph.processgraphid)
    return {}


@handler("removeallprocessgraphsmsg", RemoveAllProcessGraphsMsg, "remove all processgraphs")
async def remove_all_processgraphs(call: Call, msg: RemoveAllProcessGraphsMsg) -> Any:
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    state = msg["state"]
    if state == RUNNING:
        raise RPCError(400, "not possible to remove running processgraphs")
    if state not in (-1, WAITING, SUCCESS, FAILED, CANCELLED):
        raise RPCError(400, "invalid state when deleting all processgraphs")
    await call.ctx.store.remove_graphs(msg["colonyname"], None if state == -1 else state)
    return {}


@handler("cancelprocessgraphmsg", ProcessGraphIdMsg, "cancel processgraph")
async def cancel_processgraph(call: Call, msg: ProcessGraphIdMsg) -> Any:
    graph = await _graph(call, msg["processgraphid"], "cancel")
    await workflows.cancel_graph(call.ctx, graph)
    return {}


@handler("addchildmsg", AddChildMsg, "add child to processgraph")
async def add_child(call: Call, msg: AddChildMsg) -> Any:
    spec = msg["spec"]
    if spec is None:
        raise RPCError(400, "Failed to add child to processgraph, msg.FunctionSpec is nil")
    await require_member(call.ctx, call.rid, spec["conditions"]["colonyname"])
    parent = await call.ctx.store.get_process(msg["parentprocessid"])
    if parent is None:
        raise RPCError(404, f"Failed to add child to processgraph, process with Id {msg['parentprocessid']} not found")
    if parent.state != RUNNING:
        raise RPCError(400, f"Process with Id {parent.processid} is not running")
    if parent.assignedexecutorid != call.rid:
        raise RPCError(400, f"Process with Id {parent.processid} is not assigned to executor with Id {call.rid}")
    if not parent.processgraphid:
        raise RPCError(400, f"Process with Id {parent.processid} does not belong to a processgraph")
    if spec["conditions"]["colonyname"] != parent.colonyname:
        raise RPCError(400, "Failed to add child to processgraph, the child must be in the parent's colony")
    child = await workflows.add_child(
        call.ctx, msg["processgraphid"], parent, msg["childprocessid"], spec, msg["insert"]
    )
    return process_wire(child)
