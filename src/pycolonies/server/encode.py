"""Wire forms of stored records (protocol core/10-objects.md): field names, null-versus-[] and
omitted-when-empty exactly as upstream emits them."""

from __future__ import annotations

from typing import Any

import orjson

from ..timefmt import format_ns
from .resources import format_mem, parse_cpu, parse_mem
from .store.records import ProcessRecord

__all__ = ["executor_wire", "normalize_spec", "process_wire"]


def process_wire(p: ProcessRecord) -> dict[str, Any]:
    return {
        "processid": p.processid,
        "initiatorid": p.initiatorid,
        "initiatorname": p.initiatorname,
        "assignedexecutorid": p.assignedexecutorid,
        "isassigned": p.isassigned,
        "state": p.state,
        "prioritytime": p.prioritytime,
        "submissiontime": format_ns(p.submissiontime),
        "starttime": format_ns(p.starttime),
        "endtime": format_ns(p.endtime),
        "waitdeadline": format_ns(p.waitdeadline),
        "execdeadline": format_ns(p.execdeadline),
        "retries": p.retries,
        "attributes": p.attributes,
        "spec": orjson.Fragment(p.spec),
        "waitforparents": p.waitforparents,
        "parents": p.parents,
        "children": p.children,
        "processgraphid": p.processgraphid,
        "in": orjson.Fragment(p.input),
        "out": orjson.Fragment(p.output),
        "errors": p.errors,
    }


def executor_wire(e: dict[str, Any]) -> dict[str, Any]:
    out = {
        "executorid": e["executorid"],
        "executortype": e["executortype"],
        "executorname": e["executorname"],
        "colonyname": e["colonyname"],
        "state": e["state"],
        "requirefuncreg": e["requirefuncreg"],
        "commissiontime": format_ns(e["commissiontime"]),
        "lastheardfromtime": format_ns(e["lastheardfromtime"]),
    }
    if e["locationname"]:
        out["locationname"] = e["locationname"]
    out["capabilities"] = e["capabilities"]
    out["allocations"] = e["allocations"]
    if e["blueprintid"]:
        out["blueprintid"] = e["blueprintid"]
    if e["blueprintgen"]:
        out["blueprintgen"] = e["blueprintgen"]
    return out


def normalize_spec(spec: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """The stored (wire) form of a decoded FunctionSpec, with its CPU millicores and memory bytes.
    Raises ResourceError for unparsable resources."""
    c = spec["conditions"]
    cpu = parse_cpu(c["cpu"])
    mem = parse_mem(c["mem"])
    storage = parse_mem(c["storage"])
    gpu = c["gpu"] or {"name": "", "mem": "", "count": 0, "nodecount": 0}
    names = c["executornames"]
    if names is not None and (names == ["*"] or not names):
        names = []
    conditions: dict[str, Any] = {
        "colonyname": c["colonyname"],
        "executornames": names,
        "executortype": c["executortype"],
    }
    if c["locationname"]:
        conditions["locationname"] = c["locationname"]
    conditions.update(
        {
            "dependencies": c["dependencies"] or [],
            "nodes": c["nodes"],
            "cpu": f"{cpu}m",
            "processes": c["processes"],
            "processespernode": c["processespernode"],
            "mem": format_mem(mem),
            "storage": format_mem(storage),
            "gpu": {
                "name": gpu["name"],
                "mem": format_mem(parse_mem(gpu["mem"])),
                "count": gpu["count"],
                "nodecount": 0,
            },
            "walltime": c["walltime"],
        }
    )
    fs = spec["fs"] or {"mount": "", "snapshots": None, "dirs": None}
    out: dict[str, Any] = {
        "nodename": spec["nodename"],
        "funcname": spec["funcname"],
        "args": spec["args"],
        "kwargs": spec["kwargs"],
        "priority": spec["priority"],
        "maxwaittime": spec["maxwaittime"],
        "maxexectime": spec["maxexectime"],
        "maxretries": spec["maxretries"],
        "conditions": conditions,
        "label": spec["label"],
        "fs": fs,
        "env": spec["env"] or {},
    }
    if spec["channels"]:
        out["channels"] = spec["channels"]
    return out, cpu, mem
