"""Helpers for the executor tests: an executor serving in a thread, submitting by function name,
waiting for processes, and the environment of an executor subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pycolonies import Colonies, Conditions, FuncSpec, Process
from pycolonies.executor import Executor

from ..conftest import Env, ServerProcess
from .test_python_executor import serving

__all__ = [
    "ExecutorProcess",
    "client_of",
    "finished",
    "framework_executor",
    "serving",
    "spec_for",
    "submit_many",
    "subprocess_env",
    "wait_state",
]


def client_of(env: Env, prvkey: str | None = None) -> Colonies:
    return Colonies("127.0.0.1", env.server.port, tls=False, prvkey=prvkey)


def framework_executor(env: Env, executortype: str, **kwargs: Any) -> Executor:
    """An Executor that registers itself in the env's colony, polling every second."""
    kwargs.setdefault("poll_timeout", 1)
    return Executor(
        client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, executortype=executortype, **kwargs
    )


def spec_for(env: Env, executortype: str, funcname: str, args: list[Any] | None = None, **fields: Any) -> FuncSpec:
    fields.setdefault("maxexectime", -1)
    return FuncSpec(
        funcname=funcname,
        args=args or [],
        conditions=Conditions(colonyname=env.colonyname, executortype=executortype),
        **fields,
    )


def submit_many(env: Env, specs: list[FuncSpec]) -> list[Process]:
    with client_of(env, env.user_prvkey) as client:
        return [client.submit_func_spec(spec) for spec in specs]


DONE = (Colonies.SUCCESSFUL, Colonies.FAILED)


def _wait(client: Colonies, processid: str, states: tuple[int, ...], deadline: float) -> Process:
    while True:
        process = client.get_process(processid)
        if process.state in states:
            return process
        assert time.monotonic() < deadline, f"process {processid} still in state {process.state}"
        time.sleep(0.02)


def wait_state(env: Env, processid: str, states: tuple[int, ...] = DONE, timeout: float = 15) -> Process:
    with client_of(env, env.user_prvkey) as client:
        return _wait(client, processid, states, time.monotonic() + timeout)


def finished(env: Env, processids: list[str], timeout: float = 30) -> list[Process]:
    """The processes once all are SUCCESSFUL or FAILED."""
    deadline = time.monotonic() + timeout
    with client_of(env, env.user_prvkey) as client:
        return [_wait(client, pid, DONE, deadline) for pid in processids]


def subprocess_env(server: ServerProcess, colonyname: str, **extra: str) -> dict[str, str]:
    """The test process's environment without COLONIES_* settings, pointed at ``server``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COLONIES_")}
    environ.update(
        COLONIES_SERVER_HOST="127.0.0.1", COLONIES_SERVER_PORT=str(server.port), COLONIES_COLONY_NAME=colonyname
    )
    environ.update(extra)
    return environ


class ExecutorProcess:
    """``colonies executor start ...`` in a subprocess, its output in a file."""

    def __init__(self, args: list[str], environ: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pycolonies.cli.main", "executor", "start", *args],
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_registered(self, timeout: float = 20) -> str:
        """The executor's name, once it has registered."""
        deadline = time.monotonic() + timeout
        while " registered in colony " not in self.output:
            assert self.proc.poll() is None, self.output
            assert time.monotonic() < deadline, self.output
            time.sleep(0.05)
        return self.output.split("Executor ", 1)[1].split()[0]

    def wait_for_text(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, self.output
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def executor_process(args: list[str], environ: dict[str, str], log: Path) -> Iterator[ExecutorProcess]:
    running = ExecutorProcess(args, environ, log)
    try:
        yield running
    finally:
        running.stop()
