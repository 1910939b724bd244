"""``colonies executor``: register executors and manage their membership; list and inspect them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..crypto import generate_prvkey, id_of
from .common import CliError, Session, command, group
from .output import EXECUTOR_STATES, human_duration, human_time, state_text
from .specfiles import read_json

app = group("Manage executors (add, approve, reject and remove need the colony owner's key).")

NameOpt = Annotated[str, typer.Option("--name", help="Executor name.")]
UNREGISTERED = 3


def _executor_record(
    s: Session, executorid: str, spec: Path | None, name: str | None, type_: str | None, location: str | None
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if spec is not None:
        data = read_json(spec)
        if not isinstance(data, dict):
            raise CliError(f"{spec}: an executor spec must be a JSON object")
        record.update(data)
    for key, value in (("executorname", name), ("executortype", type_), ("locationname", location)):
        if value:
            record[key] = value
    if not record.get("executorname") or not record.get("executortype"):
        raise CliError("an executor needs a name and a type: pass --name and --type, or --spec with both")
    record["executorid"] = executorid
    record["colonyname"] = s.colony
    return record


def _add(s: Session, record: dict[str, Any], approve: bool) -> None:
    executor = s.client.add_executor(record)
    name = record["executorname"]
    s.out.info(f"Executor added: {name} (type {record['executortype']}, id {record['executorid']})")
    if approve:
        s.client.approve_executor(s.colony, name)
        s.out.info(f"Executor approved: {name}")
        executor = {**executor, "state": 1}
    if s.json:
        s.out.emit_json(executor)


SpecOpt = Annotated[
    Path | None,
    typer.Option(
        "--spec", help="Executor JSON (executorname, executortype, locationname, capabilities).", show_default=False
    ),
]
TypeOpt = Annotated[str | None, typer.Option("--type", help="Executor type.", show_default=False)]
LocationOpt = Annotated[str | None, typer.Option("--location", help="Location name.", show_default=False)]
ApproveOpt = Annotated[bool, typer.Option("--approve", help="Approve it too.")]


@command(app, "add", signer="colony", colony=True, json=True)
def add(
    s: Session,
    executorid: Annotated[str, typer.Option("--executorid", help="The executor's id (64 hex).")],
    name: Annotated[str | None, typer.Option("--name", help="Executor name.", show_default=False)] = None,
    type_: TypeOpt = None,
    location: LocationOpt = None,
    spec: SpecOpt = None,
    approve: ApproveOpt = False,
) -> None:
    """Register an executor whose key you already have (by its id)."""
    _add(s, _executor_record(s, executorid, spec, name, type_, location), approve)


@command(app, "create", signer="colony", colony=True, json=True)
def create(
    s: Session,
    keypath: Annotated[Path, typer.Option("--keypath", help="Write the new private key to this file.")],
    idpath: Annotated[
        Path | None, typer.Option("--idpath", help="Also write the new id to this file.", show_default=False)
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Executor name.", show_default=False)] = None,
    type_: TypeOpt = None,
    location: LocationOpt = None,
    spec: SpecOpt = None,
    approve: ApproveOpt = False,
) -> None:
    """Generate a key pair for a new executor, save it, and register the executor."""
    prvkey = generate_prvkey()
    executorid = id_of(prvkey)
    record = _executor_record(s, executorid, spec, name, type_, location)
    try:
        keypath.write_text(prvkey + "\n")
        keypath.chmod(0o600)
        if idpath is not None:
            idpath.write_text(executorid + "\n")
    except OSError as exc:
        raise CliError(f"cannot write the key: {exc.strerror or exc}") from None
    _add(s, record, approve)


@command(app, "approve", signer="colony", colony=True)
def approve(s: Session, name: NameOpt) -> None:
    """Approve an executor: it may then get processes."""
    s.client.approve_executor(s.colony, name)
    s.out.info(f"Executor approved: {name}")


@command(app, "reject", signer="colony", colony=True)
def reject(s: Session, name: NameOpt) -> None:
    """Reject an executor."""
    s.client.reject_executor(s.colony, name)
    s.out.info(f"Executor rejected: {name}")


@command(app, "remove", signer="colony", colony=True)
def remove(s: Session, name: NameOpt) -> None:
    """Unregister an executor; its running processes go back to the queue."""
    s.client.remove_executor(s.colony, name)
    s.out.info(f"Executor removed: {name}")


@command(app, "ls", colony=True, json=True)
def ls(
    s: Session,
    all_: Annotated[bool, typer.Option("--all", help="Include unregistered executors (adds a STATE column).")] = False,
    type_: Annotated[str | None, typer.Option("--type", help="Only this executor type.", show_default=False)] = None,
    location: LocationOpt = None,
    filter_: Annotated[
        str | None,
        typer.Option(
            "--filter", "-f", help="Only names or types containing this (case-insensitive).", show_default=False
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Show every executor in full, as 'executor get'.")] = False,
) -> None:
    """List the colony's executors: NAME, TYPE, LOCATION, LAST HEARD FROM."""
    executors = [
        e
        for e in s.client.list_executors(s.colony) or []
        if (all_ or e.get("state") != UNREGISTERED)
        and (not type_ or e.get("executortype") == type_)
        and (not location or e.get("locationname") == location)
        and (
            not filter_
            or filter_.lower() in e.get("executorname", "").lower()
            or filter_.lower() in e.get("executortype", "").lower()
        )
    ]
    executors.sort(key=lambda e: (e.get("executortype", ""), e.get("executorname", "")))
    if s.json:
        s.out.emit_json(executors)
    elif not executors:
        s.out.info("No executors found")
    elif full:
        for executor in executors:
            _show(s, executor)
    elif all_:
        s.out.table(
            ["Name", "Type", "State", "Location", "Last Heard From"],
            [
                (
                    e.get("executorname", ""),
                    e.get("executortype", ""),
                    state_text(e.get("state", 0), EXECUTOR_STATES),
                    e.get("locationname") or "n/a",
                    human_time(e.get("lastheardfromtime")),
                )
                for e in executors
            ],
        )
    else:
        s.out.table(
            ["Name", "Type", "Location", "Last Heard From"],
            [
                (
                    e.get("executorname", ""),
                    e.get("executortype", ""),
                    e.get("locationname") or "n/a",
                    human_time(e.get("lastheardfromtime")),
                )
                for e in executors
            ],
        )


@command(app, "get", colony=True, json=True)
def get(s: Session, name: NameOpt) -> None:
    """Show one executor: identity, state, hardware, software and its functions."""
    executor = s.client.get_executor(s.colony, name)
    if s.json:
        s.out.emit_json(executor)
    else:
        _show(s, executor)


def _seconds(value: Any) -> str:
    try:
        return human_duration(float(value))
    except (TypeError, ValueError):
        return "-"


def _show(s: Session, e: dict[str, Any]) -> None:
    s.out.kv(
        [
            ("Name", e.get("executorname", "")),
            ("Id", e.get("executorid", "")),
            ("Type", e.get("executortype", "")),
            ("Colony", e.get("colonyname", "")),
            ("State", state_text(e.get("state", 0), EXECUTOR_STATES)),
            ("RequireFuncRegistration", bool(e.get("requirefuncreg"))),
            ("Commission Time", human_time(e.get("commissiontime"))),
            ("Last Heard From", human_time(e.get("lastheardfromtime"))),
            ("Location", e.get("locationname") or "n/a"),
        ],
        title="Executor",
    )
    capabilities = e.get("capabilities") or {}
    hardware = capabilities.get("hardware") or []
    for i, hw in enumerate(hardware if isinstance(hardware, list) else [hardware]):
        gpu = hw.get("gpu") or {}
        s.out.kv(
            [
                ("Nodes", hw.get("nodes", 0)),
                ("Model", hw.get("model", "")),
                ("CPU", hw.get("cpu", "")),
                ("Cores", hw.get("cores", 0)),
                ("Memory", hw.get("mem", "")),
                ("Storage", hw.get("storage", "")),
                ("GPU", gpu.get("name", "")),
                ("GPUs", gpu.get("count", 0)),
                ("GPU/Node", gpu.get("nodecount", 0)),
                ("GPU Memory", gpu.get("mem", "")),
                ("Platform", hw.get("platform", "")),
                ("Architecture", hw.get("architecture", "")),
                ("Network", ", ".join(hw.get("network") or [])),
            ],
            title="Hardware" if len(hardware) == 1 else f"Hardware [{i}]",
        )
    software = capabilities.get("software") or []
    software = software if isinstance(software, list) else [software]
    if software:
        s.out.table(
            ["Name", "Type", "Version"], [(sw.get("name"), sw.get("type"), sw.get("version")) for sw in software]
        )
    functions = s.client.get_functions_by_executor(e.get("colonyname") or s.colony, e.get("executorname", "")) or []
    for fn in functions:
        s.out.kv(
            [
                ("FunctionName", fn.get("funcname", "")),
                ("FunctionId", fn.get("functionid", "")),
                ("Call counter", fn.get("counter", 0)),
                ("MinWaitTime", _seconds(fn.get("minwaittime"))),
                ("MaxWaitTime", _seconds(fn.get("maxwaittime"))),
                ("AvgWaitTime", _seconds(fn.get("avgwaittime"))),
                ("MinExecTime", _seconds(fn.get("minexectime"))),
                ("MaxExecTime", _seconds(fn.get("maxexectime"))),
                ("AvgExecTime", _seconds(fn.get("avgexectime"))),
            ],
            title=f"Function: {fn.get('funcname', '')}",
        )
