"""Crons and generators: stored triggers that submit a workflow (protocol ext/30-crons-generators.md).

The handlers validate and store them; the controllers call :func:`check_crons` and
:func:`check_generators` every tick. Every firing is claimed in the store before its workflow is
submitted (a cron's ``nextrun`` moves by a conditional update, a generator's batch of arguments is
taken in one transaction), so several loops or replicas never submit one instant or one batch
twice, and a restart never repeats one. A submission that fails gives its claim back, to be retried
on the next tick as upstream retries; a crash between a claim and its submission loses that one
firing rather than doubling it.
"""

from __future__ import annotations

import functools
import logging
import random
from typing import Any

import orjson

from ..models import WorkflowSpec
from ..rpc import RPCError
from ..wire import WireError, decode
from . import cronexpr
from .auth import require_member
from .context import ServerContext
from .encode import normalize_spec
from .resources import ResourceError
from .store.records import FAILED, SUCCESS, GraphRecord
from .workflows import submit_workflow, validate_specs

__all__ = [
    "admit_trigger",
    "check_crons",
    "check_generators",
    "found_for_member",
    "next_run",
    "parse_workflowspec",
    "resolve_initiator",
    "run_cron_now",
    "submit_trigger",
    "validate_workflowspec",
]

log = logging.getLogger("pycolonies.server.triggers")
NS = 1_000_000_000


# -- the embedded workflow spec ---------------------------------------------------------------


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def parse_workflowspec(text: str) -> dict[str, Any]:
    """Decode a trigger's ``workflowspec`` JSON text into a WorkflowSpec dict; RPCError(400) with a
    Go-like JSON error text otherwise."""
    if not text.strip():
        raise RPCError(400, "unexpected end of JSON input")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RPCError(400, f"invalid JSON in workflowspec: {exc}") from None
    if value is not None and not isinstance(value, dict):
        raise RPCError(400, f"json: cannot unmarshal {_json_kind(value)} into Go value of type core.WorkflowSpec")
    try:
        return decode(WorkflowSpec, value)
    except WireError as exc:
        raise RPCError(400, f"json: {exc}") from None


def validate_workflowspec(spec: dict[str, Any]) -> None:
    """Check at add time what would make every firing fail: no function specs, missing or duplicate
    nodenames, unknown or cyclic dependencies, unparsable resources. RPCError(400)."""
    specs = spec["functionspecs"] or []
    if not specs:
        raise RPCError(400, "Failed to submit workflow, the workflow has no function specs")
    validate_specs(specs)
    for fs in specs:
        try:
            normalize_spec(fs)
        except ResourceError as exc:
            raise RPCError(400, str(exc)) from None


# -- the handlers' checks ---------------------------------------------------------------------


async def admit_trigger(ctx: ServerContext, rid: str, trigger: Any, kind: str) -> tuple[dict[str, Any], str]:
    """Check a cron or generator (``kind``) that ``rid`` asks to add: it is given, ``rid`` is a
    member of its colony, its workflow spec parses and is valid, and when that spec names another
    colony (where the processes land) ``rid`` is a member of that one too. Returns the trigger and
    the workflow's colony; RPCError otherwise."""
    if trigger is None:
        raise RPCError(400, f"Failed to add {kind}, msg.{kind.capitalize()} is nil")
    colonyname = trigger["colonyname"]
    await require_member(ctx, rid, colonyname)
    spec = parse_workflowspec(trigger["workflowspec"])
    validate_workflowspec(spec)
    workflow_colony = spec["colonyname"] or colonyname
    if workflow_colony != colonyname:
        await require_member(ctx, rid, workflow_colony)
    return trigger, workflow_colony


async def found_for_member(
    ctx: ServerContext, rid: str, trigger: dict[str, Any] | None, error: str, status: int = 500
) -> dict[str, Any]:
    """A cron or generator the store looked up, once ``rid`` is shown to be a member of its
    colony; RPCError(status, error) when it was not found."""
    if trigger is None:
        raise RPCError(status, error)
    await require_member(ctx, rid, trigger["colonyname"])
    return trigger


async def resolve_initiator(ctx: ServerContext, initiatorid: str, colonyname: str) -> str | None:
    """The initiator's name in ``colonyname``: its executor name there, else its user name there."""
    executor = await ctx.store.get_executor_by_id(initiatorid, colonyname)
    if executor is not None:
        return str(executor["executorname"])
    user = await ctx.store.get_user_by_id(colonyname, initiatorid)
    if user is not None:
        return str(user["name"])
    return None


async def submit_trigger(
    ctx: ServerContext,
    workflowspec: str,
    initiatorid: str,
    colonyname: str,
    *,
    root_args: list[str] | None = None,
    root_input: list[Any] | None = None,
) -> GraphRecord:
    """Submit a trigger's workflow (``colonyname``, the trigger's colony, stands in for an empty
    workflow colony). ``root_args`` replace the root processes' args (and empty their kwargs);
    ``root_input`` becomes their input. Raises RPCError when nothing could be submitted."""
    spec = parse_workflowspec(workflowspec)
    spec["colonyname"] = spec["colonyname"] or colonyname
    name = await resolve_initiator(ctx, initiatorid, spec["colonyname"])
    if name is None:
        raise RPCError(500, "Could not derive InitiatorName")
    if root_args:
        spec["functionspecs"] = [
            dict(fs, args=list(root_args), kwargs={}) if not fs["conditions"]["dependencies"] else fs
            for fs in spec["functionspecs"] or []
        ]
    return await submit_workflow(ctx, spec, initiatorid, name, root_input=root_input)


# -- crons ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _schedule(expression: str) -> cronexpr.Schedule:
    return cronexpr.parse(expression)


def next_run(cron: dict[str, Any], now: int) -> int:
    """The cron's next run after ``now`` (Unix ns): now + interval (with ``random``, a uniformly
    random point in that interval), or from the expression for any negative interval; 0 (never)
    for an expression that does not parse."""
    if cron["interval"] > 0:
        if cron.get("random"):  # upstream's flag has no effect (docs/compatibility.md)
            return now + 1 + random.randrange(cron["interval"] * NS)
        return now + cron["interval"] * NS
    try:
        return _schedule(cron["cronexpression"]).next(now)
    except cronexpr.CronError:
        return 0


async def _previous_unfinished(ctx: ServerContext, cron: dict[str, Any]) -> bool:
    """True when the cron waits for its previous graph and that graph exists and is neither
    successful nor failed (a cancelled graph counts as unfinished, as upstream)."""
    if not cron["waitforprevprocessgraph"] or not cron["prevprocessgraphid"]:
        return False
    graph = await ctx.store.get_graph(cron["prevprocessgraphid"])
    return graph is not None and graph.state not in (SUCCESS, FAILED)


async def _previous_outputs(ctx: ServerContext, processgraphid: str) -> list[Any]:
    """The outputs of the previous graph's leaves, concatenated in graph order (the next run's input)."""
    if not processgraphid:
        return []
    graph = await ctx.store.get_graph(processgraphid)
    if graph is None:
        return []
    processes = {p.processid: p for p in await ctx.store.graph_processes(processgraphid)}
    values: list[Any] = []
    for processid in graph.processids:
        p = processes.get(processid)
        if p is not None and not p.children:
            values.extend(orjson.loads(p.output) or [])
    return values


async def _start_cron(ctx: ServerContext, cron: dict[str, Any]) -> GraphRecord:
    root_input = await _previous_outputs(ctx, cron["prevprocessgraphid"])
    return await submit_trigger(
        ctx, cron["workflowspec"], cron["initiatorid"], cron["colonyname"], root_input=root_input
    )


def _log_failure(what: str, ident: str, colonyname: str, exc: Exception) -> None:
    if isinstance(exc, RPCError):
        log.warning("%s %s of colony %s: workflow not submitted: %s", what, ident, colonyname, exc.message)
    else:
        log.exception("%s %s of colony %s: workflow not submitted", what, ident, colonyname)


async def run_cron_now(ctx: ServerContext, cron: dict[str, Any]) -> None:
    """``runcronmsg``: start the cron now unless it waits for an unfinished previous graph.
    A failure is only logged."""
    if await _previous_unfinished(ctx, cron):
        return
    now = ctx.now()
    try:
        graph = await _start_cron(ctx, cron)
    except Exception as exc:
        _log_failure("cron", cron["cronid"], cron["colonyname"], exc)
        return
    await ctx.store.record_cron_run(cron["cronid"], now, graph.processgraphid, next_run(cron, now))


async def _check_cron(ctx: ServerContext, cron: dict[str, Any], now: int) -> bool:
    store, cronid, due = ctx.store, cron["cronid"], cron["nextrun"]
    if due == 0:  # first evaluation: schedule only, never fire at once
        following = next_run(cron, now)
        if following or cron["lastrun"] or cron["prevprocessgraphid"]:  # (no write for a cron that never runs)
            await store.move_cron_nextrun(cronid, 0, following, first=True)
        return False
    if now <= due or await _previous_unfinished(ctx, cron):
        return False
    following = next_run(cron, now)
    if not await store.move_cron_nextrun(cronid, due, following):
        return False  # another loop fired this instant
    try:
        graph = await _start_cron(ctx, cron)
    except Exception as exc:
        _log_failure("cron", cronid, cron["colonyname"], exc)
        await store.move_cron_nextrun(cronid, following, due)  # still due: retried on the next tick
        return False
    await store.record_cron_run(cronid, now, graph.processgraphid, None)
    return True


async def check_crons(ctx: ServerContext) -> int:
    """One tick of the cron loop: schedule new crons, start due ones; returns how many started."""
    now = ctx.now()
    started = 0
    for cron in await ctx.store.crons_to_check(now):
        try:
            started += await _check_cron(ctx, cron, now)
        except Exception:
            log.exception("cron %s of colony %s: check failed", cron["cronid"], cron["colonyname"])
    return started


# -- generators -----------------------------------------------------------------------------


async def _fire_generator(
    ctx: ServerContext, generator: dict[str, Any], count: int, *, exact: bool, lastrun: int, now: int
) -> bool:
    """Take a batch of ``count`` args (claimed with the move of lastrun) and submit the workflow with
    them; on failure, put them back."""
    store, generatorid = ctx.store, generator["generatorid"]
    args = await store.take_generator_args(generatorid, count, exact=exact, lastrun=lastrun, now=now)
    if not args:
        return False
    try:
        await submit_trigger(
            ctx,
            generator["workflowspec"],
            generator["initiatorid"],
            generator["colonyname"],
            root_args=[a["arg"] for a in args],
        )
    except Exception as exc:
        _log_failure("generator", generatorid, generator["colonyname"], exc)
        await store.return_generator_args(generatorid, args, lastrun, now)
        return False
    return True


async def _check_generator(ctx: ServerContext, generator: dict[str, Any], counter: int, now: int) -> int:
    trigger, timeout, lastrun = generator["trigger"], generator["timeout"], generator["lastrun"]
    if trigger < 1:  # refused on add; a stored one never fires (upstream divides by zero)
        return 0
    now_s = now // NS
    if lastrun == 0:
        firstpack = generator["firstpack"]
        timed_out = firstpack != 0 and now_s > firstpack // NS + timeout
    else:
        timed_out = now_s > lastrun // NS + timeout
    fired = 0
    if counter >= trigger:
        for _ in range(counter // trigger):
            if not await _fire_generator(ctx, generator, trigger, exact=True, lastrun=lastrun, now=now):
                break
            lastrun = now
            fired += 1
    elif counter >= 1 and timeout > 0 and timed_out:
        fired += await _fire_generator(ctx, generator, counter, exact=False, lastrun=lastrun, now=now)
    return fired


async def check_generators(ctx: ServerContext) -> int:
    """One tick of the generator loop: submit a workflow per full batch, or one for the pending
    args of a generator whose timeout passed; returns how many were submitted."""
    now = ctx.now()
    fired = 0
    for generator, counter in await ctx.store.pending_generators():
        try:
            fired += await _check_generator(ctx, generator, counter, now)
        except Exception:
            log.exception("generator %s of colony %s: check failed", generator["generatorid"], generator["colonyname"])
    return fired
