"""Entry point of the ``colonies`` command."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from .. import __version__
from . import (
    attribute,
    blueprint,
    channel,
    colony,
    cron,
    executor,
    executor_start,  # noqa: F401 - registers `colonies executor start`
    fs,
    function,
    generator,
    key,
    location,
    log,
    process,
    snapshot,
    user,
    workflow,
)
from .common import Session, command
from .server import dev, server_app

try:  # typer >= 0.20 vendors click; its exceptions derive from TyperException
    from typer import TyperException as _CliError
except ImportError:  # pragma: no cover - older typer on top of click
    from click import ClickException as _CliError

app = typer.Typer(
    name="colonies",
    help=(
        "ColonyOS in Python: run a Colonies server and drive it. "
        "Commands read upstream's COLONIES_* environment variables; a flag always beats its variable. "
        "Tables go to stdout (--json for JSON), messages and errors to stderr."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("dev")(dev)
app.add_typer(server_app, name="server")
for _name, _group in (
    ("colony", colony.app),
    ("executor", executor.app),
    ("user", user.app),
    ("function", function.app),
    ("process", process.app),
    ("workflow", workflow.app),
    ("log", log.app),
    ("cron", cron.app),
    ("generator", generator.app),
    ("attribute", attribute.app),
    ("location", location.app),
    ("key", key.app),
):
    app.add_typer(_group, name=_name)
app.add_typer(key.app, name="security", hidden=True)  # upstream's name for `key`
app.add_typer(channel.app, name="channel")
app.add_typer(blueprint.app, name="blueprint")
fs.app.add_typer(snapshot.app, name="snapshot")
app.add_typer(fs.app, name="fs")
app.add_typer(snapshot.app, name="snapshot", hidden=True)  # a shorthand for `colonies fs snapshot`


@command(app, "version", signer=None, server=False, json=True)
def version(s: Session) -> None:
    """Print the CLI's version."""
    if s.json:
        s.out.emit_json({"cliversion": __version__})
    else:
        s.out.line(f"colonies (pycolonies) {__version__}")


@command(app, "config", signer=None, colony=True, json=True)
def config(s: Session) -> None:
    """Show the connection settings the commands would use (no request is sent)."""
    rows = {"server": s.settings.url, "tls": s.settings.tls, "colony": s.settings.colonyname or ""}
    if s.json:
        s.out.emit_json(rows)
    else:
        s.out.kv(
            [("ColoniesServer", rows["server"]), ("TLS", rows["tls"]), ("Colony", rows["colony"] or "-")],
            title="Current configuration",
        )


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI. A malformed command line is one ``Error: ...`` line on stderr (exit 2) rather
    than click's usage block."""
    try:
        result = app(args=list(argv) if argv is not None else None, prog_name="colonies", standalone_mode=False)
    except _CliError as exc:
        code = int(getattr(exc, "exit_code", 2))
        if "NoArgsIsHelpError" in _class_names(exc):  # the help has been printed already
            sys.exit(code)
        message = " ".join(str(exc.format_message()).split())
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if "UsageError" in _class_names(exc) and ctx else ""
        typer.secho(f"Error: {message}{hint}", fg=typer.colors.RED, err=True)
        sys.exit(code)
    except typer.Abort:
        typer.secho("Aborted.", err=True)
        sys.exit(1)
    # Without standalone mode a command's typer.Exit(code) comes back as the return value.
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
