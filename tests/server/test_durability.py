"""Durability across server restarts on the same data directory: graceful (SIGTERM) and crash
(SIGKILL). What the server acknowledged must still be there, and no process is handed out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pycolonies import Colonies, TransportError
from pycolonies.crypto import id_of

from ..backends import sqlite_only
from ..conftest import SERVER_ID, Env, ServerProcess, free_port, make_env
from .proc_helpers import Background, assign, call_ok, get, submit


@pytest.fixture
def own_env(own_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(own_server)


def _history(env: Env, state: int) -> list[dict[str, Any]]:
    msg = {
        "msgtype": "getprocesshistmsg",
        "colonyname": env.colonyname,
        "executorid": "",
        "seconds": 3600,
        "state": state,
    }
    return call_ok(env, msg) or []  # type: ignore[no-any-return]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_submitted_process_survives_restart(own_env: Env, own_server: ServerProcess, sig: int) -> None:
    first = submit(own_env, env={"k": "v"}, args=["a"], priority=3)["processid"]
    second = submit(own_env)["processid"]
    status, p = assign(own_env)
    assert status == 200 and p["processid"] == first  # the higher priority
    call_ok(own_env, {"msgtype": "closesuccessfulmsg", "processid": first, "out": ["x"]})
    finished, waiting = get(own_env, first), get(own_env, second)
    own_server.restart(sig)
    assert get(own_env, first) == finished
    assert get(own_env, second) == waiting
    status, p = assign(own_env)
    assert status == 200 and p["processid"] == second
    assert p["assignedexecutorid"] == id_of(own_env.executor_prvkey)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_under_long_polling_assign(own_env: Env, own_server: ServerProcess, sig: int) -> None:
    other_type = own_env.executortype + "-other"
    parked = submit(own_env, executortype=other_type)["processid"]  # nobody polls for this one
    client = Colonies("127.0.0.1", own_server.port, timeout=10)
    transport_errors = []

    def executor() -> Any:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                process = client.assign(own_env.colonyname, 2, own_env.executor_prvkey)
            except TransportError as exc:  # the server is restarting
                transport_errors.append(exc)
                time.sleep(0.05)
                continue
            if process is not None:
                return process
        return None

    try:
        poll = Background(executor)
        time.sleep(0.3)
        assert poll.is_alive()
        own_server.restart(sig)
        pid = submit(own_env)["processid"]
        process = poll.result(25)
        assert process is not None and process.processid == pid
    finally:
        client.close()
    assert get(own_env, pid)["assignedexecutorid"] == id_of(own_env.executor_prvkey)
    # Nothing else was assigned behind the executor's back, and the parked process is intact.
    assert [p["processid"] for p in _history(own_env, 1)] == [pid]
    assert get(own_env, parked)["state"] == 0
    if sig == signal.SIGKILL:
        assert transport_errors  # the poll in flight was cut off


def test_sigkill_under_load(own_env: Env, own_server: ServerProcess) -> None:
    executors = [own_env.executor_prvkey] + [own_env.add_executor()[1] for _ in range(2)]
    submitters = [own_env.executor_prvkey, own_env.user_prvkey, executors[1]]
    stop = threading.Event()
    lock = threading.Lock()
    acked: list[str] = []
    assigned: list[tuple[str, str]] = []  # (processid, executor id)
    failures: list[Any] = []

    def submit_loop(key: str) -> None:
        while not stop.is_set():
            try:
                p = submit(own_env, key)
            except (httpx.HTTPError, ValueError, AssertionError):
                time.sleep(0.02)
                continue
            with lock:
                acked.append(p["processid"])

    def assign_loop(key: str) -> None:
        while not stop.is_set():
            try:
                status, p = assign(own_env, key, timeout=1)
            except (httpx.HTTPError, ValueError):
                time.sleep(0.02)
                continue
            if status == 200:
                with lock:
                    assigned.append((p["processid"], id_of(key)))
            elif status != 404:
                failures.append((status, p))

    threads = [threading.Thread(target=submit_loop, args=(k,), daemon=True) for k in submitters]
    threads += [threading.Thread(target=assign_loop, args=(k,), daemon=True) for k in executors]
    for t in threads:
        t.start()
    time.sleep(1.0)
    with lock:
        acked_before_kill = len(acked)
    own_server.stop(signal.SIGKILL)
    own_server.start()
    time.sleep(0.7)
    stop.set()
    for t in threads:
        t.join(15)
    assert not any(t.is_alive() for t in threads)

    assert not failures
    assert acked_before_kill > 0 and len(acked) > acked_before_kill  # work went on after the restart
    ids = [pid for pid, _ in assigned]
    assert len(ids) == len(set(ids)), "a process was handed out twice"
    stored = {p["processid"]: p for state in (0, 1) for p in _history(own_env, state)}
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged submits lost"
    for pid, executorid in assigned:
        assert stored[pid]["state"] == 1 and stored[pid]["assignedexecutorid"] == executorid


@sqlite_only  # on PostgreSQL several servers share one database: that is what replicas are
def test_a_second_server_on_the_same_store_is_refused(own_server: ServerProcess) -> None:
    env = dict(
        os.environ,
        COLONIES_SERVER_ID=SERVER_ID,
        COLONIES_DATA_DIR=str(own_server.data_dir),
        COLONIES_SERVER_PORT=str(free_port()),
    )
    done = subprocess.run(
        [sys.executable, "-m", "pycolonies.cli.main", "server", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "in use by another server" in lines[0]
