"""ColonyFS fixtures: a real S3-protocol server (moto) on loopback, the environments that select
the S3 or the local-directory store, and ``storage_env``/``fs_backend``, which run a test on both.

Environments are plain dicts: pass them as ``env=`` (``ColonyFS(..., env=storage_env)``,
``storage_from_env(env)``), or apply them with ``fs_environ`` (monkeypatch) for code that reads
``os.environ`` such as the upstream-style SDK methods. Nothing leaks into other tests.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pycolonies.fs import ColonyFS

from ..conftest import Env, free_port

FS_VARIABLES = (
    "COLONIES_FS_BACKEND",
    "COLONIES_FS_DIR",
    "AWS_S3_ENDPOINT",
    "AWS_S3_ACCESSKEY",
    "AWS_S3_SECRETKEY",
    "AWS_S3_REGION",
    "AWS_S3_TLS",
    "AWS_S3_BUCKET",
    "AWS_S3_SKIPVERIFY",
)


@dataclass
class S3Server:
    """moto's S3 server on ``127.0.0.1:port``; ``client()`` is a boto3 client for inspecting it."""

    port: int
    accesskey: str = "colonyfs-test"
    secretkey: str = "colonyfs-test-secret"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            aws_access_key_id=self.accesskey,
            aws_secret_access_key=self.secretkey,
            region_name="us-east-1",
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3-protocol HTTP server (moto) on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = S3Server(free_port())
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=server.port, verbose=False)
    moto.start()
    yield server
    moto.stop()


@pytest.fixture
def s3_env(s3_server: S3Server) -> dict[str, str]:
    """AWS_S3_* for the moto server, with a bucket of the test's own (created on first upload)."""
    return {
        "COLONIES_FS_BACKEND": "s3",
        "AWS_S3_ENDPOINT": s3_server.endpoint,
        "AWS_S3_ACCESSKEY": s3_server.accesskey,
        "AWS_S3_SECRETKEY": s3_server.secretkey,
        "AWS_S3_TLS": "false",
        "AWS_S3_SKIPVERIFY": "false",
        "AWS_S3_BUCKET": "colonyfs-" + secrets.token_hex(6),
    }


@pytest.fixture
def local_env(tmp_path: Path) -> dict[str, str]:
    """The local-directory store under the test's tmp_path."""
    return {"COLONIES_FS_BACKEND": "local", "COLONIES_FS_DIR": str(tmp_path / "objects")}


@pytest.fixture(params=["s3", "local"])
def fs_backend(request: pytest.FixtureRequest) -> str:
    """Runs the test once per object store: ``"s3"`` (moto) and ``"local"``."""
    return str(request.param)


@pytest.fixture
def storage_env(fs_backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment dict of the current ``fs_backend`` (s3_env or local_env)."""
    return dict(request.getfixturevalue(f"{fs_backend}_env"))


@pytest.fixture
def fs_environ(storage_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``storage_env`` applied to os.environ (other ColonyFS variables removed) for this test."""
    for name in FS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in storage_env.items():
        monkeypatch.setenv(name, value)
    return storage_env


@pytest.fixture
def cfs(env: Env, storage_env: dict[str, str]) -> ColonyFS:
    """A ColonyFS for the test's colony (signed by its executor) on the current backend."""
    return ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=storage_env)
