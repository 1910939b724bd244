"""``colonies fs``: ColonyFS from the shell. Sync a directory with a label, list, inspect, download
and remove files and labels; ``colonies fs snapshot`` (cli/snapshot.py) handles snapshots.

File metadata lives on the server; the contents live in the object store the ``AWS_S3_*``
variables name (or, with ``COLONIES_FS_BACKEND=local``, a local directory): see docs/files.md.
Transfers show a progress bar on a terminal when they are large (never with ``--json`` or when
stderr is not a terminal).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ServerError
from .common import CliError, Session, command, group
from .output import human_time

if TYPE_CHECKING:
    from ..fs import ColonyFS, SyncPlan

__all__ = ["app", "colonyfs", "confirm_yes", "masked_file", "transfer_progress"]

app = group("ColonyFS: sync directories with labels, list, get and remove files; snapshots.")
label_app = group("List and remove labels (the folders of ColonyFS).")

MIB = 1024 * 1024
BAR_BYTES = MIB
"""Transfers of at least this many bytes show a progress bar (on a terminal)."""
BAR_FILES = 20
"""...as do transfers of at least this many files."""
SECRET_KEYS = ("accesskey", "secretkey", "encryptionkey")

LabelOpt = Annotated[str, typer.Option("--label", "-l", help="The label (a /slash/separated path).")]
OptLabelOpt = Annotated[str | None, typer.Option("--label", "-l", help="The label.", show_default=False)]
DirOpt = Annotated[
    Path | None, typer.Option("--dir", "-d", help="The local directory (default: the current one).", show_default=False)
]
FileIdOpt = Annotated[
    str | None, typer.Option("--fileid", "-i", help="One version, by its file id.", show_default=False)
]
NameOpt = Annotated[
    str | None,
    typer.Option("--name", "-n", help="The file name (with --label: the latest version).", show_default=False),
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]
DryOpt = Annotated[bool, typer.Option("--dry", "--dry-run", help="Only show what would be done.")]
CfsLabelOpt = Annotated[
    str | None,
    typer.Option(
        "--label", "-l", help="The label (default: the one in the directory's .cfs file).", show_default=False
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "--quite", "-q", help="Print nothing but errors (needs --yes; --quite is upstream's)."),
]


# ------------------------------------------------------------------------------------------------
# helpers shared with cli/snapshot.py


def colonyfs(s: Session, driver: str | None = None) -> ColonyFS:
    """A ColonyFS for the session's colony and key; ``driver`` (s3 or local) overrides
    COLONIES_FS_BACKEND for uploads."""
    from ..fs import ColonyFS

    env: dict[str, str] | None = None
    if driver:
        if driver not in ("s3", "local"):
            raise CliError(f"--driver must be s3 or local, not {driver!r}", code=2)
        env = {**os.environ, "COLONIES_FS_BACKEND": driver}
    return ColonyFS(s.client, s.colony, s.key, env=env)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def transfer_progress(
    s: Session, description: str, total: int | None, files: int = 1
) -> Iterator[Callable[[int], object] | None]:
    """A progress callback drawing a bar on stderr, or None: a bar is shown only on a terminal,
    without --json, and for transfers of at least 1 MiB or 20 files (``total`` None: unknown)."""
    big = total is None or total >= BAR_BYTES or files >= BAR_FILES
    if s.json or not big or not _isatty(sys.stderr):
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True)]
    columns += [TransferSpeedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=s.out.err, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)  # thread-safe: Progress locks its tasks


def confirm_yes(question: str, yes: bool) -> None:
    """Ask for ``yes``/``y`` (as upstream's fs commands) unless ``--yes``; anything else aborts."""
    if yes:
        return
    sys.stderr.write(f"{question} (yes/no): ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if not _isatty(sys.stdin):
        sys.stderr.write("\n")
    if answer not in ("y", "yes"):
        raise CliError("aborted: not confirmed (answer yes, or pass --yes)")


def masked_file(row: dict[str, Any]) -> dict[str, Any]:
    """A File row with the store credentials some SDKs register replaced by ``****``."""
    out = dict(row)
    ref = dict(out.get("ref") or {})
    obj = dict(ref.get("s3object") or {})
    for key in SECRET_KEYS:
        if obj.get(key):
            obj[key] = "****"
    if ref:
        ref["s3object"] = obj
        out["ref"] = ref
    return out


def size_text(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.2 MiB``..."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _check_selector(fileid: str | None, name: str | None, label: str | None) -> None:
    if fileid and name:
        raise CliError("pass --fileid or --name (with --label), not both", code=2)
    if not fileid and not (name and label):
        raise CliError("say which file: --fileid ID, or --name NAME with --label LABEL", code=2)


def _lookup(
    fs: ColonyFS, fileid: str | None, name: str | None, label: str | None, latest: bool
) -> list[dict[str, Any]]:
    _check_selector(fileid, name, label)
    with _no_such_file(fs, fileid, name, label):
        if fileid:
            rows = fs.get_file(fileid=fileid)
        else:
            rows = fs.get_file(label=label, filename=name, latest=latest)
    if not rows:
        raise CliError(_missing(fs, fileid, name, label))
    return rows


def _missing(fs: ColonyFS, fileid: str | None, name: str | None, label: str | None) -> str:
    what = f"no file with id {fileid}" if fileid else f"no file {name} under label {label}"
    return f"{what} in colony {fs.colonyname}"


@contextmanager
def _no_such_file(fs: ColonyFS, fileid: str | None, name: str | None, label: str | None) -> Iterator[None]:
    """The server's "Failed to get file" (404 by name, 400 by id) as a clear error."""
    try:
        yield
    except ServerError as exc:
        if exc.status in (400, 404) and exc.message.startswith("Failed to get file"):
            raise CliError(_missing(fs, fileid, name, label)) from None
        raise


# ------------------------------------------------------------------------------------------------
# sync and clean


def _label_of(directory: Path, label: str | None) -> str:
    """--label, else the label remembered in the directory's .cfs file."""
    if label:
        return label
    cfs = directory / ".cfs"
    try:
        stored = json.loads(cfs.read_text()).get("label")
    except (OSError, ValueError, AttributeError):
        stored = None
    if not stored:
        raise CliError("no label: pass --label (or sync a directory synced before: its .cfs file names the label)")
    return str(stored)


def _plan_rows(plans: list[SyncPlan], which: str) -> list[tuple[str, str, str]]:
    rows = []
    for plan in plans:
        if which == "upload":
            infos = plan.remote_missing
        elif which == "download":
            infos = plan.local_missing
        else:
            infos = [c.local if plan.keeplocal else c.remote for c in plan.conflicts]
        rows += [(info.name, size_text(info.size), plan.label) for info in infos]
    return rows


def _show_plans(s: Session, plans: list[SyncPlan], directory: Path, keeplocal: bool) -> None:
    sections = [
        ("upload", "These files will be uploaded"),
        ("download", f"These files will be downloaded to {directory}"),
        ("conflict", f"These files will be replaced {'at the server' if keeplocal else 'locally'}"),
    ]
    for which, title in sections:
        rows = _plan_rows(plans, which)
        if rows:
            s.out.table(["File", "Size", "Label"], rows, title=title)


def _plans_json(plans: list[SyncPlan]) -> list[dict[str, Any]]:
    return [
        {
            "dir": str(p.dir),
            "label": p.label,
            "keeplocal": p.keeplocal,
            "upload": [{"name": f.name, "size": f.size} for f in p.uploads],
            "download": [{"name": f.name, "size": f.size} for f in p.downloads],
            "conflicts": [c.name for c in p.conflicts],
        }
        for p in plans
        if not p.empty
    ]


@command(app, "sync", colony=True, json=True)
def sync(
    s: Session,
    directory: DirOpt = None,
    label: CfsLabelOpt = None,
    keeplocal: Annotated[
        bool,
        typer.Option(
            "--keeplocal/--no-keeplocal",
            help="When a file differs on both sides: upload the local one (a new version), or take the server's.",
        ),
    ] = True,
    dry: DryOpt = False,
    yes: YesOpt = False,
    syncplans: Annotated[bool, typer.Option("--syncplans", help="Show the plan even with --yes.")] = False,
    quiet: QuietOpt = False,
    driver: Annotated[
        str | None,
        typer.Option(
            "--driver",
            envvar="COLONIES_FS_BACKEND",
            help="Where uploads go: s3 (AWS_S3_*) or local (COLONIES_FS_DIR) [default: s3 when AWS_S3_ENDPOINT is set]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Two-way sync of a directory with a label.

    Subdirectories map to the labels below. Files only here are uploaded, files only on the
    server downloaded; nothing is deleted. Shows the plan and asks before it changes anything
    (--yes does not ask, --dry only shows it).
    """
    if quiet and not yes:
        raise CliError("--quiet needs --yes (there would be a question to answer)", code=2)
    root = (directory or Path.cwd()).expanduser().absolute()
    label = _label_of(root, label)
    if root.exists() and not root.is_dir():
        raise CliError(f"{root} is not a directory")
    fs = colonyfs(s, driver)
    if not root.exists():
        if dry:
            raise CliError(f"{root} does not exist (a sync would create it and download {label} into it)")
        root.mkdir(parents=True)
    from ..fs.sync import SyncResult, apply_plans

    plans = fs.plan_sync(root, label, keeplocal)
    work = [p for p in plans if not p.empty]
    if s.json and (dry or not work):
        s.out.emit_json({"dir": str(root), "label": label, "dry": dry, "plans": _plans_json(plans)})
        return
    if not work:
        if not quiet:
            s.out.info(f"Nothing to sync: {root} and {label} hold the same files")
        return
    if (dry or not yes or syncplans) and not quiet and not s.json:
        _show_plans(s, plans, root, keeplocal)
    if dry:
        return
    confirm_yes("Are you sure you want to continue?", yes)
    total = sum(p.upload_bytes + p.download_bytes for p in work)
    files = sum(len(p.uploads) + len(p.downloads) for p in work)
    with _no_progress() if quiet else transfer_progress(s, f"Syncing {label}", total, files) as progress:
        uploaded, downloaded = apply_plans(fs, plans, progress)
    result = SyncResult(plans, uploaded, downloaded)
    if s.json:
        s.out.emit_json(
            {
                "dir": str(root),
                "label": label,
                "uploaded": [str(p) for p in result.uploaded],
                "downloaded": [str(p) for p in result.downloaded],
            }
        )
    elif not quiet:
        s.out.info(
            f"Synced {root} with {label}: {len(result.uploaded)} file(s) uploaded, {len(result.downloaded)} downloaded"
        )


@contextmanager
def _no_progress() -> Iterator[None]:
    yield None


@command(app, "clean", colony=True, json=True)
def clean(
    s: Session,
    directory: DirOpt = None,
    label: CfsLabelOpt = None,
    dry: DryOpt = False,
    yes: YesOpt = False,
    cleanplans: Annotated[bool, typer.Option("--cleanplans", help="List what goes even with --yes.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Delete local files that are not in ColonyFS.

    Files (and directories) under --dir with no counterpart under the label are listed, then
    removed after a question (--yes does not ask, --dry only lists them). The .cfs files stay."""
    if quiet and not yes:
        raise CliError("--quiet needs --yes (there would be a question to answer)", code=2)
    root = (directory or Path.cwd()).expanduser().absolute()
    if not root.is_dir():
        raise CliError(f"{root} is not a directory")
    label = _label_of(root, label)
    fs = colonyfs(s)
    doomed = fs.clean(root, label, dry_run=True)
    if s.json and (dry or not doomed):
        s.out.emit_json({"dir": str(root), "label": label, "dry": dry, "remove": [str(p) for p in doomed]})
        return
    if not doomed:
        if not quiet:
            s.out.info(f"Nothing to clean: every file in {root} is in {label}")
        return
    if (dry or not yes or cleanplans) and not quiet and not s.json:
        s.out.table(["Path"], [(str(p.relative_to(root)),) for p in doomed], title="These will be removed locally")
    if dry:
        return
    confirm_yes("Are you sure you want to continue?", yes)
    removed = fs.clean(root, label)
    if s.json:
        s.out.emit_json({"dir": str(root), "label": label, "removed": [str(p) for p in removed]})
    elif not quiet:
        s.out.info(f"Removed {len(removed)} local file(s) or director(ies) not in {label}")


# ------------------------------------------------------------------------------------------------
# files


@command(app, "ls", colony=True, json=True)
def ls(s: Session, label: LabelOpt) -> None:
    """List the files directly under a label (the latest version of each)."""
    fs = colonyfs(s)
    rows = []
    for entry in sorted(fs.get_files(label), key=lambda e: str(e.get("name", ""))):
        versions = fs.get_file(label=label, filename=entry["name"], latest=False)
        latest = versions[0] if versions else {}
        rows.append(
            {
                "name": entry.get("name", ""),
                "size": int(entry.get("size") or 0),
                "checksum": entry.get("checksum", ""),
                "fileid": latest.get("fileid", ""),
                "added": latest.get("added"),
                "revisions": len(versions),
            }
        )
    if s.json:
        s.out.emit_json(rows)
        return
    if not rows:
        s.out.info(f"No files under label {label}")
        return
    s.out.table(
        ["Filename", "Size (KiB)", "Latest Id", "Added", "Revisions"],
        [(r["name"], f"{r['size'] / 1024:.1f}", r["fileid"], human_time(r["added"]), r["revisions"]) for r in rows],
    )


@command(app, "info", colony=True, json=True)
def info(s: Session, fileid: FileIdOpt = None, name: NameOpt = None, label: OptLabelOpt = None) -> None:
    """Show a file's versions and where their contents are stored.

    By --name and --label: every version, newest first; by --fileid: that one. Store credentials
    are masked."""
    fs = colonyfs(s)
    rows = [masked_file(r) for r in _lookup(fs, fileid, name, label, latest=False)]
    if s.json:
        s.out.emit_json(rows)
        return
    for row in rows:
        ref = row.get("ref") or {}
        obj = ref.get("s3object") or {}
        port = obj.get("port")
        endpoint = str(obj.get("server", "")) + (f":{port}" if port and int(port) > 0 else "")
        s.out.kv(
            [
                ("Filename", row.get("name", "")),
                ("FileId", row.get("fileid", "")),
                ("Added", human_time(row.get("added"))),
                ("Sequence Number", row.get("sequencenr", "")),
                ("Label", row.get("label", "")),
                ("Colony", row.get("colonyname", "")),
                ("Size", f"{row.get('size', 0)} bytes"),
                ("Checksum", row.get("checksum", "")),
                ("Checksum Alg", row.get("checksumalg", "")),
                ("Protocol", ref.get("protocol", "")),
                ("S3 Endpoint", endpoint or "-"),
                ("S3 TLS", bool(obj.get("tls"))),
                ("S3 Region", obj.get("region", "") or "-"),
                ("S3 Bucket", obj.get("bucket", "")),
                ("S3 Object", obj.get("object", "")),
                ("S3 Accesskey", obj.get("accesskey", "") or "-"),
                ("S3 Secretkey", obj.get("secretkey", "") or "-"),
            ],
            title=f"File {row.get('label', '')}/{row.get('name', '')}".replace("//", "/"),
        )


@command(app, "get", colony=True, json=True)
def get(
    s: Session,
    fileid: FileIdOpt = None,
    name: NameOpt = None,
    label: OptLabelOpt = None,
    directory: DirOpt = None,
) -> None:
    """Download a file into a directory.

    The latest version of --name under --label, or the version --fileid; its SHA-256 is checked
    before the file appears."""
    fs = colonyfs(s)
    file = _lookup(fs, fileid, name, label, latest=True)[0]
    target_dir = (directory or Path.cwd()).expanduser().absolute()
    size = int(file.get("size") or 0)
    with transfer_progress(s, f"Downloading {file.get('name', '')}", size) as progress:
        path = fs.download_to(file, target_dir, progress)
    if s.json:
        s.out.emit_json({"path": str(path), "file": masked_file(file)})
    else:
        s.out.info(f"Downloaded {file.get('label', '')}/{file.get('name', '')} ({size_text(size)}) to {path}")


@command(app, "remove", colony=True, json=True)
def remove(
    s: Session,
    fileid: FileIdOpt = None,
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="The file name (with --label: every version).", show_default=False),
    ] = None,
    label: OptLabelOpt = None,
) -> None:
    """Remove a file from ColonyFS.

    Every version of --name under --label, or the version --fileid: their contents from the
    store, then their metadata."""
    _check_selector(fileid, name, label)
    fs = colonyfs(s)
    with _no_such_file(fs, fileid, name, label):
        if fileid:
            count = fs.delete_file(fileid=fileid)
        else:
            count = fs.delete_file(label=label, filename=name)
    if not count:
        raise CliError(_missing(fs, fileid, name, label))
    what = fileid or f"{label}/{name}"
    if s.json:
        s.out.emit_json({"removed": count})
    else:
        s.out.info(f"Removed {count} version(s) of {what}")


# ------------------------------------------------------------------------------------------------
# labels


@command(label_app, "ls", colony=True, json=True)
def label_ls(s: Session) -> None:
    """List the colony's labels with the number of file versions in each."""
    rows = s.client.get_file_labels(s.colony, name="", exact=False) or []
    rows = sorted(
        ({"name": r.get("name", ""), "files": int(r.get("files") or 0)} for r in rows), key=lambda r: r["name"]
    )
    if s.json:
        s.out.emit_json(rows)
        return
    if not rows:
        s.out.info("No labels (no files) in this colony")
        return
    s.out.table(["Label", "Files"], [(r["name"], r["files"]) for r in rows])


@command(label_app, "remove", colony=True, json=True)
def label_remove(s: Session, label: LabelOpt, yes: YesOpt = False) -> None:
    """Remove every file (every version) at or below a label."""
    fs = colonyfs(s)
    labels = fs.labels(label, exact=False)
    if not labels:
        raise CliError(f"no files at or below label {label}")
    confirm_yes(f"Remove every file at or below {label} ({len(labels)} label(s))?", yes)
    count = fs.remove_label(label)
    if s.json:
        s.out.emit_json({"removed": count, "labels": labels})
    else:
        s.out.info(f"Removed {count} file version(s) at or below {label}")


app.add_typer(label_app, name="label")
# `colonies fs labels`: a hidden shorthand for `fs label ls`
app.command("labels", hidden=True)(next(c.callback for c in label_app.registered_commands if c.name == "ls"))  # type: ignore[arg-type]
