"""Colony messages: add, remove, list, get, statistics, change id."""

from __future__ import annotations

from typing import Any

from ...messages import AddColonyMsg, ChangeColonyIdMsg, ColonyNameMsg, Msg
from ...rpc import RPCError
from ..auth import APPROVED, require_colony_owner, require_member, require_server_owner
from . import Call, handler

UNREGISTERED = 3
_STATE_KEYS = ("waiting", "running", "successful", "failed", "cancelled")


@handler("addcolonymsg", AddColonyMsg, "add colony")
async def add_colony(call: Call, msg: AddColonyMsg) -> Any:
    await require_server_owner(call.ctx, call.rid)
    colony = msg["colony"]
    if colony is None:
        raise RPCError(400, "Failed to add colony, colony is <nil>")
    if len(colony["colonyid"]) != 64:
        raise RPCError(400, "Failed to add colony, invalid colony Id length")
    if not colony["name"]:
        raise RPCError(400, "Failed to add colony, colony name is empty")
    if not await call.ctx.store.add_colony(colony):
        raise RPCError(400, f"A Colony with name <{colony['name']}> already exists")
    return {"colonyid": colony["colonyid"], "name": colony["name"]}


@handler("removecolonymsg", ColonyNameMsg, "remove colony")
async def remove_colony(call: Call, msg: ColonyNameMsg) -> Any:
    await require_server_owner(call.ctx, call.rid)
    if not await call.ctx.store.remove_colony(msg["colonyname"]):
        raise RPCError(400, f"Colony with name <{msg['colonyname']}> not found")
    return {}


@handler("getcoloniesmsg", Msg, "get colonies")
async def get_colonies(call: Call, msg: Msg) -> Any:
    await require_server_owner(call.ctx, call.rid)
    return await call.ctx.store.list_colonies() or None


@handler("getcolonymsg", ColonyNameMsg, "get colony")
async def get_colony(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    colony = await call.ctx.store.get_colony(msg["colonyname"])
    if colony is None:
        raise RPCError(403, f"Colony with name <{msg['colonyname']}> does not exists")
    return colony


@handler("getcolonystatsmsg", ColonyNameMsg, "get colony statistics")
async def colony_stats(call: Call, msg: ColonyNameMsg) -> Any:
    store = call.ctx.store
    name = msg["colonyname"]
    if await store.get_colony(name) is None:
        raise RPCError(400, f"Colony with name <{name}> not found")
    await require_member(call.ctx, call.rid, name)
    procs = await store.count_processes(name)
    execs = await store.count_executors(name)
    graphs = await store.count_graphs(name)
    stats: dict[str, Any] = {
        "colonies": 1,
        "executors": sum(execs.values()),
        "activeexecutors": execs.get(APPROVED, 0),
        "unregisteredexecutors": execs.get(UNREGISTERED, 0),
    }
    for state, key in enumerate(_STATE_KEYS):
        stats[f"{key}processes"] = procs.get(state, 0)
    for state, key in enumerate(_STATE_KEYS):
        stats[f"{key}workflows"] = graphs.get(state, 0)
    return stats


@handler("changecolonyidmsg", ChangeColonyIdMsg, "change colony Id")
async def change_colony_id(call: Call, msg: ChangeColonyIdMsg) -> Any:
    if not msg["colonyid"]:
        raise RPCError(400, "Failed to change colony Id, colony Id is empty")
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    if len(msg["colonyid"]) != 64:
        raise RPCError(400, "Failed to change colony Id, new colony Id is not 64 characters")
    await call.ctx.store.set_colony_id(msg["colonyname"], msg["colonyid"])
    return dict(msg)
