"""``colonies generator``: submit a workflow once enough arguments have been packed (or after a
timeout); the packed arguments become the workflow's arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import Session, command, group
from .output import human_time
from .specfiles import load_workflow, workflow_nodes

__all__ = ["app"]

app = group("Submit workflows from packed arguments.")

GeneratorIdOpt = Annotated[str, typer.Option("--generatorid", help="Generator id.")]


@command(app, "add", colony=True, json=True)
def add(
    s: Session,
    name: Annotated[str, typer.Option("--name", help="Generator name (unique in the colony).")],
    spec: Annotated[Path, typer.Option("--spec", help="Workflow JSON file: an array of function specs.")],
    trigger: Annotated[int, typer.Option("--trigger", help="Submit when this many arguments are packed.", min=1)],
    timeout: Annotated[
        int, typer.Option("--timeout", help="Or this many seconds after the first pack (-1: never).")
    ] = -1,
) -> None:
    """Add a generator for the workflow in --spec."""
    workflow = load_workflow(spec, s.settings.colonyname, s.out)
    generator = {
        "colonyname": s.colony,
        "name": name,
        "workflowspec": json.dumps(workflow.model_dump(by_alias=True, mode="json")),
        "trigger": trigger,
        "timeout": timeout,
    }
    added = s.client.add_generator(generator)
    s.out.info(f"Generator added: {name} (id {added.get('generatorid', '')})")
    if s.json:
        s.out.emit_json(added)


def _show(s: Session, g: dict[str, Any]) -> None:
    s.out.kv(
        [
            ("GeneratorId", g.get("generatorid", "")),
            ("Name", g.get("name", "")),
            ("Colony", g.get("colonyname", "")),
            ("Initiator", g.get("initiatorname", "")),
            ("Trigger", g.get("trigger", 0)),
            ("Timeout", g.get("timeout", -1)),
            ("Lastrun", human_time(g.get("lastrun"))),
            ("CheckerPeriod", g.get("checkerperiod", 0)),
            ("QueueSize", g.get("queuesize", 0)),
        ],
        title="Generator",
    )
    nodes = workflow_nodes(g.get("workflowspec"))
    if nodes:
        s.out.table(["NodeName", "FuncName", "Executor Type", "Dependencies"], nodes, title="Workflow")


@command(app, "get", json=True)
def get(s: Session, generatorid: GeneratorIdOpt) -> None:
    """Show a generator and the workflow it submits."""
    g = s.client.get_generator(generatorid)
    if s.json:
        s.out.emit_json(g)
    else:
        _show(s, g)


@command(app, "resolve", colony=True, json=True)
def resolve(s: Session, name: Annotated[str, typer.Option("--name", help="Generator name.")]) -> None:
    """Show a generator found by name."""
    g = s.client.resolve_generator(s.colony, name)
    if s.json:
        s.out.emit_json(g)
    else:
        _show(s, g)


@command(app, "ls", colony=True, json=True)
def ls(s: Session, count: Annotated[int, typer.Option("--count", help="At most this many.", min=1)] = 20) -> None:
    """List the colony's generators: GENERATORID, NAME, INITIATOR."""
    generators = s.client.get_generators(s.colony, count=count) or []
    if s.json:
        s.out.emit_json(generators)
    elif not generators:
        s.out.info("No generators found")
    else:
        s.out.table(
            ["GeneratorId", "Name", "Initiator"],
            [(g.get("generatorid", ""), g.get("name", ""), g.get("initiatorname", "")) for g in generators],
        )


@command(app, "pack")
def pack(
    s: Session,
    generatorid: GeneratorIdOpt,
    arg: Annotated[str, typer.Option("--arg", help="The argument to queue.")],
) -> None:
    """Queue one argument for the generator's next workflow."""
    s.client.pack_generator(generatorid, arg)
    s.out.info(f"Packed {arg!r} into generator {generatorid}")


@command(app, "remove")
def remove(s: Session, generatorid: GeneratorIdOpt) -> None:
    """Remove a generator and its queued arguments."""
    s.client.remove_generator(generatorid)
    s.out.info(f"Generator removed: {generatorid}")
