"""Process messages: submit, assign, close, fail, set output, get, list, history, remove, cancel,
pause, resume, pause status."""

from __future__ import annotations

from typing import Any

import orjson

from ...messages import (
    AssignProcessMsg,
    CloseFailedMsg,
    CloseSuccessfulMsg,
    ColonyNameMsg,
    GetProcessesMsg,
    GetProcessHistMsg,
    ProcessIdMsg,
    RemoveAllProcessesMsg,
    SetOutputMsg,
    SubmitFuncSpecMsg,
)
from ...rpc import RPCError
from ..auth import Member, require_colony_owner, require_member
from ..encode import process_wire
from ..scheduler import assign, cancel, close_failed, close_successful, submit
from ..store.records import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, ProcessRecord
from . import Call, Reply, handler

MAX_COUNT = 100
NS = 1_000_000_000


@handler("submitfuncspecmsg", SubmitFuncSpecMsg, "submit function spec")
async def submit_func_spec(call: Call, msg: SubmitFuncSpecMsg) -> Any:
    spec = msg["spec"]
    if spec is None:
        raise RPCError(400, "Failed to submit process spec, msg.FunctionSpec is nil")
    member = await require_member(call.ctx, call.rid, spec["conditions"]["colonyname"])
    process = await submit(call.ctx, spec, member.id, member.name)
    return process_wire(process)


@handler("assignprocessmsg", AssignProcessMsg, "assign process")
async def assign_process(call: Call, msg: AssignProcessMsg) -> Any:
    member = await require_member(call.ctx, call.rid, msg["colonyname"])
    if msg["timeout"] == 0:
        raise RPCError(400, "Invalid timeout value, timeout cannot be zero")
    if member.executor is None:
        raise RPCError(500, "Failed to assign process, executor not found")
    process = await assign(
        call.ctx, member.executor, msg["colonyname"], msg["timeout"], msg["availablecpu"], msg["availablemem"]
    )
    return process_wire(process)


async def _process_and_member(call: Call, processid: str, what: str) -> tuple[ProcessRecord, Member]:
    """The process and the signer, after checking that the signer is a member of its colony."""
    process = await call.ctx.store.get_process(processid)
    if process is None:
        raise RPCError(500, f"Failed to {what}, process is nil")
    return process, await require_member(call.ctx, call.rid, process.colonyname)


@handler("closesuccessfulmsg", CloseSuccessfulMsg, "close process as successful")
async def close_process(call: Call, msg: CloseSuccessfulMsg) -> Any:
    what = "close process as successful"
    process, member = await _process_and_member(call, msg["processid"], what)
    if not process.assignedexecutorid:
        raise RPCError(403, f"Failed to {what}, process is not assigned")
    if process.assignedexecutorid != call.rid:
        raise RPCError(403, f"Failed to {what}, not allowed to {what}")
    await close_successful(call.ctx, process, msg["out"], member.name)
    return {}


@handler("closefailedmsg", CloseFailedMsg, "close process as failed")
async def fail_process(call: Call, msg: CloseFailedMsg) -> Any:
    what = "close process as failed"
    process, _ = await _process_and_member(call, msg["processid"], what)
    if not process.assignedexecutorid:
        raise RPCError(403, f"Failed to {what}, process is not assigned")
    if process.assignedexecutorid != call.rid:
        raise RPCError(403, f"Failed to {what}, not allowed to {what}")
    texts = {SUCCESS: "successful", FAILED: "failed", CANCELLED: "cancelled"}
    if process.state in texts:
        raise RPCError(400, f"Tried to set {texts[process.state]} process as failed")
    if not await close_failed(call.ctx, process, msg["errors"], from_states=(RUNNING,)):
        raise RPCError(400, "Failed to close process as failed, the process changed state concurrently")
    return {}


@handler("setoutputmsg", SetOutputMsg, "set output")
async def set_output(call: Call, msg: SetOutputMsg) -> Any:
    process, _ = await _process_and_member(call, msg["processid"], "set output")
    if process.assignedexecutorid != call.rid:
        raise RPCError(403, "Failed to close process as successful, not allowed to close process as successful")
    if process.state != RUNNING:
        raise RPCError(403, "Failed to set output, process is not running")
    if msg["out"]:
        ok = await call.ctx.store.update_process(
            process.processid, (RUNNING,), {"output": orjson.dumps(msg["out"]).decode()}, assigned_to=call.rid
        )
        if not ok:
            raise RPCError(403, "Failed to set output, process is not running")
    return {}


@handler("getprocessmsg", ProcessIdMsg, "get process")
async def get_process(call: Call, msg: ProcessIdMsg) -> Any:
    process = await call.ctx.store.get_process(msg["processid"])
    if process is None:
        raise RPCError(404, "Failed to get process, process not found")
    await require_member(call.ctx, call.rid, process.colonyname)
    return process_wire(process)


@handler("getprocessesmsg", GetProcessesMsg, "get processes")
async def get_processes(call: Call, msg: GetProcessesMsg) -> Any:
    ctx = call.ctx
    await require_member(ctx, call.rid, msg["colonyname"])
    if msg["count"] > MAX_COUNT:
        raise RPCError(400, f"Count is larger than MaxCount limit <{MAX_COUNT}>")
    if msg["state"] not in (WAITING, RUNNING, SUCCESS, FAILED, CANCELLED):
        raise RPCError(400, "Failed to get processes, invalid msg.State")
    initiatorid = ""
    if msg["initiator"] and not msg["executortype"]:
        user = await ctx.store.get_user(msg["colonyname"], msg["initiator"])
        if user is None:
            raise RPCError(400, f"User <{msg['initiator']}> does not exist")
        initiatorid = user["userid"]
    processes = await ctx.store.list_processes(
        msg["colonyname"],
        msg["state"],
        max(msg["count"], 0),
        executortype=msg["executortype"],
        label=msg["label"],
        initiatorid=initiatorid,
    )
    return [process_wire(p) for p in processes] or None


@handler("getprocesshistmsg", GetProcessHistMsg, "get process history")
async def get_process_history(call: Call, msg: GetProcessHistMsg) -> Any:
    ctx = call.ctx
    await require_member(ctx, call.rid, msg["colonyname"])
    since = ctx.now() - max(msg["seconds"], 0) * NS
    processes = await ctx.store.process_history(msg["colonyname"], msg["executorid"], since, msg["state"])
    return [process_wire(p) for p in processes] or None


@handler("removeprocessmsg", ProcessIdMsg, "remove process")
async def remove_process(call: Call, msg: ProcessIdMsg) -> Any:
    ctx = call.ctx
    process = await ctx.store.get_process(msg["processid"])
    if process is None:
        raise RPCError(500, "Failed to remove process, process is nil")
    await require_member(ctx, call.rid, process.colonyname)
    if process.processgraphid:
        raise RPCError(
            400,
            "Failed to remove, cannot remove a process part of a workflow, delete the entire workflow instead",
        )
    if process.state == RUNNING:
        raise RPCError(400, "Failed to remove process, cannot remove a running process")
    await ctx.store.remove_process(process.processid)
    return {}


@handler("removeallprocessesmsg", RemoveAllProcessesMsg, "remove all processes")
async def remove_all_processes(call: Call, msg: RemoveAllProcessesMsg) -> Any:
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    state = msg["state"]
    if state == RUNNING:
        raise RPCError(400, "Not possible to remove running processes")
    if state not in (-1, WAITING, SUCCESS, FAILED, CANCELLED):
        raise RPCError(400, "Invalid state when deleting all processes")
    await call.ctx.store.remove_processes(msg["colonyname"], None if state == -1 else state, workflows=False)
    return {}


@handler("cancelprocessmsg", ProcessIdMsg, "cancel process")
async def cancel_process(call: Call, msg: ProcessIdMsg) -> Any:
    ctx = call.ctx
    process = await ctx.store.get_process(msg["processid"])
    if process is None:
        raise RPCError(500, "Failed to cancel process, process is nil")
    await require_member(ctx, call.rid, process.colonyname)
    if process.processgraphid:
        raise RPCError(
            400,
            "Failed to cancel, cannot cancel a process part of a workflow, cancel the entire workflow instead",
        )
    await cancel(ctx, process)
    return {}


@handler("pauseassignmentsmsg", ColonyNameMsg, "pause assignments")
async def pause(call: Call, msg: ColonyNameMsg) -> Any:
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    await call.ctx.store.set_paused(msg["colonyname"], True)
    return {}


@handler("resumeassignmentsmsg", ColonyNameMsg, "resume assignments")
async def resume(call: Call, msg: ColonyNameMsg) -> Any:
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    await call.ctx.store.set_paused(msg["colonyname"], False)
    call.ctx.hub.notify_resumed(msg["colonyname"])
    return {}


@handler("getpausestatusmsg", ColonyNameMsg, "get pause status")
async def pause_status(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    paused = await call.ctx.store.is_paused(msg["colonyname"])
    return Reply(
        "pausestatusreplymsg",
        {"msgtype": "pausestatusreplymsg", "colonyname": msg["colonyname"], "ispaused": paused},
    )
