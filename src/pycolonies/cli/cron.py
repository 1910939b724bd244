"""``colonies cron``: run a workflow on a schedule (a 6-field cron expression, seconds first, or a
fixed interval)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import CliError, Session, command, group
from .output import human_time
from .specfiles import load_workflow, workflow_nodes

__all__ = ["app"]

app = group("Run workflows on a schedule.")

CronIdOpt = Annotated[str, typer.Option("--cronid", help="Cron id.")]


@command(app, "add", colony=True, json=True)
def add(
    s: Session,
    name: Annotated[str, typer.Option("--name", help="Cron name (unique in the colony).")],
    spec: Annotated[Path, typer.Option("--spec", help="Workflow JSON file: an array of function specs.")],
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Cron expression, 6 fields, seconds first: '0/5 * * * * *'.", show_default=False),
    ] = None,
    interval: Annotated[int, typer.Option("--interval", help="Or run every this many seconds (-1: off).")] = -1,
    random: Annotated[
        bool, typer.Option("--random", help="With --interval: run at a random point within each interval.")
    ] = False,
    waitprevious: Annotated[
        bool, typer.Option("--waitprevious", help="Skip a run while the previous workflow is unfinished.")
    ] = False,
) -> None:
    """Add a cron that submits the workflow in --spec on a schedule."""
    if not cron and interval <= 0:
        raise CliError("say when to run: pass --cron or --interval")
    if random and interval <= 0:
        raise CliError("--random needs --interval")
    workflow = load_workflow(spec, s.settings.colonyname, s.out)
    added = s.client.add_cron(name, cron or "", waitprevious, workflow, s.colony, interval=interval, random=random)
    s.out.info(f"Cron added: {name} (id {added.get('cronid', '')})")
    if s.json:
        s.out.emit_json(added)


def _nodes_table(s: Session, workflowspec: Any) -> None:
    nodes = workflow_nodes(workflowspec)
    if nodes:
        s.out.table(["NodeName", "FuncName", "Executor Type", "Dependencies"], nodes, title="Workflow")


@command(app, "get", json=True)
def get(s: Session, cronid: CronIdOpt) -> None:
    """Show a cron and the workflow it runs."""
    c = s.client.get_cron(cronid)
    if s.json:
        s.out.emit_json(c)
        return
    s.out.kv(
        [
            ("CronId", c.get("cronid", "")),
            ("Name", c.get("name", "")),
            ("Colony", c.get("colonyname", "")),
            ("InitiatorID", c.get("initiatorid", "")),
            ("Initiator", c.get("initiatorname", "")),
            ("Cron Expression", c.get("cronexpression", "")),
            ("Interval", c.get("interval", -1)),
            ("Random", bool(c.get("random"))),
            ("NextRun", human_time(c.get("nextrun"))),
            ("LastRun", human_time(c.get("lastrun"))),
            ("PrevProcessGraphID", c.get("prevprocessgraphid") or "-"),
            ("WaitForPrevProcessGraph", bool(c.get("waitforprevprocessgraph"))),
            ("CheckerPeriod", c.get("checkerperiod", 0)),
        ],
        title="Cron",
    )
    _nodes_table(s, c.get("workflowspec"))


@command(app, "ls", colony=True, json=True)
def ls(s: Session, count: Annotated[int, typer.Option("--count", help="At most this many.", min=1)] = 20) -> None:
    """List the colony's crons: CRONID, NAME, INITIATOR."""
    crons = s.client.get_crons(s.colony, count) or []
    if s.json:
        s.out.emit_json(crons)
    elif not crons:
        s.out.info("No crons found")
    else:
        s.out.table(
            ["CronId", "Name", "Initiator"],
            [(c.get("cronid", ""), c.get("name", ""), c.get("initiatorname", "")) for c in crons],
        )


@command(app, "remove")
def remove(s: Session, cronid: CronIdOpt) -> None:
    """Remove a cron."""
    s.client.del_cron(cronid)
    s.out.info(f"Cron removed: {cronid}")


@command(app, "run")
def run(s: Session, cronid: CronIdOpt) -> None:
    """Run a cron now."""
    s.client.run_cron(cronid)
    s.out.info(f"Cron triggered: {cronid}")
