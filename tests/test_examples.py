"""The examples/ scripts as a user runs them: ``colonies dev`` in a subprocess, its printed
``export`` lines as the environment, ``examples/python_executor.py`` in one process and each submit
script in another; every script prints its result last."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycolonies import Colonies

from .test_dev import DEV_PRVKEY, EXAMPLES, DevServer, clean_env, find_executor


@pytest.fixture(scope="module")
def dev_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, dict[str, str]]]:
    server = DevServer(tmp_path_factory.mktemp("examples") / "data")
    server.start()
    yield server, clean_env(**{k: v for k, v in server.exports().items() if k.startswith("COLONIES_")})
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait(10)


@pytest.fixture(scope="module")
def python_executor(
    dev_env: tuple[DevServer, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    _, env = dev_env
    log = tmp_path_factory.mktemp("executor") / "python_executor.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", str(EXAMPLES / "python_executor.py")], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 15
    while " registered in colony dev" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    yield proc, log
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def run_example(name: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


@pytest.mark.parametrize(
    ("script", "result"),
    [
        ("submit_python.py", "3"),
        ("workflow_example.py", "3"),
        ("mapreduce_example.py", "15"),
        ("workflow_builder_example.py", "11"),
    ],
)
def test_example_prints_its_result(
    script: str,
    result: str,
    dev_env: tuple[DevServer, dict[str, str]],
    python_executor: tuple[subprocess.Popen[bytes], Path],
) -> None:
    lines = run_example(script, dev_env[1])
    assert lines[-1] == result
    kind, objectid = lines[0].split()[:2]
    assert kind in ("Process", "Workflow") and lines[0].endswith(" submitted")
    with Colonies("localhost", dev_env[0].port) as client:
        if kind == "Workflow":
            graph = client.get_processgraph(objectid, DEV_PRVKEY)
            assert graph.state == Colonies.SUCCESSFUL
            processes = [client.get_process(pid, DEV_PRVKEY) for pid in graph.processids]
        else:
            processes = [client.get_process(objectid, DEV_PRVKEY)]
    assert all(p.state == Colonies.SUCCESSFUL for p in processes)
    executors = {p.assignedexecutorid for p in processes}
    assert len(executors) == 1  # all run by examples/python_executor.py
    assert python_executor[0].poll() is None
    if script == "mapreduce_example.py":
        names = ["map", "reduce", *(f"gen_nums_{i}" for i in range(5))]
        assert sorted(p.spec.nodename for p in processes) == sorted(names)


def test_python_executor_example_unregisters_on_ctrl_c(
    dev_env: tuple[DevServer, dict[str, str]], python_executor: tuple[subprocess.Popen[bytes], Path]
) -> None:
    proc, log = python_executor
    name = log.read_text().split("Executor ", 1)[1].split()[0]
    with Colonies("localhost", dev_env[0].port) as client:
        assert find_executor(client, name)["state"] == 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0, log.read_text()
        assert find_executor(client, name)["state"] == 3
    assert f"Executor {name} unregistered" in log.read_text()
