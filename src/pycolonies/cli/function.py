"""``colonies function``: submit a function (from a JSON spec or from flags), list the functions
executors offer, and register or remove one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ..models import Conditions, FuncSpec, Process, Snapshot, Workflow
from .common import CliError, Session, command, group, parse_pairs, split_list
from .output import human_duration
from .specfiles import load_func_spec
from .waiting import SUCCESSFUL, describe_end, follow_logs, wait_process

app = group("Submit functions and list the functions executors offer.")

WaitOpt = Annotated[bool, typer.Option("--wait", help="Wait until the process has finished.")]
OutOpt = Annotated[bool, typer.Option("--out", help="With --wait or --follow: print the output when done.")]
FollowOpt = Annotated[bool, typer.Option("--follow", help="Print the process's log lines until it finishes.")]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="With --wait or --follow: give up after this many seconds.", show_default=False),
]
LabelOpt = Annotated[str | None, typer.Option("--label", help="Label the process.", show_default=False)]


def submit_and_watch(
    s: Session,
    spec: FuncSpec,
    wait: bool,
    out: bool,
    follow: bool,
    timeout: float | None,
    fresh_snapshots: bool = False,
) -> Process:
    """Submit ``spec``; then optionally follow its logs or wait. A failed or cancelled process is
    an error (non-zero exit). ``fs.snapshots`` entries without a snapshotid (all of them with
    ``fresh_snapshots``) get a new snapshot of their label first."""
    with fs_snapshots_for(s, spec, fresh_snapshots):
        process = s.client.submit_func_spec(spec)
    s.out.info(f"Process submitted: {process.processid}")
    if follow:  # with --json the lines go to stderr: stdout is for the process
        process = follow_logs(s, processid=process.processid, to_stderr=s.json, timeout=timeout) or process
    elif wait or out:
        process = wait_process(s, process.processid, timeout)
    else:
        if s.json:
            s.out.emit_json(process)
        return process
    if process.state != SUCCESSFUL:
        raise CliError(describe_end(process))
    if s.json:
        s.out.emit_json(process)
    elif out:
        s.out.line(" ".join(str(v) for v in process.output or []))
    else:
        s.out.info(f"Process finished successfully: {process.processid}")
    return process


@contextmanager
def fs_snapshots_for(s: Session, spec: FuncSpec | Workflow, fresh: bool = False) -> Iterator[list[Snapshot]]:
    """Around a submission: first give each ``fs.snapshots`` entry of ``spec`` (a function spec or
    a workflow) without a snapshotid (all of them with ``fresh``) a new snapshot of its label, as
    upstream's ``function submit`` does; if the submission then fails, remove them again."""
    specs = spec.functionspecs if isinstance(spec, Workflow) else [spec]
    if not any(one.fs is not None and one.fs.snapshots for one in specs):
        yield []
        return
    from ..fs.directives import discard_snapshots, prepare_fs_snapshots  # imported only when a spec uses them

    try:
        created = prepare_fs_snapshots(s.client, spec, colonyname=s.settings.colonyname, fresh=fresh)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    for snapshot in created:
        s.out.info(f"Snapshot of {snapshot.label} created: {snapshot.snapshotid}")
        if not snapshot.fileids:
            s.out.warn(f"the snapshot of {snapshot.label} holds no files: is the label right?")
    try:
        yield created
    except BaseException:
        discard_snapshots(s.client, created)
        raise


@command(app, "submit", colony=True, json=True)
def submit(
    s: Session,
    spec: Annotated[Path, typer.Option("--spec", help="FunctionSpec JSON file (one object).")],
    label: LabelOpt = None,
    wait: WaitOpt = False,
    out: OutOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    snapshot: Annotated[
        bool,
        typer.Option(
            "--snapshot", help="Take a new snapshot for every fs.snapshots entry, even one that has a snapshotid."
        ),
    ] = False,
) -> None:
    """Submit a function spec from a JSON file.

    The colony comes from the spec's conditions.colonyname, else from COLONIES_COLONY_NAME or
    --colonyname. A missing or 0 maxwaittime/maxexectime means no limit. Each fs.snapshots entry
    without a snapshotid gets a new snapshot of its label (removed by the executor afterwards
    unless keepsnapshot).
    """
    funcspec = load_func_spec(spec, s.settings.colonyname, s.out)
    if label is not None:
        funcspec.label = label
    submit_and_watch(s, funcspec, wait, out, follow, timeout, fresh_snapshots=snapshot)


@command(app, "exec", colony=True, json=True)
def exec_(
    s: Session,
    func: Annotated[str, typer.Option("--func", help="Function name.")],
    args: Annotated[
        list[str] | None, typer.Option("--args", help="Arguments: a,b,c (repeatable).", show_default=False)
    ] = None,
    kwargs: Annotated[
        list[str] | None,
        typer.Option("--kwargs", help="Keyword arguments: key:value,... (repeatable).", show_default=False),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="Environment: KEY=value,... (repeatable).", show_default=False),
    ] = None,
    targettype: Annotated[
        str | None, typer.Option("--targettype", help="Executor type to run it.", show_default=False)
    ] = None,
    targetname: Annotated[
        list[str] | None,
        typer.Option("--targetname", help="Only these executors (names; repeatable).", show_default=False),
    ] = None,
    maxwaittime: Annotated[int, typer.Option("--maxwaittime", help="Seconds it may wait (-1: no limit).")] = -1,
    maxexectime: Annotated[int, typer.Option("--maxexectime", help="Seconds it may run (-1: no limit).")] = -1,
    maxretries: Annotated[int, typer.Option("--maxretries", help="Retries after a timeout.")] = -1,
    priority: Annotated[int, typer.Option("--priority", help="Higher runs first.")] = 0,
    label: LabelOpt = None,
    wait: WaitOpt = False,
    out: OutOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Submit a function built from flags."""
    names = split_list(targetname)
    if not targettype and not names:
        raise CliError("say where to run it: pass --targettype (or --targetname)")
    funcspec = FuncSpec(
        nodename=func,
        funcname=func,
        args=split_list(args),
        kwargs=parse_pairs(kwargs, ":", "--kwargs"),
        env=parse_pairs(env, "=", "--env"),
        priority=priority,
        maxwaittime=maxwaittime,
        maxexectime=maxexectime,
        maxretries=maxretries,
        label=label or "",
        conditions=Conditions(colonyname=s.colony, executortype=targettype or "", executornames=names or None),
    )
    submit_and_watch(s, funcspec, wait, out, follow, timeout)


def _aggregate(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (executor type, function name), as upstream's ``function ls``."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for fn in functions:
        key = (fn.get("executortype", ""), fn.get("funcname", ""))
        calls = int(fn.get("counter") or 0)
        entry = merged.get(key)
        if entry is None:
            merged[key] = {**fn, "executors": [fn.get("executorname", "")]}
            continue
        total = entry["counter"] + calls
        for avg in ("avgwaittime", "avgexectime"):
            if total:
                entry[avg] = (entry[avg] * entry["counter"] + (fn.get(avg) or 0) * calls) / total
        for low in ("minwaittime", "minexectime"):
            if calls and entry["counter"]:
                entry[low] = min(entry[low], fn.get(low) or 0)
            elif calls:
                entry[low] = fn.get(low) or 0
        for high in ("maxwaittime", "maxexectime"):
            entry[high] = max(entry[high], fn.get(high) or 0)
        entry["counter"] = total
        entry["executors"].append(fn.get("executorname", ""))
        entry["description"] = entry.get("description") or fn.get("description", "")
    return sorted(merged.values(), key=lambda f: (f.get("funcname", ""), f.get("executortype", "")))


def _arguments(fn: dict[str, Any]) -> str:
    parts = []
    for arg in fn.get("args") or []:
        name = str(arg.get("name", ""))
        star = "*" if arg.get("required") else ""
        kind = f" ({arg['type']})" if arg.get("type") else ""
        parts.append(f"{name}{star}{kind}")
    return ", ".join(parts)


@command(app, "ls", colony=True, json=True)
def ls(s: Session) -> None:
    """List the functions the colony's executors offer, per executor type and name."""
    functions = s.client.get_functions_by_colony(s.colony) or []
    if any(not fn.get("executortype") for fn in functions):
        # upstream's SDK registers functions without the executor's type: look it up
        types = {e.get("executorname"): e.get("executortype", "") for e in s.client.list_executors(s.colony) or []}
        for fn in functions:
            fn["executortype"] = fn.get("executortype") or types.get(fn.get("executorname"), "")
    functions = _aggregate(functions)
    if s.json:
        s.out.emit_json(functions)
        return
    if not functions:
        s.out.info("No functions found")
    for fn in functions:
        rows: list[tuple[str, Any]] = [
            ("ExecutorType", fn.get("executortype", "")),
            ("FunctionName", fn.get("funcname", "")),
            ("Executors", ", ".join(sorted(fn["executors"]))),
        ]
        if fn.get("description"):
            rows.append(("Description", fn["description"]))
        if fn.get("args"):
            rows.append(("Arguments", _arguments(fn)))
        rows += [
            ("Call counter", fn.get("counter", 0)),
            ("MinWaitTime", human_duration(float(fn.get("minwaittime") or 0))),
            ("MaxWaitTime", human_duration(float(fn.get("maxwaittime") or 0))),
            ("AvgWaitTime", human_duration(float(fn.get("avgwaittime") or 0))),
            ("MinExecTime", human_duration(float(fn.get("minexectime") or 0))),
            ("MaxExecTime", human_duration(float(fn.get("maxexectime") or 0))),
            ("AvgExecTime", human_duration(float(fn.get("avgexectime") or 0))),
        ]
        s.out.kv(rows, title=f"Function: {fn.get('funcname', '')}")


@command(app, "register", colony=True, json=True)
def register(
    s: Session,
    name: Annotated[
        str,
        typer.Option("--name", envvar="COLONIES_EXECUTOR_NAME", help="The executor offering it (sign with its key)."),
    ],
    func: Annotated[str, typer.Option("--func", help="Function name.")],
) -> None:
    """Register a function on an executor (signed by that executor's key)."""
    fn = s.client.add_function(s.colony, name, func)
    s.out.info(f"Function registered: {func} on {name} (id {fn.get('functionid', '')})")
    if s.json:
        s.out.emit_json(fn)


@command(app, "remove")
def remove(
    s: Session,
    functionid: Annotated[
        str, typer.Option("--functionid", help="Function id (see 'colonies executor get' or 'function ls --json').")
    ],
) -> None:
    """Remove a function (signed by the key of the executor offering it)."""
    s.client.remove_function(functionid)
    s.out.info(f"Function removed: {functionid}")
