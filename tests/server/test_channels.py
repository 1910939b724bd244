"""Channels (protocol ext/10-channels.md) against the real server, message by message with raw
calls: append and read, the ``subscribechannelmsg`` WebSocket, access rules, limits, ordering,
lifecycle, error texts, and what we add to upstream (entries survive a restart, no duplicate
delivery to a subscriber catching up, replicas share one log)."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from pycolonies.crypto import id_of
from pycolonies.rpc import build_request

from ..backends import POSTGRES, sqlite_only
from ..conftest import Env, ServerProcess
from .proc_helpers import call_ok, expect_error, make_spec
from .raw import raw_call, raw_post
from .rpc_helpers import add_user, env_on, not_member, outsiders

PUSH = "subscribechannelmsg"


# -- helpers ---------------------------------------------------------------------------------------


def start(env: Env, channels: list[str] | None = None, *, submitter: str | None = None, assign: bool = True) -> str:
    """Submit a process declaring ``channels`` (as the env's user); assign it to the env's executor."""
    spec = make_spec(env, channels=["chat"] if channels is None else channels)
    process = call_ok(env, {"msgtype": "submitfuncspecmsg", "spec": spec}, submitter or env.user_prvkey)
    if assign:
        msg = {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": -1}
        assigned = call_ok(env, msg, env.executor_prvkey)
        assert assigned["processid"] == process["processid"]
    return str(process["processid"])


def append_msg(pid: str, name: str, seq: int, payload: Any, *, inreplyto: int = 0, kind: str = "") -> dict[str, Any]:
    data = list(payload.encode() if isinstance(payload, str) else payload) if payload is not None else None
    return {
        "msgtype": "channelappendmsg",
        "processid": pid,
        "name": name,
        "sequence": seq,
        "inreplyto": inreplyto,
        "payload": data,
        "payloadtype": kind,
    }


def append(env: Env, pid: str, name: str, seq: int, payload: Any, key: str, **kw: Any) -> tuple[int, Any]:
    return raw_call(env.server, append_msg(pid, name, seq, payload, **kw), key)


def read_msg(pid: str, name: str, afterseq: int = 0, limit: int = 0) -> dict[str, Any]:
    return {"msgtype": "channelreadmsg", "processid": pid, "name": name, "afterseq": afterseq, "limit": limit}


def read(env: Env, pid: str, name: str, key: str, afterseq: int = 0, limit: int = 0) -> list[dict[str, Any]]:
    status, payload = raw_call(env.server, read_msg(pid, name, afterseq, limit), key)
    assert status == 200, payload
    assert isinstance(payload, list)
    return payload


def texts(entries: list[dict[str, Any]]) -> list[str]:
    return [base64.b64decode(e["payload"]).decode() for e in entries]


@contextmanager
def socket(env: Env) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{env.server.port}/pubsub", open_timeout=5, max_size=2**26) as ws:
        yield ws


def subscribe(ws: ClientConnection, pid: str, name: str, key: str, afterseq: int = 0, timeout: int = 10) -> None:
    msg = {"msgtype": "subscribechannelmsg", "processid": pid, "name": name, "afterseq": afterseq, "timeout": timeout}
    ws.send(build_request(msg, key).decode())


def frame(ws: ClientConnection, timeout: float = 5.0) -> tuple[dict[str, Any], Any]:
    envelope = json.loads(ws.recv(timeout=timeout))
    return envelope, json.loads(base64.b64decode(envelope["payload"]))


def no_frame(ws: ClientConnection, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


# -- append and read -------------------------------------------------------------------------------


def test_submitter_and_executor_exchange_entries(env: Env) -> None:
    pid = start(env)
    user_id, executor_id = id_of(env.user_prvkey), id_of(env.executor_prvkey)
    assert append(env, pid, "chat", 1, "hello", env.user_prvkey) == (200, {})
    assert append(env, pid, "chat", 1, "hi there", env.executor_prvkey, inreplyto=1, kind="answer") == (200, {})
    entries = read(env, pid, "chat", env.executor_prvkey)
    assert [set(e) for e in entries] == [
        {"sequence", "timestamp", "senderid", "payload", "type"},  # inreplyto 0 is omitted
        {"sequence", "inreplyto", "timestamp", "senderid", "payload", "type"},
    ]
    first, second = entries
    assert (first["sequence"], first["senderid"], first["type"]) == (1, user_id, "data")
    assert (second["sequence"], second["inreplyto"], second["senderid"], second["type"]) == (
        1,
        1,
        executor_id,
        "answer",
    )
    assert texts(entries) == ["hello", "hi there"]
    assert first["timestamp"].endswith("Z") and first["timestamp"] <= second["timestamp"]
    assert read(env, pid, "chat", env.user_prvkey) == entries  # the same log for both parties


def test_payload_encodings(env: Env) -> None:
    """Base64 text (Go SDK) and int arrays (Python SDK) are both accepted; null stays null, empty
    stays empty; replies carry Base64."""
    pid = start(env)
    b64 = append_msg(pid, "chat", 1, None)
    b64["payload"] = base64.b64encode(b"\x00\xffbin").decode()
    call_ok(env, b64, env.user_prvkey)
    call_ok(env, append_msg(pid, "chat", 2, b""), env.user_prvkey)
    call_ok(env, append_msg(pid, "chat", 3, None), env.user_prvkey)
    entries = read(env, pid, "chat", env.user_prvkey)
    assert [e["payload"] for e in entries] == [base64.b64encode(b"\x00\xffbin").decode(), "", None]


def test_read_is_by_log_index(env: Env) -> None:
    pid = start(env)
    for seq in (10, 20, 30, 40):
        call_ok(env, append_msg(pid, "chat", seq, f"m{seq}"), env.user_prvkey)
    key = env.user_prvkey
    assert texts(read(env, pid, "chat", key, afterseq=1)) == ["m20", "m30", "m40"]  # an index, not a sequence
    assert texts(read(env, pid, "chat", key, afterseq=1, limit=2)) == ["m20", "m30"]
    assert texts(read(env, pid, "chat", key, afterseq=-5, limit=-1)) == ["m10", "m20", "m30", "m40"]
    assert read(env, pid, "chat", key, afterseq=4) == []  # never null
    assert read(env, pid, "chat", key, afterseq=99) == []


def test_ordering_rule(env: Env) -> None:
    """Per sender by sequence (a lower sequence appended late goes before the sender's larger
    ones), otherwise arrival order."""
    pid = start(env)
    user, executor = env.user_prvkey, env.executor_prvkey
    for seq, key, text in [(1, user, "u1"), (1, executor, "e1"), (3, user, "u3"), (2, executor, "e2")]:
        call_ok(env, append_msg(pid, "chat", seq, text), key)
    call_ok(env, append_msg(pid, "chat", 2, "u2"), user)  # late: goes before u3
    assert texts(read(env, pid, "chat", user)) == ["u1", "e1", "u2", "u3", "e2"]


def test_submitter_may_use_channels_before_assignment(env: Env) -> None:
    pid = start(env, assign=False)
    assert append(env, pid, "chat", 1, "early", env.user_prvkey) == (200, {})
    expect_error(append(env, pid, "chat", 1, "x", env.executor_prvkey), 403, "Not authorized to write to channel")
    msg = {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": -1}
    assert call_ok(env, msg, env.executor_prvkey)["processid"] == pid
    assert append(env, pid, "chat", 1, "now", env.executor_prvkey) == (200, {})
    assert texts(read(env, pid, "chat", env.executor_prvkey)) == ["early", "now"]


def test_a_third_party_is_refused(env: Env) -> None:
    pid = start(env)
    call_ok(env, append_msg(pid, "chat", 1, "secret"), env.user_prvkey)
    _, other_executor = env.add_executor()
    _, other_user = add_user(env)
    for key in (other_executor, other_user):  # members of the colony, but not party to the process
        expect_error(append(env, pid, "chat", 2, "x", key), 403, "Not authorized to write to channel")
        expect_error(raw_call(env.server, read_msg(pid, "chat"), key), 403, "Not authorized to read from channel")
    # the colony owner is not a member at all
    expect_error(append(env, pid, "chat", 2, "x", env.colony_prvkey), 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            expect_error(raw_call(env.server, read_msg(pid, "chat"), key), 403, not_member(env.colonyname))
    assert texts(read(env, pid, "chat", env.user_prvkey)) == ["secret"]  # nothing was added


def test_unknown_channel_or_process(env: Env) -> None:
    pid = start(env)
    expect_error(append(env, pid, "other", 1, "x", env.user_prvkey), 404, "Channel not found")
    expect_error(raw_call(env.server, read_msg(pid, "other"), env.user_prvkey), 404, "Channel not found")
    expect_error(append(env, "f" * 64, "chat", 1, "x", env.user_prvkey), 404, "Process not found")
    plain = start(env, channels=[])
    expect_error(append(env, plain, "chat", 1, "x", env.user_prvkey), 404, "Channel not found")


def test_channels_are_cleaned_when_the_process_closes(env: Env) -> None:
    pid = start(env)
    call_ok(env, append_msg(pid, "chat", 1, "bye"), env.user_prvkey)
    call_ok(env, {"msgtype": "closesuccessfulmsg", "processid": pid, "out": []}, env.executor_prvkey)
    for key in (env.user_prvkey, env.executor_prvkey):
        expect_error(append(env, pid, "chat", 2, "late", key), 404, "Channel not found")
        expect_error(raw_call(env.server, read_msg(pid, "chat"), key), 404, "Channel not found")
    failed = start(env)
    call_ok(env, append_msg(failed, "chat", 1, "x"), env.user_prvkey)
    call_ok(env, {"msgtype": "closefailedmsg", "processid": failed, "errors": ["e"]}, env.executor_prvkey)
    expect_error(raw_call(env.server, read_msg(failed, "chat"), env.user_prvkey), 404, "Channel not found")


def test_cancel_cleans_and_the_channel_comes_back_empty(env: Env) -> None:
    """Upstream quirk: a cancelled process's channels are removed, then re-created empty on use."""
    pid = start(env)
    call_ok(env, append_msg(pid, "chat", 1, "x"), env.user_prvkey)
    call_ok(env, {"msgtype": "cancelprocessmsg", "processid": pid}, env.user_prvkey)
    assert read(env, pid, "chat", env.user_prvkey) == []


def test_rate_limit(env: Env) -> None:
    """A token bucket per process, shared by its channels and both parties: 500 appends at once,
    then 100 per second. Appends go in parallel batches until one is refused."""
    pid = start(env, channels=["a", "b"])

    def one(i: int) -> tuple[int, Any]:
        return append(env, pid, "ab"[i % 2], i, "x", (env.user_prvkey, env.executor_prvkey)[i % 2])

    results: list[tuple[int, Any]] = []
    began = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        while len(results) < 10_000 and all(r == (200, {}) for r in results):
            results += pool.map(one, range(len(results), len(results) + 200))
    elapsed = time.monotonic() - began
    ok = sum(r == (200, {}) for r in results)
    limited = [r for r in results if r != (200, {})]
    assert limited and all(r == (500, {"status": 500, "message": "rate limit exceeded"}) for r in limited)
    assert 500 <= ok <= 500 + 100 * elapsed + 16
    time.sleep(0.2)  # refills
    assert append(env, pid, "a", 10_001, "x", env.user_prvkey) == (200, {})


def test_channel_limit_per_process(env: Env) -> None:
    names = [f"c{i}" for i in range(101)] + ["c0"]  # a duplicate name is one channel
    pid = start(env, channels=names)
    assert append(env, pid, "c99", 1, "x", env.user_prvkey) == (200, {})
    expect_error(append(env, pid, "c100", 1, "x", env.user_prvkey), 500, "process has too many channels")


def test_bad_append_and_read_messages(env: Env) -> None:
    pid = start(env)
    for payload in ("not base64!", [1, 256], [1, "a"], {"a": 1}, 3):
        msg = append_msg(pid, "chat", 1, None)
        msg["payload"] = payload
        status, reply = raw_call(env.server, msg, env.user_prvkey)
        assert status == 400 and reply["message"].startswith("Failed to append to channel, invalid JSON"), reply
    msg = append_msg(pid, "chat", 1.5, "x")  # type: ignore[arg-type]
    status, reply = raw_call(env.server, msg, env.user_prvkey)
    assert status == 400 and reply["message"].startswith("Failed to append to channel, invalid JSON")
    envelope = json.loads(
        build_request({**append_msg(pid, "chat", 1, "x"), "msgtype": "channelreadmsg"}, env.user_prvkey)
    )
    envelope["payloadtype"] = "channelappendmsg"
    status, _, reply = raw_post(env.server, json.dumps(envelope))
    assert (status, reply["message"]) == (400, "Failed to append to channel, msg.MsgType does not match payloadType")
    assert read(env, pid, "chat", env.user_prvkey) == []  # nothing stored


def test_oversized_payload_is_refused_by_the_body_limit(env: Env) -> None:
    """With the default 16 MiB body limit, a payload near the 10 MiB channel limit never arrives."""
    pid = start(env)
    status, reply = append(env, pid, "chat", 1, b"x" * (10 * 1024 * 1024 + 1), env.user_prvkey)
    assert status == 413, reply
    assert read(env, pid, "chat", env.user_prvkey) == []


def test_oversized_payload(tmp_path: Any) -> None:
    srv = ServerProcess(tmp_path / "data", env={"COLONIES_MAX_BODY_BYTES": str(64 * 1024 * 1024)})
    srv.start()
    try:
        with env_on(srv) as env:
            pid = start(env)
            msg = append_msg(pid, "chat", 1, None)
            msg["payload"] = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
            expect_error(raw_call(srv, msg, env.user_prvkey, timeout=60), 500, "message payload exceeds maximum size")
            msg["payload"] = base64.b64encode(b"x" * (10 * 1024 * 1024)).decode()  # exactly the limit
            assert raw_call(srv, msg, env.user_prvkey, timeout=60) == (200, {})
            entries = read(env, pid, "chat", env.user_prvkey)
            assert len(entries) == 1 and len(base64.b64decode(entries[0]["payload"])) == 10 * 1024 * 1024
    finally:
        srv.stop()


# -- subscriptions ---------------------------------------------------------------------------------


def test_subscription_catch_up_pushes_and_timeout(env: Env) -> None:
    pid = start(env)
    for seq in (1, 2, 3):
        call_ok(env, append_msg(pid, "chat", seq, f"old{seq}"), env.user_prvkey)
    with socket(env) as ws:
        subscribe(ws, pid, "chat", env.executor_prvkey, afterseq=1, timeout=2)
        envelope, entries = frame(ws)
        assert envelope == {"payloadtype": PUSH, "payload": envelope["payload"], "error": False}
        assert texts(entries) == ["old2", "old3"]  # the catch-up: one frame
        call_ok(env, append_msg(pid, "chat", 4, "new4"), env.user_prvkey)
        call_ok(env, append_msg(pid, "chat", 1, "new-e1"), env.executor_prvkey)
        assert texts(frame(ws)[1]) == ["new4"]  # then one frame per entry
        assert texts(frame(ws)[1]) == ["new-e1"]
        assert frame(ws)[1] == []  # the timeout (2 s) ends it with []
        # the socket stays open for another subscription
        subscribe(ws, pid, "chat", env.user_prvkey, afterseq=4, timeout=-1)
        assert texts(frame(ws)[1]) == ["new-e1"]
        assert frame(ws)[1] == []  # a negative timeout expires at once


def test_subscription_without_entries_sends_no_catch_up(env: Env) -> None:
    pid = start(env)
    with socket(env) as ws:
        subscribe(ws, pid, "chat", env.user_prvkey, timeout=1)
        _, entries = frame(ws, timeout=3)
        assert entries == []


def test_catching_up_delivers_each_entry_once(env: Env) -> None:
    """Appends racing with the start of a subscription: every entry arrives exactly once, in order
    (upstream may deliver one twice)."""
    pid = start(env)
    stop = threading.Event()
    sent: list[int] = []

    def writer() -> None:
        seq = 0
        while not stop.is_set() and seq < 300:
            seq += 1
            status, _ = append(env, pid, "chat", seq, str(seq), env.user_prvkey)
            if status == 200:
                sent.append(seq)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.05)
    got: list[int] = []
    try:
        with socket(env) as ws:
            subscribe(ws, pid, "chat", env.executor_prvkey, timeout=4)
            while True:
                _, entries = frame(ws, timeout=8)
                if entries == []:
                    break
                got.extend(e["sequence"] for e in entries)
    finally:
        stop.set()
        thread.join()
    assert got == sent


def test_a_slow_subscriber_loses_nothing(env: Env) -> None:
    """A subscriber that does not read while hundreds of entries arrive is paced, not dropped
    (upstream disconnects it with a synthetic error entry once 10,000 are buffered)."""
    pid = start(env)
    blob = base64.b64encode(b"y" * 20_000).decode()
    with socket(env) as ws:
        subscribe(ws, pid, "chat", env.executor_prvkey, timeout=30)
        time.sleep(0.3)
        for seq in range(1, 451):
            msg = append_msg(pid, "chat", seq, None)
            msg["payload"] = blob
            call_ok(env, msg, env.user_prvkey)
        got: list[int] = []
        while len(got) < 450:
            _, entries = frame(ws, timeout=10)
            assert entries and all("error" not in e for e in entries)
            got.extend(e["sequence"] for e in entries)
        assert got == list(range(1, 451))


def test_subscription_errors(env: Env) -> None:
    pid = start(env)
    _, other = env.add_executor()
    cases = [
        ("f" * 64, "chat", env.user_prvkey, 404, "Process not found"),
        (pid, "nope", env.user_prvkey, 404, "Channel not found"),
        (pid, "chat", other, 403, "Not authorized to subscribe to channel"),
        (pid, "chat", env.colony_prvkey, 403, not_member(env.colonyname)),
    ]
    with socket(env) as ws:
        for processid, name, key, status, message in cases:
            subscribe(ws, processid, name, key)
            envelope, payload = frame(ws)
            assert envelope["error"] is True and envelope["payloadtype"] == "error"
            assert payload == {"status": status, "message": message}
        msg = {"msgtype": "channelreadmsg", "processid": pid, "name": "chat", "afterseq": 0, "timeout": 1}
        body = json.loads(build_request(msg, env.user_prvkey))
        body["payloadtype"] = PUSH
        ws.send(json.dumps(body))
        _, payload = frame(ws)
        assert payload == {
            "status": 400,
            "message": "Failed to subscribe to channel, msg.MsgType does not match rpcMsg.PayloadType",
        }


def test_subscription_ends_silently_when_the_process_closes(env: Env) -> None:
    pid = start(env)
    with socket(env) as ws:
        subscribe(ws, pid, "chat", env.user_prvkey, timeout=30)
        call_ok(env, append_msg(pid, "chat", 1, "last"), env.executor_prvkey)
        assert texts(frame(ws)[1]) == ["last"]
        call_ok(env, {"msgtype": "closesuccessfulmsg", "processid": pid, "out": []}, env.executor_prvkey)
        no_frame(ws, 1.0)  # no [] frame: the subscription just ends
        subscribe(ws, pid, "chat", env.user_prvkey)  # the socket reads again
        assert frame(ws)[1] == {"status": 404, "message": "Channel not found"}


# -- beyond upstream: the store keeps the log ------------------------------------------------------


def test_entries_survive_a_restart(own_server: ServerProcess) -> None:
    with env_on(own_server) as env:
        pid = start(env)
        for seq in (1, 2):
            call_ok(env, append_msg(pid, "chat", seq, f"before{seq}"), env.user_prvkey)
        call_ok(env, append_msg(pid, "chat", 1, "reply"), env.executor_prvkey)
        own_server.restart()
        assert texts(read(env, pid, "chat", env.executor_prvkey)) == ["before1", "before2", "reply"]
        call_ok(env, append_msg(pid, "chat", 3, "after"), env.user_prvkey)  # bindings survive too
        call_ok(env, append_msg(pid, "chat", 2, "reply2"), env.executor_prvkey)
        with socket(env) as ws:
            subscribe(ws, pid, "chat", env.user_prvkey, afterseq=2, timeout=1)
            assert texts(frame(ws)[1]) == ["reply", "after", "reply2"]


@sqlite_only
def test_closing_removes_the_stored_entries(own_server: ServerProcess) -> None:
    with env_on(own_server) as env:
        kept, closed = start(env), start(env)
        for pid in (kept, closed):
            call_ok(env, append_msg(pid, "chat", 1, "x"), env.user_prvkey)
        call_ok(env, {"msgtype": "closesuccessfulmsg", "processid": closed, "out": []}, env.executor_prvkey)
        own_server.stop()
        db = sqlite3.connect(own_server.data_dir / "colonies.db")
        try:
            rows = db.execute("SELECT processid, COUNT(*) FROM channel_entries GROUP BY processid").fetchall()
        finally:
            db.close()
        assert rows == [(kept, 1)]
        own_server.start()


@pytest.mark.skipif(not POSTGRES, reason="replicas share a PostgreSQL store")
def test_a_subscriber_on_one_replica_sees_appends_on_another(server: ServerProcess, tmp_path: Any) -> None:
    replica = ServerProcess(tmp_path / "replica", env={"COLONIES_DB": server.env["COLONIES_DB"]})
    replica.start()
    try:
        with env_on(server) as env:
            pid = start(env)
            remote = Env(**{**env.__dict__, "server": replica})
            with socket(remote) as ws:
                subscribe(ws, pid, "chat", env.executor_prvkey, timeout=5)
                call_ok(env, append_msg(pid, "chat", 1, "from the first"), env.user_prvkey)
                assert texts(frame(ws)[1]) == ["from the first"]
    finally:
        replica.stop()
