"""``colonies dev`` as a user meets it: a subprocess on a free port with its own data directory.

Covers the printed ``export`` lines, the well-known dev identities, restarts on the same data
directory and ``--fresh``; runs the seed README's "Submitting a Function" and "Implementing an
Executor" snippets verbatim (only the port is changed, by text substitution) and upstream's own
example style (``examples/echo_executor.py`` + ``examples/submit_echo.py``); and checks that bad
flags and bad environment values end the CLI with a one-line error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from pycolonies import Colonies, ColoniesError, NotFoundError, colonies_client, func_spec
from pycolonies.crypto import id_of

from .conftest import SERVER_ID, free_port

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
DEV_COLONY_ID = "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4"
DEV_COLONY_PRVKEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
DEV_PRVKEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
DEV_ID = "3fc05cf3df4b494e95d6a3d297a34f19938f7daa7422ab0d4f794454133341ac"

# The seed README's snippets, verbatim (/work/shared/seed/pycolonies-README.md). Kept here so the
# tests are self-contained; the tests only replace the port 50080.
SEED_SUBMIT_SNIPPET = """\
from pycolonies import Colonies, func_spec

client = Colonies("localhost", 50080, tls=False)
prvkey = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"

spec = func_spec(
    func="echo",
    args=["hello world"],
    colonyname="dev",
    executortype="container-executor",
    maxexectime=60,
    maxwaittime=60
)

process = client.submit_func_spec(spec, prvkey)
print(f"Process submitted: {process.processid}")
"""

SEED_EXECUTOR_SNIPPET = """\
from pycolonies import Colonies
from crypto import Crypto

client = Colonies("localhost", 50080, tls=False)
colony_prvkey = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"

# Generate executor keys
crypto = Crypto()
executor_prvkey = crypto.prvkey()
executorid = crypto.id(executor_prvkey)

# Register executor
executor = {
    "executorname": "my-executor",
    "executorid": executorid,
    "colonyname": "dev",
    "executortype": "python-executor"
}
client.add_executor(executor, colony_prvkey)
client.approve_executor(executorid, colony_prvkey)

# Process loop
while True:
    process = client.assign("dev", 10, executor_prvkey)
    if process:
        result = process.spec.args[0]  # Echo the first arg
        client.close(process.processid, [result], executor_prvkey)
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without COLONIES_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLONIES_")}
    env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pycolonies.cli.main", *args]


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class DevServer:
    """``colonies dev`` in a subprocess; ``output`` is what it printed (stdout + stderr)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, *extra: str) -> None:
        self.log = self.data_dir.parent / f"dev-{self.port}-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                cli("dev", "--port", str(self.port), "--data-dir", str(self.data_dir), *extra),
                env=clean_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"colonies dev exited {self.proc.returncode}: {self.output}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"colonies dev did not start: {self.output}")

    @property
    def output(self) -> str:
        return self.log.read_text() if self.log else ""

    def exports(self) -> dict[str, str]:
        return dict(
            line.removeprefix("export ").split("=", 1)
            for line in self.output.splitlines()
            if line.startswith("export ")
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def client(self) -> Colonies:
        return Colonies("localhost", self.port, tls=False)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("dev") / "data")
    server.start()
    yield server
    # SIGKILL: a graceful stop would wait for the long polls of the killed executors to time out
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait(10)


@pytest.fixture
def dev_client(dev: DevServer) -> Iterator[Colonies]:
    with dev.client() as client:
        yield client


def run_script(source: str, port: int, cwd: Path, name: str) -> subprocess.CompletedProcess[str]:
    script = cwd / name
    script.write_text(source.replace("50080", str(port)))
    return subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=30
    )


def find_executor(client: Colonies, name: str) -> dict[str, Any] | None:
    for executor in client.list_executors("dev", DEV_PRVKEY) or []:
        if executor["executorname"] == name:
            return executor
    return None


# ------------------------------------------------------------------------------------------------
# What `colonies dev` prints and sets up


def test_dev_prints_exports(dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    exports = dev.exports()
    assert exports["COLONIES_SERVER_HOST"] == "localhost"
    assert exports["COLONIES_SERVER_PORT"] == str(dev.port)
    assert exports["COLONIES_TLS"] == "false"
    assert exports["COLONIES_SERVER_TLS"] == "false"
    assert exports["COLONIES_SERVER_ID"] == SERVER_ID
    assert exports["COLONIES_SERVER_PRVKEY"] == SERVER_PRVKEY
    assert exports["COLONIES_COLONY_NAME"] == "dev"
    assert exports["COLONIES_COLONY_ID"] == DEV_COLONY_ID
    assert exports["COLONIES_COLONY_PRVKEY"] == DEV_COLONY_PRVKEY
    assert exports["COLONIES_PRVKEY"] == DEV_PRVKEY
    assert exports["COLONIES_EXECUTOR_NAME"] == "dev-executor"
    assert f"http://127.0.0.1:{dev.port}" in dev.output

    # The printed lines are enough for upstream's colonies_client() to reach the dev colony.
    for key, value in exports.items():
        monkeypatch.setenv(key, value)
    client, colonyname, colony_prvkey, executorname, prvkey = colonies_client()
    with client:
        assert (colonyname, colony_prvkey, executorname, prvkey) == (
            "dev",
            DEV_COLONY_PRVKEY,
            "dev-executor",
            DEV_PRVKEY,
        )
        assert client.get_colony(colonyname, prvkey)["colonyid"] == DEV_COLONY_ID


def test_dev_identities(dev_client: Colonies) -> None:
    assert id_of(DEV_COLONY_PRVKEY) == DEV_COLONY_ID
    assert id_of(DEV_PRVKEY) == DEV_ID
    colonies = dev_client.list_colonies(SERVER_PRVKEY)
    assert {"colonyid": DEV_COLONY_ID, "name": "dev"} in [{k: c[k] for k in ("colonyid", "name")} for c in colonies]
    assert dev_client.get_colony("dev", DEV_PRVKEY)["colonyid"] == DEV_COLONY_ID

    executor = find_executor(dev_client, "dev-executor")
    assert executor is not None
    assert executor["executorid"] == DEV_ID
    assert executor["state"] == 1  # approved
    assert dev_client.get_executor("dev", "dev-executor", DEV_PRVKEY)["executorid"] == DEV_ID

    users = dev_client.get_users("dev", DEV_PRVKEY)
    assert [u["userid"] for u in users] == [DEV_ID]

    # the dev key may do an executor's work in dev: submit, assign, close
    spec = func_spec("ping", ["pong"], "dev", executor["executortype"], maxexectime=60, maxwaittime=60)
    submitted = dev_client.submit_func_spec(spec, DEV_PRVKEY)
    assigned = dev_client.assign("dev", 5, DEV_PRVKEY)
    assert assigned is not None and assigned.processid == submitted.processid
    dev_client.close(assigned.processid, ["pong"], DEV_PRVKEY)
    assert dev_client.get_process(submitted.processid, DEV_PRVKEY).output == ["pong"]


def test_dev_restart_keeps_data_and_fresh_wipes(tmp_path: Path) -> None:
    server = DevServer(tmp_path / "data")
    (tmp_path / "data").mkdir()
    keep = tmp_path / "data" / "not-the-store.txt"
    keep.write_text("mine")
    server.start()
    try:
        with server.client() as client:
            spec = func_spec("echo", ["persisted"], "dev", "nobody-runs-this", maxexectime=60, maxwaittime=600)
            process = client.submit_func_spec(spec, DEV_PRVKEY)

        # Same data dir: starts although colony, executor and user exist; the process is still there.
        server.stop()
        server.start()
        assert server.exports()["COLONIES_COLONY_NAME"] == "dev"
        with server.client() as client:
            again = client.get_process(process.processid, DEV_PRVKEY)
            assert again.spec.args == ["persisted"] and again.state == Colonies.WAITING
            assert [e["executorname"] for e in client.list_executors("dev", DEV_PRVKEY)] == ["dev-executor"]
            assert [u["userid"] for u in client.get_users("dev", DEV_PRVKEY)] == [DEV_ID]
            assert [c["name"] for c in client.list_colonies(SERVER_PRVKEY)] == ["dev"]

        # --fresh: an empty store with the dev identities again; other files are left alone.
        server.stop()
        server.start("--fresh")
        with server.client() as client:
            with pytest.raises(NotFoundError):
                client.get_process(process.processid, DEV_PRVKEY)
            assert client.list_processes("dev", 10, Colonies.WAITING, DEV_PRVKEY) in (None, [])
            assert find_executor(client, "dev-executor")["state"] == 1
            assert client.get_colony("dev", DEV_PRVKEY)["colonyid"] == DEV_COLONY_ID
        assert keep.read_text() == "mine"
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------
# The seed README's snippets, verbatim


def test_seed_readme_submit_snippet(dev: DevServer, dev_client: Colonies, tmp_path: Path) -> None:
    result = run_script(SEED_SUBMIT_SNIPPET, dev.port, tmp_path, "submit.py")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("Process submitted: "), result.stdout
    processid = line.removeprefix("Process submitted: ")

    process = dev_client.get_process(processid, DEV_PRVKEY)
    assert process.state == Colonies.WAITING
    assert process.spec.funcname == "echo" and process.spec.args == ["hello world"]
    assert process.spec.conditions.colonyname == "dev"
    assert process.spec.conditions.executortype == "container-executor"
    assert (process.spec.maxexectime, process.spec.maxwaittime) == (60, 60)
    assert process.initiatorid == DEV_ID
    dev_client.remove_process(processid, DEV_PRVKEY)


def test_seed_readme_executor_snippet(dev: DevServer, dev_client: Colonies, tmp_path: Path) -> None:
    script = tmp_path / "executor.py"
    script.write_text(SEED_EXECUTOR_SNIPPET.replace("50080", str(dev.port)))
    log = tmp_path / "executor.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=clean_env(), stdout=out, stderr=out)
    try:

        def registered() -> dict[str, Any] | None:
            assert proc.poll() is None, f"the snippet exited {proc.returncode}: {log.read_text()}"
            executor = find_executor(dev_client, "my-executor")
            return executor if executor and executor["state"] == 1 else None

        executor = eventually(registered, 15, "the snippet's executor to be registered and approved")
        assert executor["executortype"] == "python-executor"

        results = []
        for word in ("hello from the test", "and again"):
            spec = func_spec("echo", [word, "ignored"], "dev", "python-executor", maxexectime=60, maxwaittime=60)
            submitted = dev_client.submit_func_spec(spec, DEV_PRVKEY)

            def closed(pid: str = submitted.processid) -> Any:
                assert proc.poll() is None, f"the snippet exited {proc.returncode}: {log.read_text()}"
                process = dev_client.get_process(pid, DEV_PRVKEY)
                return process if process.state == Colonies.SUCCESSFUL else None

            done = eventually(closed, 15, "the snippet's executor to close the process")
            assert done.assignedexecutorid == executor["executorid"]
            results.append(done.output)
        assert results == [["hello from the test"], ["and again"]]
        assert proc.poll() is None  # the loop keeps going
    finally:
        proc.kill()
        proc.wait(10)


# ------------------------------------------------------------------------------------------------
# Upstream's example style: approve_executor(colonyname, executorname, colony_prvkey), an assign
# loop inside try/except, wait() on the submitting side, SIGINT unregisters.


def test_upstream_style_examples(dev: DevServer, dev_client: Colonies, tmp_path: Path) -> None:
    env = clean_env(**{k: v for k, v in dev.exports().items() if k.startswith("COLONIES_")})
    log = tmp_path / "echo_executor.log"
    with open(log, "wb") as out:
        executor_proc = subprocess.Popen(
            [sys.executable, "-u", str(EXAMPLES / "echo_executor.py")], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:

        def registered() -> str | None:
            assert executor_proc.poll() is None, f"echo_executor exited: {log.read_text()}"
            for line in log.read_text().splitlines():
                if line.startswith("Executor ") and line.endswith(" registered"):
                    return line.split()[1]
            return None

        name = eventually(registered, 15, "echo_executor.py to register")
        assert "registered" in log.read_text() and "rror" not in log.read_text()
        assert find_executor(dev_client, name)["state"] == 1
        functions = dev_client.get_functions_by_executor("dev", name, DEV_PRVKEY)
        assert [f["funcname"] for f in functions] == ["echo"]

        submit = subprocess.run(
            [sys.executable, str(EXAMPLES / "submit_echo.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert submit.returncode == 0, submit.stderr
        lines = submit.stdout.strip().splitlines()
        assert lines[0].startswith("Process ") and lines[0].endswith(" submitted")
        assert lines[-1] == "hello world"
        processid = lines[0].split()[1]
        process = dev_client.get_process(processid, DEV_PRVKEY)
        assert process.state == Colonies.SUCCESSFUL and process.output == ["hello world"]
        assert process.assignedexecutorid == find_executor(dev_client, name)["executorid"]

        # Ctrl-C: the example unregisters its executor and exits
        executor_proc.send_signal(signal.SIGINT)
        assert executor_proc.wait(15) == 0, log.read_text()
        assert f"Executor {name} unregistered" in log.read_text()
        assert find_executor(dev_client, name)["state"] == 3
    finally:
        if executor_proc.poll() is None:
            executor_proc.kill()
            executor_proc.wait(10)


# ------------------------------------------------------------------------------------------------
# Bad command lines and environments: a one-line error and a non-zero exit


@dataclass
class BadRun:
    args: list[str]
    env: dict[str, str]
    expect: str


def bad_runs(tmp: Path) -> dict[str, BadRun]:
    owner = {"COLONIES_SERVER_ID": SERVER_ID, "COLONIES_DATA_DIR": str(tmp / "store")}
    return {
        "dev port not a number": BadRun(["dev", "--port", "abc", "--data-dir", str(tmp / "a")], {}, "--port"),
        "dev port out of range": BadRun(["dev", "--port", "70000", "--data-dir", str(tmp / "b")], {}, "70000"),
        "dev unknown flag": BadRun(["dev", "--prot", "1"], {}, "--prot"),
        "dev flag without value": BadRun(["dev", "--port"], {}, "--port"),
        "unknown command": BadRun(["devv"], {}, "devv"),
        "start without server id": BadRun(
            ["server", "start", "--port", "0"], {"COLONIES_DATA_DIR": str(tmp / "empty")}, "COLONIES_SERVER_ID"
        ),
        "start port env not a number": BadRun(
            ["server", "start"], {**owner, "COLONIES_SERVER_PORT": "abc"}, "COLONIES_SERVER_PORT"
        ),
        "start reregister env not a boolean": BadRun(
            ["server", "start", "--port", "0"],
            {**owner, "COLONIES_ALLOW_EXECUTOR_REREGISTER": "maybe"},
            "COLONIES_ALLOW_EXECUTOR_REREGISTER",
        ),
        "start server id malformed": BadRun(
            ["server", "start", "--port", "0"],
            {"COLONIES_DATA_DIR": str(tmp / "store"), "COLONIES_SERVER_ID": "xyz"},
            "COLONIES_SERVER_ID",
        ),
        "start port flag not a number": BadRun(["server", "start", "--port", "http"], owner, "--port"),
    }


def check_one_line_error(label: str, case: BadRun, code: int | None, stdout: str, stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code not in (0, None), f"{label}: exited {code}; stdout={stdout!r}"
    assert len(lines) == 1, f"{label}: expected one line, got {stderr!r}"
    assert lines[0].startswith("Error: "), f"{label}: {lines[0]!r}"
    assert case.expect in lines[0], f"{label}: {lines[0]!r}"
    assert "Traceback" not in stdout + stderr, label


@pytest.mark.parametrize("label", list(bad_runs(Path("/tmp"))))
def test_bad_command_line_or_env_is_one_line_error(
    label: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process through the ``colonies`` entry point (fast); the next test does it for real."""
    from pycolonies.cli.main import main

    case = bad_runs(tmp_path)[label]
    for key in list(os.environ):
        if key.startswith("COLONIES_"):
            monkeypatch.delenv(key)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exited:
        main(case.args)
    out = capsys.readouterr()
    check_one_line_error(label, case, exited.value.code, out.out, out.err)
    # nothing was created by the failed start
    assert not (tmp_path / "store" / "colonies.db").exists()
    assert not (tmp_path / "empty" / "colonies.db").exists()


def test_bad_command_lines_in_a_subprocess(tmp_path: Path) -> None:
    runs = bad_runs(tmp_path)
    labels = ["dev port not a number", "start without server id", "start reregister env not a boolean"]

    def run(case: BadRun) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli(*case.args), env=clean_env(**case.env), capture_output=True, text=True, timeout=30, cwd=tmp_path
        )

    with ThreadPoolExecutor(len(labels)) as pool:
        results = dict(zip(labels, pool.map(run, [runs[label] for label in labels]), strict=True))
    for label, result in results.items():
        check_one_line_error(label, runs[label], result.returncode, result.stdout, result.stderr)
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


def test_dev_help_still_works() -> None:
    """``--help`` still works (exit 0) through the one-line error wrapper."""
    result = subprocess.run(cli("dev", "--help"), env=clean_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "--fresh" in result.stdout and "--data-dir" in result.stdout


def test_sdk_reports_unreachable_server() -> None:
    """Sanity: the snippets' client against a port where nothing listens raises, not hangs."""
    with Colonies("localhost", free_port(), tls=False, timeout=5) as client, pytest.raises(ColoniesError):
        client.get_colony("dev", DEV_PRVKEY)
