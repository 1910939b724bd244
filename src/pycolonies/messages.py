"""The request messages (protocol core/20-messages.md) as typed schemas. The server decodes each
payload against its class with ``pycolonies.wire.decode``; the field names are the protocol's."""

from __future__ import annotations

from typing import Any, TypedDict

from .models import (
    Allocations,
    Attribute,
    Capabilities,
    Colony,
    Cron,
    Executor,
    FuncSpec,
    Function,
    Generator,
    Location,
    User,
    WorkflowSpec,
)


class Msg(TypedDict):
    msgtype: str


class VersionMsg(Msg):
    buildversion: str
    buildtime: str


class ColonyNameMsg(Msg):
    colonyname: str


class ChangeServerIdMsg(Msg):
    serverid: str


class AddColonyMsg(Msg):
    colony: Colony | None


class ChangeColonyIdMsg(Msg):
    colonyname: str
    colonyid: str


class AddExecutorMsg(Msg):
    executor: Executor | None


class ExecutorNameMsg(Msg):
    colonyname: str
    executorname: str


class GetExecutorByIdMsg(Msg):
    colonyname: str
    executorid: str


class UpdateExecutorMsg(Msg):
    colonyname: str
    executorname: str
    capabilities: Capabilities


class ReportAllocationMsg(Msg):
    colonyname: str
    executorname: str
    allocations: Allocations


class ChangeExecutorIdMsg(Msg):
    colonyname: str
    executorid: str


class AddFunctionMsg(Msg):
    fun: Function | None


class GetFunctionsMsg(Msg):
    colonyname: str
    executorname: str


class RemoveFunctionMsg(Msg):
    functionid: str


class SubmitFuncSpecMsg(Msg):
    spec: FuncSpec | None


class AssignProcessMsg(Msg):
    colonyname: str
    timeout: int
    availablecpu: str
    availablemem: str


class CloseSuccessfulMsg(Msg):
    processid: str
    out: list[Any] | None


class CloseFailedMsg(Msg):
    processid: str
    errors: list[str] | None


class SetOutputMsg(Msg):
    processid: str
    out: list[Any] | None


class ProcessIdMsg(Msg):
    processid: str


class GetProcessesMsg(Msg):
    colonyname: str
    count: int
    state: int
    executortype: str
    label: str
    initiator: str


class GetProcessHistMsg(Msg):
    colonyname: str
    executorid: str
    seconds: int
    state: int


class RemoveAllProcessesMsg(Msg):
    colonyname: str
    state: int


class AddAttributeMsg(Msg):
    attribute: Attribute | None


class GetAttributeMsg(Msg):
    attributeid: str


class AddUserMsg(Msg):
    user: User | None


class UserNameMsg(Msg):
    colonyname: str
    name: str


class GetUserByIdMsg(Msg):
    colonyname: str
    userid: str


class ChangeUserIdMsg(Msg):
    colonyname: str
    userid: str


class AddLocationMsg(Msg):
    location: Location | None


class LocationNameMsg(Msg):
    colonyname: str
    name: str


class SubscribeProcessMsg(Msg):
    colonyname: str
    processid: str
    executortype: str
    state: int
    timeout: int


class SubscribeProcessesMsg(Msg):
    colonyname: str
    executortype: str
    state: int
    timeout: int


class SubmitWorkflowSpecMsg(Msg):
    spec: WorkflowSpec | None


class ProcessGraphIdMsg(Msg):
    processgraphid: str
    all: bool


class GetProcessGraphsMsg(Msg):
    colonyname: str
    count: int
    state: int


class RemoveAllProcessGraphsMsg(Msg):
    colonyname: str
    state: int


class AddChildMsg(Msg):
    processgraphid: str
    parentprocessid: str
    childprocessid: str
    spec: FuncSpec | None
    insert: bool


class AddCronMsg(Msg):
    cron: Cron | None


class CronIdMsg(Msg):
    cronid: str


class RemoveCronMsg(Msg):
    cronid: str
    all: bool


class GetCronsMsg(Msg):
    colonyname: str
    count: int


class AddGeneratorMsg(Msg):
    generator: Generator | None


class GeneratorIdMsg(Msg):
    generatorid: str


class RemoveGeneratorMsg(Msg):
    generatorid: str
    all: bool


class ResolveGeneratorMsg(Msg):
    colonyname: str
    generatorname: str


class GetGeneratorsMsg(Msg):
    colonyname: str
    count: int


class PackGeneratorMsg(Msg):
    generatorid: str
    arg: str


class AddLogMsg(Msg):
    processid: str
    message: str


class AddExecutorLogMsg(Msg):
    colonyname: str
    executorname: str
    message: str


class GetLogsMsg(Msg):
    colonyname: str
    processid: str
    executorname: str
    count: int
    since: int
    latest: bool


class SearchLogsMsg(Msg):
    colonyname: str
    text: str
    days: int
    count: int


# -- channels (protocol ext/10-channels.md) ---------------------------------------------------


class ChannelAppendMsg(Msg):
    processid: str
    name: str
    sequence: int
    inreplyto: int
    payload: Any  # Base64 text or an array of byte values; checked by the handler
    payloadtype: str


class ChannelReadMsg(Msg):
    processid: str
    name: str
    afterseq: int
    limit: int


class SubscribeChannelMsg(Msg):
    processid: str
    name: str
    afterseq: int
    timeout: int


# -- blueprints (protocol ext/20-blueprints.md); camelCase keys are the wire's -----------------


class SchemaProperty(TypedDict):
    type: str
    description: str
    enum: list[Any] | None
    default: Any
    properties: dict[str, SchemaProperty] | None
    items: SchemaProperty | None


class ValidationSchema(TypedDict):
    type: str
    properties: dict[str, SchemaProperty] | None
    required: list[str] | None


class BlueprintMetadata(TypedDict):
    name: str
    colonyname: str
    locationname: str
    labels: dict[str, str] | None
    annotations: dict[str, str] | None
    generation: int
    createdAt: str
    updatedAt: str
    lastReconciliationProcess: str
    lastReconciliationTime: str


class BlueprintNames(TypedDict):
    kind: str
    listKind: str
    singular: str
    plural: str
    shortNames: list[str] | None


class BlueprintHandler(TypedDict):
    executorType: str
    functionName: str
    reconcileInterval: int


class BlueprintDefinitionSpec(TypedDict):
    group: str
    version: str
    names: BlueprintNames
    scope: str
    schema: ValidationSchema | None
    handler: BlueprintHandler


class BlueprintDefinition(TypedDict):
    blueprintdefinitionid: str
    kind: str
    metadata: BlueprintMetadata
    spec: BlueprintDefinitionSpec


class Blueprint(TypedDict):
    blueprintid: str
    kind: str
    metadata: BlueprintMetadata
    spec: dict[str, Any] | None
    status: dict[str, Any] | None


class AddBlueprintDefinitionMsg(Msg):
    blueprintdefinition: BlueprintDefinition | None


class GetBlueprintDefinitionMsg(Msg):
    colonyname: str
    name: str


class GetBlueprintDefinitionsMsg(Msg):
    colonyname: str


class NamespaceNameMsg(Msg):
    namespace: str
    name: str


class AddBlueprintMsg(Msg):
    blueprint: Blueprint | None


class GetBlueprintsMsg(Msg):
    namespace: str
    kind: str
    locationname: str


class UpdateBlueprintMsg(Msg):
    blueprint: Blueprint | None
    forcegeneration: bool


class GetBlueprintHistoryMsg(Msg):
    blueprintid: str
    limit: int


class UpdateBlueprintStatusMsg(Msg):
    colonyname: str
    blueprintname: str
    status: dict[str, Any] | None


class ReconcileBlueprintMsg(Msg):
    namespace: str
    name: str
    force: bool


# -- ColonyFS: files and snapshots (protocol ext/50-files-snapshots.md) ------------------------


class S3ObjectDoc(TypedDict):
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


class ReferenceDoc(TypedDict):
    protocol: str
    s3object: S3ObjectDoc


class FileDoc(TypedDict):
    fileid: str  # set by the server
    colonyname: str
    label: str
    name: str
    size: int
    sequencenr: int  # set by the server
    checksum: str
    checksumalg: str
    ref: ReferenceDoc
    added: Any  # set by the server; an RFC 3339 text or null, checked by the handler


class AddFileMsg(Msg):
    file: FileDoc | None


class GetFileMsg(Msg):
    colonyname: str
    fileid: str
    label: str
    name: str
    latest: bool


class GetFilesMsg(Msg):
    colonyname: str
    label: str


class GetFileLabelsMsg(Msg):
    colonyname: str
    name: str
    exact: bool


class RemoveFileMsg(Msg):
    colonyname: str
    fileid: str
    label: str
    name: str


class CreateSnapshotMsg(Msg):
    colonyname: str
    label: str
    name: str


class SnapshotIdMsg(Msg):
    """``getsnapshotmsg`` and ``removesnapshotmsg``: by id, else by name."""

    colonyname: str
    snapshotid: str
    name: str
