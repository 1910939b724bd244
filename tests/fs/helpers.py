"""Helpers for the ColonyFS tests: look at and tamper with the stored objects of either backend,
and register catalogue entries directly (as another SDK, or a malicious member, could)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycolonies.client import core
from pycolonies.fs import ColonyFS, LocalStorage, S3Storage
from pycolonies.fs.storage import new_key


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def _s3(cfs: ColonyFS, obj: Mapping[str, Any]) -> tuple[Any, str, str]:
    store = cfs.stores.for_ref({"protocol": "s3", "s3object": obj})
    assert isinstance(store, S3Storage)
    return store.client(*store.source(obj)), obj["bucket"], obj["object"]


def object_exists(cfs: ColonyFS, file: Mapping[str, Any]) -> bool:
    """Whether the object of a File row is in its store."""
    obj = file["ref"]["s3object"]
    store = cfs.stores.for_ref(file["ref"])
    if isinstance(store, LocalStorage):
        return store.path(obj).exists()
    client, bucket, key = _s3(cfs, obj)
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


def overwrite_object(cfs: ColonyFS, file: Mapping[str, Any], data: bytes) -> None:
    """Replace a File's stored content behind the catalogue's back."""
    obj = file["ref"]["s3object"]
    store = cfs.stores.for_ref(file["ref"])
    if isinstance(store, LocalStorage):
        store.path(obj).write_bytes(data)
        return
    client, bucket, key = _s3(cfs, obj)
    client.put_object(Bucket=bucket, Key=key, Body=data)


def delete_object(cfs: ColonyFS, file: Mapping[str, Any]) -> None:
    cfs.stores.for_ref(file["ref"]).delete(file["ref"]["s3object"])


def stored_keys(cfs: ColonyFS) -> list[str]:
    """Every object key in the upload bucket (or directory) of ``cfs``."""
    store = cfs.storage
    if isinstance(store, LocalStorage):
        folder = store.root / store.bucket
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []
    assert isinstance(store, S3Storage)
    client = store.client(store.settings.endpoint, False)
    try:
        listing = client.list_objects_v2(Bucket=store.settings.bucket)
    except client.exceptions.NoSuchBucket:
        return []
    return sorted(o["Key"] for o in listing.get("Contents", []))


def add_raw_file(
    cfs: ColonyFS,
    *,
    name: str,
    label: str,
    s3object: Mapping[str, Any] | None = None,
    protocol: str = "s3",
    size: int = 0,
    checksum: str = "",
) -> Any:
    """Register a File with addfilemsg exactly as given (no client-side checks or normalisation)."""
    obj = {
        "server": "",
        "port": 0,
        "tls": False,
        "accesskey": "",
        "secretkey": "",
        "region": "",
        "encryptionkey": "",
        "encryptionalg": "",
        "object": new_key(),
        "bucket": "colonyfs",
        **(s3object or {}),
    }
    file = {
        "fileid": "",
        "colonyname": cfs.colonyname,
        "label": label,
        "name": name,
        "size": size,
        "sequencenr": 1,
        "checksum": checksum or sha256(b""),
        "checksumalg": "SHA256",
        "ref": {"protocol": protocol, "s3object": obj},
        "added": None,
    }
    call = core.Call({"msgtype": "addfilemsg", "file": file}, cfs.prvkey, core.as_raw)
    return core.run_sync(call, cfs.client._send)


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (relative POSIX path -> content), .cfs files included."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
