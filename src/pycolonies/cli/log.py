"""``colonies log``: read a process's or an executor's log lines (``--follow`` to keep reading),
search the colony's logs, and add a line to a process you run."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import CliError, Session, command, group
from .output import human_time
from .waiting import describe_end, follow_logs, print_log, print_logs_once

__all__ = ["app"]

app = group("Read, follow and search log lines of processes and executors.")


@command(app, "get", colony=True, json=True)
def get(
    s: Session,
    processid: Annotated[
        str | None, typer.Option("--processid", "-p", help="The process's lines.", show_default=False)
    ] = None,
    executorname: Annotated[
        str | None, typer.Option("--executorname", "-e", help="The executor's lines.", show_default=False)
    ] = None,
    count: Annotated[int, typer.Option("--count", help="Lines to print first (up to 500).", min=1, max=500)] = 100,
    since: Annotated[int, typer.Option("--since", help="Only lines after this time (Unix nanoseconds).")] = 0,
    first: Annotated[
        bool, typer.Option("--first", "-f", help="The first --count lines instead of the latest (as upstream -f).")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep printing new lines (for a process: until it finishes).")
    ] = False,
) -> None:
    """Print log lines: the latest --count lines, or the first ones with --first or --since."""
    if bool(processid) == bool(executorname):
        raise CliError("pass one of --processid and --executorname")
    latest = not first and since == 0
    logs, last = print_logs_once(s, processid or "", executorname or "", count, since, latest)
    if s.json and not follow:
        s.out.emit_json(logs)
        return
    for log in logs:
        print_log(s, log)
    if not logs and not follow:
        s.out.info("No log lines found")
    if follow:
        process = follow_logs(s, processid=processid or "", executorname=executorname or "", since=last)
        if process is not None and process.state != 2:
            s.out.warn(describe_end(process))


@command(app, "search", colony=True, json=True)
def search(
    s: Session,
    text: Annotated[str, typer.Option("--text", "-t", help="Text to look for (case-sensitive).")],
    days: Annotated[int, typer.Option("--days", "-d", help="Look this many days back (up to 30).", min=1)] = 1,
    count: Annotated[int, typer.Option("--count", help="At most this many hits (up to 100).", min=1)] = 10,
    print_logs: Annotated[bool, typer.Option("--print", help="Also print each hit's whole process log.")] = False,
) -> None:
    """Find log lines of the colony containing --text."""
    hits = s.client.search_logs(s.colony, text, days, count) or []
    if s.json:
        s.out.emit_json(hits)
        return
    if not hits:
        s.out.info(f"No log lines with {text!r} in the last {days} day(s)")
    for hit in hits:
        s.out.kv(
            [
                ("Timestamp", human_time(hit.get("timestamp"))),
                ("ExecutorName", hit.get("executorname", "")),
                ("ProcessID", hit.get("processid", "")),
                ("Text", str(hit.get("message", "")).rstrip("\n")),
            ]
        )
        if print_logs and hit.get("processid"):
            s.out.line("=================== LOGS ====================")
            for log in s.client.get_process_log(s.colony, hit["processid"], 500, 0) or []:
                print_log(s, log)
            s.out.line("=================== LOGS ====================")


@command(app, "add")
def add(
    s: Session,
    processid: Annotated[str, typer.Option("--processid", "-p", help="A running process assigned to you.")],
    message: Annotated[str, typer.Option("--msg", "-m", help="The line to add.")],
) -> None:
    """Add a log line to a process you run (signed by the executor's key)."""
    s.client.add_log(processid, message)
    s.out.info(f"Log line added to process {processid}")
