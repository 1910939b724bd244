"""Executors that die, stop or lose their server: an executor killed with SIGKILL mid-process has
the process reclaimed by the server (liveness, a short grace) and run by another executor; a live
executor's long function is not reclaimed (its heartbeats); SIGTERM drains; a second signal hands
the running process back; a server restart under a running executor loses nothing; any request
of an executor refreshes its ``lastheardfromtime``."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycolonies import Colonies, func_spec
from pycolonies.executor import PythonExecutor

from ..conftest import Env, ServerProcess, make_env
from ..server.proc_helpers import wait_for
from .support import (
    client_of,
    executor_process,
    framework_executor,
    serving,
    spec_for,
    submit_many,
    subprocess_env,
    wait_state,
)

PYTHON = "python-executor"
GRACE = 2


@pytest.fixture(scope="module")
def liveness_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that reclaims the processes of executors silent for GRACE seconds."""
    server = ServerProcess(tmp_path_factory.mktemp("liveness") / "data", env={"COLONIES_EXECUTOR_GRACE": str(GRACE)})
    server.start()
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture
def liveness_env(liveness_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(liveness_server)


def slow_once(marker: str) -> str:
    import os
    import time

    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(60)  # the first executor is killed in here
    return "done"


def nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def executor_named(env: Env, name: str) -> dict[str, object]:
    with client_of(env, env.user_prvkey) as client:
        return next(e for e in client.list_executors(env.colonyname) if e["executorname"] == name)


def id_of_executor(env: Env, name: str) -> str:
    return str(executor_named(env, name)["executorid"])


def test_a_killed_executors_processes_are_reclaimed_and_run_by_another(liveness_env: Env, tmp_path: Path) -> None:
    env = liveness_env
    marker = tmp_path / "started"
    retried = func_spec(func=slow_once, args=[str(marker)], colonyname=env.colonyname, executortype=PYTHON)
    once = func_spec(func=nap, args=[60], colonyname=env.colonyname, executortype=PYTHON, maxretries=0)
    environ = subprocess_env(env.server, env.colonyname, COLONIES_COLONY_PRVKEY=env.colony_prvkey)
    args = ["--type", "python", "--poll-timeout", "1", "--concurrency", "2"]
    with executor_process(args, environ, tmp_path / "first.log") as first:
        name = first.wait_registered()
        processes = submit_many(env, [retried, once])
        running = [wait_state(env, p.processid, (Colonies.RUNNING,)) for p in processes]
        wait_for(marker.exists)
        second = PythonExecutor(client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, poll_timeout=1)
        with serving(second):
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
            killed = time.monotonic()
            rerun = wait_state(env, processes[0].processid, timeout=GRACE + 10)
            reclaimed_after = time.monotonic() - killed
            failed = wait_state(env, processes[1].processid, timeout=5)
    assert {p.assignedexecutorid for p in running} == {id_of_executor(env, name)}
    assert rerun.state == Colonies.SUCCESSFUL and rerun.output == ["done"]
    assert rerun.assignedexecutorid == second.executorid and rerun.retries == 1  # counted as a retry
    assert GRACE - 1 < reclaimed_after < GRACE + 5
    # maxretries 0: not run again, failed with the reason
    assert failed.state == Colonies.FAILED
    assert failed.errors == [f"Executor {name} stopped responding (not heard from for {GRACE} s)"]
    assert executor_named(env, name)["state"] == 1  # still registered: only its processes went


def test_a_live_executor_with_a_long_function_keeps_its_process(liveness_env: Env) -> None:
    env = liveness_env
    calls: list[float] = []
    executor = framework_executor(env, "long", heartbeat=0.5)

    @executor.function
    def long(seconds: float) -> str:
        calls.append(seconds)
        time.sleep(seconds)
        return "finished"

    with serving(executor):
        process = submit_many(env, [spec_for(env, "long", "long", [GRACE + 2])])[0]
        done = wait_state(env, process.processid, timeout=GRACE + 10)
    assert done.state == Colonies.SUCCESSFUL and done.output == ["finished"]
    assert done.retries == 0 and calls == [GRACE + 2]  # run once, never reclaimed


def test_sigterm_drains_running_processes_and_assigns_no_more(env: Env, tmp_path: Path) -> None:
    environ = subprocess_env(env.server, env.colonyname, COLONIES_COLONY_PRVKEY=env.colony_prvkey)
    args = ["--type", "python", "--concurrency", "2", "--executortype", "drain-" + env.colonyname]
    specs = [func_spec(func=nap, args=[1.5], colonyname=env.colonyname, executortype=args[-1]) for _ in range(3)]
    with executor_process(args, environ, tmp_path / "drain.log") as running:
        name = running.wait_registered()
        processes = submit_many(env, specs)
        with client_of(env, env.user_prvkey) as client:
            wait_for(lambda: sum(client.get_process(p.processid).state == Colonies.RUNNING for p in processes) == 2)
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(10) == 0, running.output
        output = running.output
    with client_of(env, env.user_prvkey) as client:
        done = [client.get_process(p.processid) for p in processes]
    assert sorted(p.state for p in done) == [Colonies.WAITING, Colonies.SUCCESSFUL, Colonies.SUCCESSFUL]
    assert all(p.output == [1.5] for p in done if p.state == Colonies.SUCCESSFUL)
    waiting = next(p for p in done if p.state == Colonies.WAITING)
    assert waiting.assignedexecutorid == ""  # never assigned
    assert "SIGTERM received, stopping" in output
    assert "waiting for 2 running process(es) to finish" in output
    assert f"Executor {name} unregistered" in output and "Traceback" not in output
    assert executor_named(env, name)["state"] == 3


def test_a_second_signal_hands_the_running_process_back(env: Env, tmp_path: Path) -> None:
    environ = subprocess_env(env.server, env.colonyname, COLONIES_COLONY_PRVKEY=env.colony_prvkey)
    kind = "handback-" + env.colonyname
    with executor_process(["--type", "python", "--executortype", kind], environ, tmp_path / "hb.log") as running:
        name = running.wait_registered()
        process = submit_many(env, [func_spec(func=nap, args=[30], colonyname=env.colonyname, executortype=kind)])[0]
        wait_state(env, process.processid, (Colonies.RUNNING,))
        running.proc.send_signal(signal.SIGTERM)
        running.wait_for_text("waiting for 1 running process(es)")
        started = time.monotonic()
        running.proc.send_signal(signal.SIGINT)
        assert running.proc.wait(10) == 130, running.output
        assert time.monotonic() - started < 5
        output = running.output
    back = wait_state(env, process.processid, (Colonies.WAITING,))
    assert back.assignedexecutorid == ""
    assert "handing back 1 unfinished process(es)" in output and process.processid in output
    assert executor_named(env, name)["state"] == 3


@pytest.fixture
def own_env(own_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(own_server)


def test_a_server_restart_under_a_running_executor_loses_nothing(own_env: Env, own_server: ServerProcess) -> None:
    env = own_env
    executor = framework_executor(env, "restart")
    calls: list[str] = []

    @executor.function
    def quick(tag: str) -> str:
        calls.append(tag)
        return tag

    @executor.function
    def slowish(tag: str, seconds: float) -> str:
        calls.append(tag)
        time.sleep(seconds)
        return tag

    with serving(executor):
        before = wait_state(env, submit_many(env, [spec_for(env, "restart", "quick", ["before"])])[0].processid)
        during = submit_many(env, [spec_for(env, "restart", "slowish", ["during", 2.5])])[0]
        wait_state(env, during.processid, (Colonies.RUNNING,))
        own_server.restart()  # the function finishes while the server is away or just back
        during_done = wait_state(env, during.processid, timeout=30)
        after = wait_state(env, submit_many(env, [spec_for(env, "restart", "quick", ["after"])])[0].processid)
        assert not executor.stopping  # still serving (serving() also fails on an error of run())
    assert [p.output for p in (before, during_done, after)] == [["before"], ["during"], ["after"]]
    assert {p.assignedexecutorid for p in (before, during_done, after)} == {executor.executorid}
    assert calls == ["before", "during", "after"]  # nothing ran twice


def test_any_request_of_an_executor_refreshes_lastheardfromtime(env: Env) -> None:
    assert executor_named(env, env.executorname)["lastheardfromtime"].startswith("0001-01-01")
    with client_of(env, env.executor_prvkey) as executor_client:
        executor_client.get_colony(env.colonyname)  # not an assign
    heard = str(executor_named(env, env.executorname)["lastheardfromtime"])
    assert not heard.startswith("0001-01-01")


def test_an_executor_started_while_its_server_is_down_waits_for_it(own_env: Env, own_server: ServerProcess) -> None:
    env = own_env
    own_server.stop()
    executor = framework_executor(env, "early")
    executor.register(nap)
    thread = threading.Thread(target=executor.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # a few failed attempts to register
        assert thread.is_alive() and not executor._started
        own_server.start()
        wait_for(lambda: executor._started, timeout=15)
        done = wait_state(env, submit_many(env, [spec_for(env, "early", "nap", [0])])[0].processid)
        assert done.output == [0]
    finally:
        executor.stop()
        thread.join(10)
    assert not thread.is_alive()
