"""Process lifecycle: submit, assign (long-poll), close, fail, release, cancel, deadlines
(protocol core/30-semantics.md sections 1-5). Handlers call these after authorizing; the deadline
controller calls them directly."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from ..rpc import RPCError
from . import channels, workflows
from .auth import mark_alive
from .context import ServerContext
from .events import DEPARTURE, WOKEN_ONE
from .processes import NS, build_process, emit
from .resources import ResourceError, parse_cpu, parse_mem
from .store.records import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, ProcessRecord

__all__ = [
    "ClientGone",
    "assign",
    "cancel",
    "close_failed",
    "close_successful",
    "expire_deadlines",
    "mark_alive",
    "reclaim_unresponsive",
    "release",
    "submit",
]

log = logging.getLogger("pycolonies.server.scheduler")

EXEC_TIMEOUT_ERROR = "Maximum execution time limit exceeded"
WAIT_TIMEOUT_ERROR = "Maximum waiting time limit exceeded"
EXECUTOR_SILENT_ERROR = "Executor {name} stopped responding (not heard from for {grace} s)"


class ClientGone(RPCError):
    """The client of a long-poll disconnected; the reply goes nowhere."""

    def __init__(self) -> None:
        super().__init__(499, "Client closed the request")


async def submit(ctx: ServerContext, spec: dict[str, Any], initiatorid: str, initiatorname: str) -> ProcessRecord:
    if not -50000 <= spec["priority"] <= 50000:
        raise RPCError(400, "Failed to submit function spec, priority outside range [-50000, 50000]")
    process = build_process(spec, initiatorid=initiatorid, initiatorname=initiatorname, now=ctx.now())
    await ctx.store.add_processes([process])
    emit(ctx, process)
    return process


def _resource_limit(text: str, parse: Any) -> int | None:
    if not text:
        return None
    try:
        return int(parse(text))
    except ResourceError as exc:
        raise RPCError(400, str(exc)) from None


async def assign(
    ctx: ServerContext,
    executor: dict[str, Any],
    colonyname: str,
    timeout: int,
    availablecpu: str = "",
    availablemem: str = "",
) -> ProcessRecord:
    """Claim the best eligible process, waiting up to ``timeout`` seconds for one (negative: no wait)."""
    cpu = _resource_limit(availablecpu, parse_cpu)
    mem = _resource_limit(availablemem, parse_mem)
    store, hub = ctx.store, ctx.hub
    executortype, location = executor["executortype"], executor["locationname"]
    deadline = time.monotonic() + timeout if timeout > 0 else 0.0
    woken: str | None = None
    departure = DEPARTURE.get() if timeout > 0 else None
    while True:
        if departure is not None and departure.gone:
            # Pass on a wake-up this poll may have consumed, then give up without claiming.
            hub.notify_waiting(colonyname, executortype)
            raise ClientGone()
        await mark_alive(ctx, executor["executorid"])
        generation = hub.generation(colonyname, executortype)
        claim = await store.claim_process(
            colonyname=colonyname,
            executortype=executortype,
            executorid=executor["executorid"],
            executorname=executor["executorname"],
            locationname=location,
            cpu=cpu,
            mem=mem,
            now=ctx.now(),
        )
        if claim.process is not None:
            await channels.bind(ctx, claim.process)
            if claim.process.processgraphid:
                await workflows.on_assigned(ctx, claim.process)
            emit(ctx, claim.process)
            return claim.process
        if claim.paused and not hub.closing:
            if timeout < 0:
                raise RPCError(503, "No processes available: colony assignments are paused")
            if await hub.wait_resumed(colonyname, max(deadline - time.monotonic(), 0), departure) is None:
                raise RPCError(408, "Assignment timeout: colony assignments are paused")
            continue
        if woken == WOKEN_ONE and claim.skipped:
            # Picked for a process this executor may not take (another name, location or size):
            # wake everyone once so that an executor that can take it looks too.
            hub.notify_waiting(colonyname, executortype, wake_all=True)
            generation = hub.generation(colonyname, executortype)
        remaining = deadline - time.monotonic()
        if timeout <= 0 or remaining <= 0 or hub.closing:
            break
        woken = await hub.wait_for_work(colonyname, executortype, location, generation, remaining, departure)
    raise RPCError(404, "No process available for assignment")


async def close_successful(ctx: ServerContext, p: ProcessRecord, out: list[Any] | None, executorname: str) -> None:
    if p.state == FAILED:
        raise RPCError(400, "Tried to set failed process as successful")
    if p.state == CANCELLED:
        raise RPCError(400, "Tried to set cancelled process as successful")
    if p.state == WAITING:
        raise RPCError(400, "Tried to set waiting process as successful without being running")
    now = ctx.now()
    was_running = p.state == RUNNING
    fields: dict[str, Any] = {"state": SUCCESS, "endtime": now}
    if out:
        fields["output"] = p.output = orjson.dumps(out).decode()
    if not await ctx.store.update_process(
        p.processid, (RUNNING, SUCCESS), fields, assigned_to=p.assignedexecutorid, mirror_attributes=p.nattributes > 0
    ):
        raise RPCError(400, "Failed to close process as successful, the process changed state concurrently")
    p.state, p.endtime = SUCCESS, now
    for a in p.attributes:
        a["state"] = SUCCESS
    await _update_function_stats(ctx, p, executorname)
    emit(ctx, p)
    await channels.close(ctx, p)
    if p.processgraphid and was_running:
        await workflows.on_succeeded(ctx, p)


async def close_failed(
    ctx: ServerContext,
    p: ProcessRecord,
    errors: list[str] | None,
    *,
    from_states: tuple[int, ...] = (WAITING, RUNNING),
) -> bool:
    """Fail ``p``; returns False when it was no longer in ``from_states`` (a concurrent change)."""
    now = ctx.now()
    errors = list(errors or [])
    if not await ctx.store.update_process(
        p.processid,
        from_states,
        {"state": FAILED, "endtime": now, "errors": errors},
        mirror_attributes=p.nattributes > 0,
    ):
        return False
    p.state, p.endtime, p.errors = FAILED, now, errors
    for a in p.attributes:
        a["state"] = FAILED
    emit(ctx, p)
    await channels.close(ctx, p)
    if p.processgraphid:
        await workflows.on_failed(ctx, p)
    return True


async def release(ctx: ServerContext, p: ProcessRecord) -> bool:
    """Put a RUNNING process whose exec deadline passed back in the queue (one more retry)."""
    now = ctx.now()
    fields = {
        "state": WAITING,
        "isassigned": False,
        "assignedexecutorid": "",
        "retries": p.retries + 1,
        "endtime": now,
        "execdeadline": 0,
        "waitdeadline": now + p.maxwaittime * NS if p.maxwaittime > 0 else 0,
    }
    if not await ctx.store.update_process(
        p.processid, (RUNNING,), fields, assigned_to=p.assignedexecutorid, mirror_attributes=p.nattributes > 0
    ):
        return False
    p.state, p.isassigned, p.assignedexecutorid, p.retries = WAITING, False, "", p.retries + 1
    p.endtime, p.execdeadline, p.waitdeadline = now, 0, fields["waitdeadline"]
    emit(ctx, p)
    return True


async def cancel(ctx: ServerContext, p: ProcessRecord) -> None:
    if p.state == SUCCESS:
        raise RPCError(400, "Tried to cancel successful process")
    if p.state == FAILED:
        raise RPCError(400, "Tried to cancel failed process")
    if p.state == CANCELLED:
        raise RPCError(400, "Tried to cancel already cancelled process")
    now = ctx.now()
    if not await ctx.store.update_process(
        p.processid, (WAITING, RUNNING), {"state": CANCELLED, "endtime": now}, mirror_attributes=p.nattributes > 0
    ):
        raise RPCError(400, "Failed to cancel process, the process changed state concurrently")
    p.state, p.endtime = CANCELLED, now
    emit(ctx, p)
    await channels.close(ctx, p)


async def _update_function_stats(ctx: ServerContext, p: ProcessRecord, executorname: str) -> None:
    wait = (p.starttime - p.submissiontime) / NS
    exec_ = (p.endtime - p.starttime) / NS
    for fn in await ctx.store.find_functions(p.colonyname, executorname, p.funcname):
        fn["counter"] = fn.get("counter", 0) + 1
        for prefix, value in (("wait", wait), ("exec", exec_)):
            lo, hi, avg = f"min{prefix}time", f"max{prefix}time", f"avg{prefix}time"
            fn[lo] = min(fn[lo], value) if fn.get(lo, 0) > 0 else value
            fn[hi] = max(fn[hi], value) if fn.get(hi, 0) > 0 else value
            fn[avg] = (fn[avg] + value) / 2 if fn.get(avg, 0) > 0 else value
        await ctx.store.update_function(fn)


async def expire_deadlines(ctx: ServerContext) -> int:
    """One pass of the deadline loop: release or fail RUNNING processes past their exec deadline and
    fail WAITING ones past their wait deadline. Deadlines compare in whole seconds, as upstream."""
    threshold = (ctx.now() // NS) * NS
    handled = 0
    for p in await ctx.store.expired_running(threshold):
        p.attributes = []
        if p.maxretries > -1 and p.retries >= p.maxretries:
            done = await close_failed(ctx, p, [EXEC_TIMEOUT_ERROR], from_states=(RUNNING,))
        else:
            done = await release(ctx, p)
        handled += int(done)
    for p in await ctx.store.expired_waiting(threshold):
        p.attributes = []
        handled += int(await close_failed(ctx, p, [WAIT_TIMEOUT_ERROR], from_states=(WAITING,)))
    return handled


_reclaim_unsupported = False


async def reclaim_unresponsive(ctx: ServerContext) -> int:
    """One pass of the liveness loop (a pycolonies extension): a RUNNING process whose executor has
    not been heard from (any signed request) for ``COLONIES_EXECUTOR_GRACE`` seconds is treated as
    if its execution deadline had passed: back in the queue with one more retry and a WAITING
    event (a waiting executor takes it at once), or failed once ``maxretries`` is used up. The
    executor stays registered (the stale-executor cleanup unregisters it later). Nothing is
    reclaimed in the first grace after the server started: executors could not reach it while it
    was down."""
    global _reclaim_unsupported
    grace = ctx.config.executor_grace_seconds
    now = ctx.now()
    if grace <= 0 or _reclaim_unsupported or now - ctx.started < grace * NS:
        return 0
    try:
        lost = await ctx.store.unresponsive_running(now - grace * NS)
    except NotImplementedError:
        _reclaim_unsupported = True
        log.warning(
            "executor liveness is off: the %s store cannot list unresponsive executors", type(ctx.store).__name__
        )
        return 0
    handled = 0
    for p in lost:
        p.attributes = []
        executor = await ctx.store.get_executor_by_id(p.assignedexecutorid, p.colonyname)
        name = executor["executorname"] if executor else p.assignedexecutorid
        if p.maxretries > -1 and p.retries >= p.maxretries:
            error = EXECUTOR_SILENT_ERROR.format(name=name, grace=grace)
            done = await close_failed(ctx, p, [error], from_states=(RUNNING,))
        else:
            done = await release(ctx, p)
        if done:
            handled += 1
            log.info("process %s reclaimed: executor %s not heard from for %d s", p.processid, name, grace)
    return handled
