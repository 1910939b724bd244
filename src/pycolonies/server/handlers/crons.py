"""Cron messages (protocol ext/30-crons-generators.md section 3): add, get, list, run now, remove."""

from __future__ import annotations

from typing import Any

from ...messages import AddCronMsg, CronIdMsg, GetCronsMsg, RemoveCronMsg
from ...rpc import RPCError
from ...timefmt import format_ns, parse_ns
from .. import cronexpr
from ..auth import require_member
from ..context import new_id
from ..triggers import admit_trigger, found_for_member, resolve_initiator, run_cron_now
from . import Call, handler

__all__ = ["cron_wire"]


def cron_wire(cron: dict[str, Any], checkerperiod: int = 0) -> dict[str, Any]:
    return {
        "cronid": cron["cronid"],
        "initiatorid": cron["initiatorid"],
        "initiatorname": cron["initiatorname"],
        "colonyname": cron["colonyname"],
        "name": cron["name"],
        "cronexpression": cron["cronexpression"],
        "interval": cron["interval"],
        "random": cron["random"],
        "nextrun": format_ns(cron["nextrun"]),
        "lastrun": format_ns(cron["lastrun"]),
        "workflowspec": cron["workflowspec"],
        "prevprocessgraphid": cron["prevprocessgraphid"],
        "waitforprevprocessgraph": cron["waitforprevprocessgraph"],
        "checkerperiod": checkerperiod,
    }


def _time_in(value: Any, verb: str, field: str) -> int:
    """A client-sent timestamp in Unix ns; null, "" and any year-1 time (Go's zero) are 0."""
    if value is None or value == "":
        return 0
    if not isinstance(value, str):
        raise RPCError(400, f"Failed to {verb}, invalid JSON: {field} is not an RFC 3339 time")
    if value.startswith("0001-"):
        return 0
    try:
        return parse_ns(value)
    except ValueError:
        raise RPCError(400, f"Failed to {verb}, invalid JSON: {field} {value!r} is not an RFC 3339 time") from None


async def _found(call: Call, msg: CronIdMsg | RemoveCronMsg, error: str, status: int = 500) -> dict[str, Any]:
    """The cron ``msg`` names, once the signer is shown to be a member of its colony."""
    return await found_for_member(call.ctx, call.rid, await call.ctx.store.get_cron(msg["cronid"]), error, status)


@handler("addcronmsg", AddCronMsg, "add cron")
async def add_cron(call: Call, msg: AddCronMsg) -> Any:
    ctx = call.ctx
    cron, workflow_colony = await admit_trigger(ctx, call.rid, msg["cron"], "cron")
    colonyname = cron["colonyname"]
    interval = cron["interval"]
    if interval == 0:
        raise RPCError(400, "Cron interval must be -1 (disabled) or larger than 0")
    if interval < 0:  # every negative interval runs on the expression
        try:
            cronexpr.parse(cron["cronexpression"])
        except cronexpr.CronError as exc:
            raise RPCError(400, str(exc)) from None
        if cron["random"]:
            raise RPCError(400, "Random cron is only supported when specifying intervals")
    initiatorname = await resolve_initiator(ctx, call.rid, workflow_colony)
    if initiatorname is None:
        raise RPCError(500, "Could not derive InitiatorName")
    record = {
        "cronid": new_id(),
        "initiatorid": call.rid,
        "initiatorname": initiatorname,
        "colonyname": colonyname,
        "name": cron["name"],
        "cronexpression": cron["cronexpression"],
        "interval": interval,
        "random": cron["random"],
        "nextrun": _time_in(cron["nextrun"], "add cron", "nextrun"),
        "lastrun": _time_in(cron["lastrun"], "add cron", "lastrun"),
        "workflowspec": cron["workflowspec"],
        "prevprocessgraphid": cron["prevprocessgraphid"],
        "waitforprevprocessgraph": cron["waitforprevprocessgraph"],
    }
    if not await ctx.store.add_cron(record):
        raise RPCError(400, f"Cron with name <{cron['name']}> in Colony <{colonyname}> already exists")
    return cron_wire(record)


@handler("getcronmsg", CronIdMsg, "get cron")
async def get_cron(call: Call, msg: CronIdMsg) -> Any:
    cron = await _found(call, msg, "Failed to get cron, cron is nil")
    return cron_wire(cron, call.ctx.config.cron_checker_period_ms)


@handler("getcronsmsg", GetCronsMsg, "get crons")
async def get_crons(call: Call, msg: GetCronsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    if msg["count"] < 0:
        raise RPCError(400, "Failed to get crons, count must not be negative")
    return [cron_wire(c) for c in await call.ctx.store.list_crons(msg["colonyname"], msg["count"])]


@handler("runcronmsg", CronIdMsg, "run cron")
async def run_cron(call: Call, msg: CronIdMsg) -> Any:
    cron = await _found(call, msg, "cron not found", 400)  # the member check before the run, unlike upstream
    await run_cron_now(call.ctx, cron)
    return cron_wire(cron)  # as loaded before the run, as upstream replies


@handler("removecronmsg", RemoveCronMsg, "remove cron")
async def remove_cron(call: Call, msg: RemoveCronMsg) -> Any:
    cron = await _found(call, msg, "Failed to remove cron, cron is nil")
    await call.ctx.store.remove_cron(cron["cronid"])
    return {}
