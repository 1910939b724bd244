"""``colonies executor start``: run one of the built-in executors until SIGINT/SIGTERM
(docs/executors.md). Registered on the ``executor`` group by cli/main.py."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..executor import Executor, ExecutorConfigError, Settings
from .common import CliError, Session, command
from .executor import app

__all__ = ["start"]

log = logging.getLogger("pycolonies.executor")

KINDS = ("python", "shell", "echo")


def _executor_class(kind: str) -> type[Executor]:
    if kind == "python":
        from ..executor.python import PythonExecutor

        return PythonExecutor
    if kind == "shell":
        from ..executor.shell import ShellExecutor

        return ShellExecutor
    if kind == "echo":
        from ..executor.echo import EchoExecutor

        return EchoExecutor
    raise CliError(f"--type must be one of {', '.join(KINDS)}, got {kind!r}", code=2)


def _shell_commands(commands: list[str] | None, config: Path | None) -> dict[str, Any]:
    from ..executor.shell import load_commands, parse_command

    table = load_commands(config) if config is not None else {}
    for text in commands or []:
        parsed = parse_command(text)
        table[parsed.funcname] = parsed
    if not table:
        raise CliError("a shell executor needs commands: --command NAME=COMMAND (repeatable) or --config FILE")
    return table


def _what_it_runs(kind: str, executor: Executor) -> list[str]:
    if kind == "python":
        return ["Runs the Python function each process carries (func_spec(func=<function>) sends its code)"]
    if kind == "echo":
        return ["Runs echo: closes each process with its first argument"]
    commands = getattr(executor, "commands", {})
    return ["Runs these commands (no shell; arguments fill the placeholders):"] + [
        f"  {name}: {command.describe()}" for name, command in commands.items()
    ]


@command(app, "start", signer=None, colony=True)
def start(
    s: Session,
    kind: Annotated[str, typer.Option("--type", help="Which executor: python, shell or echo.")],
    executortype: Annotated[
        str | None,
        typer.Option(
            "--executortype",
            help="Executor type to register (default: python-executor, shell-executor or echo-executor).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Executor name (default: <type>-<random>).", show_default=False)
    ] = None,
    colony_prvkey: Annotated[
        str | None,
        typer.Option(
            "--colonyprvkey",
            envvar="COLONIES_COLONY_PRVKEY",
            help="Colony owner's key: register a new executor, unregister it on exit.",
            show_default=False,
        ),
    ] = None,
    prvkey: Annotated[
        str | None,
        typer.Option(
            "--prvkey",
            envvar="COLONIES_PRVKEY",
            help="Without the colony key: the key of an executor already registered and approved.",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Processes run at once.")] = 1,
    poll_timeout: Annotated[float, typer.Option("--poll-timeout", min=1, help="Seconds per assign long poll.")] = 10.0,
    heartbeat: Annotated[
        float, typer.Option("--heartbeat", min=0, help="Seconds between liveness requests while busy (0: off).")
    ] = 10.0,
    drain_timeout: Annotated[
        float | None,
        typer.Option(
            "--drain-timeout",
            min=0,
            help="On SIGINT/SIGTERM, seconds to let running functions finish before handing them back "
            "(default: until they finish; a second signal hands them back at once).",
            show_default=False,
        ),
    ] = None,
    commands: Annotated[
        list[str] | None,
        typer.Option(
            "--command",
            help="Shell executor: NAME=COMMAND LINE, e.g. 'wordcount=wc -w {0}' (repeatable).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Shell executor: a TOML or JSON file with a functions table.", show_default=False
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")] = False,
) -> None:
    """Run a built-in executor (python, shell or echo) until SIGINT/SIGTERM."""
    cls = _executor_class(kind)
    if kind != "shell" and (commands or config is not None):
        raise CliError("--command and --config are for --type shell", code=2)
    colony_key = (colony_prvkey or "").strip() or None
    own_key = (prvkey or "").strip() or None
    if colony_key is None and own_key is None:
        raise CliError(
            "no identity: set COLONIES_COLONY_PRVKEY (or --colonyprvkey) to register a new executor, "
            "or COLONIES_PRVKEY (or --prvkey) to run as an executor that is already registered"
        )
    settings = Settings(
        colonyname=s.colony,
        executortype=executortype or cls.executortype,
        host=s.settings.host,
        port=s.settings.port,
        tls=s.settings.tls,
        verify=s.settings.verify,
        colony_prvkey=colony_key,
        prvkey=None if colony_key else own_key,
        executorname=name or (None if colony_key else os.environ.get("COLONIES_EXECUTOR_NAME") or None),
    )
    options: dict[str, Any] = {
        "concurrency": concurrency,
        "poll_timeout": poll_timeout,
        "heartbeat": heartbeat or None,
        "drain_timeout": drain_timeout,
    }
    if kind == "shell":
        options["commands"] = _shell_commands(commands, config)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stdout,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        executor = cls.from_settings(settings, **options)
    except ExecutorConfigError as exc:
        raise CliError(str(exc)) from None
    log.info("Connecting to %s, colony %s", executor.colonies.url, settings.colonyname)
    for line in _what_it_runs(kind, executor):
        log.info("%s", line)
    executor.run()
