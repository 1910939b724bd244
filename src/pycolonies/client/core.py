"""The sans-IO core shared by ``Colonies`` and ``AsyncColonies``.

Every RPC method is written once here, as a *builder*: a function ``builder(client, ...)`` with the
method's public parameters that returns either a :class:`Call` (one request plus how to convert its
reply) or a generator that yields Calls and returns the result (for methods that need several
requests or handle an error). The twins only move bytes: they sign, POST and feed the reply back
(see :func:`run_sync` / :func:`run_async`). Message fields and their order follow upstream
pycolonies 1.0.25 (protocol core/40-sdk.md section 2.2), so envelopes are byte-identical.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, Union

from pydantic import BaseModel

from ..errors import ColoniesError, NotFoundError
from ..models import Process, ProcessGraph
from ..rpc import build_request, parse_reply
from .tls import Verify, ssl_context

__all__ = [
    "ASSIGN_MARGIN",
    "DEFAULT_TIMEOUT",
    "RPC_METHODS",
    "BaseClient",
    "Call",
    "Op",
    "as_graph",
    "as_process",
    "as_raw",
    "decode_entries",
    "decode_frame",
    "parse_http_reply",
    "run_async",
    "run_sync",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
"""Seconds for connect, write and read of an ordinary request."""
ASSIGN_MARGIN = 10.0
"""Extra read time on top of a long-poll's own timeout (assign) or a subscription's lifetime."""

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request: the message (with ``msgtype``), the key to sign with (None: the client's
    default), how to convert the decoded reply, and optionally a longer read timeout."""

    msg: dict[str, Any]
    prvkey: str | None
    parse: Callable[[Any], T]
    signed: bool = True
    read_timeout: float | None = None


Op = Union[Call[T], Generator[Call[Any], Any, T]]  # noqa: UP007 - a generic alias needs typing.Union


class BaseClient:
    """Connection settings and state shared by the twins; performs no network I/O."""

    WAITING = 0
    RUNNING = 1
    SUCCESSFUL = 2
    FAILED = 3
    CANCELLED = 4

    def __init__(
        self,
        host: str = "localhost",
        port: int = 50080,
        tls: bool = False,
        native_crypto: bool = False,
        *,
        prvkey: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        verify: Verify = True,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = bool(tls)
        self.native_crypto = native_crypto  # accepted for compatibility; signing is always native C
        self.url = f"{'https' if self.tls else 'http'}://{host}:{port}/api"
        self.ws_url = f"{'wss' if self.tls else 'ws'}://{host}:{port}/pubsub"
        self.prvkey = prvkey
        self.timeout = timeout
        self.verify = verify
        # One context for every HTTPS and WSS connection of this client (see client/tls.py); a
        # client built from this one's settings passes it on as its ``verify``.
        self.ssl_context = ssl_context(verify)
        # executorid -> (colonyname, executorname) of executors added through this client, so that
        # approve_executor(executorid, colony_prvkey) can name them (the colony owner cannot look
        # executors up: it is not a member).
        self._executors: dict[str, tuple[str, str]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.host!r}, {self.port!r}, tls={self.tls!r})"

    def _key(self, prvkey: str | None) -> str:
        key = prvkey if prvkey is not None else self.prvkey
        if not key:
            raise ColoniesError(
                "No private key: pass prvkey to the method or create the client with "
                f"{type(self).__name__}(..., prvkey=...)"
            )
        return key

    def _encode(self, call: Call[Any]) -> bytes:
        """The request body for ``call``: a signed envelope, or an unsigned one (version, info)."""
        if call.signed:
            return build_request(call.msg, self._key(call.prvkey))
        payload = base64.b64encode(json.dumps(call.msg).encode("utf-8")).decode("ascii")
        return json.dumps({"payloadtype": call.msg["msgtype"], "payload": payload, "signature": ""}).encode()

    def _read_timeout(self, call: Call[Any]) -> float | None:
        if self.timeout is None:
            return None
        if call.read_timeout is None:
            return self.timeout
        return max(self.timeout, call.read_timeout)


def parse_http_reply(status: int, body: bytes) -> Any:
    """The decoded payload of an HTTP reply; raises the typed error for an error reply."""
    payload = parse_reply(body)
    if status != 200:
        raise ColoniesError(f"Unexpected HTTP status {status} for a successful reply", status)
    return payload


def decode_frame(frame: str | bytes) -> Any:
    """The decoded payload of a WebSocket push; raises the typed error for an error frame."""
    return parse_reply(frame.encode("utf-8") if isinstance(frame, str) else frame)


def decode_entries(entries: Any) -> Any:
    """Channel entries with each non-empty ``payload`` turned into bytes (int list or Base64)."""
    for entry in entries or ():
        payload = entry.get("payload") if isinstance(entry, dict) else None
        if isinstance(payload, list) and payload:
            entry["payload"] = bytes(payload)
        elif isinstance(payload, str) and payload:
            entry["payload"] = base64.b64decode(payload)
    return entries


# --------------------------------------------------------------------------------------------
# Drivers: run an Op against a transport function.


def run_sync(op: Op[T], send: Callable[[Call[Any]], Any]) -> T:
    """Run ``op`` with ``send(call) -> decoded payload``; errors are thrown into generators."""
    if isinstance(op, Call):
        return op.parse(send(op))
    try:
        call = next(op)
        while True:
            try:
                value = call.parse(send(call))
            except ColoniesError as exc:
                call = op.throw(exc)
            else:
                call = op.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(op: Op[T], send: Callable[[Call[Any]], Awaitable[Any]]) -> T:
    """The asynchronous twin of :func:`run_sync`."""
    if isinstance(op, Call):
        return op.parse(await send(op))
    try:
        call = next(op)
        while True:
            try:
                value = call.parse(await send(call))
            except ColoniesError as exc:
                call = op.throw(exc)
            else:
                call = op.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Helpers for builders.

RPC_METHODS: list[str] = []
"""Names of every builder; each twin has one method per name (checked by the tests)."""

B = TypeVar("B", bound=Callable[..., Any])
F = TypeVar("F", bound=Callable[..., Any])


def _rpc(builder: B) -> B:
    RPC_METHODS.append(builder.__name__)
    return builder


def as_raw(reply: Any) -> Any:
    return reply


def as_process(reply: Any) -> Process:
    return Process(**reply)


def as_graph(reply: Any) -> ProcessGraph:
    return ProcessGraph(**reply)


def _dump(obj: Any) -> Any:
    """Pydantic models become their wire dict; anything else is sent as given."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(by_alias=True, mode="json")
    return obj


def _call(msgtype: str, prvkey: str | None, parse: Callable[[Any], T] = as_raw, **fields: Any) -> Call[T]:
    return Call({"msgtype": msgtype, **fields}, prvkey, parse)


def _is_hex64(value: Any) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _executor_target(
    c: BaseClient, colonyname: str, executorname: str, prvkey: str | None, verb: str
) -> tuple[str, str, str | None]:
    """Resolve the seed README's two-argument form ``(executorid, colony_prvkey)``."""
    if prvkey is None and _is_hex64(colonyname) and _is_hex64(executorname):
        known = c._executors.get(colonyname.lower())
        if known is not None:
            return known[0], known[1], executorname
        if c.prvkey is None:
            raise ColoniesError(
                f"{verb}_executor(executorid, colony_prvkey) only works for executors added with "
                f"add_executor() on this client; executor {colonyname} is unknown here. "
                f"Use {verb}_executor(colonyname, executorname, colony_prvkey)."
            )
    return colonyname, executorname, prvkey


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, "")
    return getattr(obj, name, "")


def process_target(process: Any) -> tuple[str, str, str]:
    """(processid, executortype, colonyname) of a Process, a process dict or a bare id."""
    if isinstance(process, str):
        return process, "", ""
    conditions = _field(_field(process, "spec"), "conditions")
    return (
        _field(process, "processid"),
        _field(conditions, "executortype") or "",
        _field(conditions, "colonyname") or "",
    )


def subscribe_process_msg(
    processid: str, executortype: str, state: int, timeout: int, colonyname: str
) -> dict[str, Any]:
    """The ``subscribeprocessmsg`` message, fields in upstream's order."""
    return {
        "processid": processid,
        "executortype": executortype,
        "state": state,
        "timeout": timeout,
        "colonyname": colonyname,
        "msgtype": "subscribeprocessmsg",
    }


def subscribe_processes_msg(executortype: str, state: int, timeout: int, colonyname: str = "") -> dict[str, Any]:
    """The ``subscribeprocessesmsg`` message."""
    return {
        "executortype": executortype,
        "state": state,
        "timeout": timeout,
        "colonyname": colonyname,
        "msgtype": "subscribeprocessesmsg",
    }


def subscribe_channel_msg(processid: str, name: str, afterseq: int, timeout: int) -> dict[str, Any]:
    """The ``subscribechannelmsg`` message, fields in upstream's order."""
    return {
        "processid": processid,
        "name": name,
        "afterseq": afterseq,
        "timeout": timeout,
        "msgtype": "subscribechannelmsg",
    }


def _result_annotation(annotation: Any) -> Any:
    """``Call[X]`` or ``Generator[Call[Any], Any, X]`` (as text) to ``X``: what the method returns."""
    if not isinstance(annotation, str):
        return annotation
    if annotation.startswith("Call[") and annotation.endswith("]"):
        return annotation[5:-1]
    if annotation.startswith("Generator[") and annotation.endswith("]"):
        return annotation[:-1].split(", ", 2)[2]
    return annotation


def method_like(builder: Callable[..., Any], method: F, owner: str, module: str) -> F:
    """Give ``method`` (a twin's wrapper) the builder's name, docs and public signature."""
    functools.update_wrapper(method, builder)
    sig = inspect.signature(builder)
    params = list(sig.parameters.values())
    params[0] = params[0].replace(name="self", annotation=inspect.Parameter.empty)
    returns = _result_annotation(sig.return_annotation)
    method.__signature__ = sig.replace(parameters=params, return_annotation=returns)  # type: ignore[attr-defined]
    method.__annotations__ = {**builder.__annotations__, "return": returns}
    method.__qualname__ = f"{owner}.{builder.__name__}"
    method.__module__ = module
    del method.__wrapped__  # type: ignore[attr-defined]
    return method


# --------------------------------------------------------------------------------------------
# Server


@_rpc
def version(c: BaseClient) -> Call[dict[str, Any]]:
    """Server build information ``{"buildversion", "buildtime", ...}`` (unsigned)."""
    return Call({"msgtype": "versionmsg", "buildversion": "", "buildtime": ""}, None, as_raw, signed=False)


@_rpc
def server_info(c: BaseClient) -> Call[dict[str, Any]]:
    """Server build and backend information (unsigned)."""
    return Call({"msgtype": "getserverinfomsg"}, None, as_raw, signed=False)


@_rpc
def server_stats(c: BaseClient, prvkey: str | None = None) -> Call[dict[str, Any]]:
    """Server-wide statistics (server owner)."""
    return _call("getstatisticsmsg", prvkey)


@_rpc
def change_server_id(c: BaseClient, serverid: str, prvkey: str | None = None) -> Call[dict[str, Any]]:
    """Make ``serverid`` the server owner (signed by the current owner)."""
    return _call("changeserveridmsg", prvkey, serverid=serverid)


@_rpc
def get_cluster(c: BaseClient, prvkey: str | None = None) -> Call[Any]:
    """The server's cluster configuration (server owner)."""
    return _call("getclustermsg", prvkey)


# Colonies


@_rpc
def add_colony(c: BaseClient, colony: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a colony ``{"colonyid", "name"}`` (server owner); returns the stored colony."""
    return _call("addcolonymsg", prvkey, colony=_dump(colony))


@_rpc
def del_colony(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a colony and everything in it (server owner)."""
    return _call("removecolonymsg", prvkey, colonyname=colonyname)


@_rpc
def list_colonies(c: BaseClient, prvkey: str | None = None) -> Call[Any]:
    """All colonies (server owner); None when there are none."""
    return _call("getcoloniesmsg", prvkey)


@_rpc
def get_colony(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """One colony (member)."""
    return _call("getcolonymsg", prvkey, colonyname=colonyname)


@_rpc
def stats(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Process and workflow counts of a colony (member)."""
    return _call("getcolonystatsmsg", prvkey, colonyname=colonyname)


@_rpc
def change_colony_id(c: BaseClient, colonyname: str, colonyid: str, prvkey: str | None = None) -> Call[Any]:
    """Give a colony a new owner id (signed by the current colony key)."""
    return _call("changecolonyidmsg", prvkey, colonyname=colonyname, colonyid=colonyid)


# Executors


@_rpc
def add_executor(c: BaseClient, executor: Any, prvkey: str | None = None) -> Generator[Call[Any], Any, Any]:
    """Register an executor ``{"executorid", "executorname", "executortype", "colonyname"}``
    (colony owner); returns the stored executor."""
    executor = _dump(executor)
    reply = yield _call("addexecutormsg", prvkey, executor=executor)
    if isinstance(executor, dict) and _is_hex64(executor.get("executorid")):
        c._executors[executor["executorid"].lower()] = (
            str(executor.get("colonyname", "")),
            str(executor.get("executorname", "")),
        )
    return reply


@_rpc
def list_executors(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Every executor of a colony, unregistered ones included (member); None when none."""
    return _call("getexecutorsmsg", prvkey, colonyname=colonyname)


@_rpc
def get_executor(c: BaseClient, colonyname: str, executorname: str, prvkey: str | None = None) -> Call[Any]:
    """One executor by name (approved member)."""
    return _call("getexecutormsg", prvkey, colonyname=colonyname, executorname=executorname)


@_rpc
def get_executor_by_id(c: BaseClient, colonyname: str, executorid: str, prvkey: str | None = None) -> Call[Any]:
    """One executor by id (approved member)."""
    return _call("getexecutorbyidmsg", prvkey, colonyname=colonyname, executorid=executorid)


@_rpc
def approve_executor(c: BaseClient, colonyname: str, executorname: str, prvkey: str | None = None) -> Call[Any]:
    """Approve an executor (colony owner).

    Also accepts the two-argument form ``approve_executor(executorid, colony_prvkey)`` for
    executors added with ``add_executor`` on this client.
    """
    colonyname, executorname, prvkey = _executor_target(c, colonyname, executorname, prvkey, "approve")
    return _call("approveexecutormsg", prvkey, colonyname=colonyname, executorname=executorname)


@_rpc
def reject_executor(c: BaseClient, colonyname: str, executorname: str, prvkey: str | None = None) -> Call[Any]:
    """Reject an executor (colony owner); also accepts ``(executorid, colony_prvkey)``."""
    colonyname, executorname, prvkey = _executor_target(c, colonyname, executorname, prvkey, "reject")
    return _call("rejectexecutormsg", prvkey, colonyname=colonyname, executorname=executorname)


@_rpc
def remove_executor(c: BaseClient, colonyname: str, executorname: str, prvkey: str | None = None) -> Call[Any]:
    """Unregister an executor (colony owner); also accepts ``(executorid, colony_prvkey)``."""
    colonyname, executorname, prvkey = _executor_target(c, colonyname, executorname, prvkey, "remove")
    return _call("removeexecutormsg", prvkey, colonyname=colonyname, executorname=executorname)


@_rpc
def update_executor(
    c: BaseClient, colonyname: str, executorname: str, capabilities: Any, prvkey: str | None = None
) -> Call[Any]:
    """Replace the signing executor's capabilities ``{"hardware": [...], "software": [...]}``."""
    return _call(
        "updateexecutormsg",
        prvkey,
        colonyname=colonyname,
        executorname=executorname,
        capabilities=_dump(capabilities),
    )


@_rpc
def report_allocation(
    c: BaseClient, colonyname: str, executorname: str, allocations: Any, prvkey: str | None = None
) -> Call[Any]:
    """Replace the signing executor's allocations ``{"projects": {...}}``."""
    return _call(
        "reportallocationmsg",
        prvkey,
        colonyname=colonyname,
        executorname=executorname,
        allocations=_dump(allocations),
    )


@_rpc
def change_executor_id(c: BaseClient, colonyname: str, executorid: str, prvkey: str | None = None) -> Call[Any]:
    """Give the signing executor a new id."""
    return _call("changeexecutoridmsg", prvkey, colonyname=colonyname, executorid=executorid)


# Functions


@_rpc
def add_function(
    c: BaseClient, colonyname: str, executorname: str, funcname: str, prvkey: str | None = None
) -> Call[Any]:
    """Register a function the signing executor offers; returns the stored function."""
    fun = {"executorname": executorname, "colonyname": colonyname, "funcname": funcname}
    return _call("addfunctionmsg", prvkey, fun=fun)


@_rpc
def get_functions_by_executor(
    c: BaseClient, colonyname: str, executorname: str, prvkey: str | None = None
) -> Call[Any]:
    """Functions of one executor; None when none."""
    return _call("getfunctionsmsg", prvkey, colonyname=colonyname, executorname=executorname)


@_rpc
def get_functions_by_colony(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Functions of a colony; None when none."""
    return _call("getfunctionsmsg", prvkey, colonyname=colonyname)


@_rpc
def remove_function(c: BaseClient, functionid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove one of the signing executor's functions."""
    return _call("removefunctionmsg", prvkey, functionid=functionid)


# Processes


@_rpc
def submit_func_spec(c: BaseClient, spec: Any, prvkey: str | None = None) -> Call[Process]:
    """Submit a FuncSpec; returns the WAITING Process."""
    return _call("submitfuncspecmsg", prvkey, as_process, spec=_dump(spec))


@_rpc
def assign(
    c: BaseClient,
    colonyname: str,
    timeout: int,
    prvkey: str | None = None,
    *,
    availablecpu: str = "",
    availablemem: str = "",
) -> Generator[Call[Any], Any, Process | None]:
    """Long-poll up to ``timeout`` seconds for a process to run.

    Returns the assigned Process, or None when nothing was available before the timeout (upstream
    raised ColoniesConnectionError; see docs/compatibility.md). Every other error raises.
    """
    msg: dict[str, Any] = {"msgtype": "assignprocessmsg", "timeout": timeout, "colonyname": colonyname}
    if availablecpu:
        msg["availablecpu"] = availablecpu
    if availablemem:
        msg["availablemem"] = availablemem
    wait = float(timeout) + ASSIGN_MARGIN if isinstance(timeout, int | float) and timeout > 0 else None
    try:
        return (yield Call(msg, prvkey, as_process, read_timeout=wait))
    except NotFoundError:
        return None


@_rpc
def list_processes(
    c: BaseClient,
    colonyname: str,
    count: int,
    state: int,
    prvkey: str | None = None,
    *,
    executortype: str = "",
    label: str = "",
    initiator: str = "",
) -> Call[Any]:
    """Up to ``count`` (≤ 100) processes in ``state``, optionally filtered; None when none."""
    msg: dict[str, Any] = {
        "msgtype": "getprocessesmsg",
        "colonyname": colonyname,
        "count": count,
        "state": state,
    }
    for key, value in (("executortype", executortype), ("label", label), ("initiator", initiator)):
        if value:
            msg[key] = value
    return Call(msg, prvkey, as_raw)


@_rpc
def get_process(c: BaseClient, processid: str, prvkey: str | None = None) -> Call[Process]:
    """One process."""
    return _call("getprocessmsg", prvkey, as_process, processid=processid)


@_rpc
def get_process_history(
    c: BaseClient, colonyname: str, executorid: str, seconds: int, state: int, prvkey: str | None = None
) -> Call[Any]:
    """Processes in ``state`` submitted in the last ``seconds`` (optionally of one executor)."""
    return _call(
        "getprocesshistmsg",
        prvkey,
        colonyname=colonyname,
        executorid=executorid,
        seconds=seconds,
        state=state,
    )


@_rpc
def find_process(
    c: BaseClient, nodename: str, processids: Iterable[str], prvkey: str | None = None
) -> Generator[Call[Any], Any, Process | None]:
    """The first of ``processids`` whose ``spec.nodename`` is ``nodename``, else None."""
    for processid in processids:
        process = yield get_process(c, processid, prvkey)
        if process.spec.nodename == nodename:
            return process  # type: ignore[no-any-return]
    return None


@_rpc
def remove_process(c: BaseClient, processid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a process that is not running and not part of a workflow."""
    return _call("removeprocessmsg", prvkey, processid=processid)


@_rpc
def remove_all_processes(c: BaseClient, colonyname: str, prvkey: str | None = None, state: int = -1) -> Call[Any]:
    """Remove the colony's non-workflow processes in ``state`` (-1: all) (colony owner)."""
    return _call("removeallprocessesmsg", prvkey, colonyname=colonyname, state=state)


@_rpc
def cancel_process(c: BaseClient, processid: str, prvkey: str | None = None) -> Call[Any]:
    """Cancel a WAITING or RUNNING process."""
    return _call("cancelprocessmsg", prvkey, processid=processid)


@_rpc
def close(c: BaseClient, processid: str, output: Any, prvkey: str | None = None) -> Call[Any]:
    """Close a process as successful; a non-empty ``output`` replaces its output."""
    return _call("closesuccessfulmsg", prvkey, processid=processid, out=output)


@_rpc
def fail(c: BaseClient, processid: str, errors: Any, prvkey: str | None = None) -> Call[Any]:
    """Close a process as failed with ``errors`` (a list of strings)."""
    return _call("closefailedmsg", prvkey, processid=processid, errors=errors)


@_rpc
def set_output(c: BaseClient, processid: str, arr: Any, prvkey: str | None = None) -> Call[Any]:
    """Replace the output of a running process."""
    return _call("setoutputmsg", prvkey, processid=processid, out=arr)


@_rpc
def pause_assignments(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Stop handing out processes of a colony (colony owner)."""
    return _call("pauseassignmentsmsg", prvkey, colonyname=colonyname)


@_rpc
def resume_assignments(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Resume assignments of a colony (colony owner)."""
    return _call("resumeassignmentsmsg", prvkey, colonyname=colonyname)


@_rpc
def get_pause_status(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[bool]:
    """True when assignments of the colony are paused."""
    return _call("getpausestatusmsg", prvkey, lambda r: bool(r.get("ispaused")), colonyname=colonyname)


# Attributes


@_rpc
def add_attribute(c: BaseClient, processid: str, key: str, value: str, prvkey: str | None = None) -> Call[Any]:
    """Add an OUT attribute to a running process (assigned executor)."""
    attribute = {"key": key, "value": value, "targetid": processid, "attributetype": 1}
    return _call("addattributemsg", prvkey, attribute=attribute)


@_rpc
def get_attribute(c: BaseClient, attributeid: str, prvkey: str | None = None) -> Call[Any]:
    """One attribute."""
    return _call("getattributemsg", prvkey, attributeid=attributeid)


# Workflows


@_rpc
def submit_workflow(c: BaseClient, workflow: Any, prvkey: str | None = None) -> Call[ProcessGraph]:
    """Submit a Workflow; returns the new ProcessGraph."""
    return _call("submitworkflowspecmsg", prvkey, as_graph, spec=_dump(workflow))


@_rpc
def get_processgraph(c: BaseClient, processgraphid: str, prvkey: str | None = None) -> Call[ProcessGraph]:
    """One process graph, with nodes and edges."""
    return _call("getprocessgraphmsg", prvkey, as_graph, processgraphid=processgraphid)


@_rpc
def get_processgraphs(
    c: BaseClient, colonyname: str, count: int, prvkey: str | None = None, state: int | None = None
) -> Call[Any]:
    """Up to ``count`` process graphs, newest first (``state`` omitted when None: waiting)."""
    msg: dict[str, Any] = {"msgtype": "getprocessgraphsmsg", "colonyname": colonyname, "count": count}
    if state is not None:
        msg["state"] = state
    return Call(msg, prvkey, as_raw)


@_rpc
def remove_processgraph(c: BaseClient, processgraphid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a process graph that is not running, with its processes."""
    return _call("removeprocessgraphmsg", prvkey, processgraphid=processgraphid)


@_rpc
def remove_all_processgraphs(
    c: BaseClient, colonyname: str, prvkey: str | None = None, state: int | None = None
) -> Call[Any]:
    """Remove the colony's process graphs in ``state`` (omitted when None) (colony owner)."""
    msg: dict[str, Any] = {"msgtype": "removeallprocessgraphsmsg", "colonyname": colonyname}
    if state is not None:
        msg["state"] = state
    return Call(msg, prvkey, as_raw)


@_rpc
def cancel_processgraph(c: BaseClient, processgraphid: str, prvkey: str | None = None) -> Call[Any]:
    """Cancel a process graph and its unfinished processes."""
    return _call("cancelprocessgraphmsg", prvkey, processgraphid=processgraphid)


@_rpc
def get_processes_for_workflow(
    c: BaseClient, processgraphid: str, colonyname: str, prvkey: str | None = None, count: int = 100
) -> Generator[Call[Any], Any, list[Any]]:
    """The processes (dicts) of a workflow, at most ``count``.

    Upstream sent ``getprocessesmsg`` with state -1, which the server always rejects; this reads
    the graph's process ids and then each process (see docs/compatibility.md).
    """
    graph = yield _call("getprocessgraphmsg", prvkey, processgraphid=processgraphid)
    processes: list[Any] = []
    for processid in (graph.get("processids") or [])[: max(count, 0)]:
        processes.append((yield _call("getprocessmsg", prvkey, processid=processid)))
    return processes


@_rpc
def add_child(
    c: BaseClient,
    processgraphid: str,
    parentprocessid: str,
    childprocessid: str,
    funcspec: Any,
    nodename: str,
    insert: bool,
    prvkey: str | None = None,
) -> Call[Any]:
    """Add a process named ``nodename`` to a running workflow below ``parentprocessid``."""
    if isinstance(funcspec, dict):
        funcspec["nodename"] = nodename
    else:
        funcspec.nodename = nodename
    return _call(
        "addchildmsg",
        prvkey,
        processgraphid=processgraphid,
        parentprocessid=parentprocessid,
        childprocessid=childprocessid,
        insert=insert,
        spec=_dump(funcspec),
    )


# Users


@_rpc
def add_user(c: BaseClient, user: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a user ``{"colonyname", "userid", "name", "email", "phone"}`` (colony owner)."""
    return _call("addusermsg", prvkey, user=_dump(user))


@_rpc
def get_users(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Users of a colony (member); None when none."""
    return _call("getusersmsg", prvkey, colonyname=colonyname)


@_rpc
def get_user(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One user by name (member)."""
    return _call("getusermsg", prvkey, colonyname=colonyname, name=name)


@_rpc
def get_user_by_id(c: BaseClient, colonyname: str, userid: str, prvkey: str | None = None) -> Call[Any]:
    """One user by id (member)."""
    return _call("getuserbyidmsg", prvkey, colonyname=colonyname, userid=userid)


@_rpc
def remove_user(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a user (colony owner)."""
    return _call("removeusermsg", prvkey, colonyname=colonyname, name=name)


@_rpc
def change_user_id(c: BaseClient, colonyname: str, userid: str, prvkey: str | None = None) -> Call[Any]:
    """Give the signing user a new id."""
    return _call("changeuseridmsg", prvkey, colonyname=colonyname, userid=userid)


# Locations


@_rpc
def add_location(c: BaseClient, location: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a location ``{"locationid", "name", "colonyname", "description", "long", "lat"}``."""
    return _call("addlocationmsg", prvkey, location=_dump(location))


@_rpc
def get_locations(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Locations of a colony; None when none."""
    return _call("getlocationsmsg", prvkey, colonyname=colonyname)


@_rpc
def get_location(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One location by name."""
    return _call("getlocationmsg", prvkey, colonyname=colonyname, name=name)


@_rpc
def remove_location(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a location (colony owner)."""
    return _call("removelocationmsg", prvkey, colonyname=colonyname, name=name)


# Logs


@_rpc
def add_log(c: BaseClient, processid: str, logmsg: str, prvkey: str | None = None) -> Call[Any]:
    """Append a log line to a running process (assigned executor)."""
    return _call("addlogmsg", prvkey, processid=processid, message=logmsg)


@_rpc
def add_executor_log(
    c: BaseClient, colonyname: str, executorname: str, message: str, prvkey: str | None = None
) -> Call[Any]:
    """Append a log line of the signing executor that belongs to no process (Go SDK: AddLogToExecutor);
    ``executorname`` must be the signer's name."""
    return _call("addexecutorlogmsg", prvkey, colonyname=colonyname, executorname=executorname, message=message)


@_rpc
def get_process_log(
    c: BaseClient,
    colonyname: str,
    processid: str,
    count: int,
    since: int,
    prvkey: str | None = None,
    *,
    latest: bool = False,
) -> Call[Any]:
    """Up to ``count`` (at most 500) log lines of a process, oldest first: the first ones with a
    timestamp after ``since`` (Unix ns; ``since <= 0``: from the beginning), or with
    ``latest=True`` the newest ``count`` lines. A list of log dicts, or None when there are none."""
    msg: dict[str, Any] = {
        "msgtype": "getlogsmsg",
        "colonyname": colonyname,
        "executorid": "",
        "processid": processid,
        "count": count,
        "since": since,
    }
    if latest:
        msg["latest"] = True
    return Call(msg, prvkey, as_raw)


@_rpc
def get_executor_log(
    c: BaseClient,
    colonyname: str,
    executorname: str,
    count: int,
    since: int,
    prvkey: str | None = None,
    *,
    latest: bool = False,
) -> Call[Any]:
    """The same as :func:`get_process_log` for the lines an executor (by name) wrote in the colony,
    both for its processes and with :func:`add_executor_log`."""
    msg: dict[str, Any] = {
        "msgtype": "getlogsmsg",
        "colonyname": colonyname,
        "executorname": executorname,
        "processid": "",
        "count": count,
        "since": since,
    }
    if latest:
        msg["latest"] = True
    return Call(msg, prvkey, as_raw)


@_rpc
def search_logs(
    c: BaseClient, colonyname: str, text: str, days: int, count: int, prvkey: str | None = None
) -> Call[Any]:
    """Up to ``count`` (at most 100) log lines of the colony from the last ``days`` (at most 30) days
    whose message contains ``text`` (case-sensitive); None when there are none."""
    return _call("searchlogsmsg", prvkey, colonyname=colonyname, text=text, days=days, count=count)


# Files and snapshots (the S3 transfer methods come with the ColonyFS client)


@_rpc
def get_files(c: BaseClient, label: str, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """The latest version of each file under ``label``."""
    return _call("getfilesmsg", prvkey, colonyname=colonyname, label=label)


@_rpc
def get_file(
    c: BaseClient,
    colonyname: str,
    prvkey: str | None = None,
    label: str | None = None,
    fileid: str | None = None,
    filename: str | None = None,
    latest: bool = True,
) -> Call[Any]:
    """File versions by id, or by label and name (a list)."""
    if fileid is not None and filename is not None:
        raise ValueError("Both 'fileid' and 'filename' cannot be set at the same time. Please provide only one.")
    return _call("getfilemsg", prvkey, colonyname=colonyname, fileid=fileid, label=label, name=filename, latest=latest)


@_rpc
def get_file_labels(
    c: BaseClient, colonyname: str, prvkey: str | None = None, name: str = "", exact: bool = False
) -> Call[Any]:
    """File labels, optionally below or equal to ``name``; None when none."""
    return _call("getfilelabelsmsg", prvkey, colonyname=colonyname, name=name, exact=exact)


@_rpc
def create_snapshot(c: BaseClient, colonyname: str, label: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Snapshot the current files under ``label``."""
    return _call("createsnapshotmsg", prvkey, colonyname=colonyname, label=label, name=name)


@_rpc
def get_snapshots(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Snapshots of a colony, newest first."""
    return _call("getsnapshotsmsg", prvkey, colonyname=colonyname)


@_rpc
def get_snapshot_by_name(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One snapshot by name."""
    return _call("getsnapshotmsg", prvkey, colonyname=colonyname, snapshotid="", name=name)


@_rpc
def get_snapshot_by_id(c: BaseClient, colonyname: str, snapshotid: str, prvkey: str | None = None) -> Call[Any]:
    """One snapshot by id."""
    return _call("getsnapshotmsg", prvkey, colonyname=colonyname, snapshotid=snapshotid, name="")


@_rpc
def remove_snapshot_by_name(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a snapshot by name (files are kept)."""
    return _call("removesnapshotmsg", prvkey, colonyname=colonyname, snapshotid="", name=name)


@_rpc
def remove_snapshot_by_id(c: BaseClient, colonyname: str, snapshotid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a snapshot by id (files are kept)."""
    return _call("removesnapshotmsg", prvkey, colonyname=colonyname, snapshotid=snapshotid, name="")


@_rpc
def remove_all_snapshots(c: BaseClient, colonyname: str, prvkey: str | None = None) -> Call[Any]:
    """Remove every snapshot of a colony."""
    return _call("removeallsnapshotmsg", prvkey, colonyname=colonyname)


# Crons


@_rpc
def add_cron(
    c: BaseClient,
    cronname: str,
    cronexpr: str,
    wait: bool,
    workflow: Any,
    colonyname: str,
    prvkey: str | None = None,
    *,
    interval: int = -1,
    random: bool = False,
) -> Call[Any]:
    """Add a cron running ``workflow`` on ``cronexpr`` (6 fields, seconds first), or every
    ``interval`` seconds (``random``: at a random point within each interval).

    ``wait``: skip a run while the previous graph is unfinished. Sent under upstream's misspelt key
    and the correct one, so it takes effect on servers that read the correct key.
    """
    if isinstance(workflow, str):
        workflowspec = workflow
    else:
        workflowspec = json.dumps(_dump(workflow))
    cron = {
        "name": cronname,
        "colonyname": colonyname,
        "interval": interval,
        "waitforprevprocessgrap": wait,
        "waitforprevprocessgraph": wait,
        "cronexpression": cronexpr,
        "workflowspec": workflowspec,
    }
    if random:
        cron["random"] = True
    return _call("addcronmsg", prvkey, cron=cron)


@_rpc
def get_cron(c: BaseClient, cronid: str, prvkey: str | None = None) -> Call[Any]:
    """One cron."""
    return _call("getcronmsg", prvkey, cronid=cronid)


@_rpc
def get_crons(c: BaseClient, colonyname: str, count: int, prvkey: str | None = None) -> Call[Any]:
    """Up to ``count`` crons of a colony; [] when none."""
    return _call("getcronsmsg", prvkey, colonyname=colonyname, count=count)


@_rpc
def del_cron(c: BaseClient, cronid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a cron."""
    return _call("removecronmsg", prvkey, all=False, cronid=cronid)


@_rpc
def run_cron(c: BaseClient, cronid: str, prvkey: str | None = None) -> Call[Any]:
    """Trigger a cron now; returns the cron."""
    return _call("runcronmsg", prvkey, cronid=cronid)


# Generators


@_rpc
def add_generator(c: BaseClient, generator: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a generator ``{"colonyname", "name", "workflowspec", "trigger", "timeout"}``."""
    return _call("addgeneratormsg", prvkey, generator=_dump(generator))


@_rpc
def get_generator(c: BaseClient, generatorid: str, prvkey: str | None = None) -> Call[Any]:
    """One generator by id."""
    return _call("getgeneratormsg", prvkey, generatorid=generatorid)


@_rpc
def resolve_generator(c: BaseClient, colonyname: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One generator by name."""
    return _call("resolvegeneratormsg", prvkey, colonyname=colonyname, generatorname=name)


@_rpc
def get_generators(c: BaseClient, colonyname: str, prvkey: str | None = None, count: int = 100) -> Call[Any]:
    """Up to ``count`` generators of a colony; None when none."""
    return _call("getgeneratorsmsg", prvkey, colonyname=colonyname, count=count)


@_rpc
def pack_generator(c: BaseClient, generatorid: str, arg: str, prvkey: str | None = None) -> Call[Any]:
    """Queue one argument for a generator's next run."""
    return _call("packgeneratormsg", prvkey, generatorid=generatorid, arg=arg)


@_rpc
def remove_generator(c: BaseClient, generatorid: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a generator and its queued arguments."""
    return _call("removegeneratormsg", prvkey, generatorid=generatorid)


# Channels (the WebSocket subscription is in the twins)


@_rpc
def channel_append(
    c: BaseClient,
    processid: str,
    channel_name: str,
    sequence: int,
    payload: bytes | str,
    prvkey: str | None = None,
    in_reply_to: int = 0,
    payload_type: str = "",
) -> Call[Any]:
    """Append a message to a process channel (``payload_type``: "", "data", "end", "error")."""
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    return _call(
        "channelappendmsg",
        prvkey,
        processid=processid,
        name=channel_name,
        sequence=sequence,
        inreplyto=in_reply_to,
        payload=list(data),
        payloadtype=payload_type,
    )


@_rpc
def channel_read(
    c: BaseClient, processid: str, channel_name: str, after_seq: int, limit: int, prvkey: str | None = None
) -> Call[Any]:
    """Channel entries after index ``after_seq`` (``limit`` 0: all), payloads as bytes."""
    return _call(
        "channelreadmsg",
        prvkey,
        decode_entries,
        processid=processid,
        name=channel_name,
        afterseq=after_seq,
        limit=limit,
    )


# Blueprints


@_rpc
def add_blueprint_definition(c: BaseClient, definition: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a blueprint definition (colony owner)."""
    return _call("addblueprintdefinitionmsg", prvkey, blueprintdefinition=_dump(definition))


@_rpc
def get_blueprint_definition(c: BaseClient, colony_name: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One blueprint definition."""
    return _call("getblueprintdefinitionmsg", prvkey, colonyname=colony_name, name=name)


@_rpc
def get_blueprint_definitions(c: BaseClient, colony_name: str, prvkey: str | None = None) -> Call[Any]:
    """Blueprint definitions of a colony."""
    return _call("getblueprintdefinitionsmsg", prvkey, colonyname=colony_name)


@_rpc
def remove_blueprint_definition(c: BaseClient, colony_name: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a blueprint definition (colony owner)."""
    return _call("removeblueprintdefinitionmsg", prvkey, namespace=colony_name, name=name)


@_rpc
def add_blueprint(c: BaseClient, blueprint: Any, prvkey: str | None = None) -> Call[Any]:
    """Add a blueprint."""
    return _call("addblueprintmsg", prvkey, blueprint=_dump(blueprint))


@_rpc
def get_blueprint(c: BaseClient, colony_name: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """One blueprint."""
    return _call("getblueprintmsg", prvkey, namespace=colony_name, name=name)


@_rpc
def get_blueprints(
    c: BaseClient,
    colony_name: str,
    prvkey: str | None = None,
    kind: str | None = None,
    location: str | None = None,
) -> Call[Any]:
    """Blueprints of a colony, optionally of one kind and location."""
    msg: dict[str, Any] = {"msgtype": "getblueprintsmsg", "namespace": colony_name}
    if kind:
        msg["kind"] = kind
    if location:
        msg["locationname"] = location
    return Call(msg, prvkey, as_raw)


@_rpc
def update_blueprint(
    c: BaseClient, blueprint: Any, prvkey: str | None = None, force_generation: bool = False
) -> Call[Any]:
    """Update a blueprint; returns it."""
    return _call("updateblueprintmsg", prvkey, blueprint=_dump(blueprint), forcegeneration=force_generation)


@_rpc
def remove_blueprint(c: BaseClient, colony_name: str, name: str, prvkey: str | None = None) -> Call[Any]:
    """Remove a blueprint."""
    return _call("removeblueprintmsg", prvkey, namespace=colony_name, name=name)


@_rpc
def update_blueprint_status(
    c: BaseClient, colony_name: str, name: str, status: Any, prvkey: str | None = None
) -> Call[Any]:
    """Report a blueprint's current state."""
    return _call("updateblueprintstatusmsg", prvkey, colonyname=colony_name, blueprintname=name, status=status)


@_rpc
def reconcile_blueprint(
    c: BaseClient, colony_name: str, name: str, prvkey: str | None = None, force: bool = False
) -> Call[Any]:
    """Trigger reconciliation of a blueprint; returns the reconcile process."""
    return _call("reconcileblueprintmsg", prvkey, namespace=colony_name, name=name, force=force)


@_rpc
def get_blueprint_history(
    c: BaseClient, blueprint_id: str, prvkey: str | None = None, limit: int | None = None
) -> Call[Any]:
    """The change history of a blueprint."""
    msg: dict[str, Any] = {"msgtype": "getblueprinthistorymsg", "blueprintid": blueprint_id}
    if limit is not None:
        msg["limit"] = limit
    return Call(msg, prvkey, as_raw)
