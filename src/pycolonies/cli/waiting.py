"""Commands that wait: for a process or a workflow to finish, and for new log lines (``--follow``).

They poll (every 0.1 s at first, then every 0.5 s) so that success, failure and cancellation are
all seen; a spinner shows on terminals. Log lines are printed as they arrive.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from ..models import Process
from .common import CliError, Session
from .output import PROCESS_STATES

__all__ = [
    "FINISHED",
    "TimeoutOpt",
    "describe_end",
    "follow_logs",
    "print_log",
    "print_logs_once",
    "report_finished",
    "wait_process",
    "wait_workflow",
]

SUCCESSFUL, FAILED, CANCELLED = 2, 3, 4
FINISHED = (SUCCESSFUL, FAILED, CANCELLED)
MAX_LOG_BATCH = 500
"""Most log lines the server returns per request."""

TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", help="Give up after this many seconds.", show_default=False)
]
"""The ``--timeout`` of the ``wait`` commands."""


def _delays() -> Any:
    delay = 0.1
    while True:
        yield delay
        delay = min(delay * 1.5, 0.5)


def _check_deadline(deadline: float | None, what: str, timeout: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise CliError(f"{what} did not finish within {timeout:g} s")


def wait_process(s: Session, processid: str, timeout: float | None = None) -> Process:
    """Poll until the process is successful, failed or cancelled; returns it."""
    deadline = time.monotonic() + timeout if timeout else None
    delays = _delays()
    with s.out.waiting(f"Waiting for process {processid}"):
        while True:
            process = s.client.get_process(processid)
            if process.state in FINISHED:
                return process
            _check_deadline(deadline, f"process {processid}", timeout)
            time.sleep(next(delays))


def wait_workflow(s: Session, workflowid: str, timeout: float | None = None) -> Any:
    """Poll until the workflow (process graph) is finished; returns it."""
    deadline = time.monotonic() + timeout if timeout else None
    delays = _delays()
    with s.out.waiting(f"Waiting for workflow {workflowid}"):
        while True:
            graph = s.client.get_processgraph(workflowid)
            if graph.state in FINISHED:
                return graph
            _check_deadline(deadline, f"workflow {workflowid}", timeout)
            time.sleep(next(delays))


def report_finished(s: Session, what: str, ident: str, result: Any, failure: str, text: str | None = None) -> None:
    """After waiting for a process or workflow (``what``, capitalised): CliError(``failure``) unless
    ``result`` is successful; else ``result`` in --json, ``text`` when given, or else
    ``<what> finished successfully: <ident>``."""
    if result.state != SUCCESSFUL:
        raise CliError(failure)
    if s.json:
        s.out.emit_json(result)
    elif text is not None:
        s.out.line(text)
    else:
        s.out.info(f"{what} finished successfully: {ident}")


def print_log(s: Session, log: dict[str, Any], to_stderr: bool = False) -> None:
    """One log line as it was written (a newline added when it has none); a JSON line in --json
    unless it goes to stderr (while stdout is kept for one JSON document)."""
    if s.json and not to_stderr:
        s.out.emit_json_line(log)
        return
    stream = sys.stderr if to_stderr else sys.stdout
    message = str(log.get("message", ""))
    stream.write(message if message.endswith("\n") else message + "\n")
    stream.flush()


def _fetch(s: Session, processid: str, executorname: str, count: int, since: int, latest: bool) -> list[Any]:
    if processid:
        logs = s.client.get_process_log(s.colony, processid, count, since, latest=latest)
    else:
        logs = s.client.get_executor_log(s.colony, executorname, count, since, latest=latest)
    return list(logs or [])


def _drain(s: Session, processid: str, executorname: str, since: int, to_stderr: bool) -> int:
    """Print every line after ``since``; returns the last timestamp seen."""
    while True:
        logs = _fetch(s, processid, executorname, MAX_LOG_BATCH, since, False)
        for log in logs:
            print_log(s, log, to_stderr)
            since = max(since, int(log.get("timestamp", 0)))
        if len(logs) < MAX_LOG_BATCH:
            return since


def follow_logs(
    s: Session,
    processid: str = "",
    executorname: str = "",
    since: int = 0,
    to_stderr: bool = False,
    timeout: float | None = None,
) -> Process | None:
    """Print new lines every 0.5 s. For a process, stop once it has finished and every line is
    printed (returns the process); for an executor, run until interrupted or ``timeout``."""
    deadline = time.monotonic() + timeout if timeout else None
    delays = _delays()
    with s.out.waiting("Following logs (Ctrl-C to stop)"):
        while True:
            process = s.client.get_process(processid) if processid else None
            since = _drain(s, processid, executorname, since, to_stderr)
            if process is not None and process.state in FINISHED:
                return process
            _check_deadline(deadline, f"process {processid}" if processid else "following the logs", timeout)
            time.sleep(next(delays))


def print_logs_once(
    s: Session, processid: str, executorname: str, count: int, since: int, latest: bool
) -> tuple[list[Any], int]:
    """The first batch: the newest ``count`` lines (``latest``) or the first ``count`` after
    ``since``; returns them and the last timestamp seen."""
    logs = _fetch(s, processid, executorname, count, since, latest)
    last = max([since, *(int(log.get("timestamp", 0)) for log in logs)])
    return logs, last


def describe_end(process: Process) -> str:
    state = PROCESS_STATES.get(process.state, str(process.state))
    errors = "; ".join(process.errors or [])
    return f"process {process.processid} {state}" + (f": {errors}" if errors else "")
