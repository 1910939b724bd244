"""``colonies server`` (start a server; status, info, version and stats of a running one) and
``colonies dev``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import __version__
from ..crypto import id_of
from ..server.config import ConfigError, default_data_dir, load_server_config
from .common import Session, command, group

server_app = group("Run a Colonies server, and check or query a running one.")


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
    if not config.server_id and not config.is_postgres and not Path(config.store_url).exists():
        raise _fail("no server id: set COLONIES_SERVER_ID (or COLONIES_SERVER_PRVKEY) or pass --server-id")
    typer.echo(
        f"Colonies server on {'https' if config.tls else 'http'}://{config.host}:{config.port} "
        f"(store: {config.store_label})"
    )
    if not config.is_postgres:
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


# ------------------------------------------------------------------------------------------------
# Talking to a running server


def _backend_rows(info: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Server version", info.get("buildversion", "")),
        ("Server buildtime", info.get("buildtime", "")),
    ]
    backends = info.get("backends") or []
    rows.append(("Server backends", ", ".join(str(b.get("type", "")) for b in backends) or "-"))
    for backend in backends:
        kind = str(backend.get("type", "")).upper()
        rows += [
            (f"{kind} Host", backend.get("host", "")),
            (f"{kind} Port", backend.get("port", "")),
            (f"{kind} TLS", bool(backend.get("tls"))),
        ]
    return rows


@command(server_app, "status", signer=None, json=True)
def status(s: Session) -> None:
    """Check that the server answers; show its version and the client's configuration."""
    info = s.unsigned_client.server_info()
    client = {"server": s.settings.url, "tls": s.settings.tls, "cliversion": __version__}
    if s.json:
        s.out.emit_json({"server": info, "client": client})
        return
    s.out.kv([*_backend_rows(info), ("CLI version", __version__)], title="Server")
    s.out.kv([("Server URL", s.settings.url), ("TLS", s.settings.tls)], title="Client configuration")


@command(server_app, "info", signer=None, json=True)
def info(s: Session) -> None:
    """Show the server's build and its network backends."""
    data = s.unsigned_client.server_info()
    if s.json:
        s.out.emit_json(data)
    else:
        s.out.kv(_backend_rows(data), title="Server")


@command(server_app, "version", signer=None, json=True)
def version(s: Session) -> None:
    """Show the server's and the CLI's versions."""
    data = s.unsigned_client.version()
    if s.json:
        s.out.emit_json({**data, "cliversion": __version__})
    else:
        s.out.kv(
            [
                ("Server version", data.get("buildversion", "")),
                ("Server buildtime", data.get("buildtime", "")),
                ("CLI version", __version__),
            ]
        )


@command(server_app, "stats", signer="server", json=True)
def stats(s: Session) -> None:
    """Server-wide counts of colonies, executors, processes and workflows (server owner)."""
    st = s.client.server_stats()
    if s.json:
        s.out.emit_json(st)
        return
    s.out.kv(
        [
            ("Colonies", st.get("colonies", 0)),
            ("Executors", st.get("executors", 0)),
            ("Waiting processes", st.get("waitingprocesses", 0)),
            ("Running processes", st.get("runningprocesses", 0)),
            ("Successful processes", st.get("successfulprocesses", 0)),
            ("Failed processes", st.get("failedprocesses", 0)),
            ("Waiting workflows", st.get("waitingworkflows", 0)),
            ("Running workflows", st.get("runningworkflows", 0)),
            ("Successful workflows", st.get("successfulworkflows", 0)),
            ("Failed workflows", st.get("failedworkflows", 0)),
        ],
        title="Server statistics",
    )


@server_app.command("alive")
def alive() -> None:
    """Exit 0 at once, without contacting anything (a liveness probe for the CLI itself)."""
