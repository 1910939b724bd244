"""Fixtures that start the real server: a ``colonies server start`` subprocess on a free loopback
port with its own data directory and store (a SQLite file, or with COLONIES_TEST_BACKEND=postgres a
fresh PostgreSQL database: see tests/backends.py), plus helpers to create colonies and executors."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pycolonies import Colonies
from pycolonies.crypto import generate_prvkey, id_of

from .backends import POSTGRES, create_database

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
SERVER_ID = id_of(SERVER_PRVKEY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A real server in a subprocess; ``restart`` keeps the data directory (and the database)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS (COLONIES_TLSCERT and COLONIES_TLSKEY in ``env``)."""
        return "COLONIES_TLSCERT" in self.env

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            {
                "COLONIES_SERVER_ID": SERVER_ID,
                "COLONIES_SERVER_HTTP_HOST": "127.0.0.1",
                "COLONIES_SERVER_PORT": str(self.port),
                "COLONIES_DATA_DIR": str(self.data_dir),
            }
        )
        env.pop("COLONIES_SERVER_HTTP_PORT", None)
        if POSTGRES and "COLONIES_DB" not in self.env:
            self.env["COLONIES_DB"] = create_database()
            self.env.setdefault("COLONIES_DB_POOL_SIZE", "4")
        env.update(self.env)
        self.log_path = self.data_dir / "server.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pycolonies.cli.main", "server", "start"], env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5, verify=False).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


# With COLONIES_TEST_BACKEND=postgres these modules would run exactly as in the SQLite pass, so
# that pass covers them: `colonies dev` always runs the embedded store, and the rest use no store.
_SAME_ON_EVERY_BACKEND = {
    "tests/test_dev.py": "colonies dev always runs the embedded SQLite store",
    "tests/test_examples.py": "runs against colonies dev (the embedded SQLite store)",
    "tests/test_examples_channels_blueprints.py": "runs against colonies dev (the embedded SQLite store)",
    "tests/executor/test_examples.py": "runs against colonies dev (the embedded SQLite store)",
    "tests/test_crypto.py": "uses no store",
    "tests/test_models.py": "uses no store",
    "tests/test_wire.py": "uses no store",
    "tests/test_func_spec.py": "uses no store",
    "tests/test_public_api.py": "uses no store",
    "tests/test_workflow_builder.py": "uses no store",
    "tests/server/test_cronexpr.py": "uses no store",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not POSTGRES:
        return
    root = Path(__file__).parent.parent
    for item in items:
        reason = _SAME_ON_EVERY_BACKEND.get(Path(item.path).relative_to(root).as_posix())
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"covered by the SQLite pass: {reason}"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session; tests isolate themselves with fresh colonies."""
    srv = ServerProcess(tmp_path_factory.mktemp("server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, for tests that stop, kill or reconfigure it."""
    srv = ServerProcess(tmp_path / "data")
    srv.start()
    yield srv
    srv.stop(signal.SIGKILL)


@dataclass
class Env:
    """A fresh colony with an approved executor and a user, on a running server."""

    client: Colonies
    server: ServerProcess
    colonyname: str
    colony_prvkey: str
    executor_prvkey: str
    executorname: str
    executortype: str
    user_prvkey: str
    username: str
    server_prvkey: str = SERVER_PRVKEY

    def add_executor(
        self, executortype: str | None = None, *, approve: bool = True, **extra: object
    ) -> tuple[str, str]:
        """Register another executor; returns (name, private key)."""
        prvkey = generate_prvkey()
        name = "executor-" + secrets.token_hex(4)
        executor = {
            "executorname": name,
            "executorid": id_of(prvkey),
            "colonyname": self.colonyname,
            "executortype": executortype or self.executortype,
            **extra,
        }
        self.client.add_executor(executor, self.colony_prvkey)
        if approve:
            self.client.approve_executor(self.colonyname, name, self.colony_prvkey)
        return name, prvkey


def make_env(server: ServerProcess) -> Iterator[Env]:
    client = Colonies("127.0.0.1", server.port, tls=False)
    colony_prvkey = generate_prvkey()
    colonyname = "colony-" + secrets.token_hex(5)
    client.add_colony({"colonyid": id_of(colony_prvkey), "name": colonyname}, SERVER_PRVKEY)
    executor_prvkey = generate_prvkey()
    executorname = "executor-" + secrets.token_hex(4)
    executortype = "type-" + secrets.token_hex(3)
    client.add_executor(
        {
            "executorname": executorname,
            "executorid": id_of(executor_prvkey),
            "colonyname": colonyname,
            "executortype": executortype,
        },
        colony_prvkey,
    )
    client.approve_executor(colonyname, executorname, colony_prvkey)
    user_prvkey = generate_prvkey()
    username = "user-" + secrets.token_hex(4)
    client.add_user(
        {"colonyname": colonyname, "userid": id_of(user_prvkey), "name": username, "email": "", "phone": ""},
        colony_prvkey,
    )
    env = Env(
        client, server, colonyname, colony_prvkey, executor_prvkey, executorname, executortype, user_prvkey, username
    )
    yield env
    try:
        client.del_colony(colonyname, SERVER_PRVKEY)
    except Exception:
        pass
    client.close()


@pytest.fixture
def env(server: ServerProcess) -> Iterator[Env]:
    """A fresh colony on the shared server."""
    yield from make_env(server)
