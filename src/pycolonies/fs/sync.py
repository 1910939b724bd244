"""Directory synchronisation with a label tree, as the Go FS client does it (protocol
ext/50-files-snapshots.md section 5), in pure Python.

Planning maps every directory ``D`` under the synced directory to the label ``label + D's
relative path``, adds the remote labels below ``label`` that have no local directory yet, and for
each (directory, label) pair compares the local files with the server's latest versions. Applying
creates missing directories, writes each worked-on directory's ``.cfs`` file and runs every upload
and download on one pool of up to 50 threads; the first error stops the sync. Sync never deletes;
``clean_dir`` is the separate operation that does.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ColonyFSError
from .paths import Progress, check_name, file_digest, inside, label_under, normalize_label, relative_label_parts

if TYPE_CHECKING:
    from .transfer import ColonyFS

__all__ = ["CFS_FILE", "Conflict", "FileInfo", "SyncPlan", "SyncResult", "apply_plans", "clean_dir", "plan_dir_tree"]

CFS_FILE = ".cfs"
"""The file in each synced directory that remembers its label: ``{"label":"/the/label"}``."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One side's view of a file. ``checksum`` is empty for local files that were not compared."""

    name: str
    size: int
    checksum: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A name present on both sides with different content."""

    name: str
    local: FileInfo
    remote: FileInfo


@dataclass(slots=True)
class SyncPlan:
    """The work for one directory and its label (Go's ``SyncPlan``)."""

    dir: Path
    label: str
    keeplocal: bool
    local_missing: list[FileInfo] = field(default_factory=list)
    """On the server only: downloaded."""
    remote_missing: list[FileInfo] = field(default_factory=list)
    """Here only: uploaded."""
    conflicts: list[Conflict] = field(default_factory=list)
    """On both sides with different checksums: uploaded if ``keeplocal``, else downloaded."""

    @property
    def uploads(self) -> list[FileInfo]:
        """Local files that will be uploaded."""
        return self.remote_missing + ([c.local for c in self.conflicts] if self.keeplocal else [])

    @property
    def downloads(self) -> list[FileInfo]:
        """Remote files that will be downloaded."""
        return self.local_missing + ([] if self.keeplocal else [c.remote for c in self.conflicts])

    @property
    def empty(self) -> bool:
        """Whether there is nothing to do (then the directory is left untouched)."""
        return not (self.local_missing or self.remote_missing or self.conflicts)

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.uploads)

    @property
    def download_bytes(self) -> int:
        return sum(f.size for f in self.downloads)


@dataclass(slots=True)
class SyncResult:
    """What a sync planned and did (nothing, for a dry run)."""

    plans: list[SyncPlan]
    uploaded: list[Path]
    downloaded: list[Path]
    dry_run: bool = False

    @property
    def conflicts(self) -> list[tuple[str, str]]:
        """(label, name) of every conflicting file."""
        return [(p.label, c.name) for p in self.plans for c in p.conflicts]


def _child_label(label: str, parts: Iterable[str]) -> str:
    rel = "/".join(parts)
    return f"{label.rstrip('/')}/{rel}" if rel else label


def _is_partial(name: str) -> bool:
    return name.startswith(".cfs-") and name.endswith(".part")


def _local_files(directory: Path) -> dict[str, FileInfo]:
    files: dict[str, FileInfo] = {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return files
    for entry in entries:
        if entry.name == CFS_FILE or _is_partial(entry.name) or not entry.is_file():
            continue
        files[entry.name] = FileInfo(entry.name, entry.stat().st_size)
    return files


def _plan(fs: ColonyFS, directory: Path, label: str, keeplocal: bool) -> SyncPlan:
    plan = SyncPlan(directory, label, keeplocal)
    local = _local_files(directory)
    remote = {}
    for row in fs.get_files(label):
        name = check_name(row.get("name"))
        remote[name] = FileInfo(name, int(row.get("size") or 0), str(row.get("checksum") or "").lower())
    for name in sorted(local.keys() | remote.keys()):
        if name not in remote:
            plan.remote_missing.append(local[name])
        elif name not in local:
            plan.local_missing.append(remote[name])
        else:
            checksum, size = file_digest(directory / name)
            if checksum != remote[name].checksum:
                plan.conflicts.append(Conflict(name, FileInfo(name, size, checksum), remote[name]))
    return plan


def plan_dir_tree(fs: ColonyFS, directory: Path, label: str, keeplocal: bool) -> list[SyncPlan]:
    """One plan per local directory under ``directory`` and per remote label under ``label``."""
    label = normalize_label(label)
    root = Path(os.path.abspath(directory))
    if not root.is_dir():
        raise ColonyFSError(f"Cannot sync {root}: not a directory")
    plans: dict[str, SyncPlan] = {}
    for current, dirnames, _ in os.walk(root):
        dirnames.sort()
        here = Path(current)
        sub = _child_label(label, here.relative_to(root).parts)
        plans[sub] = _plan(fs, here, sub, keeplocal)
    for sub in fs.labels(label):
        if sub not in plans:
            plans[sub] = _plan(fs, inside(root, *relative_label_parts(sub, label)), sub, keeplocal)
    return list(plans.values())


def apply_plans(fs: ColonyFS, plans: list[SyncPlan], progress: Progress | None = None) -> tuple[list[Path], list[Path]]:
    """Carry the plans out; returns (uploaded paths, downloaded paths)."""
    from .transfer import run_parallel

    uploads: list[Callable[[], Path]] = []
    downloads: list[Callable[[], Path]] = []
    for plan in plans:
        if plan.empty:
            continue
        plan.dir.mkdir(parents=True, exist_ok=True)
        (plan.dir / CFS_FILE).write_text(json.dumps({"label": plan.label}, separators=(",", ":")))
        for info in plan.uploads:
            uploads.append(lambda p=plan, n=info.name: _upload(fs, p, n, progress))
        for info in plan.downloads:
            downloads.append(
                lambda p=plan, n=info.name: fs.download_file(p.dir, label=p.label, filename=n, progress=progress)
            )
    done = run_parallel(uploads + downloads, fs.workers)
    return done[: len(uploads)], done[len(uploads) :]


def _upload(fs: ColonyFS, plan: SyncPlan, name: str, progress: Progress | None) -> Path:
    path = plan.dir / name
    fs.upload_file(path, plan.label, name, progress)
    return path


def clean_dir(fs: ColonyFS, directory: Path, label: str, dry_run: bool = False) -> list[Path]:
    """Remove local files absent from their label and subdirectories with no label (section 5.2)."""
    label = normalize_label(label)
    root = Path(os.path.abspath(directory))
    if not root.is_dir():
        raise ColonyFSError(f"Cannot clean {root}: not a directory")
    labels = fs.labels(label, exact=False)
    if not labels:
        raise ColonyFSError(f"Root directory not found in colonyFS: no files at or below label {label}")
    removed: list[Path] = []
    for current, dirnames, filenames in os.walk(root):
        here = Path(current)
        sub = _child_label(label, here.relative_to(root).parts)
        remote = {row.get("name") for row in fs.get_files(sub)}
        for name in sorted(filenames):
            if name != CFS_FILE and name not in remote:
                removed.append(here / name)
                if not dry_run:
                    (here / name).unlink(missing_ok=True)
        keep = []
        for name in sorted(dirnames):
            child = _child_label(sub, [name])
            if any(label_under(existing, child) for existing in labels):
                keep.append(name)
                continue
            path = here / name
            removed.append(path)
            if not dry_run:
                if path.is_symlink():
                    path.unlink()
                else:
                    shutil.rmtree(path)
        dirnames[:] = keep
    return removed
