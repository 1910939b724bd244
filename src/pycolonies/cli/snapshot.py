"""``colonies fs snapshot`` (also ``colonies snapshot``): freeze the files under a label, list,
inspect, download and remove snapshots. A snapshot keeps the ids of the latest version of every
file at or below its label when it was taken; the files themselves are not copied."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ServerError
from .common import CliError, Session, command, confirm, group
from .fs import colonyfs, masked_file, transfer_progress
from .output import human_time

__all__ = ["app"]

app = group("Snapshots: freeze the files under a label, then download or remove them.")

SnapshotIdOpt = Annotated[str | None, typer.Option("--snapshotid", "-i", help="Snapshot id.", show_default=False)]
SnapshotNameOpt = Annotated[str | None, typer.Option("--snapshotname", "-n", help="Snapshot name.", show_default=False)]


def _get(s: Session, snapshotid: str | None, name: str | None) -> dict[str, Any]:
    if bool(snapshotid) == bool(name):
        raise CliError("say which snapshot: --snapshotid ID or --snapshotname NAME", code=2)
    if snapshotid:
        return s.client.get_snapshot_by_id(s.colony, snapshotid)  # type: ignore[no-any-return]
    return s.client.get_snapshot_by_name(s.colony, name)  # type: ignore[no-any-return]


def _files(snapshot: dict[str, Any]) -> int:
    return len(snapshot.get("fileids") or [])


@command(app, "create", colony=True, json=True)
def create(
    s: Session,
    label: Annotated[str, typer.Option("--label", "-l", help="The label to freeze (and the labels below it).")],
    name: Annotated[
        str | None,
        typer.Option(
            "--snapshotname", "-n", help="A name, unique in the colony (default: random).", show_default=False
        ),
    ] = None,
) -> None:
    """Take a snapshot of the files at and below a label (their latest versions, now)."""
    name = name or secrets.token_hex(8)
    if ":" in name:
        raise CliError(f"a snapshot name cannot contain ':' ({name!r})", code=2)
    snapshot = s.client.create_snapshot(s.colony, label, name)
    if s.json:
        s.out.emit_json(snapshot)
    else:
        s.out.info(
            f"Snapshot {snapshot.get('name', name)} of {snapshot.get('label', label)} created: "
            f"{snapshot.get('snapshotid', '')} ({_files(snapshot)} file(s))"
        )
    if not _files(snapshot):
        s.out.warn(f"no files at label {label}: the snapshot is empty")


@command(app, "ls", colony=True, json=True)
def ls(s: Session) -> None:
    """List the colony's snapshots, newest first."""
    snapshots = s.client.get_snapshots(s.colony) or []
    if s.json:
        s.out.emit_json(snapshots)
        return
    if not snapshots:
        s.out.info("No snapshots in this colony")
        return
    s.out.table(
        ["Name", "SnapshotId", "Label", "Files", "Added"],
        [
            (x.get("name", ""), x.get("snapshotid", ""), x.get("label", ""), _files(x), human_time(x.get("added")))
            for x in snapshots
        ],
    )


@command(app, "info", colony=True, json=True, aliases=("get",))
def info(s: Session, snapshotid: SnapshotIdOpt = None, name: SnapshotNameOpt = None) -> None:
    """Show a snapshot and its files (the versions it holds)."""
    snapshot = _get(s, snapshotid, name)
    files = []
    for fileid in snapshot.get("fileids") or []:
        try:
            rows = s.client.get_file(s.colony, fileid=fileid) or []
        except ServerError:
            rows = []
        files.append(masked_file(rows[0]) if rows else {"fileid": fileid, "name": None, "missing": True})
    if s.json:
        s.out.emit_json({**snapshot, "files": files})
        return
    s.out.kv(
        [
            ("SnapshotId", snapshot.get("snapshotid", "")),
            ("Name", snapshot.get("name", "")),
            ("Label", snapshot.get("label", "")),
            ("Colony", snapshot.get("colonyname", "")),
            ("Added", human_time(snapshot.get("added"))),
        ],
        title="Snapshot",
    )
    if files:
        s.out.table(
            ["Filename", "Label", "FileId", "Added"],
            [
                (f.get("name") or "(removed)", f.get("label", ""), f.get("fileid", ""), human_time(f.get("added")))
                for f in files
            ],
        )
    else:
        s.out.info("The snapshot holds no files")


@command(app, "download", colony=True, json=True)
def download(
    s: Session,
    snapshotid: SnapshotIdOpt = None,
    name: SnapshotNameOpt = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", "-d", help="Where to put the files (default: the current directory).", show_default=False
        ),
    ] = None,
) -> None:
    """Download a snapshot's files into a directory.

    Files of labels below the snapshot's label go into subdirectories; files already there with
    the same content are not downloaded again."""
    snapshot = _get(s, snapshotid, name)
    target = (directory or Path.cwd()).expanduser().absolute()
    fs = colonyfs(s)
    count = _files(snapshot)
    description = f"Downloading snapshot {snapshot.get('name', '')}"
    with transfer_progress(s, description, None if count else 0, count) as progress:
        paths = fs.download_snapshot(snapshot, target, progress)
    if s.json:
        s.out.emit_json({"snapshot": snapshot, "dir": str(target), "files": [str(p) for p in paths]})
    else:
        s.out.info(f"Downloaded {len(paths)} file(s) of snapshot {snapshot.get('name', '')} to {target}")


@command(app, "remove", colony=True)
def remove(s: Session, snapshotid: SnapshotIdOpt = None, name: SnapshotNameOpt = None) -> None:
    """Remove a snapshot (the files stay)."""
    snapshot = _get(s, snapshotid, name)  # a clear error for a snapshot that does not exist
    s.client.remove_snapshot_by_id(s.colony, snapshot["snapshotid"])
    s.out.info(f"Snapshot {snapshot.get('name', '')} removed: {snapshot.get('snapshotid', '')}")


@command(app, "removeall", colony=True)
def removeall(
    s: Session, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False
) -> None:
    """Remove every snapshot of the colony (the files stay)."""
    confirm(f"Remove all snapshots of colony {s.colony}?", yes)
    s.client.remove_all_snapshots(s.colony)
    s.out.info(f"All snapshots of colony {s.colony} removed")
