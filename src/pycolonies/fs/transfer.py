"""``ColonyFS``: moving file contents between this machine and the object store, and keeping the
server's catalogue in step (protocol ext/50-files-snapshots.md sections 4 and 5).

Uploads put the bytes first and then register them with ``addfilemsg``; downloads look the file
up with ``getfilemsg``, stream the object into a temporary file next to the destination while
checking its SHA-256, and only then move it into place. Remote names and labels are checked before
they become local paths (``pycolonies.fs.paths``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import httpx

from ..client import core
from ..errors import ColoniesError, ServerError, TransportError
from ..models import File, Reference
from .errors import ChecksumMismatchError, ColonyFSError, UnsafePathError
from .paths import (
    Progress,
    check_name,
    file_digest,
    inside,
    label_under,
    normalize_label,
    relative_label_parts,
    temp_file_in,
)
from .storage import LocalStorage, ObjectStore, Stores, new_key
from .sync import SyncPlan, SyncResult, apply_plans, clean_dir, plan_dir_tree

if TYPE_CHECKING:
    from ..client.sync import Colonies

__all__ = ["DEFAULT_WORKERS", "ColonyFS"]

T = TypeVar("T")

DEFAULT_WORKERS = 50
"""Parallel transfers of a sync, a snapshot download or a label removal (as the Go client)."""

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
BOTH_IDS = "Both 'fileid' and 'filename' cannot be set at the same time. Please provide only one."
BOTH_IDS_DELETE = "Both 'fileid' and 'name' cannot be set at the same time. Please provide only one."


def run_parallel(tasks: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Run ``tasks`` on up to ``workers`` threads; the first failure cancels what has not started
    and is raised once the running tasks have finished. Results keep the tasks' order."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix="colonyfs")
    try:
        futures = [pool.submit(task) for task in tasks]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Checked:
    """A non-seekable writer that hashes and counts what passes through to ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.hasher.update(data)
        self.size += len(data)
        return len(data)

    def seekable(self) -> bool:
        return False

    def verify(self, file: Mapping[str, Any]) -> None:
        """ChecksumMismatchError unless size and (for SHA256 files) checksum match ``file``."""
        name = file.get("name", "")
        expected = int(file.get("size") or 0)
        if self.size != expected:
            raise ChecksumMismatchError(
                f"{file.get('label', '')}/{name}: received {self.size} bytes, the file has {expected}; nothing was kept"
            )
        checksum = str(file.get("checksum") or "").lower()
        if str(file.get("checksumalg") or "").upper() == "SHA256" and checksum:
            actual = self.hasher.hexdigest()
            if actual != checksum:
                raise ChecksumMismatchError(
                    f"{file.get('label', '')}/{name}: SHA-256 {actual} does not match the registered "
                    f"{checksum}; nothing was kept"
                )


def _never_delivered(exc: ColoniesError) -> bool:
    """Whether a failed request certainly did not reach the server (so nothing was registered)."""
    if isinstance(exc, ServerError):
        return True
    return isinstance(exc, TransportError) and isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)


class ColonyFS:
    """Files of one colony: upload, download, delete, sync directories, download snapshots.

    ``client`` is a blocking ``Colonies``; requests are signed with ``prvkey`` (default: the
    client's key). ``storage`` is where uploads go (default: from the environment, see
    ``storage_from_env``); downloads read each file from the store its reference names. All
    methods are blocking and thread-safe; ``progress`` callbacks receive byte increments (which
    may be negative when S3 retries a part) from worker threads.
    """

    def __init__(
        self,
        client: Colonies,
        colonyname: str,
        prvkey: str | None = None,
        storage: ObjectStore | None = None,
        *,
        env: Mapping[str, str] | None = None,
        stores: Stores | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.client = client
        self.colonyname = colonyname
        self.prvkey = prvkey
        self.stores = stores if stores is not None else Stores(env, storage)
        self.workers = max(1, workers)

    def __repr__(self) -> str:
        return f"ColonyFS({self.client!r}, {self.colonyname!r})"

    @property
    def storage(self) -> ObjectStore:
        """The object store uploads go to."""
        return self.stores.upload

    # catalogue --------------------------------------------------------------------------------

    def _rpc(self, msg: dict[str, Any]) -> Any:
        return core.run_sync(core.Call(msg, self.prvkey, core.as_raw), self.client._send)

    def get_file(
        self, label: str | None = None, fileid: str | None = None, filename: str | None = None, latest: bool = True
    ) -> list[dict[str, Any]]:
        """File versions (dicts) by ``fileid``, or by ``label`` and ``filename`` (latest only, or
        every version newest first)."""
        if label is not None:
            label = normalize_label(label)
        rows = self.client.get_file(
            self.colonyname, self.prvkey, label=label, fileid=fileid, filename=filename, latest=latest
        )
        return list(rows or [])

    def get_files(self, label: str) -> list[dict[str, Any]]:
        """The latest version of each file directly under ``label``: ``name``, ``checksum``,
        ``size``, ``s3filename``."""
        return list(self.client.get_files(normalize_label(label), self.colonyname, self.prvkey) or [])

    def labels(self, label: str = "/", *, exact: bool = True) -> list[str]:
        """Labels at or below ``label``, sorted. ``exact`` asks the server for the label tree
        (``getfilelabelsmsg`` exact); otherwise a plain prefix search, filtered here."""
        label = normalize_label(label)
        if label == "/":
            rows = self.client.get_file_labels(self.colonyname, self.prvkey, name="", exact=False)
        else:
            rows = self.client.get_file_labels(self.colonyname, self.prvkey, name=label, exact=exact)
        return sorted({row["name"] for row in rows or () if label_under(row["name"], label)})

    def _lookup(
        self, label: str | None, fileid: str | None, filename: str | None, latest: bool = True
    ) -> dict[str, Any]:
        if fileid is not None and filename is not None:
            raise ValueError(BOTH_IDS)
        if not fileid and (label is None or filename is None):
            raise ValueError("Give a fileid, or a label and a filename")
        rows = self.get_file(label=label, fileid=fileid, filename=filename, latest=latest)
        if not rows:
            raise ColonyFSError(f"No such file: {fileid or f'{label}/{filename}'} in colony {self.colonyname}")
        return rows[0]

    # upload -----------------------------------------------------------------------------------

    def upload_file(
        self, path: str | os.PathLike[str], label: str, name: str | None = None, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Upload a local file as a new version of ``label``/``name`` (default: the file's base
        name); returns the registered File (dict)."""
        path = Path(path)
        if not path.is_file():
            raise ColonyFSError(f"Cannot upload {path}: not a file")
        name = check_name(name if name is not None else path.name)
        checksum, size = file_digest(path)
        with open(path, "rb") as src:
            return self._register(src, size, checksum, name, label, progress)

    def upload_data(
        self, name: str, data: bytes | bytearray | memoryview | str, label: str, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Upload bytes as a new version of ``label``/``name``; returns the registered File."""
        content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        checksum = hashlib.sha256(content).hexdigest()
        return self._register(io.BytesIO(content), len(content), checksum, check_name(name), label, progress)

    def _register(
        self, src: BinaryIO, size: int, checksum: str, name: str, label: str, progress: Progress | None
    ) -> dict[str, Any]:
        if label is None:
            raise ValueError("A label is required to upload a file")
        store = self.storage
        store.ensure_bucket()
        key = new_key()
        store.put(key, src, size, progress)
        ref = store.reference(key)
        file = File(
            fileid="",
            colonyname=self.colonyname,
            label=label,
            name=name,
            size=size,
            sequencenr=1,
            checksum=checksum,
            checksumalg="SHA256",
            ref=Reference(**ref),
        )
        try:
            added = self._rpc({"msgtype": "addfilemsg", "file": file.model_dump(by_alias=True, mode="json")})
        except ColoniesError as exc:
            if _never_delivered(exc):
                self._delete_object(ref, quiet=True)
            raise
        if not added:
            self._delete_object(ref, quiet=True)
            raise ColonyFSError(f"The server did not register {file.label}/{name}")
        return added  # type: ignore[no-any-return]

    # download ---------------------------------------------------------------------------------

    def _store_for(self, file: Mapping[str, Any]) -> ObjectStore:
        ref = file.get("ref") or {}
        store = self.stores.for_ref(ref)
        if isinstance(store, LocalStorage):
            store.path(ref.get("s3object") or {})  # UnsafePathError before anything is written
        return store

    def _fetch(self, file: Mapping[str, Any], out: BinaryIO, progress: Progress | None) -> None:
        size = int(file.get("size") or 0)
        checked = _Checked(out)
        if size > 0:  # the Go SDK never uploads empty files: do not ask for them
            self._store_for(file).get(file["ref"]["s3object"], checked, progress, size=size)
        checked.verify(file)

    def download_to(
        self, file: Mapping[str, Any], directory: str | os.PathLike[str], progress: Progress | None = None
    ) -> Path:
        """Download one File (a ``getfilemsg`` row) to ``directory/<its name>``, atomically and
        verified; returns the path."""
        target = inside(Path(directory), check_name(file.get("name")))
        self._store_for(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        out, tmp = temp_file_in(target.parent)
        try:
            with out:
                self._fetch(file, out, progress)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    def download_file(
        self,
        dst_dir: str | os.PathLike[str],
        label: str | None = None,
        fileid: str | None = None,
        filename: str | None = None,
        latest: bool = True,
        progress: Progress | None = None,
    ) -> Path:
        """Download a file (by ``fileid``, or by ``label`` and ``filename``) to
        ``dst_dir/<file name>``; returns that path. The SHA-256 is checked before the file
        appears; on a mismatch nothing is left behind (ChecksumMismatchError)."""
        return self.download_to(self._lookup(label, fileid, filename, latest), dst_dir, progress)

    def download_data(
        self,
        label: str | None = None,
        fileid: str | None = None,
        filename: str | None = None,
        latest: bool = True,
        progress: Progress | None = None,
    ) -> bytes:
        """A file's content as bytes (checked like ``download_file``)."""
        file = self._lookup(label, fileid, filename, latest)
        buffer = io.BytesIO()
        self._fetch(file, buffer, progress)
        return buffer.getvalue()

    # delete -----------------------------------------------------------------------------------

    def _delete_object(self, ref: Mapping[str, Any], quiet: bool = False) -> None:
        try:
            self.stores.for_ref(ref).delete(ref.get("s3object") or {})
        except UnsafePathError:
            pass  # a reference outside the store: there is nothing of ours to delete
        except ColonyFSError:
            if not quiet:
                raise

    def delete_file(self, label: str | None = None, fileid: str | None = None, filename: str | None = None) -> int:
        """Delete a file version (``fileid``) or, by ``label`` and ``filename``, every version:
        first the objects (already missing ones are fine), then the metadata. Returns the number
        of versions removed."""
        if fileid is not None and filename is not None:
            raise ValueError(BOTH_IDS_DELETE)
        if fileid:
            rows = self.get_file(fileid=fileid)
        elif label is not None and filename is not None:
            rows = self.get_file(label=label, filename=filename, latest=False)
        else:
            raise ValueError("Give a fileid, or a label and a filename")
        for row in rows:
            self._delete_object(row.get("ref") or {})
        for row in rows:
            self._rpc(
                {
                    "msgtype": "removefilemsg",
                    "colonyname": self.colonyname,
                    "fileid": row["fileid"],
                    "label": "",
                    "name": "",
                }
            )
        return len(rows)

    def remove_label(self, label: str) -> int:
        """Delete every version of every file at or below ``label``; returns how many."""
        tasks: list[Callable[[], int]] = []
        for sub in self.labels(label, exact=False):
            for entry in self.get_files(sub):
                tasks.append(lambda sub=sub, name=entry["name"]: self.delete_file(label=sub, filename=name))
        return sum(run_parallel(tasks, self.workers))

    # sync -------------------------------------------------------------------------------------

    def plan_sync(self, dir: str | os.PathLike[str], label: str, keeplocal: bool) -> list[SyncPlan]:
        """What ``sync`` would do, one plan per directory/label, without changing anything."""
        return plan_dir_tree(self, Path(dir), label, keeplocal)

    def sync(
        self,
        dir: str | os.PathLike[str],
        label: str,
        keeplocal: bool,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> SyncResult:
        """Synchronise directory ``dir`` (and its subdirectories) with ``label`` (and the labels
        below it): upload files missing on the server, download files missing here, and for files
        that differ keep the local version (upload a new version) if ``keeplocal``, else take the
        server's. Never deletes anything."""
        plans = self.plan_sync(dir, label, keeplocal)
        if dry_run:
            return SyncResult(plans, [], [], dry_run=True)
        uploaded, downloaded = apply_plans(self, plans, progress)
        return SyncResult(plans, uploaded, downloaded)

    def clean(self, dir: str | os.PathLike[str], label: str, *, dry_run: bool = False) -> list[Path]:
        """Remove local files and directories under ``dir`` that have no counterpart under
        ``label`` (the ``.cfs`` files stay); returns what was (or would be) removed."""
        return clean_dir(self, Path(dir), label, dry_run)

    # snapshots --------------------------------------------------------------------------------

    def _snapshot(self, snapshot: str | Mapping[str, Any]) -> Mapping[str, Any]:
        if isinstance(snapshot, Mapping):
            return snapshot
        if _HEX64.fullmatch(snapshot):
            try:
                return self.client.get_snapshot_by_id(self.colonyname, snapshot, self.prvkey)  # type: ignore[no-any-return]
            except ServerError:
                pass
        return self.client.get_snapshot_by_name(self.colonyname, snapshot, self.prvkey)  # type: ignore[no-any-return]

    def download_snapshot(
        self, snapshot: str | Mapping[str, Any], dst_dir: str | os.PathLike[str], progress: Progress | None = None
    ) -> list[Path]:
        """Download every file of a snapshot (by id, name, or the snapshot dict) into ``dst_dir``,
        each into the subdirectory its label has below the snapshot's label. Files already there
        with the same checksum are not downloaded again. Returns the paths, in the snapshot's
        order. Every path is checked before anything is written."""
        snap = self._snapshot(snapshot)
        base = normalize_label(snap.get("label") or "")
        root = Path(dst_dir)
        jobs: list[tuple[dict[str, Any], Path]] = []
        for fileid in snap.get("fileids") or ():
            rows = self.get_file(fileid=fileid)
            if len(rows) != 1:
                raise ColonyFSError("Failed to download file, no revision found")
            file = rows[0]
            parts = relative_label_parts(normalize_label(file.get("label") or ""), base)
            target = inside(root, *parts, check_name(file.get("name")))
            self._store_for(file)
            jobs.append((file, target))
        tasks = [lambda file=file, target=target: self._snapshot_file(file, target, progress) for file, target in jobs]
        return run_parallel(tasks, self.workers)

    def _snapshot_file(self, file: Mapping[str, Any], target: Path, progress: Progress | None) -> Path:
        if target.is_file() and target.stat().st_size == int(file.get("size") or 0):
            if file_digest(target)[0] == str(file.get("checksum") or "").lower():
                return target
        return self.download_to(file, target.parent, progress)
