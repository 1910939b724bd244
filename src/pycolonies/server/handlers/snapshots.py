"""ColonyFS snapshot messages (protocol ext/50-files-snapshots.md section 3): a snapshot freezes
the ids of the latest version of every file in a label's tree under a name unique in the colony.
Every message needs membership of the colony.

Beyond upstream (docs/compatibility.md, "ColonyFS"): the tree includes the labels below the label
even when the label itself holds no files, creation is atomic, names are stored as they are (a
``:`` is fine), and an empty name is refused."""

from __future__ import annotations

from typing import Any

from ...messages import ColonyNameMsg, CreateSnapshotMsg, SnapshotIdMsg
from ...rpc import RPCError
from ...timefmt import format_ns
from ..auth import require_member
from ..context import new_id
from . import Call, handler
from .files import MAX_LABEL_LENGTH, MAX_NAME_LENGTH

__all__ = ["snapshot_wire"]


def snapshot_wire(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "snapshotid": snapshot["snapshotid"],
        "colonyname": snapshot["colonyname"],
        "label": snapshot["label"],
        "name": snapshot["name"],
        "fileids": snapshot["fileids"],
        "added": format_ns(snapshot["added"]),
    }


def _exists(colonyname: str, name: str) -> RPCError:
    return RPCError(500, f"Snapshot with name <{name}> in Colony <{colonyname}> already exists")


@handler("createsnapshotmsg", CreateSnapshotMsg, "create snapshot")
async def create_snapshot(call: Call, msg: CreateSnapshotMsg) -> Any:
    colonyname, name, store = msg["colonyname"], msg["name"], call.ctx.store
    await require_member(call.ctx, call.rid, colonyname)
    if not name:
        raise RPCError(400, "Failed to create snapshot, the snapshot name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RPCError(400, f"Failed to create snapshot, the snapshot name is longer than {MAX_NAME_LENGTH} characters")
    if len(msg["label"]) > MAX_LABEL_LENGTH:
        raise RPCError(400, f"Failed to create snapshot, the label is longer than {MAX_LABEL_LENGTH} characters")
    if await store.get_snapshot_by_name(colonyname, name) is not None:
        raise _exists(colonyname, name)
    label = msg["label"].removesuffix("/")  # one trailing slash, as upstream
    snapshot = {"snapshotid": new_id(), "colonyname": colonyname, "label": label, "name": name, "added": call.ctx.now()}
    stored = await store.add_snapshot(snapshot)
    if stored is None:  # created concurrently under the same name
        raise _exists(colonyname, name)
    return snapshot_wire(stored)


@handler("getsnapshotmsg", SnapshotIdMsg, "get snapshot")
async def get_snapshot(call: Call, msg: SnapshotIdMsg) -> Any:
    colonyname, store = msg["colonyname"], call.ctx.store
    await require_member(call.ctx, call.rid, colonyname)
    if msg["snapshotid"]:
        snapshot = await store.get_snapshot(colonyname, msg["snapshotid"])
        missing = f"Id {msg['snapshotid']}"
    elif msg["name"]:
        snapshot = await store.get_snapshot_by_name(colonyname, msg["name"])
        missing = f"name {msg['name']}"
    else:
        raise RPCError(500, "Failed to get snapshot, malformatted msg")
    if snapshot is None:
        raise RPCError(500, f"Snapshot not found with {missing} in Colony {colonyname} does not exists")  # sic
    return snapshot_wire(snapshot)


@handler("getsnapshotsmsg", ColonyNameMsg, "get snapshots")
async def get_snapshots(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    return [snapshot_wire(s) for s in await call.ctx.store.list_snapshots(msg["colonyname"])] or None


@handler("removesnapshotmsg", SnapshotIdMsg, "remove snapshot")
async def remove_snapshot(call: Call, msg: SnapshotIdMsg) -> Any:
    colonyname, store = msg["colonyname"], call.ctx.store
    await require_member(call.ctx, call.rid, colonyname)
    if msg["snapshotid"]:
        await store.remove_snapshot(colonyname, msg["snapshotid"])
    elif msg["name"]:
        await store.remove_snapshot_by_name(colonyname, msg["name"])
    else:
        raise RPCError(500, "Failed to remove snapsnot, malformatted msg")  # sic
    return {}


@handler("removeallsnapshotmsg", ColonyNameMsg, "remove snapshot")
async def remove_all_snapshots(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    await call.ctx.store.remove_snapshots(msg["colonyname"])
    return {}
