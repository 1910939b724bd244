"""Log messages (protocol ext/40-logs.md): an executor adds lines to the process it runs or to
itself; members of the colony read them by process or by executor and search them by substring."""

from __future__ import annotations

from typing import Any

from ...messages import AddExecutorLogMsg, AddLogMsg, GetLogsMsg, SearchLogsMsg
from ...rpc import RPCError
from ..auth import require_member
from ..store.records import RUNNING
from . import Call, handler

MAX_LOG_COUNT = 500
"""Most lines one ``getlogsmsg`` may ask for."""
MAX_SEARCH_COUNT = 100
"""Most lines one ``searchlogsmsg`` may ask for."""
MAX_SEARCH_DAYS = 30
"""Longest look-back window of ``searchlogsmsg``."""

_last_stamp = 0


def _stamp(now: int) -> int:
    """The timestamp of a new line: now, but strictly after the previous line's, so that a reader
    following with ``since = <last timestamp seen>`` never skips a line that shared it."""
    global _last_stamp
    _last_stamp = max(now, _last_stamp + 1)
    return _last_stamp


async def _store_line(call: Call, processid: str, colonyname: str, executorname: str, message: str) -> None:
    now = call.ctx.now()
    line = {
        "processid": processid,
        "colonyname": colonyname,
        "executorname": executorname,
        "message": message,
        "timestamp": _stamp(now),
    }
    await call.ctx.store.add_log(line, now)


@handler("addlogmsg", AddLogMsg, "add log")
async def add_log(call: Call, msg: AddLogMsg) -> Any:
    store = call.ctx.store
    process = await store.get_process(msg["processid"])
    if process is None:
        raise RPCError(500, "Failed to add log, process is nil")
    member = await require_member(call.ctx, call.rid, process.colonyname)
    if process.state != RUNNING:
        raise RPCError(403, "Failed to set output, process is not running")  # sic, as upstream
    if process.assignedexecutorid != call.rid:
        raise RPCError(403, "Failed to add log, not allowed to add log, only the assigned Executor may att logs")  # sic
    executor = member.executor or await store.get_executor_by_id(call.rid, process.colonyname)
    if executor is None:  # the assigned executor was removed while running
        raise RPCError(403, "Failed to add log, executor not found")
    await _store_line(call, process.processid, process.colonyname, executor["executorname"], msg["message"])
    return {}


@handler("addexecutorlogmsg", AddExecutorLogMsg, "add executor log")
async def add_executor_log(call: Call, msg: AddExecutorLogMsg) -> Any:
    member = await require_member(call.ctx, call.rid, msg["colonyname"])
    executor = member.executor or await call.ctx.store.get_executor_by_id(call.rid)
    if executor is None:
        raise RPCError(403, "Failed to add executor log, executor not found")
    if executor["executorname"] != msg["executorname"]:
        raise RPCError(403, "Failed to add executor log, executor name mismatch")
    await _store_line(call, "", msg["colonyname"], executor["executorname"], msg["message"])
    return {}


@handler("getlogsmsg", GetLogsMsg, "get logs")
async def get_logs(call: Call, msg: GetLogsMsg) -> Any:
    store = call.ctx.store
    count, since, latest = msg["count"], msg["since"], msg["latest"]
    if msg["executorname"]:
        executor = await store.get_executor(msg["colonyname"], msg["executorname"])
        if executor is None:
            raise RPCError(500, "Failed to get logs, executor does not exist")
        await require_member(call.ctx, call.rid, executor["colonyname"])
        _check_count(count)
        logs = await store.get_executor_logs(executor["colonyname"], executor["executorname"], count, since, latest)
    else:
        process = await store.get_process(msg["processid"])
        if process is None:
            raise RPCError(500, "Failed to get logs, process does not exist")
        await require_member(call.ctx, call.rid, process.colonyname)
        _check_count(count)
        logs = await store.get_process_logs(process.processid, count, since, latest)
    return logs or None


def _check_count(count: int) -> None:
    if count > MAX_LOG_COUNT:
        raise RPCError(403, f"Count exceeds max log count ({MAX_LOG_COUNT})")


@handler("searchlogsmsg", SearchLogsMsg, "search logs", mismatch_verb="get logs")  # sic, as upstream
async def search_logs(call: Call, msg: SearchLogsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    if msg["count"] > MAX_SEARCH_COUNT:
        raise RPCError(400, f"Count exceeds max log count ({MAX_SEARCH_COUNT})")
    if msg["days"] > MAX_SEARCH_DAYS:
        raise RPCError(400, f"Count exceeds max day count ({MAX_SEARCH_DAYS})")  # sic
    logs = await call.ctx.store.search_logs(msg["colonyname"], msg["text"], msg["days"], msg["count"], call.ctx.now())
    return logs or None
