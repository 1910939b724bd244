"""The JSON files ``colonies`` reads, as upstream reads them: a function spec is one FunctionSpec
object (``function submit``); a workflow is a JSON array of FunctionSpec objects (``workflow
submit``, ``cron add``, ``generator add``). The colony comes from the configuration when a spec
does not name one; a missing or 0 ``maxwaittime``/``maxexectime`` means no limit (-1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..models import Conditions, FuncSpec, Workflow
from .common import CliError
from .output import Output

__all__ = ["func_spec_from", "load_func_spec", "load_workflow", "read_json", "workflow_nodes"]

_SPEC_KEYS = set(FuncSpec.model_fields)
_CONDITION_KEYS = set(Conditions.model_fields)


def read_json(path: Path) -> Any:
    """The decoded file; a clear error for a missing, unreadable or malformed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path} is a directory, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ())) or "(top level)"


def func_spec_from(obj: Any, colonyname: str | None, where: str, out: Output | None = None) -> FuncSpec:
    """A FuncSpec from one decoded JSON object, with upstream's CLI defaults applied."""
    if not isinstance(obj, dict):
        raise CliError(f"{where}: a function spec must be a JSON object, not {type(obj).__name__}")
    if out is not None:
        unknown = sorted(set(obj) - _SPEC_KEYS)
        conditions = obj.get("conditions")
        if isinstance(conditions, dict):
            unknown += [f"conditions.{k}" for k in sorted(set(conditions) - _CONDITION_KEYS)]
        if unknown:
            out.warn(f"{where}: ignoring unknown keys: {', '.join(unknown)}")
    try:
        spec = FuncSpec.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError(f"{where}: {_where(first)}: {first['msg']}") from None
    if not spec.conditions.colonyname:
        if not colonyname:
            raise CliError(f"{where}: no colony: set conditions.colonyname, COLONIES_COLONY_NAME or --colonyname")
        spec.conditions.colonyname = colonyname
    if spec.maxwaittime == 0:
        spec.maxwaittime = -1
    if spec.maxexectime == 0:
        spec.maxexectime = -1
    return spec


def load_func_spec(path: Path, colonyname: str | None, out: Output) -> FuncSpec:
    """A FunctionSpec file (one JSON object)."""
    data = read_json(path)
    if isinstance(data, list):
        raise CliError(f"{path} holds a JSON array, which is a workflow: use 'colonies workflow submit --spec {path}'")
    return func_spec_from(data, colonyname, str(path), out)


def load_workflow(path: Path, colonyname: str | None, out: Output) -> Workflow:
    """A workflow file: a JSON array of FunctionSpec objects (a ``{"colonyname", "functionspecs"}``
    object, as the SDK writes one, is accepted too)."""
    data = read_json(path)
    if isinstance(data, dict):
        if "functionspecs" not in data:
            raise CliError(
                f"{path} holds a JSON object, which is one function: use 'colonies function submit --spec {path}'"
            )
        colonyname = data.get("colonyname") or colonyname
        data = data["functionspecs"]
    if not isinstance(data, list):
        raise CliError(f"{path}: a workflow must be a JSON array of function specs")
    if not data:
        raise CliError(f"{path}: the workflow has no function specs")
    specs = [func_spec_from(item, colonyname, f"{path}[{i}]", out) for i, item in enumerate(data)]
    if not colonyname:
        colonyname = specs[0].conditions.colonyname
    return Workflow(colonyname=colonyname, functionspecs=specs)


def workflow_nodes(workflowspec: Any) -> list[tuple[str, str, str, str]]:
    """(nodename, funcname, executortype, dependencies) per function of a stored workflow spec
    (the JSON text crons and generators keep); empty when it cannot be read."""
    try:
        data = json.loads(workflowspec) if isinstance(workflowspec, str) else workflowspec
    except json.JSONDecodeError:
        return []
    specs = data.get("functionspecs") if isinstance(data, dict) else None
    rows = []
    for spec in specs or []:
        if isinstance(spec, dict):
            conditions = spec.get("conditions") or {}
            rows.append(
                (
                    str(spec.get("nodename", "")),
                    str(spec.get("funcname", "")),
                    str(conditions.get("executortype", "")),
                    " ".join(conditions.get("dependencies") or []),
                )
            )
    return rows
