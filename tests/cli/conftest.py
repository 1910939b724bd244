"""Driving ``colonies`` as a user does: in-process with Typer's CliRunner (the environment set as a
shell would set it) and, for a few tests, as real subprocesses. Everything runs against the real
server started by the top-level fixtures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from pycolonies import Colonies, Process, func_spec
from pycolonies.cli.main import app

from ..conftest import SERVER_PRVKEY, Env

# Typer rebuilds the click command tree on every invoke (~0.1 s); build it once for the suite.
_COMMAND = typer.main.get_command(app)
_build_command = typer.testing._get_command
typer.testing._get_command = lambda typer_app: _COMMAND if typer_app is app else _build_command(typer_app)

BOX_TOP = re.compile(r"^╭[─┬]+╮$")
ASCII_RULE = re.compile(r"^\+[-+]+\+$")
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def cli_env(env: Env | None = None, **extra: str | None) -> dict[str, str | None]:
    """A shell's environment for the CLI: every COLONIES_* variable of the test process unset,
    then those of ``env`` (server, colony, keys), then ``extra`` (None unsets)."""
    out: dict[str, str | None] = {k: None for k in os.environ if k.startswith("COLONIES_")}
    if env is not None:
        out.update(
            {
                "COLONIES_SERVER_HOST": "127.0.0.1",
                "COLONIES_SERVER_PORT": str(env.server.port),
                "COLONIES_TLS": "false",
                "COLONIES_COLONY_NAME": env.colonyname,
                "COLONIES_PRVKEY": env.user_prvkey,
                "COLONIES_COLONY_PRVKEY": env.colony_prvkey,
                "COLONIES_SERVER_PRVKEY": SERVER_PRVKEY,
            }
        )
    out.update(extra)
    return out


@dataclass
class Cli:
    """``cli("colony", "ls")`` runs the command in-process; ``ok`` asserts exit 0, ``json``
    parses stdout, ``table`` splits a table into header and rows."""

    env: Env | None
    extra: dict[str, str | None] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, input: str | None = None, **extra: str | None) -> Result:
        return self.runner.invoke(app, list(args), env=cli_env(self.env, **{**self.extra, **extra}), input=input)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    def json(self, *args: str, **kw: Any) -> Any:
        return json.loads(self.ok(*args, "--json", **kw).stdout)

    def error(self, *args: str, code: int = 1, **kw: Any) -> str:
        """Run a command that must fail; returns its one ``Error: ...`` line."""
        result = self(*args, **kw)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], result.stderr  # one line, the last
        assert "Traceback" not in result.stdout + result.stderr
        return errors[0]

    def table(self, *args: str, **kw: Any) -> tuple[list[str], list[list[str]]]:
        return parse_table(self.ok(*args, **kw).stdout)


def parse_table(text: str, ascii_rules: bool = False) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the first boxed table in ``text``."""
    lines = text.splitlines()
    top = ASCII_RULE if ascii_rules else BOX_TOP
    bar = "|" if ascii_rules else "│"
    start = next(i for i, line in enumerate(lines) if top.match(line))
    cells = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith(bar):
            cells.append([c.strip() for c in line.strip(bar).split(bar)])
        elif i + 1 >= len(lines) or not lines[i + 1].startswith(bar):
            break  # the bottom border
    return cells[0], cells[1:]


def parse_kv(text: str) -> dict[str, str]:
    """Label -> value of the key/value tables in ``text``."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("│") and line.count("│") == 3:
            label, value = (c.strip() for c in line.strip("│").split("│"))
            rows.setdefault(label, value)
    return rows


@pytest.fixture
def cli(env: Env) -> Cli:
    """The CLI configured for the env's colony (COLONIES_PRVKEY = the env's user)."""
    return Cli(env)


def submit(env: Env, funcname: str = "echo", args: list[Any] | None = None, **kw: Any) -> Process:
    spec = func_spec(funcname, args if args is not None else ["hi"], env.colonyname, env.executortype, **kw)
    return env.client.submit_func_spec(spec, env.user_prvkey)


def run_process(env: Env, output: list[Any] | None = None) -> Process:
    """Submit, assign and close a process (as the env's executor); returns it re-read."""
    process = submit(env)
    assigned = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert assigned is not None and assigned.processid == process.processid
    env.client.close(process.processid, output if output is not None else ["done"], env.executor_prvkey)
    return env.client.get_process(process.processid, env.user_prvkey)


@dataclass
class Worker:
    """An executor in a thread: ``job(client, process)`` runs for each assigned process."""

    env: Env
    job: Callable[[Colonies, Process], None]
    count: int = 1
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> Worker:
        def loop() -> None:
            try:
                with Colonies("127.0.0.1", self.env.server.port, prvkey=self.env.executor_prvkey) as client:
                    for _ in range(self.count):
                        process = client.assign(self.env.colonyname, 10)
                        assert process is not None, "no process to run"
                        self.job(client, process)
            except BaseException as exc:  # reported by join()
                self.error = exc

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()
        return self

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(20)
        if self.error is not None:
            raise self.error


@pytest.fixture
def worker(env: Env) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(job: Callable[[Colonies, Process], None], count: int = 1) -> Worker:
        w = Worker(env, job, count).start()
        workers.append(w)
        return w

    yield start
    for w in workers:
        if w.thread is not None:
            w.thread.join(20)


def subprocess_cli(
    *args: str, env: Mapping[str, str | None], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``colonies <args>`` as a real process with exactly this shell environment."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("COLONIES_")}
    full.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-m", "pycolonies.cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path
