"""Records the store hands to the services: processes as a slotted dataclass (the hot object),
everything else as wire-shaped dicts. Times are Unix nanoseconds (0 = never)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CANCELLED", "FAILED", "RUNNING", "STATE_NAMES", "SUCCESS", "WAITING", "ProcessRecord"]

WAITING, RUNNING, SUCCESS, FAILED, CANCELLED = 0, 1, 2, 3, 4
STATE_NAMES = {
    WAITING: "waiting",
    RUNNING: "running",
    SUCCESS: "successful",
    FAILED: "failed",
    CANCELLED: "cancelled",
}


@dataclass(slots=True)
class ProcessRecord:
    processid: str
    colonyname: str
    executortype: str
    locationname: str
    executornames: list[str] | None
    state: int
    isassigned: bool
    waitforparents: bool
    prioritytime: int
    cpu: int
    mem: int
    assignedexecutorid: str
    initiatorid: str
    initiatorname: str
    submissiontime: int
    starttime: int
    endtime: int
    waitdeadline: int
    execdeadline: int
    retries: int
    maxwaittime: int
    maxexectime: int
    maxretries: int
    label: str
    funcname: str
    processgraphid: str
    spec: str  # wire JSON text of the normalised spec
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    input: str = "[]"  # JSON text
    output: str = "[]"  # JSON text
    errors: list[str] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    nattributes: int = 0  # how many attributes the store holds for it (``attributes`` may be unloaded)
    pendingparents: int = 0  # parents that have not succeeded yet (workflows)


@dataclass(slots=True)
class Claim:
    """The outcome of an assign attempt: the process, or why there was none. ``skipped``: assignable
    processes of the executor's type exist that this executor may not take (name, location, size);
    ``paused``: the colony's assignments are paused."""

    process: ProcessRecord | None
    skipped: bool = False
    paused: bool = False


@dataclass(slots=True)
class GraphRecord:
    """A process graph (workflow instance). ``processids`` is in spec order, then add-child order."""

    processgraphid: str
    colonyname: str
    initiatorid: str
    initiatorname: str
    rootprocessids: list[str]
    processids: list[str]
    state: int
    submissiontime: int
    starttime: int = 0
    endtime: int = 0
    nprocesses: int = 0
    nsuccessful: int = 0
