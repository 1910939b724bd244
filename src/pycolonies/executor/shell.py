"""The shell executor: runs configured commands, one per function name, never an arbitrary one.

Each function maps to an argv template (a config file, or ``--command`` flags of
``colonies executor start --type shell``)::

    # shell-executor.toml
    [functions]
    # shorthand: a command line, split as a POSIX shell would split it (but never run by one)
    today = "date -u +%F"
    greet = ["echo", "hello", "{args}"]   # {args}: every argument, each its own argv element

    [functions.wordcount]
    argv = ["wc", "-w", "{0}"]   # {0}: the first argument of the process
    timeout = 30                 # seconds; optional
    cwd = "/tmp"                 # optional
    env = { LC_ALL = "C" }       # optional

Placeholders, each replaced inside one argv element: ``{0}``, ``{1}``, ... the process's
positional arguments (the parents' outputs in a workflow, else ``spec.args``), ``{name}`` its
keyword argument ``name``, ``{processid}``; ``{args}`` alone as an element expands to all the
positional arguments; ``{{`` and ``}}`` are literal braces. Values that are not strings are
passed as JSON (``1``, ``true``, ``{"a": 1}``). The program (the first element) cannot contain a
placeholder. The command runs without a shell, so an argument is only ever one argv element:
``; rm -rf /`` is text, not a command (unless you configure a shell's ``-c`` script with a
placeholder in it: don't).

The process is closed with the command's standard output (one string, trailing newlines removed);
its standard error goes to the process log line by line as it comes. A non-zero exit status, a
missing program or a timeout fails the process. The command gets the executor's environment
without any ``*PRVKEY*`` variable, plus the configured ``env``, ``COLONIES_PROCESS_ID``,
``COLONIES_COLONY_NAME`` and ``COLONIES_EXECUTOR_NAME``; the process's own ``env`` is not
passed (it would let a submitter set ``LD_PRELOAD`` or ``PATH``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models import Process
from .base import Executor, ExecutorError
from .context import Context
from .settings import ExecutorConfigError

__all__ = ["Command", "CommandError", "ShellExecutor", "load_commands", "parse_command"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_KEY = re.compile(r"^(\d+|[A-Za-z_][A-Za-z0-9_]*)$")
MAX_OUTPUT = 1 << 20
"""Bytes of standard output kept as the process's output (the rest is dropped, with a log line)."""


class CommandError(ExecutorError):
    """A configured command could not run or did not succeed."""


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Command:
    """One function: its argv template and how to run it."""

    funcname: str
    argv: tuple[str, ...]
    timeout: float | None = None
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.argv:
            raise ExecutorConfigError(f"function {self.funcname!r}: the command is empty")
        for i, element in enumerate(self.argv):
            for match in _PLACEHOLDER.finditer(element):
                key = match.group(1)
                if key is None:
                    continue
                if i == 0:
                    raise ExecutorConfigError(
                        f"function {self.funcname!r}: the program {element!r} cannot contain a placeholder"
                    )
                if not _KEY.match(key):
                    raise ExecutorConfigError(f"function {self.funcname!r}: bad placeholder {{{key}}} in {element!r}")
                if key == "args" and element != "{args}":
                    raise ExecutorConfigError(
                        f"function {self.funcname!r}: {{args}} must be a whole argv element, not part of {element!r}"
                    )
        if self.timeout is not None and self.timeout <= 0:
            raise ExecutorConfigError(f"function {self.funcname!r}: timeout must be positive")

    def render(self, args: list[Any], kwargs: Mapping[str, Any], processid: str) -> list[str]:
        """The argv for one process; CommandError when it lacks an argument the template uses."""
        argv: list[str] = []
        for element in self.argv:
            if element == "{args}":
                argv.extend(_as_text(a) for a in args)
                continue

            def substitute(match: re.Match[str]) -> str:
                token, key = match.group(0), match.group(1)
                if key is None:
                    return token[0]  # {{ or }}
                if key.isdigit():
                    index = int(key)
                    if index >= len(args):
                        raise CommandError(
                            f"{self.funcname} needs at least {index + 1} argument(s), the process has {len(args)}"
                        )
                    return _as_text(args[index])
                if key == "processid":
                    return processid
                if key not in kwargs:
                    raise CommandError(f"{self.funcname} needs the keyword argument {key!r}")
                return _as_text(kwargs[key])

            argv.append(_PLACEHOLDER.sub(substitute, element))
        return argv

    def describe(self) -> str:
        return shlex.join(self.argv)


def _command(funcname: str, value: Any, where: str) -> Command:
    if isinstance(value, str):
        return Command(funcname, tuple(shlex.split(value)))
    if isinstance(value, list):
        return Command(funcname, tuple(str(v) for v in value))
    if not isinstance(value, Mapping):
        raise ExecutorConfigError(f"{where}: function {funcname!r} must be a command line, a list or a table")
    unknown = set(value) - {"argv", "timeout", "cwd", "env"}
    if unknown:
        raise ExecutorConfigError(f"{where}: function {funcname!r} has unknown settings {sorted(unknown)}")
    argv = value.get("argv")
    if isinstance(argv, str):
        argv = shlex.split(argv)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ExecutorConfigError(f"{where}: function {funcname!r} needs argv, a list of strings")
    env = value.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise ExecutorConfigError(f"{where}: function {funcname!r}: env must map names to strings")
    timeout = value.get("timeout")
    if timeout is not None and not isinstance(timeout, int | float):
        raise ExecutorConfigError(f"{where}: function {funcname!r}: timeout must be a number of seconds")
    return Command(funcname, tuple(argv), timeout, value.get("cwd"), dict(env))


def load_commands(path: str | Path) -> dict[str, Command]:
    """The ``[functions]`` of a TOML file (``.toml``) or the ``"functions"`` object of a JSON file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExecutorConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ExecutorConfigError(
            f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}"
        ) from None
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, dict) or not functions:
        raise ExecutorConfigError(f'{path}: no functions (a [functions] table, or a "functions" object)')
    return {name: _command(name, value, str(path)) for name, value in functions.items()}


def parse_command(text: str) -> Command:
    """``NAME=COMMAND LINE`` (a ``--command`` flag): the line is split as a POSIX shell would."""
    name, found, line = text.partition("=")
    name = name.strip()
    if not found or not name or not line.strip():
        raise ExecutorConfigError(f"--command expects NAME=COMMAND, got {text!r}")
    try:
        return Command(name, tuple(shlex.split(line)))
    except ValueError as exc:
        raise ExecutorConfigError(f"--command {name}: {exc}") from None


class ShellExecutor(Executor):
    """Runs the command configured for each process's function name (module docstring)."""

    executortype = "shell-executor"

    def __init__(
        self,
        *args: Any,
        commands: Mapping[str, Command] | Iterable[Command],
        max_output: int = MAX_OUTPUT,
        **kwargs: Any,
    ) -> None:
        table = dict(commands) if isinstance(commands, Mapping) else {c.funcname: c for c in commands}
        if not table:
            raise ExecutorConfigError("a shell executor needs at least one command")
        kwargs.setdefault("functions", tuple(table))
        super().__init__(*args, **kwargs)
        self.commands = table
        self.max_output = max_output
        self._children: set[subprocess.Popen[bytes]] = set()
        self._children_lock = threading.Lock()

    def handle(self, process: Process) -> list[Any]:
        spec = process.spec
        command = self.commands.get(spec.funcname)
        if command is None:
            raise CommandError(f"Unsupported function: {spec.funcname} (this executor runs {', '.join(self.commands)})")
        args = list(process.input) if process.input else list(spec.args or [])
        argv = command.render(args, spec.kwargs or {}, process.processid)
        return [self.run_command(command, argv, self.context(process))]

    def environment(self, command: Command, ctx: Context) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if "PRVKEY" not in k.upper()}
        env.update(command.env)
        env.update(
            COLONIES_PROCESS_ID=ctx.processid,
            COLONIES_COLONY_NAME=self.colonyname,
            COLONIES_EXECUTOR_NAME=self.executorname,
        )
        return env

    def run_command(self, command: Command, argv: list[str], ctx: Context) -> str:
        """Run ``argv``; its standard output, or CommandError."""
        try:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=command.cwd,
                env=self.environment(command, ctx),
                start_new_session=True,  # a timeout kills what the command started too
            )
        except OSError as exc:
            raise CommandError(f"{command.funcname}: cannot run {argv[0]}: {exc.strerror or exc}") from None
        with self._children_lock:
            self._children.add(child)
        last_error: list[str] = []

        def relay_stderr() -> None:
            assert child.stderr is not None
            for raw in child.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.strip():
                    last_error[:] = [line]
                ctx.log.info(line)

        relay = threading.Thread(target=relay_stderr, name=f"stderr-{ctx.processid[:8]}", daemon=True)
        relay.start()
        timed_out = threading.Event()
        timer = None
        if command.timeout is not None:
            timer = threading.Timer(command.timeout, lambda: (timed_out.set(), _kill(child)))
            timer.daemon = True
            timer.start()
        try:
            output = self._read_output(child, ctx)
            status = child.wait()
            relay.join(5)
        finally:
            if timer is not None:
                timer.cancel()
            with self._children_lock:
                self._children.discard(child)
        if timed_out.is_set():
            raise CommandError(f"{command.funcname}: {argv[0]} did not finish within {command.timeout:g} s")
        if status != 0:
            reason = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
            detail = f": {last_error[0]}" if last_error else ""
            raise CommandError(f"{command.funcname}: {argv[0]} {reason}{detail}")
        return output

    def _read_output(self, child: subprocess.Popen[bytes], ctx: Context) -> str:
        assert child.stdout is not None
        kept = bytearray()
        dropped = 0
        while chunk := child.stdout.read(65536):
            room = self.max_output - len(kept)
            kept += chunk[:room]
            dropped += max(0, len(chunk) - room)
        if dropped:
            ctx.log.warning("output truncated: %d bytes kept, %d dropped", len(kept), dropped)
        return kept.decode("utf-8", "replace").rstrip("\n")

    def shutdown(self) -> None:
        """Stop the commands still running (their processes were handed back), then as Executor."""
        with self._children_lock:
            children = list(self._children)
        for child in children:
            _kill(child)
        super().shutdown()


def _kill(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
