"""Entry point of the ``colonies`` command."""

from __future__ import annotations

import typer

from .server import dev, server_app

app = typer.Typer(
    name="colonies",
    help="ColonyOS in Python: run a Colonies server and drive it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(server_app, name="server")
app.command("dev")(dev)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
