"""The executor examples and the built-in executors as a user runs them against ``colonies dev``:
``examples/async_executor.py`` with ``submit_async.py``, and ``colonies executor start --type
echo|python|shell`` with ``submit_echo.py``, ``submit_python.py`` and
``examples/shell_executor.toml``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycolonies import Colonies, Process, func_spec

from ..test_dev import DEV_PRVKEY, EXAMPLES, DevServer, clean_env
from .support import executor_process


@pytest.fixture(scope="module")
def dev_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, dict[str, str]]]:
    server = DevServer(tmp_path_factory.mktemp("executor-examples") / "data")
    server.start()
    yield server, clean_env(**{k: v for k, v in server.exports().items() if k.startswith("COLONIES_")})
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait(10)


def wait_done(client: Colonies, processid: str, timeout: float = 20) -> Process:
    deadline = time.monotonic() + timeout
    while (process := client.get_process(processid, DEV_PRVKEY)).state not in (Colonies.SUCCESSFUL, Colonies.FAILED):
        assert time.monotonic() < deadline, f"process {processid} still in state {process.state}"
        time.sleep(0.05)
    return process


def run_example(name: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_async_executor_example_runs_eight_squares_at_once(
    dev_env: tuple[DevServer, dict[str, str]], tmp_path: Path
) -> None:
    _, env = dev_env
    log = tmp_path / "async.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", str(EXAMPLES / "async_executor.py")], env=env, stdout=out, stderr=out
        )
    try:
        lines = run_example("submit_async.py", env)
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, log.read_text()
    assert lines[0].startswith("Workflow ") and lines[-1] == "140"
    seconds = float(lines[1].split(" in ")[1].split()[0])
    assert seconds < 5, lines  # eight one-second squares at once (one after the other: 8 s)
    text = log.read_text()
    assert "registered in colony dev" in text and "unregistered" in text


def test_colonies_executor_start_echo_serves_submit_echo(
    dev_env: tuple[DevServer, dict[str, str]], tmp_path: Path
) -> None:
    _, env = dev_env
    with executor_process(["--type", "echo"], env, tmp_path / "echo.log") as echo:
        name = echo.wait_registered()
        lines = run_example("submit_echo.py", env)
        echo.proc.terminate()
        assert echo.proc.wait(10) == 0
    assert lines[-1] == "hello world"
    assert f"Connecting to http://localhost:{dev_env[0].port}/api, colony dev" in echo.output
    assert "Runs echo: closes each process with its first argument" in echo.output
    assert f"Executor {name} unregistered" in echo.output


def test_colonies_executor_start_python_serves_submit_python(
    dev_env: tuple[DevServer, dict[str, str]], tmp_path: Path
) -> None:
    _, env = dev_env
    args = ["--type", "python", "--concurrency", "4", "--executortype", "python-executor"]
    with executor_process(args, env, tmp_path / "python.log") as python:
        python.wait_registered()
        lines = run_example("submit_python.py", env)
    assert lines[-1] == "3"
    assert "Runs the Python function each process carries" in python.output


def test_colonies_executor_start_shell_runs_the_configured_commands(
    dev_env: tuple[DevServer, dict[str, str]], tmp_path: Path
) -> None:
    server, env = dev_env
    config = EXAMPLES / "shell_executor.toml"
    args = ["--type", "shell", "--config", str(config), "--command", "shout=tr a-z A-Z"]
    with executor_process(args, env, tmp_path / "shell.log") as shell, server.client() as client:
        shell.wait_registered()
        submitted = [
            func_spec("wordcount", ["to be or not to be"], "dev", "shell-executor", maxexectime=30),
            func_spec("greet", ["a; rm -rf /", "b"], "dev", "shell-executor", maxexectime=30),
            func_spec("today", [], "dev", "shell-executor", maxexectime=30),
            func_spec("wordcount", [], "dev", "shell-executor", maxexectime=30),
            func_spec("rm", ["-rf", "/"], "dev", "shell-executor", maxexectime=30),
        ]
        processes = [client.submit_func_spec(spec, DEV_PRVKEY) for spec in submitted]
        done = [wait_done(client, p.processid) for p in processes]
    wordcount, greet, today, missing_arg, unknown = done
    assert wordcount.output == ["6"]
    assert greet.output == ["hello a; rm -rf / b"]  # one argv element each, no shell
    assert today.state == Colonies.SUCCESSFUL and len(today.output[0]) == 10
    assert missing_arg.state == Colonies.FAILED
    assert missing_arg.errors == ["CommandError: wordcount needs at least 1 argument(s), the process has 0"]
    assert unknown.state == Colonies.FAILED and unknown.errors[0].startswith("CommandError: Unsupported function: rm")
    assert "  wordcount: python3 -c " in shell.output and "  shout: tr a-z A-Z" in shell.output
