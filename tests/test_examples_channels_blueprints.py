"""The channel and blueprint examples as a user runs them: ``colonies dev`` in a subprocess, its
printed ``export`` lines as the environment, each script in its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from .test_dev import EXAMPLES, DevServer, clean_env


@pytest.fixture(scope="module")
def dev_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    server = DevServer(tmp_path_factory.mktemp("examples") / "data")
    server.start()
    yield clean_env(**{k: v for k, v in server.exports().items() if k.startswith("COLONIES_")})
    server.stop()


def run_example(name: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_channel_progress(dev_env: dict[str, str]) -> None:
    lines = run_example("channel_progress.py", dev_env)
    assert lines[0].startswith("Process ") and lines[0].endswith(" submitted")
    assert lines[1:] == ["progress 1/3", "progress 2/3", "progress 3/3", "done"]


def test_blueprint_reconciler(dev_env: dict[str, str]) -> None:
    assert run_example("blueprint_reconciler.py", dev_env) == [
        '{"power": true}',
        '{"power": false, "brightness": 30}',
        "{}",
    ]
