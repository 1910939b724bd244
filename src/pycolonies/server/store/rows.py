"""Row mapping shared by the store backends: the same columns in the same order on SQLite and
PostgreSQL, so a record reads and writes alike on both."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .records import GraphRecord, ProcessRecord

__all__ = [
    "CRON_COLUMNS",
    "GENERATOR_COLUMNS",
    "GRAPH_COLUMNS",
    "attribute_from_row",
    "cron_from_row",
    "dumps",
    "executor_from_row",
    "executor_values",
    "generator_from_row",
    "graph_from_row",
    "process_from_row",
    "process_values",
]

CRON_COLUMNS = (
    "cronid, colonyname, name, initiatorid, initiatorname, cronexpression, intervalsecs, random, "
    "nextrun, lastrun, workflowspec, prevprocessgraphid, waitforprevprocessgraph"
)
GENERATOR_COLUMNS = (
    "generatorid, colonyname, name, initiatorid, initiatorname, workflowspec, triggersize, timeoutsecs, "
    "firstpack, lastrun"
)
GRAPH_COLUMNS = (
    "processgraphid, colonyname, initiatorid, initiatorname, rootprocessids, processids, state, "
    "submissiontime, starttime, endtime, nprocesses, nsuccessful"
)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def process_from_row(row: Sequence[Any]) -> ProcessRecord:
    return ProcessRecord(
        processid=row[0],
        colonyname=row[1],
        executortype=row[2],
        locationname=row[3],
        executornames=orjson.loads(row[4]) if row[4] is not None else None,
        state=row[5],
        isassigned=bool(row[6]),
        waitforparents=bool(row[7]),
        prioritytime=row[8],
        cpu=row[9],
        mem=row[10],
        assignedexecutorid=row[11],
        initiatorid=row[12],
        initiatorname=row[13],
        submissiontime=row[14],
        starttime=row[15],
        endtime=row[16],
        waitdeadline=row[17],
        execdeadline=row[18],
        retries=row[19],
        maxwaittime=row[20],
        maxexectime=row[21],
        maxretries=row[22],
        label=row[23],
        funcname=row[24],
        processgraphid=row[25],
        spec=row[26],
        parents=orjson.loads(row[27]),
        children=orjson.loads(row[28]),
        input=row[29],
        output=row[30],
        errors=orjson.loads(row[31]),
        nattributes=row[32],
        pendingparents=row[33],
    )


def process_values(p: ProcessRecord, flag: Callable[[bool], Any] = int) -> tuple[Any, ...]:
    """Column values in ``PROCESS_COLUMNS`` order; ``flag`` renders booleans (int for SQLite, bool for PostgreSQL)."""
    return (
        p.processid,
        p.colonyname,
        p.executortype,
        p.locationname,
        dumps(p.executornames) if p.executornames is not None else None,
        p.state,
        flag(p.isassigned),
        flag(p.waitforparents),
        p.prioritytime,
        p.cpu,
        p.mem,
        p.assignedexecutorid,
        p.initiatorid,
        p.initiatorname,
        p.submissiontime,
        p.starttime,
        p.endtime,
        p.waitdeadline,
        p.execdeadline,
        p.retries,
        p.maxwaittime,
        p.maxexectime,
        p.maxretries,
        p.label,
        p.funcname,
        p.processgraphid,
        p.spec,
        dumps(p.parents),
        dumps(p.children),
        p.input,
        p.output,
        dumps(p.errors),
        len(p.attributes) or p.nattributes,
        p.pendingparents,
    )


def executor_from_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "executorid": row[0],
        "colonyname": row[1],
        "executorname": row[2],
        "executortype": row[3],
        "state": row[4],
        "requirefuncreg": bool(row[5]),
        "commissiontime": row[6],
        "lastheardfromtime": row[7],
        "locationname": row[8],
        "capabilities": orjson.loads(row[9]),
        "allocations": orjson.loads(row[10]),
        "blueprintid": row[11],
        "blueprintgen": row[12],
    }


def executor_values(e: dict[str, Any], flag: Callable[[bool], Any] = int) -> tuple[Any, ...]:
    """The values of an executor in the column order of ``executor_from_row`` (``flag`` maps the
    boolean column: int for SQLite, bool for PostgreSQL)."""
    return (
        e["executorid"],
        e["colonyname"],
        e["executorname"],
        e["executortype"],
        e["state"],
        flag(e["requirefuncreg"]),
        e["commissiontime"],
        e["lastheardfromtime"],
        e["locationname"],
        dumps(e["capabilities"]),
        dumps(e["allocations"]),
        e["blueprintid"],
        e["blueprintgen"],
    )


def cron_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A cron from the columns of CRON_COLUMNS."""
    return {
        "cronid": row[0],
        "colonyname": row[1],
        "name": row[2],
        "initiatorid": row[3],
        "initiatorname": row[4],
        "cronexpression": row[5],
        "interval": row[6],
        "random": bool(row[7]),
        "nextrun": row[8],
        "lastrun": row[9],
        "workflowspec": row[10],
        "prevprocessgraphid": row[11],
        "waitforprevprocessgraph": bool(row[12]),
    }


def generator_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A generator from the columns of GENERATOR_COLUMNS."""
    return {
        "generatorid": row[0],
        "colonyname": row[1],
        "name": row[2],
        "initiatorid": row[3],
        "initiatorname": row[4],
        "workflowspec": row[5],
        "trigger": row[6],
        "timeout": row[7],
        "firstpack": row[8],
        "lastrun": row[9],
    }


def attribute_from_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "attributeid": row[0],
        "targetid": row[1],
        "targetcolonyname": row[2],
        "targetprocessgraphid": row[3],
        "state": row[4],
        "attributetype": row[5],
        "key": row[6],
        "value": row[7],
    }


def graph_from_row(row: Sequence[Any]) -> GraphRecord:
    """A process graph from the columns of GRAPH_COLUMNS."""
    return GraphRecord(
        processgraphid=row[0],
        colonyname=row[1],
        initiatorid=row[2],
        initiatorname=row[3],
        rootprocessids=orjson.loads(row[4]),
        processids=orjson.loads(row[5]),
        state=row[6],
        submissiontime=row[7],
        starttime=row[8],
        endtime=row[9],
        nprocesses=row[10],
        nsuccessful=row[11],
    )
