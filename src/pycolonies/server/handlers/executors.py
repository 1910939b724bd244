"""Executor messages: add, approve, reject, remove, get, list, update, report allocation, change id."""

from __future__ import annotations

from typing import Any

from ...messages import (
    AddExecutorMsg,
    ChangeExecutorIdMsg,
    ColonyNameMsg,
    ExecutorNameMsg,
    GetExecutorByIdMsg,
    ReportAllocationMsg,
    UpdateExecutorMsg,
)
from ...rpc import RPCError
from ...timefmt import parse_ns
from ..auth import require_colony_owner, require_member
from ..encode import executor_wire
from ..processes import emit
from . import Call, handler

PENDING, APPROVED, REJECTED, UNREGISTERED = 0, 1, 2, 3


@handler("addexecutormsg", AddExecutorMsg, "add executor")
async def add_executor(call: Call, msg: AddExecutorMsg) -> Any:
    e = msg["executor"]
    if e is None:
        raise RPCError(400, "Failed to add executor, executor is nil")
    ctx = call.ctx
    await require_colony_owner(ctx, call.rid, e["colonyname"])
    for field in ("executorid", "executorname", "executortype"):
        if not e[field]:
            raise RPCError(400, f"Failed to add executor, {field} is empty")
    try:
        lastheard = parse_ns(e["lastheardfromtime"])
    except ValueError:
        raise RPCError(400, "Failed to add executor, invalid lastheardfromtime") from None
    record = {
        "executorid": e["executorid"],
        "colonyname": e["colonyname"],
        "executorname": e["executorname"],
        "executortype": e["executortype"],
        "state": PENDING,
        "requirefuncreg": e["requirefuncreg"],
        "commissiontime": ctx.now(),
        "lastheardfromtime": lastheard,
        "locationname": e["locationname"],
        "capabilities": e["capabilities"],
        "allocations": e["allocations"],
        "blueprintid": e["blueprintid"],
        "blueprintgen": e["blueprintgen"],
    }
    if not await ctx.store.add_executor(record, replace=ctx.config.allow_executor_reregister):
        raise RPCError(400, f"Executor with name <{e['executorname']}> in Colony <{e['colonyname']}> already exists")
    stored = await ctx.store.get_executor(e["colonyname"], e["executorname"])
    assert stored is not None
    return executor_wire(stored)


async def _set_state(call: Call, msg: ExecutorNameMsg, state: int, verb: str) -> Any:
    ctx = call.ctx
    executor = await ctx.store.get_executor(msg["colonyname"], msg["executorname"])
    if executor is None:
        raise RPCError(500, f"Failed to {verb} executor, executor is nil")
    await require_colony_owner(ctx, call.rid, executor["colonyname"])
    await ctx.store.set_executor_state(msg["colonyname"], msg["executorname"], state)
    return {}


@handler("approveexecutormsg", ExecutorNameMsg, "approve executor")
async def approve(call: Call, msg: ExecutorNameMsg) -> Any:
    return await _set_state(call, msg, APPROVED, "approve")


@handler("rejectexecutormsg", ExecutorNameMsg, "reject executor")
async def reject(call: Call, msg: ExecutorNameMsg) -> Any:
    return await _set_state(call, msg, REJECTED, "reject")


async def unregister(call_ctx: Any, colonyname: str, executorname: str) -> None:
    """Unregister an executor and put its running processes back in the queue."""
    released = await call_ctx.store.unregister_executor(colonyname, executorname)
    for pid in released:
        process = await call_ctx.store.get_process(pid)
        if process is not None:
            emit(call_ctx, process)


@handler("removeexecutormsg", ExecutorNameMsg, "remove executor")
async def remove(call: Call, msg: ExecutorNameMsg) -> Any:
    ctx = call.ctx
    executor = await ctx.store.get_executor(msg["colonyname"], msg["executorname"])
    if executor is None:
        raise RPCError(500, "Failed to remove executor, executor is nil")
    await require_colony_owner(ctx, call.rid, executor["colonyname"])
    await unregister(ctx, msg["colonyname"], msg["executorname"])
    return {}


@handler("getexecutormsg", ExecutorNameMsg, "get executor")
async def get_executor(call: Call, msg: ExecutorNameMsg) -> Any:
    executor = await call.ctx.store.get_executor(msg["colonyname"], msg["executorname"])
    if executor is None:
        raise RPCError(500, "Failed to get executor, executor is nil")
    await require_member(call.ctx, call.rid, executor["colonyname"])
    return executor_wire(executor)


@handler("getexecutorbyidmsg", GetExecutorByIdMsg, "get executor by ID")
async def get_executor_by_id(call: Call, msg: GetExecutorByIdMsg) -> Any:
    # upstream ignores colonyname; it only picks among colonies when one key serves several
    store = call.ctx.store
    executor = await store.get_executor_by_id(msg["executorid"], msg["colonyname"])
    if executor is None and msg["colonyname"]:
        executor = await store.get_executor_by_id(msg["executorid"])
    if executor is None:
        raise RPCError(404, "Failed to get executor by ID, executor is nil")
    await require_member(call.ctx, call.rid, executor["colonyname"])
    return executor_wire(executor)


@handler("getexecutorsmsg", ColonyNameMsg, "get executors")
async def get_executors(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    executors = await call.ctx.store.list_executors(msg["colonyname"])
    return [executor_wire(e) for e in executors] or None


async def _own_executor(call: Call, colonyname: str, executorname: str, refusal: str) -> dict[str, Any]:
    await require_member(call.ctx, call.rid, colonyname, approved=False)
    executor = await call.ctx.store.get_executor(colonyname, executorname)
    if executor is None:
        raise RPCError(400, f"Executor with name <{executorname}> does not exist")
    if executor["executorid"] != call.rid:
        raise RPCError(400, refusal)
    return executor


@handler("updateexecutormsg", UpdateExecutorMsg, "update executor")
async def update_executor(call: Call, msg: UpdateExecutorMsg) -> Any:
    await _own_executor(
        call, msg["colonyname"], msg["executorname"], "Only an executor can update its own capabilities"
    )
    await call.ctx.store.update_executor(msg["colonyname"], msg["executorname"], capabilities=msg["capabilities"])
    return {}


@handler("reportallocationmsg", ReportAllocationMsg, "report allocation")
async def report_allocation(call: Call, msg: ReportAllocationMsg) -> Any:
    await _own_executor(
        call, msg["colonyname"], msg["executorname"], "Only an executor can report allocations to itself"
    )
    await call.ctx.store.update_executor(msg["colonyname"], msg["executorname"], allocations=msg["allocations"])
    return {}


@handler("changeexecutoridmsg", ChangeExecutorIdMsg, "change executor Id")
async def change_executor_id(call: Call, msg: ChangeExecutorIdMsg) -> Any:
    if not msg["executorid"]:
        raise RPCError(400, "Failed to change executor Id, executor Id is empty")
    member = await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    if member.executor is None:
        raise RPCError(400, "Failed to change executor Id, executor not found")
    if len(msg["executorid"]) != 64:
        raise RPCError(400, "Failed to change executor Id, new executor Id is not 64 characters")
    await call.ctx.store.change_executor_id(call.rid, msg["colonyname"], msg["executorid"])
    return dict(msg)
