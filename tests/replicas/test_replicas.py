"""Three servers (replicas) on one PostgreSQL database serving the same colonies: work submitted and
assigned through all of them runs exactly once; a replica killed mid-load loses nothing and its
clients carry on through the others; the leader's background work (crons) moves to another replica
when the leader dies; wake-ups, /pubsub pushes and resumes cross replicas at once."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import math
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from pycolonies import Colonies
from pycolonies.crypto import generate_prvkey, id_of
from pycolonies.rpc import build_request
from pycolonies.timefmt import parse_ns

from ..backends import POSTGRES, create_database
from ..conftest import SERVER_PRVKEY, ServerProcess
from ..server.raw import raw_call

pytestmark = pytest.mark.skipif(not POSTGRES, reason="replicas share a PostgreSQL database (COLONIES_TEST_BACKEND)")

FAST = {"COLONIES_CRON_CHECKER_PERIOD": "200", "COLONIES_GENERATOR_CHECKER_PERIOD": "200"}
WAITING, RUNNING, SUCCESS = 0, 1, 2


def _query(db: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(db)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


@dataclass
class Cluster:
    db: str
    servers: list[ServerProcess]
    colonyname: str = ""
    colony_prvkey: str = ""

    def leader(self) -> ServerProcess | None:
        """The replica holding the leader lock (its leader connection is named after its pid)."""
        rows = _query(
            self.db,
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() "
            "AND a.application_name LIKE 'pycolonies-leader-%'",
        )
        pids = {int(r[0].rsplit("-", 1)[1]) for r in rows}
        assert len(pids) <= 1, f"two leaders: {pids}"
        for server in self.servers:
            if server.proc is not None and server.proc.pid in pids:
                return server
        return None

    def add_executor(self, executortype: str, server: int = 0) -> str:
        prvkey = generate_prvkey()
        name = "executor-" + secrets.token_hex(4)
        executor = {
            "executorname": name,
            "executorid": id_of(prvkey),
            "colonyname": self.colonyname,
            "executortype": executortype,
        }
        ok(self.servers[server], {"msgtype": "addexecutormsg", "executor": executor}, self.colony_prvkey)
        ok(
            self.servers[(server + 1) % len(self.servers)],
            {"msgtype": "approveexecutormsg", "colonyname": self.colonyname, "executorname": name},
            self.colony_prvkey,
        )
        return prvkey


def ok(server: ServerProcess, msg: dict[str, Any], prvkey: str, timeout: float = 30) -> Any:
    status, payload = raw_call(server, msg, prvkey, timeout=timeout)
    assert status == 200, (status, payload)
    return payload


def spec(cluster: Cluster, executortype: str, **fields: Any) -> dict[str, Any]:
    return {
        "funcname": "f",
        "args": [],
        "maxwaittime": -1,
        "maxexectime": -1,
        "maxretries": 0,
        "conditions": {"colonyname": cluster.colonyname, "executortype": executortype},
        **fields,
    }


def start_cluster(folder: Path) -> Iterator[Cluster]:
    """Three replicas on a fresh database, started together (they migrate under an advisory lock),
    and a colony on them."""
    db = create_database()
    servers = [ServerProcess(folder / f"replica{i}", env={"COLONIES_DB": db, **FAST}) for i in range(3)]
    starters = [threading.Thread(target=s.start) for s in servers]
    for t in starters:
        t.start()
    for t in starters:
        t.join(30)
    c = Cluster(db, servers)
    try:
        assert all(s.proc is not None and s.proc.poll() is None for s in servers)
        c.colony_prvkey = generate_prvkey()
        c.colonyname = "colony-" + secrets.token_hex(5)
        ok(
            servers[0],
            {"msgtype": "addcolonymsg", "colony": {"colonyid": id_of(c.colony_prvkey), "name": c.colonyname}},
            SERVER_PRVKEY,
        )
        yield c
    finally:
        for s in servers:
            s.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Replicas shared by the tests that leave them running (each uses an executor type of its own)."""
    yield from start_cluster(tmp_path_factory.mktemp("replicas"))


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Replicas of the test's own, for tests that kill one."""
    yield from start_cluster(tmp_path)


def test_replicas_started_together_apply_each_migration_once(cluster: Cluster) -> None:
    folder = Path(__file__).parents[2] / "src" / "pycolonies" / "server" / "store" / "postgres" / "migrations"
    expected = sorted(int(f.name.split("_", 1)[0]) for f in folder.glob("*.sql"))
    assert [r[0] for r in _query(cluster.db, "SELECT version FROM schema_migrations ORDER BY version")] == expected
    assert cluster.leader() is not None
    # every replica sees what another wrote
    for server in cluster.servers:
        colonies = ok(server, {"msgtype": "getcoloniesmsg"}, SERVER_PRVKEY)
        assert {"colonyid": id_of(cluster.colony_prvkey), "name": cluster.colonyname} in colonies


class Load:
    """Submitters and executors spread over the replicas, each moving to the next replica when its
    own stops answering. ``total`` items are submitted (each once acknowledged); executors close
    what they are given until every process is successful."""

    def __init__(self, cluster: Cluster, total: int, executors: int, **fields: Any) -> None:
        self.cluster = cluster
        self.total = total
        self.executortype = "type-" + secrets.token_hex(3)
        self.fields = fields
        self.keys = [cluster.add_executor(self.executortype, i % 3) for i in range(executors)]
        self.lock = threading.Lock()
        self.acked: dict[int, str] = {}  # item -> processid of its acknowledged submission
        self.assigned: list[tuple[str, str, int]] = []  # (processid, executorid, replica)
        self.closed: list[str] = []
        self.failures: list[Any] = []
        self.transport_errors = 0
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _call(self, replica: list[int], msg: dict[str, Any], prvkey: str, timeout: float = 30) -> tuple[int, Any]:
        """Call ``msg`` on the replica ``replica[0]``; on a transport error move to the next one and
        raise (the caller decides whether to repeat)."""
        server = self.cluster.servers[replica[0]]
        try:
            return raw_call(server, msg, prvkey, timeout=timeout)
        except (httpx.HTTPError, ValueError):
            with self.lock:
                self.transport_errors += 1
            replica[0] = (replica[0] + 1) % len(self.cluster.servers)
            raise

    def _submitter(self, index: int, items: range) -> None:
        replica = [index % 3]
        prvkey = self.keys[index % len(self.keys)]
        for item in items:
            msg = {
                "msgtype": "submitfuncspecmsg",
                "spec": spec(self.cluster, self.executortype, args=[item], **self.fields),
            }
            while not self.stop.is_set():
                try:
                    status, p = self._call(replica, msg, prvkey)
                except (httpx.HTTPError, ValueError):
                    time.sleep(0.05)
                    continue  # not acknowledged: submit again (the first may have been stored)
                if status != 200:
                    self.failures.append(("submit", status, p))
                    return
                with self.lock:
                    self.acked[item] = p["processid"]
                break

    def _executor(self, index: int) -> None:
        replica = [index % 3]
        prvkey = self.keys[index]
        assign = {"msgtype": "assignprocessmsg", "colonyname": self.cluster.colonyname, "timeout": 1}
        while not self.stop.is_set():
            try:
                status, p = self._call(replica, assign, prvkey, timeout=10)
            except (httpx.HTTPError, ValueError):
                time.sleep(0.05)
                continue
            if status == 404:
                continue
            if status != 200:
                self.failures.append(("assign", status, p))
                return
            with self.lock:
                self.assigned.append((p["processid"], id_of(prvkey), replica[0]))
            close = {"msgtype": "closesuccessfulmsg", "processid": p["processid"], "out": p["spec"]["args"]}
            while not self.stop.is_set():
                try:
                    status, reply = self._call(replica, close, prvkey)
                except (httpx.HTTPError, ValueError):
                    time.sleep(0.05)
                    continue
                if status == 200:
                    with self.lock:
                        self.closed.append(p["processid"])
                else:
                    self.failures.append(("close", status, reply))
                break

    def start(self, submitters: int) -> None:
        per = math.ceil(self.total / submitters)
        self.threads = [
            threading.Thread(
                target=self._submitter, args=(i, range(i * per, min((i + 1) * per, self.total))), daemon=True
            )
            for i in range(submitters)
        ]
        self.threads += [threading.Thread(target=self._executor, args=(i,), daemon=True) for i in range(len(self.keys))]
        for t in self.threads:
            t.start()

    def stats(self, server: ServerProcess) -> dict[str, int]:
        msg = {"msgtype": "getcolonystatsmsg", "colonyname": self.cluster.colonyname}
        return ok(server, msg, self.keys[0])  # type: ignore[no-any-return]

    def wait_done(self, server: ServerProcess, timeout: float) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert not self.failures, self.failures[:5]
            with self.lock:
                submitted = len(self.acked)
            if submitted == self.total:
                stats = self.stats(server)
                if stats["waitingprocesses"] == 0 and stats["runningprocesses"] == 0:
                    return stats
            time.sleep(0.2)
        raise AssertionError(f"not done within {timeout} s: {len(self.acked)} acked, {self.stats(server)}")

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(15)
        assert not any(t.is_alive() for t in self.threads)
        assert not self.failures, self.failures[:5]


def test_thousands_of_processes_through_all_replicas_run_exactly_once(cluster: Cluster) -> None:
    load = Load(cluster, total=2000, executors=6)
    load.start(submitters=3)
    stats = load.wait_done(cluster.servers[1], timeout=90)
    load.finish()
    assert stats["successfulprocesses"] == 2000 and stats["failedprocesses"] == 0
    assert load.transport_errors == 0
    # each acknowledged submission is one process, assigned once and closed once
    assert sorted(load.acked) == list(range(2000))
    processids = [pid for pid, _, _ in load.assigned]
    assert len(processids) == len(set(processids)) == 2000
    assert sorted(load.closed) == sorted(load.acked.values())
    # every replica assigned work
    assert {replica for _, _, replica in load.assigned} == {0, 1, 2}


def test_a_replica_killed_mid_load_loses_nothing(own_cluster: Cluster) -> None:
    cluster = own_cluster
    # An assign whose reply dies with its replica leaves the process RUNNING for an executor that
    # never got it: the exec deadline puts it back in the queue (maxretries -1: as often as needed).
    load = Load(cluster, total=1500, executors=6, maxexectime=3, maxretries=-1)
    load.start(submitters=3)
    while len(load.closed) < 300:
        time.sleep(0.05)
    victim = cluster.servers[2]
    victim.stop(signal.SIGKILL)
    closed_at_kill = len(load.closed)
    stats = load.wait_done(cluster.servers[0], timeout=90)
    load.finish()
    assert load.transport_errors > 0  # the victim's clients noticed, and moved on
    assert sorted(load.acked) == list(range(1500))
    # Nothing lost: every process (the acknowledged ones, and any stored whose acknowledgement died
    # with the victim) is successful; nothing is left waiting or running.
    assert stats["failedprocesses"] == 0
    assert stats["successfulprocesses"] >= 1500
    assert stats["successfulprocesses"] - 1500 <= load.transport_errors  # resubmissions only
    for item, pid in load.acked.items():
        assert pid in load.closed, f"item {item} ({pid}) never ran"
    # A process is handed out again only after its deadline released it (its retries count it).
    counts = Counter(pid for pid, _, _ in load.assigned)
    for pid, n in counts.items():
        if n > 1:
            p = ok(cluster.servers[0], {"msgtype": "getprocessmsg", "processid": pid}, load.keys[0])
            assert p["retries"] >= n - 1, p
    # the executors that used the victim carry on through the others
    after_kill = {executorid for pid, executorid, _ in load.assigned[closed_at_kill:]}
    assert {id_of(load.keys[i]) for i in (2, 5)} <= after_kill


def test_leader_failover_a_cron_still_fires_once_per_instant(own_cluster: Cluster) -> None:
    cluster = own_cluster
    executortype = "type-" + secrets.token_hex(3)
    prvkey = cluster.add_executor(executortype)
    workflow = {"colonyname": cluster.colonyname, "functionspecs": [dict(spec(cluster, executortype), nodename="a")]}
    with Colonies("127.0.0.1", cluster.servers[0].port) as client:
        client.add_cron("tick", "* * * * * *", False, json.dumps(workflow), cluster.colonyname, prvkey)

    def graphs() -> list[dict[str, Any]]:
        msg = {"msgtype": "getprocessgraphsmsg", "colonyname": cluster.colonyname, "count": 100, "state": WAITING}
        alive = next(s for s in cluster.servers if s.proc is not None)
        return ok(alive, msg, prvkey) or []

    deadline = time.monotonic() + 10
    while len(graphs()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    leader = cluster.leader()
    assert leader is not None
    leader.stop(signal.SIGKILL)
    killed_at = time.time()
    deadline = time.monotonic() + 10
    while (cluster.leader() in (None, leader)) and time.monotonic() < deadline:
        time.sleep(0.1)
    successor = cluster.leader()
    assert successor is not None and successor is not leader
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = graphs()
        after = [g for g in found if _seconds(g["submissiontime"]) > killed_at]
        if len(after) >= 3:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the cron stopped firing after the leader died")
    times = sorted(_seconds(g["submissiontime"]) for g in graphs())
    # one firing per instant: consecutive firings at least one 200 ms tick apart, never two in one
    assert all(b - a > 0.15 for a, b in itertools.pairwise(times)), times


def _seconds(rfc3339: str) -> float:
    return parse_ns(rfc3339) / 1e9


def test_a_long_poll_on_one_replica_gets_a_process_submitted_on_another_at_once(cluster: Cluster) -> None:
    executortype = "type-" + secrets.token_hex(3)
    prvkey = cluster.add_executor(executortype)
    a, b = cluster.servers[0], cluster.servers[1]
    for _ in range(3):
        result: dict[str, Any] = {}

        def poll(result: dict[str, Any] = result) -> None:
            msg = {"msgtype": "assignprocessmsg", "colonyname": cluster.colonyname, "timeout": 10}
            result["reply"] = raw_call(a, msg, prvkey, timeout=30)
            result["at"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)  # the poll waits on A
        started = time.monotonic()
        p = ok(b, {"msgtype": "submitfuncspecmsg", "spec": spec(cluster, executortype)}, prvkey)
        t.join(15)
        status, assigned = result["reply"]
        assert status == 200 and assigned["processid"] == p["processid"]
        # far sooner than the 5 s store re-check: the submit's hint crossed replicas
        assert result["at"] - started < 1.0
        ok(a, {"msgtype": "closesuccessfulmsg", "processid": p["processid"], "out": []}, prvkey)


@contextlib.contextmanager
def _subscribe(server: ServerProcess, msg: dict[str, Any], prvkey: str) -> Iterator[Any]:
    with connect(f"ws://127.0.0.1:{server.port}/pubsub", open_timeout=5) as ws:
        ws.send(build_request(msg, prvkey).decode())
        yield ws


def _pushed(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    envelope = json.loads(ws.recv(timeout=timeout))
    return json.loads(base64.b64decode(envelope["payload"]))  # type: ignore[no-any-return]


@pytest.mark.parametrize("size", ["small", "large"])
def test_pubsub_subscribers_on_one_replica_see_changes_made_on_another(cluster: Cluster, size: str) -> None:
    executortype = "type-" + secrets.token_hex(3)
    prvkey = cluster.add_executor(executortype)
    a, b = cluster.servers[0], cluster.servers[1]
    # a large process does not fit in a notification: the subscriber's replica reads it
    args = ["x" * 10_000] if size == "large" else ["small"]
    waiting = {"msgtype": "subscribeprocessesmsg", "executortype": executortype, "state": WAITING, "timeout": 20}
    with _subscribe(a, waiting, prvkey) as ws:
        time.sleep(0.3)
        p = ok(b, {"msgtype": "submitfuncspecmsg", "spec": spec(cluster, executortype, args=args)}, prvkey)
        assert _pushed(ws)["processid"] == p["processid"]

    def one(state: int) -> dict[str, Any]:
        return {
            "msgtype": "subscribeprocessmsg",
            "processid": p["processid"],
            "executortype": executortype,
            "state": state,
            "timeout": 20,
            "colonyname": cluster.colonyname,
        }

    with _subscribe(a, one(RUNNING), prvkey) as running_ws, _subscribe(a, one(SUCCESS), prvkey) as done_ws:
        time.sleep(0.3)
        ok(b, {"msgtype": "assignprocessmsg", "colonyname": cluster.colonyname, "timeout": 5}, prvkey)
        running = _pushed(running_ws)
        assert running["processid"] == p["processid"] and running["state"] == RUNNING
        assert running["spec"]["args"] == args
        close = {"msgtype": "closesuccessfulmsg", "processid": p["processid"], "out": ["done"]}
        ok(cluster.servers[2], close, prvkey)
        done = _pushed(done_ws)
        assert done["state"] == SUCCESS and done["out"] == ["done"]


def test_resuming_on_one_replica_releases_paused_assigns_on_another(cluster: Cluster) -> None:
    executortype = "type-" + secrets.token_hex(3)
    prvkey = cluster.add_executor(executortype)
    a, b = cluster.servers[0], cluster.servers[1]
    ok(a, {"msgtype": "pauseassignmentsmsg", "colonyname": cluster.colonyname}, cluster.colony_prvkey)
    p = ok(a, {"msgtype": "submitfuncspecmsg", "spec": spec(cluster, executortype)}, prvkey)
    result: dict[str, Any] = {}

    def poll() -> None:
        msg = {"msgtype": "assignprocessmsg", "colonyname": cluster.colonyname, "timeout": 10}
        result["reply"] = raw_call(b, msg, prvkey, timeout=30)
        result["at"] = time.monotonic()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    assert "reply" not in result  # paused, on B too
    resumed = time.monotonic()
    ok(a, {"msgtype": "resumeassignmentsmsg", "colonyname": cluster.colonyname}, cluster.colony_prvkey)
    t.join(15)
    status, assigned = result["reply"]
    assert status == 200 and assigned["processid"] == p["processid"]
    assert result["at"] - resumed < 1.0
