"""ColonyFS staging around a process: the ``fs`` directives of its function spec (protocol ext/50
section 6; docs/executors.md "ColonyFS directories").

Before the function runs, :meth:`FsStaging.stage_in` downloads each ``fs.snapshots[]`` entry into
``<mount>/<dir>`` and syncs each ``fs.dirs[]`` entry with its label (``onconflicts.onstart``).
After a successful run :meth:`FsStaging.stage_out` syncs the dirs again (``onconflicts.onclose``),
which uploads the results; :meth:`FsStaging.clean` then removes the local copies unless
``keepfiles`` and the snapshots unless ``keepsnapshot``.

Where the files go: the executor owns one **fs root** directory (``fs_root``, else
``COLONIES_FS_ROOT``, else upstream's ``EXECUTOR_FS_DIR``, else ``./cfs``). The root plays the
part a container's ``/`` plays for upstream's container executors: ``fs.mount = "/cfs"`` is
``<root>/cfs`` and ``dir = "/results"`` under it is ``<root>/cfs/results``. An empty ``mount``
gives the process a private directory, ``<root>/<processid>``. ``{processid}`` in ``mount``,
``dir`` and ``label`` is replaced with the process id, as upstream's executors do. A ``mount`` or
``dir`` that would leave the root (``..``, or a symlink pointing outside), or a ``dir`` that is the
root itself, is refused: the process fails and the function never runs.

Everything here blocks (HTTP and object-store transfers): the executor calls it in a worker thread.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import ColoniesError
from ..fs.paths import normalize_label
from ..models import Fs, Process
from .base import ExecutorError

if TYPE_CHECKING:
    from ..client import Colonies
    from .context import ProcessLogger

__all__ = ["FsStaging", "FsStagingError", "StagedDir", "StagedSnapshot"]

log = logging.getLogger("pycolonies.executor")


class FsStagingError(ExecutorError):
    """The ``fs`` directives of a process cannot be staged (or its results cannot be uploaded):
    an unsafe path, a missing snapshot, an unreachable or misconfigured object store, a checksum
    mismatch. The message says which entry and why; the process fails with it."""


@dataclass
class StagedSnapshot:
    """One ``fs.snapshots[]`` entry, resolved."""

    index: int
    snapshotid: str
    label: str
    path: Path
    keepfiles: bool
    keepsnapshot: bool
    files: list[Path] = field(default_factory=list)


@dataclass
class StagedDir:
    """One ``fs.dirs[]`` entry, resolved."""

    index: int
    label: str
    path: Path
    keepfiles: bool
    keeplocal_onstart: bool
    keeplocal_onclose: bool
    uploaded: bool = False


def _substitute(text: str, processid: str) -> str:
    return text.replace("{processid}", processid)


def _relative_parts(text: str, what: str) -> tuple[str, ...]:
    """The components of a mount or dir path, taken relative (a leading ``/`` means "from the
    top" of the root or mount); ``..`` is refused."""
    parts = tuple(p for p in PurePosixPath(text.replace("\\", "/")).parts if p not in ("/", "."))
    if ".." in parts:
        raise FsStagingError(f"ColonyFS: {what} {text!r} contains '..': paths must stay inside the mount")
    return parts


def _inside(path: Path, top: Path) -> bool:
    """True when ``path`` (symlinks resolved) is ``top`` or below it."""
    try:
        path.resolve().relative_to(top.resolve())
    except ValueError:
        return False
    return True


class FsStaging:
    """The ``fs`` directives of one process, resolved to local paths (see the module docstring).

    ``colonyfs`` returns the :class:`pycolonies.fs.ColonyFS` to transfer with (called on first
    use, so a misconfigured object store fails the process rather than the executor); ``client``
    (bound to the executor's key) removes the snapshots. Raises FsStagingError for an unsafe path."""

    def __init__(
        self,
        process: Process,
        root: Path,
        colonyfs: Callable[[], Any],
        client: Colonies,
        colonyname: str,
        processlog: ProcessLogger | None = None,
    ) -> None:
        fs = process.spec.fs or Fs()
        pid = process.processid
        self.process = process
        self.root = root
        self.client = client
        self.colonyname = colonyname
        self._colonyfs_factory = colonyfs
        self._colonyfs: Any = None
        self._log = processlog
        self._upload_failed = False
        mount_text = _substitute(fs.mount, pid)
        self._mount_text = mount_text
        if mount_text.strip():
            self.mount = root.joinpath(*_relative_parts(mount_text, "fs.mount"))
        else:
            self.mount = root / pid  # a private directory for this process
        self.snapshots: list[StagedSnapshot] = []
        self.dirs: list[StagedDir] = []
        for i, snap in enumerate(fs.snapshots or []):
            where = f"fs.snapshots[{i}]"
            if not snap.snapshotid:
                raise FsStagingError(
                    f"ColonyFS: {where} has no snapshotid (create the snapshot when submitting: "
                    "'colonies function submit' or pycolonies.fs.prepare_fs_snapshots do)"
                )
            self.snapshots.append(
                StagedSnapshot(
                    i,
                    snap.snapshotid,
                    normalize_label(_substitute(snap.label, pid).strip()) if snap.label else "",
                    self._path(_substitute(snap.dir, pid), f"{where}.dir"),
                    snap.keepfiles,
                    snap.keepsnapshot,
                )
            )
        for i, d in enumerate(fs.dirs or []):
            where = f"fs.dirs[{i}]"
            label = normalize_label(_substitute(d.label, pid).strip())
            if label == "/":
                raise FsStagingError(f"ColonyFS: {where} has no label")
            self.dirs.append(
                StagedDir(
                    i,
                    label,
                    self._path(_substitute(d.dir, pid), f"{where}.dir"),
                    d.keepfiles,
                    d.onconflicts.onstart.keeplocal,
                    d.onconflicts.onclose.keeplocal,
                )
            )

    def _path(self, text: str, what: str) -> Path:
        path = self.mount.joinpath(*_relative_parts(text, what))
        if path == self.root:
            raise FsStagingError(
                f"ColonyFS: {what} {text!r} with fs.mount {self._mount_text!r} is the executor's fs root itself: "
                "give the entry a directory of its own"
            )
        return path

    # what the function sees ----------------------------------------------------------------------

    @property
    def dir_paths(self) -> dict[str, Path]:
        """Label -> local directory of each synced directory."""
        return {d.label: d.path for d in self.dirs}

    @property
    def snapshot_paths(self) -> dict[str, Path]:
        """Label -> local directory of each downloaded snapshot."""
        return {s.label: s.path for s in self.snapshots}

    # staging ---------------------------------------------------------------------------------------

    def _say(self, message: str, *args: Any) -> None:
        log.info("Process %s: " + message, self.process.processid, *args)
        if self._log is not None:
            self._log.info("ColonyFS: " + message, *args)

    def _fs(self) -> Any:
        if self._colonyfs is None:
            self._colonyfs = self._colonyfs_factory()
        return self._colonyfs

    def _checked_dir(self, path: Path, top: Path, what: str) -> None:
        """Create ``path`` (at or below ``top``), refusing a symlink on the way that leads out of
        ``top``: checked before anything is created, and again after."""
        where = "the executor's fs root" if top == self.root else "the mount"
        outside = f"ColonyFS: the {what} directory {path} leads outside {where} {top} (a symlink?)"
        existing = path
        while not existing.exists() and existing != top and existing.parent != existing:
            existing = existing.parent
        if not _inside(existing, top):
            raise FsStagingError(outside)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FsStagingError(
                f"ColonyFS: cannot create the {what} directory {path}: {exc.strerror or exc}"
            ) from None
        if not _inside(path, top):
            raise FsStagingError(outside)

    def _guard(self, action: str, run: Callable[[], Any]) -> Any:
        """Run a transfer; its failure becomes an FsStagingError naming ``action``."""
        try:
            return run()
        except FsStagingError:
            raise
        except ImportError as exc:
            raise FsStagingError(f"ColonyFS: {action} failed: ColonyFS support is not installed ({exc})") from exc
        except (ColoniesError, OSError, ValueError) as exc:  # ColonyFSError is a ColoniesError
            raise FsStagingError(f"ColonyFS: {action} failed: {_reason(exc)}") from exc

    def stage_in(self) -> None:
        """Download the snapshots, then sync the dirs (``onstart``). Raises FsStagingError."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FsStagingError(f"ColonyFS: cannot create the fs root {self.root}: {exc.strerror or exc}") from None
        self._checked_dir(self.mount, self.root, "mount")
        fs = self._guard("connecting to the file store", self._fs)
        for snap in self.snapshots:
            where = f"fs.snapshots[{snap.index}]"
            snapshot = self._guard(
                f"looking up snapshot {snap.snapshotid} ({where})",
                lambda snap=snap: self.client.get_snapshot_by_id(self.colonyname, snap.snapshotid),  # type: ignore[misc]
            )
            label = snapshot.get("label") or snap.label
            self._checked_dir(snap.path, self.mount, where)
            snap.files = list(
                self._guard(
                    f"downloading snapshot {snap.snapshotid} of {label} ({where}) into {snap.path}",
                    lambda snapshot=snapshot, snap=snap: fs.download_snapshot(snapshot, snap.path),  # type: ignore[misc]
                )
                or []
            )
            self._say("snapshot %s of %s: %d file(s) in %s", snap.snapshotid, label, len(snap.files), snap.path)
        for d in self.dirs:
            where = f"fs.dirs[{d.index}]"
            self._checked_dir(d.path, self.mount, where)
            result = self._guard(
                f"syncing {d.path} with label {d.label} ({where}, before the run)",
                lambda d=d: fs.sync(d.path, d.label, d.keeplocal_onstart),  # type: ignore[misc]
            )
            self._say("%s synced with %s%s", d.path, d.label, _summary(result))

    def stage_out(self) -> None:
        """Sync the dirs again (``onclose``): uploads the function's results. Raises
        FsStagingError; a dir whose sync failed keeps its local files."""
        fs = self._guard("connecting to the file store", self._fs)
        for d in self.dirs:
            where = f"fs.dirs[{d.index}]"
            self._checked_dir(d.path, self.mount, where)  # the function may have removed it
            result = self._guard(
                f"uploading the results in {d.path} to label {d.label} ({where}, after the run)",
                lambda d=d: fs.sync(d.path, d.label, d.keeplocal_onclose),  # type: ignore[misc]
            )
            d.uploaded = True
            self._say("%s synced with %s%s", d.path, d.label, _summary(result))

    def clean(self, remove_snapshots: bool = True) -> None:
        """Remove the local copies unless ``keepfiles`` (a dir whose results could not be uploaded
        is kept), then, with ``remove_snapshots``, the snapshots unless ``keepsnapshot``. Never
        raises: problems are logged."""
        try:
            self._remove_files()
        except Exception:
            log.exception("Process %s: could not remove its ColonyFS files", self.process.processid)
        if remove_snapshots:
            self._remove_snapshots()

    def _remove_files(self) -> None:
        removed: list[Path] = []
        for entry in [*self.snapshots, *self.dirs]:
            if entry.keepfiles:
                continue
            if isinstance(entry, StagedDir) and not entry.uploaded and self._upload_failed:
                log.warning(
                    "Process %s: keeping %s: its results could not be uploaded", self.process.processid, entry.path
                )
                continue
            if entry.path.exists() and _inside(entry.path, self.mount) and _inside(entry.path, self.root):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
        for path in removed:  # empty directories left between a removed dir and the mount, then the mount
            parent = path.parent
            while parent != self.root and _inside(parent, self.mount):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
        if removed:
            try:
                self.mount.rmdir()
            except OSError:
                pass

    def _remove_snapshots(self) -> None:
        for snap in self.snapshots:
            if snap.keepsnapshot:
                continue
            try:
                self.client.remove_snapshot_by_id(self.colonyname, snap.snapshotid)
                log.info("Process %s: snapshot %s removed", self.process.processid, snap.snapshotid)
            except Exception as exc:
                log.warning(
                    "Process %s: could not remove snapshot %s: %s", self.process.processid, snap.snapshotid, exc
                )

    def mark_upload_failed(self) -> None:
        """Remember that :meth:`stage_out` failed: :meth:`clean` then keeps the dirs not uploaded."""
        self._upload_failed = True


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(text)


def _summary(result: Any) -> str:
    """`` (2 downloaded, 1 uploaded)`` from a SyncResult, whatever its exact shape."""
    if result is None:
        return ""
    parts = []
    for name, word in (("downloaded", "downloaded"), ("uploaded", "uploaded")):
        value = getattr(result, name, None)
        if value is None:
            continue
        count = value if isinstance(value, int) else len(value)
        parts.append(f"{count} {word}")
    return f" ({', '.join(parts)})" if parts else ""
