"""Executors: the shared executor loop (:class:`Executor`) and the built-in executors.

``PythonExecutor`` runs the Python function each process carries (code injection); start it with
``python -m pycolonies.executor.python``. See docs/workflows.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Executor, ExecutorError, format_error
from .settings import ExecutorConfigError, Settings

if TYPE_CHECKING:
    from .python import CodeError, PythonExecutor

__all__ = [
    "CodeError",
    "Executor",
    "ExecutorConfigError",
    "ExecutorError",
    "PythonExecutor",
    "Settings",
    "format_error",
]


def __getattr__(name: str) -> Any:
    # imported on first use, so that `python -m pycolonies.executor.python` does not find the
    # module already imported by its package
    if name in ("CodeError", "PythonExecutor"):
        from . import python

        return getattr(python, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
