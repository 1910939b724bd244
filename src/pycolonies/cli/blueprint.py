"""``colonies blueprint``: declarative resources. ``blueprint definition`` manages the kinds a
colony knows (with their schema and the executor type that reconciles them; adding and removing
needs the colony owner's key); ``blueprint add/get/ls/update/set/remove`` manage blueprints (desired
state in ``spec``, observed state in ``status``), ``reconcile`` asks for a reconciliation now and
``history`` shows the recorded changes. Documents are JSON files, as upstream's CLI reads them;
their colony defaults to the configured one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import CliError, Session, command, group
from .output import human_time
from .specfiles import read_json

__all__ = ["app"]

app = group("Manage blueprints and blueprint definitions (declarative, reconciled resources).")
definition_app = group("Manage blueprint definitions: the kinds of blueprints a colony knows.")
app.add_typer(definition_app, name="definition")

SpecOpt = Annotated[Path, typer.Option("--spec", help="JSON file with the document.")]
NameOpt = Annotated[str, typer.Option("--name", help="Blueprint name.")]
DefinitionNameOpt = Annotated[str, typer.Option("--name", help="Blueprint definition name.")]


def _document(s: Session, path: Path, what: str) -> dict[str, Any]:
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise CliError(f"{path}: a {what} must be a JSON object, not {type(doc).__name__}")
    metadata = doc.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise CliError(f"{path}: metadata must be a JSON object")
    if not metadata.get("colonyname"):
        metadata["colonyname"] = s.colony
    if not metadata.get("name"):
        raise CliError(f"{path}: metadata.name is missing")
    return doc


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value not in (None, {}) else "-"


# -- definitions ----------------------------------------------------------------------------------


@command(definition_app, "add", signer="colony", colony=True, json=True)
def definition_add(s: Session, spec: SpecOpt) -> None:
    """Add a blueprint definition (signed with the colony owner's key)."""
    added = s.client.add_blueprint_definition(_document(s, spec, "blueprint definition"))
    names = added.get("spec", {}).get("names", {})
    s.out.info(f"Blueprint definition added: {added['metadata']['name']} (kind {names.get('kind', '')})")
    if s.json:
        s.out.emit_json(added)


def _definition_rows(d: dict[str, Any]) -> list[tuple[str, Any]]:
    spec = d.get("spec", {})
    handler = spec.get("handler", {})
    return [
        ("Id", d.get("blueprintdefinitionid", "")),
        ("Name", d.get("metadata", {}).get("name", "")),
        ("Colony", d.get("metadata", {}).get("colonyname", "")),
        ("Kind", spec.get("names", {}).get("kind", "")),
        ("Group", spec.get("group", "") or "-"),
        ("Version", spec.get("version", "") or "-"),
        ("Scope", spec.get("scope", "") or "-"),
        ("Executor Type", handler.get("executorType", "") or "-"),
        ("Function", handler.get("functionName", "") or "-"),
        ("Schema", _json_text(spec.get("schema"))),
    ]


@command(definition_app, "get", colony=True, json=True)
def definition_get(s: Session, name: DefinitionNameOpt) -> None:
    """Show a blueprint definition."""
    d = s.client.get_blueprint_definition(s.colony, name)
    if s.json:
        s.out.emit_json(d)
    else:
        s.out.kv(_definition_rows(d), title="Blueprint definition")


@command(definition_app, "ls", colony=True, json=True)
def definition_ls(s: Session) -> None:
    """List the colony's blueprint definitions: NAME, KIND, GROUP, VERSION, EXECUTOR TYPE, FUNCTION."""
    found = s.client.get_blueprint_definitions(s.colony) or []
    if s.json:
        s.out.emit_json(found)
    elif not found:
        s.out.info("No blueprint definitions found")
    else:
        rows = []
        for d in found:
            spec = d.get("spec", {})
            handler = spec.get("handler", {})
            rows.append(
                (
                    d.get("metadata", {}).get("name", ""),
                    spec.get("names", {}).get("kind", ""),
                    spec.get("group", ""),
                    spec.get("version", ""),
                    handler.get("executorType", ""),
                    handler.get("functionName", ""),
                )
            )
        s.out.table(["Name", "Kind", "Group", "Version", "Executor Type", "Function"], rows)


@command(definition_app, "remove", signer="colony", colony=True)
def definition_remove(s: Session, name: DefinitionNameOpt) -> None:
    """Remove a blueprint definition (no blueprint of its kind may remain)."""
    s.client.remove_blueprint_definition(s.colony, name)
    s.out.info(f"Blueprint definition removed: {name}")


# -- blueprints -----------------------------------------------------------------------------------


@command(app, "add", colony=True, json=True)
def add(s: Session, spec: SpecOpt) -> None:
    """Add a blueprint; the reconciler of its kind is asked to apply it."""
    added = s.client.add_blueprint(_document(s, spec, "blueprint"))
    s.out.info(
        f"Blueprint added: {added['metadata']['name']} (kind {added.get('kind', '')}, id {added['blueprintid']})"
    )
    if s.json:
        s.out.emit_json(added)


def _blueprint_rows(b: dict[str, Any]) -> list[tuple[str, Any]]:
    meta = b.get("metadata", {})
    return [
        ("Id", b.get("blueprintid", "")),
        ("Name", meta.get("name", "")),
        ("Kind", b.get("kind", "")),
        ("Colony", meta.get("colonyname", "")),
        ("Location", meta.get("locationname", "") or "-"),
        ("Generation", meta.get("generation", 0)),
        ("Labels", _json_text(meta.get("labels"))),
        ("Spec", _json_text(b.get("spec"))),
        ("Status", _json_text(b.get("status"))),
    ]


@command(app, "get", colony=True, json=True)
def get(s: Session, name: NameOpt) -> None:
    """Show a blueprint: its desired state (spec) and observed state (status)."""
    b = s.client.get_blueprint(s.colony, name)
    if s.json:
        s.out.emit_json(b)
    else:
        s.out.kv(_blueprint_rows(b), title="Blueprint")


@command(app, "ls", colony=True, json=True)
def ls(
    s: Session,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.", show_default=False)] = None,
    location: Annotated[
        str | None, typer.Option("--location", help="With --kind: only at this location.", show_default=False)
    ] = None,
) -> None:
    """List blueprints: NAME, KIND, LOCATION, GENERATION, STATUS."""
    if location and not kind:
        raise CliError("--location filters blueprints of one kind: pass --kind too")
    found = s.client.get_blueprints(s.colony, kind=kind, location=location) or []
    if s.json:
        s.out.emit_json(found)
    elif not found:
        s.out.info("No blueprints found")
    else:
        s.out.table(
            ["Name", "Kind", "Location", "Generation", "Status"],
            [
                (
                    b["metadata"].get("name", ""),
                    b.get("kind", ""),
                    b["metadata"].get("locationname", "") or "-",
                    b["metadata"].get("generation", 0),
                    _json_text(b.get("status")),
                )
                for b in found
            ],
        )


@command(app, "update", colony=True, json=True)
def update(
    s: Session,
    spec: SpecOpt,
    force: Annotated[
        bool, typer.Option("--force", help="Count a new generation (and reconcile) even if the spec is unchanged.")
    ] = False,
) -> None:
    """Replace a blueprint with the document in --spec (a status left out is cleared)."""
    updated = s.client.update_blueprint(_document(s, spec, "blueprint"), force_generation=force)
    meta = updated["metadata"]
    s.out.info(f"Blueprint updated: {meta['name']} (generation {meta.get('generation', 0)})")
    if s.json:
        s.out.emit_json(updated)


@command(app, "set", colony=True, json=True)
def set_field(
    s: Session,
    name: NameOpt,
    key: Annotated[str, typer.Option("--key", help="An existing spec field, dots for nested ones: replicas, env.TZ.")],
    value: Annotated[str, typer.Option("--value", help="The new value: JSON (3, true, [1]), else text.")],
) -> None:
    """Change one field of a blueprint's spec, as upstream's blueprint set does."""
    b = s.client.get_blueprint(s.colony, name)
    spec = b.get("spec") or {}
    parts = key.removeprefix("spec.").split(".")
    current = spec
    for part in parts[:-1]:
        if not isinstance(current.get(part), dict):
            raise CliError(f"invalid key {key!r}: {part!r} is not an object in the blueprint's spec")
        current = current[part]
    if parts[-1] not in current:
        raise CliError(f"invalid key {key!r}: the blueprint's spec has no field {parts[-1]!r}")
    try:
        current[parts[-1]] = json.loads(value)
    except json.JSONDecodeError:
        current[parts[-1]] = value
    b["spec"] = spec
    updated = s.client.update_blueprint(b)
    s.out.info(f"Blueprint {name}: {key} set (generation {updated['metadata'].get('generation', 0)})")
    if s.json:
        s.out.emit_json(updated)


@command(app, "remove", colony=True)
def remove(s: Session, name: NameOpt) -> None:
    """Remove a blueprint; the reconciler of its kind is asked to clean up."""
    s.client.remove_blueprint(s.colony, name)
    s.out.info(f"Blueprint removed: {name}")


@command(app, "reconcile", colony=True, json=True)
def reconcile(
    s: Session,
    name: NameOpt,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Count a new generation and ask for a full re-apply.")
    ] = False,
) -> None:
    """Ask the reconciler to reconcile a blueprint now; prints the process it will run."""
    process = s.client.reconcile_blueprint(s.colony, name, force=force)
    if s.json:
        s.out.emit_json(process)
        return
    processid = process.get("processid", "")
    s.out.info(f"Reconciliation process submitted: {processid}")
    s.out.line(processid)


@command(app, "history", colony=True, json=True)
def history(
    s: Session,
    name: NameOpt,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many entries (0: all).", min=0)] = 10,
    generation: Annotated[
        int | None, typer.Option("--generation", "-g", help="Only this generation, in detail.", show_default=False)
    ] = None,
) -> None:
    """Show the recorded changes of a blueprint, newest first: GENERATION, CHANGE, BY, TIME, SPEC."""
    b = s.client.get_blueprint(s.colony, name)
    entries = s.client.get_blueprint_history(b["blueprintid"], limit=limit or None) or []
    if generation is not None:
        entries = [h for h in entries if h.get("generation") == generation]
        if not entries:
            raise CliError(f"generation {generation} of blueprint {name} is not in its history")
    if s.json:
        s.out.emit_json(entries)
    elif not entries:
        s.out.info(f"No history for blueprint {name}")
    elif generation is not None:
        h = entries[0]
        s.out.kv(
            [
                ("HistoryId", h.get("historyid", "")),
                ("Generation", h.get("generation", 0)),
                ("Change", h.get("changetype", "")),
                ("ChangedBy", h.get("changedby", "")),
                ("Time", human_time(h.get("timestamp"))),
                ("Spec", _json_text(h.get("spec"))),
                ("Status", _json_text(h.get("status"))),
            ],
            title=f"Blueprint {name}, generation {generation}",
        )
    else:
        s.out.table(
            ["Generation", "Change", "By", "Time", "Spec"],
            [
                (
                    h.get("generation", 0),
                    h.get("changetype", ""),
                    str(h.get("changedby", ""))[:12],
                    human_time(h.get("timestamp")),
                    _json_text(h.get("spec")),
                )
                for h in entries
            ],
        )
