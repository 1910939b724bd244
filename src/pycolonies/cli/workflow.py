"""``colonies workflow``: submit a workflow (a JSON array of function specs), list, inspect,
cancel, remove and wait for workflows (process graphs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import Session, command, group, removeall_command
from .function import fs_snapshots_for
from .output import PROCESS_STATES, human_time, state_text, time_ns
from .process import STATE_NUMBERS, State
from .specfiles import load_workflow
from .waiting import TimeoutOpt, report_finished, wait_workflow

__all__ = ["app"]

app = group("Submit, list, inspect, cancel and remove workflows.")

WorkflowIdOpt = Annotated[str, typer.Option("--workflowid", "--processgraphid", help="Workflow id.")]
TIME_COLUMN = {0: ("Submission Time", "submissiontime"), 1: ("Start Time", "starttime")}
MAX_COUNT = 100


def _finished(s: Session, graph: Any) -> None:
    failure = f"workflow {graph.processgraphid} {PROCESS_STATES.get(graph.state, graph.state)}"
    report_finished(s, "Workflow", graph.processgraphid, graph, failure)


@command(app, "submit", colony=True, json=True)
def submit(
    s: Session,
    spec: Annotated[Path, typer.Option("--spec", help="Workflow JSON file: an array of function specs.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the workflow has finished.")] = False,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="With --wait: give up after this many seconds.", show_default=False),
    ] = None,
) -> None:
    """Submit a workflow: a JSON array of function specs, with edges in conditions.dependencies.
    Each fs.snapshots entry without a snapshotid gets a new snapshot of its label."""
    workflow = load_workflow(spec, s.settings.colonyname, s.out)
    with fs_snapshots_for(s, workflow):
        graph = s.client.submit_workflow(workflow)
    s.out.info(f"Workflow submitted: {graph.processgraphid}")
    if wait:
        _finished(s, wait_workflow(s, graph.processgraphid, timeout))
    elif s.json:
        s.out.emit_json(graph)


def list_workflows(s: Session, state: int, count: int) -> None:
    graphs = s.client.get_processgraphs(s.colony, min(count, MAX_COUNT), state=state) or []
    header, field = TIME_COLUMN.get(state, ("End Time", "endtime"))
    graphs.sort(key=lambda g: time_ns(g.get(field)), reverse=True)
    if s.json:
        s.out.emit_json(graphs)
    elif not graphs:
        s.out.info(f"No {PROCESS_STATES[state]} workflows found")
    else:
        s.out.table(
            ["WorkflowId", header, "Initiator"],
            [(g.get("processgraphid", ""), human_time(g.get(field)), g.get("initiatorname", "")) for g in graphs],
        )


CountOpt = Annotated[int, typer.Option("--count", help=f"At most this many (up to {MAX_COUNT}).", min=1)]


def _state_lister(state: int) -> Any:
    def lister(s: Session, count: CountOpt = 20) -> None:
        list_workflows(s, state, count)

    lister.__doc__ = f"List {PROCESS_STATES[state]} workflows."
    lister.__name__ = f"ps_{PROCESS_STATES[state]}"
    return lister


for _name, _state in (("psw", 0), ("ps", 1), ("pss", 2), ("psf", 3), ("psc", 4)):
    command(app, _name, colony=True, json=True)(_state_lister(_state))


@command(app, "ls", colony=True, json=True)
def ls(
    s: Session,
    state: Annotated[State, typer.Option("--state", "-s", help="Which workflows.")] = State.running,
    count: CountOpt = 20,
) -> None:
    """List workflows in one state (psw, ps, pss, psf, psc are shorthands)."""
    list_workflows(s, STATE_NUMBERS[state.value], count)


@command(app, "get", json=True)
def get(s: Session, workflowid: WorkflowIdOpt) -> None:
    """Show a workflow and its processes."""
    graph = s.client.get_processgraph(workflowid)
    if s.json:
        s.out.emit_json(graph)
        return
    s.out.kv(
        [
            ("WorkflowId", graph.processgraphid),
            ("Colony", graph.colonyname),
            ("InitiatorId", graph.initiatorid),
            ("InitiatorName", graph.initiatorname),
            ("State", state_text(graph.state)),
            ("SubmissionTime", human_time(graph.submissiontime)),
            ("StartTime", human_time(graph.starttime)),
            ("EndTime", human_time(graph.endtime)),
        ],
        title="Workflow",
    )
    processes = [s.client.get_process(pid) for pid in graph.processids or []]
    s.out.table(
        ["NodeName", "ProcessId", "FuncName", "Executor Type", "State", "Dependencies"],
        [
            (
                p.spec.nodename,
                p.processid,
                p.spec.funcname,
                p.spec.conditions.executortype,
                state_text(p.state),
                " ".join(p.spec.conditions.dependencies or []),
            )
            for p in processes
        ],
        title="Processes",
    )


@command(app, "remove")
def remove(s: Session, workflowid: WorkflowIdOpt) -> None:
    """Remove a workflow that is not running, with its processes."""
    s.client.remove_processgraph(workflowid)
    s.out.info(f"Workflow removed: {workflowid}")


removeall_command(
    app,
    "workflows",
    "Remove all of the colony's workflows (or only those in one state).",
    lambda client: client.remove_all_processgraphs,
)


@command(app, "cancel")
def cancel(s: Session, workflowid: WorkflowIdOpt) -> None:
    """Cancel a workflow and its unfinished processes."""
    s.client.cancel_processgraph(workflowid)
    s.out.info(f"Workflow cancelled: {workflowid}")


@command(app, "wait", json=True)
def wait(
    s: Session,
    workflowid: WorkflowIdOpt,
    timeout: TimeoutOpt = None,
) -> None:
    """Wait until a workflow has finished; exits non-zero if it failed or was cancelled."""
    _finished(s, wait_workflow(s, workflowid, timeout))
