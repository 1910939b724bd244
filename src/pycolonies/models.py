"""The wire objects as pydantic models: one source of truth for field names and JSON types.

Names, defaults and aliases follow upstream pycolonies 1.0.25 (protocol core/40-sdk.md section 3),
so ``Process(**reply)`` and ``spec.model_dump(by_alias=True)`` behave as upstream. Where upstream
types were narrower than the wire allows (``args`` of str/int only), ours accept any JSON value.
The server decodes requests against these same classes (see ``pycolonies.wire``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

__all__ = [
    "Allocations",
    "Attribute",
    "Capabilities",
    "Colony",
    "Conditions",
    "ConflictPolicy",
    "Cron",
    "Executor",
    "File",
    "Fs",
    "FuncSpec",
    "Function",
    "Generator",
    "Gpu",
    "Hardware",
    "Location",
    "Log",
    "Model",
    "OnConflict",
    "Position",
    "Process",
    "ProcessEdge",
    "ProcessGraph",
    "ProcessNode",
    "Reference",
    "S3Object",
    "Snapshot",
    "SnapshotMount",
    "Software",
    "Statistics",
    "SyncDirMount",
    "User",
    "Workflow",
]


class Model(BaseModel):
    """Base of every wire model: populate by field name or alias, ignore unknown fields."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class Gpu(Model):
    name: str = ""
    mem: str = ""
    count: int = 0
    nodecount: int = 0


class Conditions(Model):
    colonyname: str = ""
    executornames: list[str] | None = None
    executortype: str = ""
    locationname: str = ""
    dependencies: list[str] = Field(default_factory=list)
    nodes: int = 0
    cpu: str = ""
    processes: int = 0
    processespernode: int = 0
    mem: str = ""
    storage: str = ""
    gpu: Gpu | None = Field(default_factory=Gpu)
    walltime: int = 0

    @field_validator("dependencies", mode="before")
    @classmethod
    def _null_is_empty(cls, v: Any) -> Any:
        return [] if v is None else v

    @model_serializer(mode="wrap")
    def _omit_empty_location(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``locationname`` is omitted when empty, as upstream (and upstream's SDK dump lacks it)."""
        data: dict[str, Any] = handler(self)
        if not data.get("locationname"):
            data.pop("locationname", None)
        return data


class SnapshotMount(Model):
    """``fs.snapshots[]``: download a snapshot into ``<mount>/<dir>`` before the process runs
    (read-only input). ``snapshotid`` empty: ``prepare_fs_snapshots`` (and ``colonies function
    submit``) snapshot ``label`` at submit time and fill it in. Afterwards the files are removed
    unless ``keepfiles``, the snapshot unless ``keepsnapshot`` (docs/executors.md "ColonyFS")."""

    snapshotid: str = ""
    label: str = ""
    dir: str = ""
    keepfiles: bool = False
    keepsnapshot: bool = False  # Go's field is KeepSnaphot, its JSON key is spelled right


class OnConflict(Model):
    """What a sync does when a file differs on both sides: ``keeplocal`` uploads the local copy
    (a new version), otherwise the remote copy is downloaded over it."""

    keeplocal: bool = False


class ConflictPolicy(Model):
    """``onconflicts`` of a synced directory: for the sync before the run and the one after."""

    onstart: OnConflict = Field(default_factory=OnConflict)
    onclose: OnConflict = Field(default_factory=OnConflict)

    @field_validator("onstart", "onclose", mode="before")
    @classmethod
    def _null_is_zero(cls, v: Any) -> Any:
        return OnConflict() if v is None else v  # Go decodes null into the zero struct


class SyncDirMount(Model):
    """``fs.dirs[]``: a directory ``<mount>/<dir>`` synced with ``label`` before the process runs
    and again after it succeeded (which uploads its results); the local files are removed
    afterwards unless ``keepfiles``."""

    label: str = ""
    dir: str = ""
    keepfiles: bool = False
    onconflicts: ConflictPolicy = Field(default_factory=ConflictPolicy)

    @field_validator("onconflicts", mode="before")
    @classmethod
    def _null_is_zero(cls, v: Any) -> Any:
        return ConflictPolicy() if v is None else v


class Fs(Model):
    """``FunctionSpec.fs``: ColonyFS directories an executor stages for the process (protocol
    ext/50 section 6). Upstream's SDK typed the lists as ``list[str]`` and always sends ``null``;
    their elements are objects on the wire, modelled here."""

    mount: str = ""
    snapshots: list[SnapshotMount] | None = None
    dirs: list[SyncDirMount] | None = None

    @property
    def staged(self) -> bool:
        """True when there is anything to stage (a snapshot or a synced directory)."""
        return bool(self.snapshots or self.dirs)


class FuncSpec(Model):
    nodename: str = ""
    funcname: str = ""
    args: list[Any] | None = Field(default_factory=list)
    kwargs: dict[str, Any] | None = Field(default_factory=dict)
    priority: int = 0
    maxwaittime: int = 0
    maxexectime: int = 0
    maxretries: int = 0
    conditions: Conditions = Field(default_factory=Conditions)
    label: str = ""
    fs: Fs | None = Field(default_factory=Fs)
    env: dict[str, str] | None = Field(default_factory=dict)
    channels: list[str] | None = Field(default_factory=list)

    # Workflow building (an addition to upstream's model; nothing here changes the wire form) ----

    def after(self, *parents: FuncSpec | str) -> FuncSpec:
        """Make this spec depend on ``parents`` (specs or nodenames), each once; returns self."""
        deps = self.conditions.dependencies
        for parent in parents:
            name = _nodename_of(parent)
            if name == self.nodename:
                raise ValueError(f"Function spec {name!r} cannot depend on itself")
            if name not in deps:
                deps.append(name)
        return self

    def __rshift__(self, other: FuncSpec | list[FuncSpec]) -> Any:
        """``a >> b``: b runs after a (returns b, so ``a >> b >> c`` chains); ``a >> [b, c]`` fans out."""
        if isinstance(other, FuncSpec):
            return other.after(self)
        if isinstance(other, list | tuple) and all(isinstance(o, FuncSpec) for o in other):
            for o in other:
                o.after(self)
            return other
        return NotImplemented

    def __rrshift__(self, other: list[FuncSpec] | tuple[FuncSpec, ...]) -> FuncSpec:
        """``[a, b] >> c``: c runs after both a and b (fan-in); returns c."""
        if isinstance(other, list | tuple) and all(isinstance(o, FuncSpec) for o in other):
            return self.after(*other)
        return NotImplemented


def _nodename_of(node: FuncSpec | str) -> str:
    name = node.nodename if isinstance(node, FuncSpec) else node
    if not isinstance(name, str) or not name:
        raise ValueError(f"A dependency needs a nodename, got {node!r}")
    return name


class Attribute(Model):
    attributeid: str = ""
    targetid: str = ""
    targetcolonyname: str = ""
    targetprocessgraphid: str = ""
    state: int = 0
    attributetype: int = 0
    key: str = ""
    value: str = ""


class Process(Model):
    processid: str
    initiatorid: str
    initiatorname: str
    assignedexecutorid: str
    isassigned: bool
    state: int
    prioritytime: int
    submissiontime: datetime
    starttime: datetime
    endtime: datetime
    waitdeadline: datetime
    execdeadline: datetime
    retries: int
    attributes: list[Attribute] | None
    spec: FuncSpec
    waitforparents: bool = False
    parents: list[str]
    children: list[str]
    processgraphid: str
    input: list[Any] | None = Field(alias="in")
    output: list[Any] | None = Field(alias="out")
    errors: list[str]

    def __init__(self, **data: Any) -> None:
        if "input" in data:
            data["in"] = data.pop("input")
        if "output" in data:
            data["out"] = data.pop("output")
        super().__init__(**data)


class Workflow(Model):
    """A DAG of function specs, as upstream: ``Workflow(colonyname=..., functionspecs=[...])``, edges
    in each spec's ``conditions.dependencies`` (parents' nodenames).

    Beyond upstream, :meth:`add` builds and appends a spec in one call and FuncSpecs chain with
    ``>>`` (see docs/workflows.md); neither adds anything to the serialised workflow.
    """

    colonyname: str
    functionspecs: list[FuncSpec] = Field(default_factory=list)

    def add(
        self,
        func: FuncSpec | dict[str, Any] | str | Callable[..., Any],
        after: FuncSpec | str | Iterable[FuncSpec | str] | None = None,
        *,
        nodename: str | None = None,
        dependencies: Iterable[FuncSpec | str] | None = None,
        args: list[Any] | None = None,
        executortype: str | None = None,
        **func_spec_kwargs: Any,
    ) -> FuncSpec:
        """Append a node and return its spec.

        ``func`` is a FuncSpec (or its dict), used as is; or a function name or Python function,
        turned into a spec with :func:`pycolonies.func_spec` (``executortype`` is then required;
        ``args`` defaults to ``[]``, ``colonyname`` to the workflow's; other keywords such as
        ``maxexectime``, ``priority``, ``kwargs`` go to ``func_spec``). ``nodename`` renames the node
        (default: the function name). ``after`` (or upstream's older ``dependencies=``) lists the
        parents, as specs or nodenames. Raises ValueError for a nodename already in the workflow.
        """
        if isinstance(func, FuncSpec | dict):
            if args is not None or executortype is not None or func_spec_kwargs:
                raise TypeError("Workflow.add(spec, ...) takes no func_spec arguments; set them on the spec")
            spec = func if isinstance(func, FuncSpec) else FuncSpec.model_validate(func)
        else:
            if not executortype:
                raise TypeError(f"Workflow.add({_callable_name(func)!r}, ...) needs executortype=")
            from .specs import func_spec  # specs imports this module

            func_spec_kwargs.setdefault("colonyname", self.colonyname)
            spec = func_spec(func, [] if args is None else args, executortype=executortype, **func_spec_kwargs)
        if nodename is not None:
            spec.nodename = nodename
        if not spec.nodename:
            raise ValueError("A workflow node needs a nodename")
        if any(s.nodename == spec.nodename for s in self.functionspecs):
            raise ValueError(f"Duplicate nodename: {spec.nodename}")
        if not spec.conditions.colonyname:
            spec.conditions.colonyname = self.colonyname
        for parents in (after, dependencies):
            if parents is None:
                continue
            spec.after(*([parents] if isinstance(parents, FuncSpec | str) else parents))
        self.functionspecs.append(spec)
        return spec

    def node(self, nodename: str) -> FuncSpec:
        """The spec named ``nodename``; KeyError when there is none."""
        for spec in self.functionspecs:
            if spec.nodename == nodename:
                return spec
        raise KeyError(nodename)


def _callable_name(func: Any) -> str:
    return func if isinstance(func, str) else getattr(func, "__name__", repr(func))


class WorkflowSpec(Workflow):
    """The wire name of a workflow (``submitworkflowspecmsg.spec``)."""


class Position(Model):
    x: int
    y: int


class ProcessNode(Model):
    id: str
    data: dict[str, str] = Field(default_factory=dict)
    position: Position
    type: str
    style: dict[str, str] = Field(default_factory=dict)


class ProcessEdge(Model):
    id: str
    source: str
    target: str
    animated: bool


class ProcessGraph(Model):
    processgraphid: str
    initiatorid: str
    initiatorname: str
    colonyname: str
    rootprocessids: list[str]
    state: int
    submissiontime: datetime
    starttime: datetime
    endtime: datetime
    processids: list[str]
    nodes: list[ProcessNode]
    edges: list[ProcessEdge]


class Colony(Model):
    colonyid: str = ""
    name: str = ""


class Software(Model):
    name: str = ""
    type: str = ""
    version: str = ""


class Hardware(Model):
    model: str = ""
    nodes: int = 0
    cpu: str = ""
    cores: int = 0
    mem: str = ""
    storage: str = ""
    gpu: Gpu = Field(default_factory=Gpu)
    platform: str = ""
    architecture: str = ""
    network: list[str] | None = None


class Capabilities(Model):
    hardware: list[Hardware] | None = None
    software: list[Software] | None = None


class Allocations(Model):
    projects: dict[str, Any] | None = None


class Executor(Model):
    executorid: str = ""
    executortype: str = ""
    executorname: str = ""
    colonyname: str = ""
    state: int = 0
    requirefuncreg: bool = False
    commissiontime: str = ""
    lastheardfromtime: str = ""
    locationname: str = ""
    capabilities: Capabilities = Field(default_factory=Capabilities)
    allocations: Allocations = Field(default_factory=Allocations)
    blueprintid: str = ""
    blueprintgen: int = 0


class Function(Model):
    functionid: str = ""
    executorname: str = ""
    executortype: str = ""
    colonyname: str = ""
    funcname: str = ""
    description: str = ""
    args: list[dict[str, Any]] | None = None
    counter: int = 0
    minwaittime: float = 0.0
    maxwaittime: float = 0.0
    minexectime: float = 0.0
    maxexectime: float = 0.0
    avgwaittime: float = 0.0
    avgexectime: float = 0.0
    locationname: str = ""


class User(Model):
    colonyname: str = ""
    userid: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""


class Location(Model):
    locationid: str = ""
    name: str = ""
    colonyname: str = ""
    description: str = ""
    long: float = 0.0
    lat: float = 0.0


class Statistics(Model):
    colonies: int = 0
    executors: int = 0
    activeexecutors: int = 0
    unregisteredexecutors: int = 0
    waitingprocesses: int = 0
    runningprocesses: int = 0
    successfulprocesses: int = 0
    failedprocesses: int = 0
    cancelledprocesses: int = 0
    waitingworkflows: int = 0
    runningworkflows: int = 0
    successfulworkflows: int = 0
    failedworkflows: int = 0
    cancelledworkflows: int = 0


class Log(Model):
    processid: str = ""
    colonyname: str = ""
    executorname: str = ""
    message: str = ""
    timestamp: int = 0


class Cron(Model):
    cronid: str = ""
    initiatorid: str = ""
    initiatorname: str = ""
    colonyname: str = ""
    name: str = ""
    cronexpression: str = ""
    interval: int = 0
    random: bool = False
    nextrun: datetime | None = None
    lastrun: datetime | None = None
    workflowspec: str = ""
    prevprocessgraphid: str = ""
    waitforprevprocessgraph: bool = False
    checkerperiod: int = 0


class Generator(Model):
    generatorid: str = ""
    initiatorid: str = ""
    initiatorname: str = ""
    colonyname: str = ""
    name: str = ""
    workflowspec: str = ""
    trigger: int = 0
    timeout: int = 0
    queuesize: int = 0
    checkerperiod: int = 0
    firstpack: datetime | None = None
    lastrun: datetime | None = None


class Snapshot(Model):
    snapshotid: str = ""
    colonyname: str = ""
    label: str = ""
    name: str = ""
    fileids: list[str] | None = None
    added: datetime | None = None


class S3Object(Model):
    server: str
    port: int
    tls: bool
    accesskey: str
    secretkey: str
    region: str
    encryptionkey: str
    encryptionalg: str
    object: str
    bucket: str


class Reference(Model):
    protocol: str
    s3object: S3Object


class File(Model):
    fileid: str
    colonyname: str
    label: str
    name: str
    size: int
    sequencenr: int
    checksum: str
    checksumalg: str
    ref: Reference
    added: datetime | None = None

    @field_validator("label")
    @classmethod
    def ensure_single_slash(cls, v: str) -> str:
        return "/" + v.strip("/")
