"""ColonyFS error types. All derive from ``ColonyFSError``, itself a ``ColoniesError``, so one
``except ColoniesError`` still catches every pycolonies failure."""

from __future__ import annotations

from ..errors import ColoniesError

__all__ = [
    "ChecksumMismatchError",
    "ColonyFSError",
    "ObjectMissingError",
    "StorageConfigError",
    "StorageError",
    "StorageUnreachableError",
    "UnsafePathError",
]


class ColonyFSError(ColoniesError):
    """Base of every ColonyFS failure (transfers, sync, snapshots, storage)."""


class StorageConfigError(ColonyFSError):
    """The object store is not configured, or a setting is invalid; the message names the variable."""


class StorageError(ColonyFSError):
    """The object store refused an operation. ``status`` is the store's HTTP status (0 if none)."""


class StorageUnreachableError(StorageError):
    """The object store's endpoint could not be reached; the message names the endpoint."""


class ObjectMissingError(StorageError):
    """The object a file refers to does not exist in the store (or its bucket does not)."""


class ChecksumMismatchError(ColonyFSError):
    """Downloaded content does not match the registered SHA-256 checksum or size; nothing was kept."""


class UnsafePathError(ColonyFSError):
    """A remote file name, label or object key would place a file outside its destination."""
