"""Object stores for ColonyFS: where file contents live while the server keeps the catalogue.

Two implementations of one small ``ObjectStore`` protocol:

* ``S3Storage``: any S3-compatible store through boto3, configured with upstream's ``AWS_S3_*``
  variables and registering objects exactly as upstream pycolonies does (protocol
  ext/50-files-snapshots.md section 4);
* ``LocalStorage``: objects as files under a directory on this machine (the embedded default when
  no S3 endpoint is configured), registered with protocol ``local``.

``storage_from_env`` picks the store uploads go to; ``Stores`` also picks, per file reference, the
store to download it from, so one colony can mix both kinds.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from .errors import (
    ColonyFSError,
    ObjectMissingError,
    StorageConfigError,
    StorageError,
    StorageUnreachableError,
)
from .paths import CHUNK, Progress, check_key, check_name, temp_file_in

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_PART_SIZE",
    "MIN_PART_SIZE",
    "LocalStorage",
    "ObjectStore",
    "S3Settings",
    "S3Storage",
    "Stores",
    "default_fs_dir",
    "fs_environment",
    "is_local_ref",
    "new_key",
    "storage_from_env",
]

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
"""Multipart threshold and part size of S3 transfers."""
MIN_PART_SIZE = 5 * MIB
"""S3's smallest part (all but the last)."""
DEFAULT_BUCKET = "colonyfs"
"""The local store's bucket (directory) when AWS_S3_BUCKET is not set."""

_YES = ("true", "1", "yes")
_MISSING_CODES = ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


class ObjectStore(Protocol):
    """Where object contents are kept. ``s3object`` arguments are a File's ``ref.s3object``."""

    protocol: str
    """The ``ref.protocol`` this store registers."""

    def ensure_bucket(self) -> None:
        """Create the upload bucket if it does not exist."""

    def put(self, key: str, src: BinaryIO, size: int, progress: Progress | None = None) -> None:
        """Store ``size`` bytes read from ``src`` under ``key`` in the upload bucket."""

    def get(
        self, s3object: Mapping[str, Any], dst: BinaryIO, progress: Progress | None = None, *, size: int | None = None
    ) -> None:
        """Write the object's content to ``dst``, strictly in order (``dst`` need not be seekable).
        ``size``, if known, lets the store pick between one request and parallel parts."""

    def delete(self, s3object: Mapping[str, Any]) -> None:
        """Remove the object; an object that is already gone is not an error."""

    def reference(self, key: str) -> dict[str, Any]:
        """The ``ref`` to register for an object stored under ``key``."""


def new_key() -> str:
    """A fresh object key as upstream pycolonies makes it: SHA-256 hex of a UUIDv4's 16 bytes."""
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def _s3object(server: str, port: int, tls: bool, region: str, key: str, bucket: str) -> dict[str, Any]:
    return {
        "server": server,
        "port": port,
        "tls": tls,
        "accesskey": "",
        "secretkey": "",
        "region": region,
        "encryptionkey": "",
        "encryptionalg": "",
        "object": key,
        "bucket": bucket,
    }


def is_local_ref(ref: Mapping[str, Any]) -> bool:
    """Whether a reference points into a local store: protocol ``local``, or (for servers that
    report every protocol as ``s3``) an object without a server, which no S3 SDK registers."""
    s3object = ref.get("s3object") or {}
    return ref.get("protocol") == "local" or not s3object.get("server")


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in _YES


# --------------------------------------------------------------------------------------------
# S3


@dataclass(frozen=True, slots=True)
class S3Settings:
    """The client's S3 configuration, from upstream's environment variables.

    ``endpoint`` is ``host:port`` without a scheme (required for uploads; when set it is also
    used for every download). ``tls`` is the connection setting (``true``/``1``/``yes``);
    ``tls_flag`` is what gets registered (true only for the exact string ``"true"``, as upstream).
    """

    accesskey: str
    secretkey: str
    endpoint: str = ""
    region: str = ""
    tls: bool = False
    tls_flag: bool = False
    bucket: str = ""
    verify: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Settings:
        env = os.environ if env is None else env
        endpoint = (env.get("AWS_S3_ENDPOINT") or "").strip()
        if endpoint:
            parts = endpoint.split(":")
            if len(parts) != 2 or not parts[0] or not parts[1].isdigit():
                raise StorageConfigError(
                    f"AWS_S3_ENDPOINT must be host:port without a scheme (for example minio:9000), not {endpoint!r}"
                )
        for var in ("AWS_S3_ACCESSKEY", "AWS_S3_SECRETKEY"):
            if not env.get(var):
                raise StorageConfigError(f"{var} is not set: the S3 object store needs credentials")
        tls = env.get("AWS_S3_TLS")
        return cls(
            accesskey=env["AWS_S3_ACCESSKEY"],
            secretkey=env["AWS_S3_SECRETKEY"],
            endpoint=endpoint,
            region=env.get("AWS_S3_REGION") or "",
            tls=_yes(tls),
            tls_flag=tls == "true",
            bucket=env.get("AWS_S3_BUCKET") or "",
            verify=not _yes(env.get("AWS_S3_SKIPVERIFY")),
        )


def _boto_config(connect_timeout: float, read_timeout: float, max_attempts: int) -> Any:
    from botocore.config import Config

    options: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "retries": {"max_attempts": max_attempts, "mode": "standard"},
        "max_pool_connections": 64,
        "s3": {"addressing_style": "path"},
        "user_agent_extra": "pycolonies-colonyfs",
    }
    try:  # botocore >= 1.36 adds CRC checksums by default, which some S3-compatible stores reject
        return Config(
            **options, request_checksum_calculation="when_required", response_checksum_validation="when_required"
        )
    except TypeError:
        return Config(**options)


def _error_code(exc: Any) -> tuple[str, int, str]:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return str(error.get("Code") or status), status, str(error.get("Message") or "")


def translate_s3_error(exc: BaseException, endpoint: str, what: str) -> ColonyFSError:
    """A botocore/s3transfer exception as the matching ColonyFS error."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        NoCredentialsError,
        ReadTimeoutError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    last = getattr(exc, "last_exception", None)  # s3transfer's RetriesExceededError
    if isinstance(last, BaseException):
        return translate_s3_error(last, endpoint, what)
    if isinstance(exc, BotoConnectionError | ConnectionClosedError | ReadTimeoutError):
        return StorageUnreachableError(f"Cannot reach the S3 object store at {endpoint} ({what}): {exc}")
    if isinstance(exc, ClientError):
        code, status, message = _error_code(exc)
        text = f"S3 {what} failed at {endpoint}: {code} {message}".rstrip()
        if code in _MISSING_CODES:
            return ObjectMissingError(text, status)
        return StorageError(text, status)
    if isinstance(exc, NoCredentialsError):
        return StorageConfigError(f"S3 {what}: no credentials (set AWS_S3_ACCESSKEY and AWS_S3_SECRETKEY)")
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 {what} failed at {endpoint}: {exc}")
    return StorageError(f"S3 {what} failed at {endpoint}: {type(exc).__name__}: {exc}")


class S3Storage:
    """An S3-compatible object store (AWS, MinIO, Ceph, moto...).

    Uploads go to ``AWS_S3_ENDPOINT``/``AWS_S3_BUCKET`` in parts of ``part_size`` once a file
    reaches ``multipart_threshold``; downloads read the reference's server (either upstream form:
    ``host`` + port, or Go's ``host:port`` with port -1) unless ``AWS_S3_ENDPOINT`` is set, which
    then wins. Short connect timeouts and few retries make an unreachable store fail in seconds.
    """

    protocol = "s3"

    def __init__(
        self,
        settings: S3Settings,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        multipart_threshold: int | None = None,
        max_concurrency: int = 8,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        max_attempts: int = 2,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise StorageConfigError(f"S3 part size must be at least {MIN_PART_SIZE} bytes (5 MiB), not {part_size}")
        self.settings = settings
        self.part_size = part_size
        self.multipart_threshold = multipart_threshold or part_size
        self.max_concurrency = max(1, max_concurrency)
        self._config = _boto_config(connect_timeout, read_timeout, max_attempts)
        from boto3.s3.transfer import TransferConfig

        self._transfer = TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=max_concurrency,
            io_chunksize=256 * 1024,
        )
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, bool], Any] = {}
        self._bucket_ready = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> S3Storage:
        """An S3Storage configured from ``AWS_S3_*`` (StorageConfigError names a bad variable)."""
        return cls(S3Settings.from_env(env), **options)

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self.settings.endpoint!r}, bucket={self.settings.bucket!r})"

    # connections ------------------------------------------------------------------------------

    def client(self, endpoint: str, tls: bool) -> Any:
        """The boto3 S3 client for ``host:port`` (one per endpoint, shared by threads)."""
        with self._lock:
            client = self._clients.get((endpoint, tls))
            if client is None:
                import boto3

                client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=f"{'https' if tls else 'http'}://{endpoint}",
                    aws_access_key_id=self.settings.accesskey,
                    aws_secret_access_key=self.settings.secretkey,
                    region_name=self.settings.region or None,
                    use_ssl=tls,
                    verify=self.settings.verify,
                    config=self._config,
                )
                self._clients[(endpoint, tls)] = client
            return client

    def _upload_target(self) -> tuple[str, str, bool]:
        s = self.settings
        if not s.endpoint:
            raise StorageConfigError("AWS_S3_ENDPOINT is not set: uploads need the S3 endpoint (host:port)")
        if not s.bucket:
            raise StorageConfigError("AWS_S3_BUCKET is not set: uploads need a bucket name")
        return s.endpoint, s.bucket, s.tls

    def source(self, s3object: Mapping[str, Any]) -> tuple[str, bool]:
        """``(host:port, tls)`` to read an object from: our own endpoint when configured, else the
        reference's server in either upstream form."""
        if self.settings.endpoint:
            return self.settings.endpoint, self.settings.tls
        server = str(s3object.get("server") or "")
        port = int(s3object.get("port") or 0)
        if not server:
            raise StorageConfigError("AWS_S3_ENDPOINT is not set and the file's reference names no S3 server")
        endpoint = server if port < 0 or ":" in server else f"{server}:{port}"
        return endpoint, bool(s3object.get("tls"))

    @contextlib.contextmanager
    def _errors(self, endpoint: str, what: str) -> Iterator[None]:
        try:
            yield
        except ColonyFSError:
            raise
        except Exception as exc:
            raise translate_s3_error(exc, endpoint, what) from exc

    # ObjectStore -------------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        endpoint, bucket, tls = self._upload_target()
        client = self.client(endpoint, tls)
        with self._lock:
            if self._bucket_ready:
                return
            try:
                with self._errors(endpoint, f"check of bucket {bucket}"):
                    client.head_bucket(Bucket=bucket)
            except ObjectMissingError:
                region = self.settings.region
                extra = (
                    {"CreateBucketConfiguration": {"LocationConstraint": region}}
                    if region not in ("", "us-east-1")
                    else {}
                )
                try:
                    with self._errors(endpoint, f"creation of bucket {bucket}"):
                        client.create_bucket(Bucket=bucket, **extra)
                except StorageError as exc:
                    if "BucketAlreadyOwnedByYou" not in str(exc):
                        raise
            self._bucket_ready = True

    def put(self, key: str, src: BinaryIO, size: int, progress: Progress | None = None) -> None:
        endpoint, bucket, tls = self._upload_target()
        client = self.client(endpoint, tls)
        with self._errors(endpoint, f"upload of {bucket}/{key}"):
            if size < self.multipart_threshold:
                client.put_object(
                    Bucket=bucket, Key=key, Body=src, ContentLength=size, ContentType="application/octet-stream"
                )
                if progress is not None and size:
                    progress(size)
            else:
                client.upload_fileobj(
                    src,
                    bucket,
                    key,
                    ExtraArgs={"ContentType": "application/octet-stream"},
                    Callback=progress,
                    Config=self._transfer,
                )

    def get(
        self, s3object: Mapping[str, Any], dst: BinaryIO, progress: Progress | None = None, *, size: int | None = None
    ) -> None:
        endpoint, tls = self.source(s3object)
        bucket, key = str(s3object.get("bucket") or ""), str(s3object.get("object") or "")
        client = self.client(endpoint, tls)
        with self._errors(endpoint, f"download of {bucket}/{key}"):
            if size is not None and size < self.multipart_threshold:
                body = client.get_object(Bucket=bucket, Key=key)["Body"]
                try:
                    for chunk in body.iter_chunks(CHUNK):
                        dst.write(chunk)
                        if progress is not None:
                            progress(len(chunk))
                finally:
                    body.close()
            else:
                self._get_in_parts(client, bucket, key, dst, progress)

    def _get_in_parts(self, client: Any, bucket: str, key: str, dst: BinaryIO, progress: Progress | None) -> None:
        """Ranged GETs of ``part_size`` on ``max_concurrency`` threads, written to ``dst`` in order
        (so the caller can hash the stream), with at most ``max_concurrency + 2`` parts in memory.
        Every part must come from the same object version (If-Match on the ETag)."""
        from botocore.exceptions import ConnectionClosedError, ReadTimeoutError, ResponseStreamingError

        head = client.head_object(Bucket=bucket, Key=key)
        total, etag = int(head["ContentLength"]), head["ETag"]

        def fetch(first: int, last: int) -> bytes:
            for attempt in range(3):  # botocore retries the request, not a body that breaks off
                try:
                    body = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}", IfMatch=etag)[
                        "Body"
                    ]
                    with contextlib.closing(body):
                        data: bytes = body.read()
                except (ResponseStreamingError, ReadTimeoutError, ConnectionClosedError):
                    if attempt == 2:
                        raise
                    continue
                if len(data) != last - first + 1:
                    raise StorageError(f"S3 returned {len(data)} bytes for range {first}-{last} of {bucket}/{key}")
                return data
            raise AssertionError("unreachable")

        ranges = iter([(start, min(start + self.part_size, total) - 1) for start in range(0, total, self.part_size)])
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="colonyfs-s3")
        pending: deque[Future[bytes]] = deque()
        try:
            for first, last in itertools.islice(ranges, self.max_concurrency + 2):
                pending.append(pool.submit(fetch, first, last))
            while pending:
                data = pending.popleft().result()
                dst.write(data)
                if progress is not None:
                    progress(len(data))
                following = next(ranges, None)
                if following is not None:
                    pending.append(pool.submit(fetch, *following))
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def delete(self, s3object: Mapping[str, Any]) -> None:
        endpoint, tls = self.source(s3object)
        bucket, key = str(s3object.get("bucket") or ""), str(s3object.get("object") or "")
        try:
            with self._errors(endpoint, f"delete of {bucket}/{key}"):
                self.client(endpoint, tls).delete_object(Bucket=bucket, Key=key)
        except ObjectMissingError:
            pass

    def reference(self, key: str) -> dict[str, Any]:
        endpoint, bucket, _ = self._upload_target()
        host, port = endpoint.split(":")
        s = self.settings
        return {"protocol": "s3", "s3object": _s3object(host, int(port), s.tls_flag, s.region, key, bucket)}


# --------------------------------------------------------------------------------------------
# Local directory


def default_fs_dir(env: Mapping[str, str] | None = None) -> Path:
    """``COLONIES_FS_DIR``, else ``$XDG_DATA_HOME/colonies/fs`` (``~/.local/share/colonies/fs``)."""
    env = os.environ if env is None else env
    if env.get("COLONIES_FS_DIR"):
        return Path(env["COLONIES_FS_DIR"]).expanduser()
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return base / "colonies" / "fs"


class LocalStorage:
    """Objects as files ``<root>/<bucket>/<key>`` on this machine, written atomically.

    Registered with protocol ``local`` (server ``""``, port 0). Keys and bucket names from
    references are checked before they touch the filesystem, so a reference cannot reach
    outside ``root``. Readers on other machines need the same directory (a shared filesystem).
    """

    protocol = "local"

    def __init__(self, root: Path | str, bucket: str = DEFAULT_BUCKET) -> None:
        self.root = Path(root).expanduser().absolute()
        self.bucket = check_name(bucket, "bucket name")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalStorage:
        """Root ``COLONIES_FS_DIR`` (see ``default_fs_dir``), bucket ``AWS_S3_BUCKET`` or ``colonyfs``."""
        env = os.environ if env is None else env
        try:
            return cls(default_fs_dir(env), env.get("AWS_S3_BUCKET") or DEFAULT_BUCKET)
        except ColonyFSError as exc:
            raise StorageConfigError(f"AWS_S3_BUCKET is not usable as a directory name: {exc}") from None

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r}, bucket={self.bucket!r})"

    def path(self, s3object: Mapping[str, Any]) -> Path:
        """Where an object lives; UnsafePathError for a bad bucket name or key."""
        bucket = check_name(s3object.get("bucket"), "bucket name")
        return self.root / bucket / check_key(s3object.get("object"))

    def ensure_bucket(self) -> None:
        try:
            (self.root / self.bucket).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the local object store {self.root / self.bucket}: {exc}") from exc

    def put(self, key: str, src: BinaryIO, size: int, progress: Progress | None = None) -> None:
        target = self.root / self.bucket / check_key(key)
        self.ensure_bucket()
        out, tmp = temp_file_in(target.parent)
        try:
            with out:
                written = 0
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
            if written != size:
                raise StorageError(f"Read {written} bytes where {size} were expected: did the file change?")
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"Cannot write {target}: {exc}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get(
        self, s3object: Mapping[str, Any], dst: BinaryIO, progress: Progress | None = None, *, size: int | None = None
    ) -> None:
        path = self.path(s3object)
        try:
            src = open(path, "rb")
        except FileNotFoundError:
            raise ObjectMissingError(f"Object {path.name} not found in the local store {path.parent}") from None
        except OSError as exc:
            raise StorageError(f"Cannot read {path}: {exc}") from exc
        with src:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                if progress is not None:
                    progress(len(chunk))

    def delete(self, s3object: Mapping[str, Any]) -> None:
        path = self.path(s3object)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot remove {path}: {exc}") from exc

    def reference(self, key: str) -> dict[str, Any]:
        return {"protocol": "local", "s3object": _s3object("", 0, False, "", check_key(key), self.bucket)}


# --------------------------------------------------------------------------------------------
# Choosing stores


FS_VARIABLES = (
    "COLONIES_FS_BACKEND",
    "COLONIES_FS_DIR",
    "XDG_DATA_HOME",
    "HOME",
    "AWS_S3_ENDPOINT",
    "AWS_S3_ACCESSKEY",
    "AWS_S3_SECRETKEY",
    "AWS_S3_REGION",
    "AWS_S3_TLS",
    "AWS_S3_BUCKET",
    "AWS_S3_SKIPVERIFY",
)
"""The environment variables that choose and configure the object stores."""


def fs_environment(env: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The ``FS_VARIABLES`` that are set in ``env``, as a hashable snapshot."""
    env = os.environ if env is None else env
    return tuple((name, env[name]) for name in FS_VARIABLES if name in env)


def _backend(env: Mapping[str, str]) -> str:
    backend = (env.get("COLONIES_FS_BACKEND") or "").strip().lower()
    if not backend:
        return "s3" if env.get("AWS_S3_ENDPOINT") else "local"
    if backend not in ("s3", "local"):
        raise StorageConfigError(f"COLONIES_FS_BACKEND must be 's3' or 'local', not {backend!r}")
    return backend


def _from_env(kind: str, env: Mapping[str, str]) -> ObjectStore:
    return S3Storage.from_env(env) if kind == "s3" else LocalStorage.from_env(env)


def storage_from_env(env: Mapping[str, str] | None = None) -> ObjectStore:
    """The store uploads go to: ``COLONIES_FS_BACKEND`` (``s3`` or ``local``); by default ``s3``
    when ``AWS_S3_ENDPOINT`` is set, else ``local``."""
    env = os.environ if env is None else env
    return _from_env(_backend(env), env)


class Stores:
    """The store uploads go to, and for each file reference the store to read it from
    (``local`` references from the local store, all others from S3), built lazily from ``env``
    (default ``os.environ``, read when first needed) and then reused."""

    def __init__(self, env: Mapping[str, str] | None = None, upload: ObjectStore | None = None) -> None:
        self._env = env
        self._given = upload
        self._lock = threading.Lock()
        self._by_kind: dict[str, ObjectStore] = {}

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _kind(self, kind: str) -> ObjectStore:
        with self._lock:
            store = self._by_kind.get(kind)
            if store is None:
                store = self._by_kind[kind] = _from_env(kind, self.env)
            return store

    @property
    def upload(self) -> ObjectStore:
        """The store new files go to."""
        return self._given if self._given is not None else self._kind(_backend(self.env))

    def for_ref(self, ref: Mapping[str, Any]) -> ObjectStore:
        """The store holding the object of ``ref``."""
        kind = "local" if is_local_ref(ref) else "s3"
        if self._given is not None and self._given.protocol == kind:
            return self._given
        return self._kind(kind)
