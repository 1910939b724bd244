"""ColonyFS file messages (protocol ext/50-files-snapshots.md section 2): the server keeps a
catalogue of file versions grouped by label; the contents live in an object store that only the
clients talk to. Every message needs membership of the colony.

Beyond upstream (docs/compatibility.md, "ColonyFS"): a file name must be one path component and a
label must not step out of its tree (``.``/``..`` segments, backslashes, NUL), both have bounded
lengths, and labels match as literal prefixes."""

from __future__ import annotations

from typing import Any

from ...messages import AddFileMsg, GetFileLabelsMsg, GetFileMsg, GetFilesMsg, RemoveFileMsg
from ...rpc import RPCError
from ...timefmt import format_ns, parse_ns
from ..auth import require_member
from ..context import new_id
from . import Call, handler

__all__ = ["MAX_LABEL_LENGTH", "MAX_NAME_LENGTH", "file_wire"]

MAX_NAME_LENGTH = 1024
"""Longest file name (characters) ``addfilemsg`` stores."""
MAX_LABEL_LENGTH = 4096
"""Longest label (characters) ``addfilemsg`` stores."""


def file_wire(file: dict[str, Any]) -> dict[str, Any]:
    return {
        "fileid": file["fileid"],
        "colonyname": file["colonyname"],
        "label": file["label"],
        "name": file["name"],
        "size": file["size"],
        "sequencenr": file["sequencenr"],
        "checksum": file["checksum"],
        "checksumalg": file["checksumalg"],
        "ref": file["ref"],  # as sent, protocol included (upstream always answers "s3")
        "added": format_ns(file["added"]),
    }


def _file_data(file: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": file["name"],
        "checksum": file["checksum"],
        "size": file["size"],
        "s3filename": file["ref"]["s3object"]["object"],
    }


def _check_name(name: str) -> None:
    """A file name is one path component: a client that joins it to a directory stays inside it."""
    if len(name) > MAX_NAME_LENGTH:
        raise RPCError(400, f"Failed to add file, the file name is longer than {MAX_NAME_LENGTH} characters")
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise RPCError(
            400,
            f"Failed to add file, invalid file name {name!r}: it must be one path component "
            "(not empty, . or .., and without /, \\ or NUL)",
        )


def _check_label(label: str) -> None:
    """A label is stored verbatim, but none of its segments may lead out of the tree it names."""
    if len(label) > MAX_LABEL_LENGTH:
        raise RPCError(400, f"Failed to add file, the label is longer than {MAX_LABEL_LENGTH} characters")
    if any(c in label for c in "\\\0") or any(part in (".", "..") for part in label.split("/")):
        raise RPCError(
            400, f"Failed to add file, invalid label {label!r}: it must not contain . or .. segments, \\ or NUL"
        )


def _check_added(value: Any) -> None:
    """The client's ``added`` is ignored, but, as for Go's decoder, it must be null or a time."""
    if value is None:
        return
    if isinstance(value, str):
        try:
            parse_ns(value)
            return
        except ValueError:
            pass
    raise RPCError(400, f"Failed to add log, invalid JSON: file.added {value!r} is not an RFC 3339 time")  # sic


@handler("addfilemsg", AddFileMsg, "add log", mismatch_verb="add file")  # sic, as upstream
async def add_file(call: Call, msg: AddFileMsg) -> Any:
    file = msg["file"]
    if file is None:
        raise RPCError(400, "Failed to add file, msg.File is nil")
    _check_added(file["added"])
    await require_member(call.ctx, call.rid, file["colonyname"])
    _check_name(file["name"])
    _check_label(file["label"])
    record = {
        "fileid": new_id(),
        "colonyname": file["colonyname"],
        "label": file["label"],
        "name": file["name"],
        "size": file["size"],
        "checksum": file["checksum"],
        "checksumalg": file["checksumalg"],
        "ref": file["ref"],
        "added": call.ctx.now(),
    }
    stored = await call.ctx.store.add_file(record)
    if stored is None:  # upstream ignores a failed insert and answers null
        raise RPCError(500, f"Failed to add file, a file with Id <{record['fileid']}> already exists")
    return file_wire(stored)


@handler("getfilemsg", GetFileMsg, "add log", mismatch_verb="get file")  # sic, as upstream
async def get_file(call: Call, msg: GetFileMsg) -> Any:
    colonyname, store = msg["colonyname"], call.ctx.store
    await require_member(call.ctx, call.rid, colonyname)
    if msg["fileid"]:
        file = await store.get_file(colonyname, msg["fileid"])
        if file is None:
            raise RPCError(400, "Failed to get file")
        files = [file]
    elif msg["label"] and msg["name"]:
        files = await store.get_file_versions(colonyname, msg["label"], msg["name"], msg["latest"])
    else:
        raise RPCError(500, "malformatted get file msg")
    if not files:
        raise RPCError(404, "Failed to get file")
    if any(f["colonyname"] != colonyname for f in files):  # the store already selects by colony
        raise RPCError(403, "msg.ColonyName mismatches file.ColonyName")
    return [file_wire(f) for f in files]


@handler("getfilesmsg", GetFilesMsg, "get files")
async def get_files(call: Call, msg: GetFilesMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    files = await call.ctx.store.list_latest_files(msg["colonyname"], msg["label"])
    return [_file_data(f) for f in files]


@handler("getfilelabelsmsg", GetFileLabelsMsg, "get files")
async def get_file_labels(call: Call, msg: GetFileLabelsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    labels = await call.ctx.store.list_file_labels(msg["colonyname"], msg["name"], msg["exact"])
    return labels or None


@handler("removefilemsg", RemoveFileMsg, "remove file")
async def remove_file(call: Call, msg: RemoveFileMsg) -> Any:
    colonyname, store = msg["colonyname"], call.ctx.store
    await require_member(call.ctx, call.rid, colonyname)
    if msg["fileid"]:
        await store.remove_file(colonyname, msg["fileid"])
    elif msg["label"] and msg["name"]:
        await store.remove_file_versions(colonyname, msg["label"], msg["name"])
    else:
        raise RPCError(400, "malformatted remove file msg")
    return {}
