"""``colonies server start`` and ``colonies dev``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..crypto import id_of
from ..server.config import ConfigError, default_data_dir, load_server_config

server_app = typer.Typer(help="Run a Colonies server.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _ensure_store_free(store_url: str) -> None:
    from ..server.store.sqlite import StoreInUseError, ensure_available

    try:
        ensure_available(store_url)
    except StoreInUseError as exc:
        raise _fail(f"{exc} (stop it, or choose another --data-dir)") from None


@server_app.command("start")
def start(
    host: Annotated[str | None, typer.Option(help="Address to listen on [env: COLONIES_SERVER_HTTP_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [env: COLONIES_SERVER_HTTP_PORT, COLONIES_SERVER_PORT]")
    ] = None,
    server_id: Annotated[
        str | None, typer.Option("--server-id", help="Server owner id [env: COLONIES_SERVER_ID]")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the embedded store lives [env: COLONIES_DATA_DIR]")
    ] = None,
    db: Annotated[str | None, typer.Option(help="Store URL or SQLite file [env: COLONIES_DB]")] = None,
    tls_cert: Annotated[str | None, typer.Option(help="TLS certificate [env: COLONIES_TLSCERT]")] = None,
    tls_key: Annotated[str | None, typer.Option(help="TLS key [env: COLONIES_TLSKEY]")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log requests and background work")] = False,
) -> None:
    """Start the server (the embedded SQLite store unless --db names another)."""
    from ..server.run import run_server

    try:
        config = load_server_config(
            host=host,
            port=port,
            server_id=server_id,
            data_dir=data_dir,
            db=db,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if not config.server_id and not Path(config.store_url).exists():
        raise _fail("no server id: set COLONIES_SERVER_ID (or COLONIES_SERVER_PRVKEY) or pass --server-id")
    typer.echo(
        f"Colonies server on {'https' if config.tls else 'http'}://{config.host}:{config.port} "
        f"(store: {config.store_url})"
    )
    _ensure_store_free(config.store_url)
    run_server(config, log_level="info" if verbose else "warning")


def dev(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 50080,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    data_dir: Annotated[Path | None, typer.Option(help="Where the dev store lives [env: COLONIES_DATA_DIR]")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty store")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log requests and background work")] = False,
) -> None:
    """Run a development server with the dev colony and upstream's well-known dev keys."""
    from ..server.dev import DEV_SERVER_PRVKEY, bootstrap_dev, dev_exports
    from ..server.run import run_server

    folder = data_dir or Path(os.environ.get("COLONIES_DATA_DIR") or default_data_dir(os.environ) / "dev")
    try:
        config = load_server_config(env={}, host=host, port=port, server_id=id_of(DEV_SERVER_PRVKEY), data_dir=folder)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if fresh:
        # Only the store's own files: --data-dir may name a folder that holds other things too.
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                Path(config.store_url + suffix).unlink(missing_ok=True)
            except OSError as exc:
                raise _fail(f"--fresh could not remove {config.store_url + suffix}: {exc.strerror}") from None
    _ensure_store_free(config.store_url)
    typer.echo(f"Colonies dev server on http://{host}:{port} (store: {config.store_url})")
    typer.echo("Run this in another shell to use it:\n")
    typer.echo(dev_exports("localhost" if host in ("127.0.0.1", "0.0.0.0") else host, port))
    typer.echo("")
    run_server(config, bootstrap=bootstrap_dev, log_level="info" if verbose else "warning")
