"""``colonies process``: list processes by state, inspect, cancel, remove and wait for them; pause
and resume a colony's assignments; and act as an executor (assign, close, fail) from a shell."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from ..errors import ServerError
from ..models import Process
from .common import CliError, Session, command, group, removeall_command, split_list
from .output import PROCESS_STATES, clip, human_duration, human_time, state_text, time_ns
from .waiting import TimeoutOpt, describe_end, report_finished, wait_process

__all__ = ["app", "list_processes", "show_process"]

app = group("List, inspect, cancel, remove and wait for processes.")

ProcessIdOpt = Annotated[str, typer.Option("--processid", "-p", help="Process id.")]
WAITING = 0
MAX_COUNT = 100
"""Most processes the server lists per request."""


class State(StrEnum):
    waiting = "waiting"
    running = "running"
    successful = "successful"
    failed = "failed"
    cancelled = "cancelled"


STATE_NUMBERS = {"waiting": 0, "running": 1, "successful": 2, "failed": 3, "cancelled": 4}
TIME_COLUMN = {0: ("Submission Time", "submissiontime"), 1: ("Start Time", "starttime")}


def _text_args(args: Any) -> str:
    return clip(" ".join(str(a) for a in args or []), 20)


def _text_kwargs(kwargs: Any) -> str:
    return clip(" ".join(f"{k}:{v}" for k, v in (kwargs or {}).items()), 20)


def executor_names(s: Session, colonyname: str) -> dict[str, str]:
    """Executor id -> name in a colony (empty when the signer may not list them)."""
    try:
        executors = s.client.list_executors(colonyname) or []
    except ServerError:
        return {}
    return {e.get("executorid", ""): e.get("executorname", "") for e in executors}


def list_processes(
    s: Session,
    state: int,
    count: int,
    ids: bool,
    executortype: str | None,
    label: str | None,
    initiator: str | None,
) -> None:
    """The process table of one state, with upstream's columns (ID first with --ids)."""
    if sum(1 for f in (executortype, label, initiator) if f) > 1:
        raise CliError("give at most one of --executortype, --label and --initiator")
    processes = (
        s.client.list_processes(
            s.colony,
            min(count, MAX_COUNT),
            state,
            executortype=executortype or "",
            label=label or "",
            initiator=initiator or "",
        )
        or []
    )
    if s.json:
        s.out.emit_json(processes)
        return
    name = PROCESS_STATES[state]
    if not processes:
        s.out.info(f"No {name} processes found")
        return
    names: dict[str, str] = {}
    if state != WAITING:
        names = executor_names(s, s.colony)
    header, field = TIME_COLUMN.get(state, ("End Time", "endtime"))
    headers = ["FuncName", "Args", "KwArgs", header, "Executor Name", "Executor Type", "Initiator", "Label"]
    rows = []
    for p in processes:
        spec = p.get("spec") or {}
        conditions = spec.get("conditions") or {}
        executor = names.get(p.get("assignedexecutorid", "")) or " ".join(conditions.get("executornames") or [])
        row = [
            spec.get("funcname", ""),
            _text_args(spec.get("args")),
            _text_kwargs(spec.get("kwargs")),
            human_time(p.get(field)),
            executor,
            conditions.get("executortype", ""),
            p.get("initiatorname", ""),
            spec.get("label", ""),
        ]
        rows.append([p.get("processid", ""), *row] if ids else row)
    s.out.table(["Id", *headers] if ids else headers, rows)


CountOpt = Annotated[int, typer.Option("--count", help=f"At most this many (up to {MAX_COUNT}).", min=1)]
IdsOpt = Annotated[bool, typer.Option("--ids", "-i", help="Add an ID column.")]
TypeFilter = Annotated[str | None, typer.Option("--executortype", help="Only this executor type.", show_default=False)]
LabelFilter = Annotated[str | None, typer.Option("--label", help="Only this label.", show_default=False)]
InitiatorFilter = Annotated[
    str | None, typer.Option("--initiator", help="Only submitted by this user or executor.", show_default=False)
]


def _state_lister(state: int) -> Any:
    def lister(
        s: Session,
        count: CountOpt = 20,
        ids: IdsOpt = False,
        executortype: TypeFilter = None,
        label: LabelFilter = None,
        initiator: InitiatorFilter = None,
    ) -> None:
        list_processes(s, state, count, ids, executortype, label, initiator)

    lister.__doc__ = f"List {PROCESS_STATES[state]} processes."
    lister.__name__ = f"ps_{PROCESS_STATES[state]}"
    return lister


for _name, _state in (("psw", 0), ("ps", 1), ("pss", 2), ("psf", 3), ("psc", 4)):
    command(app, _name, colony=True, json=True)(_state_lister(_state))


@command(app, "ls", colony=True, json=True)
def ls(
    s: Session,
    state: Annotated[State, typer.Option("--state", "-s", help="Which processes.")] = State.running,
    count: CountOpt = 20,
    ids: IdsOpt = False,
    executortype: TypeFilter = None,
    label: LabelFilter = None,
    initiator: InitiatorFilter = None,
) -> None:
    """List processes in one state (psw, ps, pss, psf, psc are shorthands)."""
    list_processes(s, STATE_NUMBERS[state.value], count, ids, executortype, label, initiator)


def _seconds_between(start: Any, end: Any) -> str:
    a, b = time_ns(start), time_ns(end)
    return human_duration((b - a) / 1e9) if a and b and b >= a else "-"


def _values(values: Any) -> str:
    return clip(" ".join(v if isinstance(v, str) else json.dumps(v) for v in values or []), 50)


def show_process(s: Session, p: Process) -> None:
    """The process's tables: Process, Function Specification, Conditions, Attributes."""
    names = executor_names(s, p.spec.conditions.colonyname) if p.assignedexecutorid else {}
    s.out.kv(
        [
            ("Id", p.processid),
            ("State", state_text(p.state)),
            ("IsAssigned", p.isassigned),
            ("InitiatorID", p.initiatorid),
            ("Initiator", p.initiatorname),
            ("AssignedExecutorID", p.assignedexecutorid or "-"),
            ("AssignedExecutor", names.get(p.assignedexecutorid, "") or "-"),
            ("PriorityTime", p.prioritytime),
            ("SubmissionTime", human_time(p.submissiontime)),
            ("StartTime", human_time(p.starttime)),
            ("EndTime", human_time(p.endtime)),
            ("WaitDeadline", human_time(p.waitdeadline)),
            ("ExecDeadline", human_time(p.execdeadline)),
            ("WaitingTime", _seconds_between(p.submissiontime, p.starttime)),
            ("ProcessingTime", _seconds_between(p.starttime, p.endtime)),
            ("Retries", p.retries),
            ("Workflow", p.processgraphid or "-"),
            ("Input", _values(p.input)),
            ("Output", _values(p.output)),
            ("Errors", "; ".join(p.errors or [])),
        ],
        title="Process",
    )
    spec = p.spec
    s.out.kv(
        [
            ("Func", spec.funcname),
            ("NodeName", spec.nodename),
            ("Args", _values(spec.args)),
            ("KwArgs", " ".join(f"{k}:{v}" for k, v in (spec.kwargs or {}).items())),
            ("MaxWaitTime", spec.maxwaittime),
            ("MaxExecTime", spec.maxexectime),
            ("MaxRetries", spec.maxretries),
            ("Priority", spec.priority),
            ("Label", spec.label),
        ],
        title="Function Specification",
    )
    c = spec.conditions
    gpu = c.gpu
    s.out.kv(
        [
            ("Colony", c.colonyname),
            ("ExecutorNames", " ".join(c.executornames or [])),
            ("ExecutorType", c.executortype),
            ("Location", c.locationname),
            ("Dependencies", " ".join(c.dependencies or [])),
            ("Nodes", c.nodes),
            ("CPU", c.cpu),
            ("Memory", c.mem),
            ("Processes", c.processes),
            ("ProcessesPerNode", c.processespernode),
            ("Storage", c.storage),
            ("Walltime", c.walltime),
            ("GPUName", gpu.name if gpu else ""),
            ("GPUs", gpu.count if gpu else 0),
            ("GPUPerNode", gpu.nodecount if gpu else 0),
            ("GPUMemory", gpu.mem if gpu else ""),
        ],
        title="Conditions",
    )
    kinds = {0: "In", 1: "Out", 2: "Err", 3: "Env"}
    if p.attributes:
        s.out.table(
            ["AttributeId", "Key", "Value", "Type"],
            [(a.attributeid, a.key, a.value, kinds.get(a.attributetype, a.attributetype)) for a in p.attributes],
            title="Attributes",
        )


@command(app, "get", json=True)
def get(
    s: Session,
    processid: ProcessIdOpt,
    out: Annotated[bool, typer.Option("--out", help="Print only the output values, space-separated.")] = False,
) -> None:
    """Show one process: state, times, spec, conditions and attributes."""
    process = s.client.get_process(processid)
    if s.json:
        s.out.emit_json(process)
    elif out:
        s.out.line(" ".join(str(v) for v in process.output or []))
    else:
        show_process(s, process)


@command(app, "remove")
def remove(s: Session, processid: ProcessIdOpt) -> None:
    """Remove a process that is not running and not part of a workflow."""
    s.client.remove_process(processid)
    s.out.info(f"Process removed: {processid}")


removeall_command(
    app,
    "processes",
    "Remove all of the colony's processes outside workflows (or only those in one state).",
    lambda client: client.remove_all_processes,
)


@command(app, "cancel")
def cancel(s: Session, processid: ProcessIdOpt) -> None:
    """Cancel a waiting or running process."""
    s.client.cancel_process(processid)
    s.out.info(f"Process cancelled: {processid}")


@command(app, "wait", json=True)
def wait(
    s: Session,
    processid: ProcessIdOpt,
    timeout: TimeoutOpt = None,
    out: Annotated[bool, typer.Option("--out", help="Print the output values when done.")] = False,
) -> None:
    """Wait until a process has finished; exits non-zero if it failed or was cancelled."""
    process = wait_process(s, processid, timeout)
    values = " ".join(str(v) for v in process.output or []) if out else None
    report_finished(s, "Process", processid, process, describe_end(process), values)


@command(app, "pause", signer="colony", colony=True)
def pause(s: Session) -> None:
    """Stop handing out the colony's processes to executors."""
    s.client.pause_assignments(s.colony)
    s.out.info(f"Process assignments of colony {s.colony} are PAUSED")


@command(app, "resume", signer="colony", colony=True)
def resume(s: Session) -> None:
    """Resume handing out the colony's processes."""
    s.client.resume_assignments(s.colony)
    s.out.info(f"Process assignments of colony {s.colony} are ACTIVE")


@command(app, "status", colony=True, json=True)
def status(s: Session) -> None:
    """Whether the colony's assignments are paused."""
    paused = s.client.get_pause_status(s.colony)
    if s.json:
        s.out.emit_json({"colonyname": s.colony, "ispaused": paused})
    else:
        s.out.line(f"Process assignments of colony {s.colony} are {'PAUSED' if paused else 'ACTIVE'}")


@command(app, "assign", colony=True, json=True)
def assign(
    s: Session,
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds to wait for a process.")] = 100,
) -> None:
    """Act as the executor of --prvkey: take one process to run."""
    with s.out.waiting(f"Waiting up to {timeout} s for a process"):
        process = s.client.assign(s.colony, timeout)
    if process is None:
        raise CliError(f"no process was assigned within {timeout} s")
    s.out.info(f"Assigned process {process.processid} ({process.spec.funcname})")
    if s.json:
        s.out.emit_json(process)


@command(app, "close")
def close(
    s: Session,
    processid: ProcessIdOpt,
    out: Annotated[
        list[str] | None, typer.Option("--out", help="Output values: a,b (repeatable).", show_default=False)
    ] = None,
) -> None:
    """Close a process you run as successful, optionally with output values."""
    s.client.close(processid, split_list(out) or None)
    s.out.info(f"Process closed as successful: {processid}")


@command(app, "fail")
def fail_(
    s: Session,
    processid: ProcessIdOpt,
    errors: Annotated[
        list[str] | None, typer.Option("--errors", help="Error messages: a,b (repeatable).", show_default=False)
    ] = None,
) -> None:
    """Close a process you run as failed."""
    s.client.fail(processid, split_list(errors) or ["No errors specified"])
    s.out.info(f"Process closed as failed: {processid}")
