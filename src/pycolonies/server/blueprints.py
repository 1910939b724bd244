"""Blueprints (protocol ext/20-blueprints.md): the wire forms of definitions, blueprints and
history; schema validation and the generation rule as upstream applies them; and the processes and
crons the server creates for a kind's handler executor type (reconcile, periodic reconcile,
cleanup). The message flows are in ``handlers/blueprints.py``."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import orjson

from ..messages import ValidationSchema
from ..models import Conditions, FuncSpec
from ..rpc import RPCError
from ..timefmt import ZERO_TIME, format_ns, parse_ns
from ..wire import decode
from .context import ServerContext, new_id
from .scheduler import submit
from .store.records import ProcessRecord

__all__ = [
    "CRON_INTERVAL",
    "blueprint_wire",
    "cron_name",
    "definition_wire",
    "ensure_cron",
    "go_json",
    "history_entry",
    "remove_cron",
    "spec_changed",
    "submit_cleanup",
    "submit_reconcile",
    "validate_spec",
]

CRON_INTERVAL = 60
"""Seconds between the periodic reconciliations of a kind (``reconcileInterval`` is ignored, as upstream)."""

# -- wire forms ---------------------------------------------------------------------------------


def _time(value: str, what: str) -> str:
    """A client-sent timestamp in our output form (UTC); "" and any year-1 time are the zero time."""
    if not value or value.startswith("0001-"):
        return ZERO_TIME
    try:
        return format_ns(parse_ns(value))
    except (ValueError, OverflowError):
        raise RPCError(400, f"Failed to {what}, invalid JSON: {value!r} is not an RFC 3339 time") from None


def metadata_wire(m: dict[str, Any], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": m["name"], "colonyname": m["colonyname"]}
    if m["locationname"]:
        out["locationname"] = m["locationname"]
    if m["labels"]:
        out["labels"] = m["labels"]
    if m["annotations"]:
        out["annotations"] = m["annotations"]
    if m["generation"]:
        out["generation"] = m["generation"]
    out["createdAt"] = _time(m["createdAt"], what)
    out["updatedAt"] = _time(m["updatedAt"], what)
    if m["lastReconciliationProcess"]:
        out["lastReconciliationProcess"] = m["lastReconciliationProcess"]
    out["lastReconciliationTime"] = _time(m["lastReconciliationTime"], what)
    return out


def _property_wire(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p["type"]:
        out["type"] = p["type"]
    if p["description"]:
        out["description"] = p["description"]
    if p["enum"]:
        out["enum"] = go_json(p["enum"])
    if p["default"] is not None:
        out["default"] = go_json(p["default"])
    if p["properties"]:
        out["properties"] = {k: _property_wire(v) for k, v in p["properties"].items()}
    if p["items"] is not None:
        out["items"] = _property_wire(p["items"])
    return out


def _schema_wire(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s["type"]:
        out["type"] = s["type"]
    if s["properties"]:
        out["properties"] = {k: _property_wire(v) for k, v in s["properties"].items()}
    if s["required"]:
        out["required"] = s["required"]
    return out


def definition_wire(d: dict[str, Any]) -> dict[str, Any]:
    """A decoded BlueprintDefinition as upstream stores and echoes it (unknown keys dropped)."""
    spec, names, handler = d["spec"], d["spec"]["names"], d["spec"]["handler"]
    names_out: dict[str, Any] = {
        "kind": names["kind"],
        "listKind": names["listKind"],
        "singular": names["singular"],
        "plural": names["plural"],
    }
    if names["shortNames"]:
        names_out["shortNames"] = names["shortNames"]
    spec_out: dict[str, Any] = {
        "group": spec["group"],
        "version": spec["version"],
        "names": names_out,
        "scope": spec["scope"],
    }
    if spec["schema"] is not None:
        spec_out["schema"] = _schema_wire(spec["schema"])
    handler_out: dict[str, Any] = {"executorType": handler["executorType"], "functionName": handler["functionName"]}
    if handler["reconcileInterval"]:
        handler_out["reconcileInterval"] = handler["reconcileInterval"]
    spec_out["handler"] = handler_out
    return {
        "blueprintdefinitionid": d["blueprintdefinitionid"],
        "kind": d["kind"],
        "metadata": metadata_wire(d["metadata"], "add blueprint definition"),
        "spec": spec_out,
    }


def go_json(value: Any) -> Any:
    """A free-form JSON value as Go re-encodes it: a number with an integral value loses its
    fraction (``2.0`` -> ``2``), since every number becomes a float64."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: go_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_json(v) for v in value]
    return value


def blueprint_wire(b: dict[str, Any], what: str) -> dict[str, Any]:
    """A decoded Blueprint as upstream echoes it (``spec`` may be null; empty status omitted)."""
    out: dict[str, Any] = {
        "blueprintid": b["blueprintid"],
        "kind": b["kind"],
        "metadata": metadata_wire(b["metadata"], what),
        "spec": go_json(b["spec"]),
    }
    if b["status"]:
        out["status"] = go_json(b["status"])
    return out


def stored_form(b: dict[str, Any]) -> dict[str, Any]:
    """What a read returns for a blueprint document: a null spec reads back as {}."""
    if b.get("spec") is None:
        b = dict(b, spec={})
    return b


def history_entry(b: dict[str, Any], changedby: str, changetype: str, now: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "historyid": str(uuid.uuid4()),
        "blueprintid": b["blueprintid"],
        "kind": b["kind"],
        "namespace": b["metadata"]["colonyname"],
        "name": b["metadata"]["name"],
        "generation": b["metadata"].get("generation", 0),
        "spec": b["spec"],
    }
    if b.get("status"):
        entry["status"] = b["status"]
    entry.update({"timestamp": format_ns(now), "changedby": changedby, "changetype": changetype})
    return entry


# -- schema validation (protocol section 2) --------------------------------------------------------

_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _go_type(v: Any) -> str:
    """The Go type name of a decoded JSON value (``%T``)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return "[]interface {}"


def _go_float(v: float) -> str:
    """A float64 as Go's ``%v`` prints it: shortest digits, exponent below 1e-4 or from 1e21."""
    if v == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(float(v))).normalize().as_tuple()
    text = "".join(map(str, digits))
    e = len(digits) + int(exponent) - 1
    prefix = "-" if sign else ""
    if e < -4 or e >= 21:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if e < 0:
        return f"{prefix}0.{'0' * (-e - 1)}{text}"
    if len(text) <= e + 1:
        return prefix + text + "0" * (e + 1 - len(text))
    return f"{prefix}{text[: e + 1]}.{text[e + 1 :]}"


def _go_value(v: Any) -> str:
    """A decoded JSON value as Go's ``%v`` prints it."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v[k])}" for k in sorted(v)) + "]"
    return "[" + " ".join(_go_value(x) for x in v) + "]"


def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is None and b is None


def _check(path: str, value: Any, prop: dict[str, Any]) -> str | None:
    kind = prop["type"]
    check = _CHECKS.get(kind)
    if check is not None:
        if not check(value):
            return f"field '{path}' must be a {kind}, got {_go_type(value)}"
        if kind == "array" and prop["items"] is not None:
            for i, item in enumerate(value):
                error = _check(f"{path}[{i}]", item, prop["items"])
                if error:
                    return error
    enum = prop["enum"]
    if enum and not any(_scalar_equal(value, allowed) for allowed in enum):
        allowed_text = " ".join(_go_value(a) for a in enum)
        return f"field '{path}' must be one of [{allowed_text}], got {_go_value(value)}"
    if kind == "object" and prop["properties"] and isinstance(value, dict):
        for key, item in value.items():
            sub = prop["properties"].get(key)
            if sub is not None:
                error = _check(f"{path}.{key}", item, sub)
                if error:
                    return error
    return None


def validate_spec(spec: dict[str, Any] | None, stored_schema: dict[str, Any] | None) -> None:
    """Check a blueprint's spec against its definition's schema (as stored, in wire form);
    RPCError(400) ``blueprint validation failed: ...`` on the first failure."""
    if stored_schema is None:
        return
    schema = decode(ValidationSchema, stored_schema)
    spec = spec or {}
    for name in schema["required"] or []:
        if name not in spec:
            raise RPCError(400, f"blueprint validation failed: required field '{name}' is missing")
    properties = schema["properties"] or {}
    for key, value in spec.items():
        prop = properties.get(key)
        if prop is not None:
            error = _check(key, value, prop)
            if error:
                raise RPCError(400, f"blueprint validation failed: {error}")


# -- generations (protocol section 3) --------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """Go's view of a JSON value for comparisons: every number a float64 (1 == 1.0, true != 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return [_canonical(v) for v in value]


def _canonical_text(value: Any) -> str:
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def spec_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """True when a top-level key was added or removed or its value differs (canonical JSON)."""
    old, new = old or {}, new or {}
    if old.keys() != new.keys():
        return True
    return any(_canonical_text(old[k]) != _canonical_text(new[k]) for k in old)


# -- processes and crons for the handler (protocol section 5) ---------------------------------------


def _function_spec(
    nodename: str, funcname: str, kwargs: dict[str, Any], colonyname: str, executortype: str, locationname: str
) -> dict[str, Any]:
    """A server-built FunctionSpec in wire form: args [], env {}, no deadlines, no retries limit."""
    spec = FuncSpec(
        nodename=nodename,
        funcname=funcname,
        args=[],
        kwargs=kwargs,
        maxexectime=-1,
        maxretries=-1,
        conditions=Conditions(colonyname=colonyname, executortype=executortype, locationname=locationname),
    ).model_dump(by_alias=True, mode="json")
    spec.pop("channels", None)
    return spec


async def submit_reconcile(
    ctx: ServerContext,
    blueprint: dict[str, Any],
    handler: dict[str, Any],
    initiatorid: str,
    initiatorname: str,
    *,
    force: bool = False,
) -> ProcessRecord:
    """The targeted reconcile process of a blueprint (protocol section 5.1)."""
    meta = blueprint["metadata"]
    kwargs: dict[str, Any] = {"kind": blueprint["kind"], "blueprintName": meta["name"]}
    if force:
        kwargs["force"] = True
    executortype, funcname = handler["executorType"], handler["functionName"]
    wire = _function_spec(
        f"{executortype}-{funcname}",
        funcname,
        kwargs,
        meta["colonyname"],
        executortype,
        meta.get("locationname", ""),
    )
    return await submit(ctx, decode(FuncSpec, wire), initiatorid, initiatorname)


async def submit_cleanup(
    ctx: ServerContext,
    blueprint: dict[str, Any],
    colonyname: str,
    executortype: str,
    initiatorid: str,
    initiatorname: str,
) -> ProcessRecord:
    """The cleanup process of a removed blueprint (protocol section 5.3)."""
    meta = blueprint["metadata"]
    wire = _function_spec(
        f"{executortype}-cleanup",
        "cleanup",
        {"blueprintName": meta["name"], "kind": blueprint["kind"]},
        colonyname,
        executortype,
        meta.get("locationname", ""),
    )
    return await submit(ctx, decode(FuncSpec, wire), initiatorid, initiatorname)


def cron_name(kind: str, locationname: str) -> str:
    return f"reconcile-{kind}-{locationname}" if locationname else f"reconcile-{kind}"


async def ensure_cron(
    ctx: ServerContext, blueprint: dict[str, Any], handler: dict[str, Any], initiatorid: str, initiatorname: str
) -> None:
    """Create the kind's (and location's) periodic reconcile cron unless the colony has it
    (protocol section 5.2). Raises RPCError(500) when it cannot be stored."""
    meta = blueprint["metadata"]
    colonyname, kind, location = meta["colonyname"], blueprint["kind"], meta.get("locationname", "")
    name = cron_name(kind, location)
    if any(c["name"] == name for c in await ctx.store.list_crons(colonyname, 1_000_000)):
        return
    executortype, funcname = handler["executorType"], handler["functionName"]
    spec = _function_spec(f"{executortype}-{funcname}", funcname, {"kind": kind}, colonyname, executortype, location)
    record = {
        "cronid": new_id(),
        "initiatorid": initiatorid,
        "initiatorname": initiatorname,
        "colonyname": colonyname,
        "name": name,
        "cronexpression": "",
        "interval": CRON_INTERVAL,
        "random": False,
        "nextrun": 0,
        "lastrun": 0,
        "workflowspec": orjson.dumps({"colonyname": colonyname, "functionspecs": [spec]}).decode(),
        "prevprocessgraphid": "",
        "waitforprevprocessgraph": True,
    }
    await ctx.store.add_cron(record)  # False only when another request just added it


async def remove_cron(ctx: ServerContext, colonyname: str, kind: str, locationname: str) -> None:
    name = cron_name(kind, locationname)
    for cron in await ctx.store.list_crons(colonyname, 1_000_000):
        if cron["name"] == name:
            await ctx.store.remove_cron(cron["cronid"])
