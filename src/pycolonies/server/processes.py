"""Building a new process from a spec, and announcing state changes (events and wake-ups)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ..rpc import RPCError
from .context import ServerContext, new_id
from .encode import normalize_spec, process_wire
from .events import ProcessEvent
from .resources import ResourceError
from .store.records import WAITING, ProcessRecord

__all__ = ["DAY_NS", "ENV_ATTRIBUTE", "NS", "attribute_id", "build_process", "emit"]

NS = 1_000_000_000
DAY_NS = 86_400 * NS
ENV_ATTRIBUTE = 3


def attribute_id(targetid: str, key: str, attributetype: int) -> str:
    return hashlib.sha3_256(f"{targetid}{key}{attributetype}".encode()).hexdigest()


def build_process(
    spec: dict[str, Any],
    *,
    initiatorid: str,
    initiatorname: str,
    now: int,
    processgraphid: str = "",
    waitforparents: bool = False,
) -> ProcessRecord:
    """A new WAITING process from a decoded FunctionSpec. Raises RPCError(400) for bad resources."""
    try:
        normalized, cpu, mem = normalize_spec(spec)
    except ResourceError as exc:
        raise RPCError(400, str(exc)) from None
    pid = new_id()
    cond = normalized["conditions"]
    colonyname = cond["colonyname"]
    maxwait = spec["maxwaittime"]
    process = ProcessRecord(
        processid=pid,
        colonyname=colonyname,
        executortype=cond["executortype"],
        locationname=cond.get("locationname", "").lower(),
        executornames=cond["executornames"] or None,
        state=WAITING,
        isassigned=False,
        waitforparents=waitforparents,
        prioritytime=now - spec["priority"] * DAY_NS,
        cpu=cpu,
        mem=mem,
        assignedexecutorid="",
        initiatorid=initiatorid,
        initiatorname=initiatorname,
        submissiontime=now,
        starttime=0,
        endtime=0,
        waitdeadline=now + maxwait * NS if maxwait > 0 else 0,
        execdeadline=0,
        retries=0,
        maxwaittime=maxwait,
        maxexectime=spec["maxexectime"],
        maxretries=spec["maxretries"],
        label=spec["label"],
        funcname=spec["funcname"],
        processgraphid=processgraphid,
        spec=orjson.dumps(normalized).decode(),
    )
    process.attributes = [
        {
            "attributeid": attribute_id(pid, key, ENV_ATTRIBUTE),
            "targetid": pid,
            "targetcolonyname": colonyname,
            "targetprocessgraphid": processgraphid,
            "state": WAITING,
            "attributetype": ENV_ATTRIBUTE,
            "key": key,
            "value": value,
        }
        for key, value in normalized["env"].items()
    ]
    return process


def emit(ctx: ServerContext, p: ProcessRecord) -> None:
    """Tell subscribers that ``p`` is now in ``p.state``; wake an assigner when it is WAITING."""
    if p.state == WAITING and not p.waitforparents:
        ctx.hub.notify_waiting(p.colonyname, p.executortype, p.locationname)
    if ctx.hub.has_process_subscribers(p.processid):
        ctx.hub.publish(
            ProcessEvent(p.processid, p.colonyname, p.executortype, p.locationname, p.state, process_wire(p))
        )
