"""Executors: the framework (:class:`Executor`: register functions, it assigns, runs, closes and
stops cleanly) and the built-in executors (docs/executors.md).

* ``PythonExecutor`` runs the Python function each process carries (code injection); start it
  with ``colonies executor start --type python`` or ``python -m pycolonies.executor.python``;
* ``ShellExecutor`` maps function names to configured commands (``--type shell``);
* ``EchoExecutor`` closes ``echo`` processes with their argument (``--type echo``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Executor, ExecutorError, accepts_ctx, format_error, to_output
from .context import Context, ProcessLogger, ProcessLogHandler, current_context
from .hooks import CaptureLogging, Hook, Timing
from .settings import ExecutorConfigError, Settings

if TYPE_CHECKING:
    from .echo import EchoExecutor
    from .python import CodeError, PythonExecutor
    from .shell import CommandError, ShellExecutor

__all__ = [
    "CaptureLogging",
    "CodeError",
    "CommandError",
    "Context",
    "EchoExecutor",
    "Executor",
    "ExecutorConfigError",
    "ExecutorError",
    "Hook",
    "ProcessLogHandler",
    "ProcessLogger",
    "PythonExecutor",
    "Settings",
    "ShellExecutor",
    "Timing",
    "accepts_ctx",
    "current_context",
    "format_error",
    "to_output",
]

_LAZY = {
    "CodeError": "python",
    "PythonExecutor": "python",
    "EchoExecutor": "echo",
    "CommandError": "shell",
    "ShellExecutor": "shell",
}


def __getattr__(name: str) -> Any:
    # the built-in executors are imported on first use, so that `python -m pycolonies.executor.python`
    # does not find its module already imported by the package
    module = _LAZY.get(name)
    if module is not None:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
