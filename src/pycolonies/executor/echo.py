"""The echo executor: closes every ``echo`` process with its first argument (in a workflow, the
first output of its parents), as upstream's Go echo executor and pycolonies'
``examples/echo_executor.py`` do; other function names fail with ``Unsupported function``.

Start it with ``colonies executor start --type echo`` (type ``echo-executor``, what
``examples/submit_echo.py`` submits to).
"""

from __future__ import annotations

from typing import Any

from ..models import Process
from .base import Executor, ExecutorError

__all__ = ["EchoExecutor"]


class EchoExecutor(Executor):
    executortype = "echo-executor"
    functions = ("echo",)

    def handle(self, process: Process) -> list[Any]:
        spec = process.spec
        if spec.funcname != "echo":
            raise ExecutorError(f"Unsupported function: {spec.funcname}")
        values = process.input or spec.args or []
        if not values:
            raise ExecutorError("echo needs one argument")
        return [values[0]]
