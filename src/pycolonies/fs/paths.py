"""Turning remote names into local paths safely, plus small file helpers shared by the transfers.

A file's ``name``, its ``label`` and its object key come from the server, which any colony member
can write to. Before one of them becomes part of a local path it must be a single harmless path
component (names, keys) or a relative label path without ``..`` (labels), and the final path must
resolve inside the destination directory. Everything here raises ``UnsafePathError`` instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import UnsafePathError

__all__ = [
    "CHUNK",
    "Progress",
    "check_key",
    "check_name",
    "file_digest",
    "inside",
    "label_under",
    "new_file_mode",
    "normalize_label",
    "relative_label_parts",
    "temp_file_in",
]

CHUNK = 1024 * 1024
"""Bytes per read/write when streaming content."""

Progress = Callable[[int], object]
"""A progress callback: called with the number of bytes just transferred (an increment)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FORBIDDEN = ("/", "\\", "\0")


def normalize_label(label: str) -> str:
    """The label as the File model stores it: exactly one leading ``/``, no trailing ``/``."""
    return "/" + str(label).strip("/")


def check_name(name: object, what: str = "file name") -> str:
    """``name`` if it is one safe path component, else UnsafePathError."""
    if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in _FORBIDDEN):
        raise UnsafePathError(f"Refusing unsafe {what} {name!r}: it must be a single path component")
    return name


def check_key(key: object) -> str:
    """An object key of the local store: 64 lower-case hex characters, else UnsafePathError."""
    if not isinstance(key, str) or _HEX64.fullmatch(key) is None:
        raise UnsafePathError(f"Refusing object key {key!r}: expected 64 lower-case hex characters")
    return key


def label_under(label: str, base: str) -> bool:
    """Whether ``label`` is ``base`` or below it (on a ``/`` boundary; base ``/`` holds everything)."""
    base = base.rstrip("/")
    return base == "" or label == base or label.startswith(base + "/")


def relative_label_parts(label: str, base: str) -> list[str]:
    """The path components of ``label`` below ``base`` (``[]`` for ``base`` itself).

    Raises UnsafePathError when the label is not under ``base`` or a component is empty,
    ``.``, ``..`` or contains a separator.
    """
    if not label_under(label, base):
        raise UnsafePathError(f"Refusing label {label!r}: it is not under {base!r}")
    rest = label[len(base.rstrip("/")) :]
    if rest in ("", "/"):
        return []
    parts = rest[1:].split("/")
    for part in parts:
        if part in ("", ".", "..") or any(c in part for c in ("\\", "\0")):
            raise UnsafePathError(f"Refusing label {label!r}: component {part!r} is not a safe directory name")
    return parts


def inside(root: Path, *parts: str) -> Path:
    """The absolute path ``root/parts...``, after checking that each part is one safe component
    and that the result, with symbolic links resolved, stays inside ``root``."""
    for part in parts:
        check_name(part)
    base = Path(os.path.abspath(root))
    target = base.joinpath(*parts)
    if not target.resolve().is_relative_to(base.resolve()):
        raise UnsafePathError(f"Refusing {target}: it resolves outside {base}")
    return target


def file_digest(path: Path, progress: Progress | None = None) -> tuple[str, int]:
    """(lower-case hex SHA-256, size in bytes) of a file, read in chunks."""
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return hasher.hexdigest(), size


@functools.cache
def _read_umask() -> int:
    """The process umask (read once, without changing it: os.umask would race with threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def new_file_mode() -> int:
    """The mode a newly created file gets under the current umask (temp files are 0600)."""
    return 0o666 & ~_read_umask()


def temp_file_in(directory: Path) -> tuple[BinaryIO, Path]:
    """An open temporary file next to where the final file goes (so ``os.replace`` is atomic)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".cfs-", suffix=".part")
    try:
        os.fchmod(fd, new_file_mode())
    except OSError:
        pass
    return os.fdopen(fd, "wb"), Path(name)
