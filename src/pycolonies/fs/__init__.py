"""ColonyFS on the client side: file contents in an S3-compatible store or a local directory, the
catalogue on the Colonies server. ``ColonyFS`` uploads, downloads (checksum-verified), deletes,
syncs directories with label trees and downloads snapshots; see docs/files.md."""

from __future__ import annotations

from .errors import (
    ChecksumMismatchError,
    ColonyFSError,
    ObjectMissingError,
    StorageConfigError,
    StorageError,
    StorageUnreachableError,
    UnsafePathError,
)
from .storage import LocalStorage, ObjectStore, S3Settings, S3Storage, Stores, storage_from_env
from .sync import Conflict, FileInfo, SyncPlan, SyncResult
from .transfer import ColonyFS

__all__ = [
    "ChecksumMismatchError",
    "ColonyFS",
    "ColonyFSError",
    "Conflict",
    "FileInfo",
    "LocalStorage",
    "ObjectMissingError",
    "ObjectStore",
    "S3Settings",
    "S3Storage",
    "StorageConfigError",
    "StorageError",
    "StorageUnreachableError",
    "Stores",
    "SyncPlan",
    "SyncResult",
    "UnsafePathError",
    "storage_from_env",
]
