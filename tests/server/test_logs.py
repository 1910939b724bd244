"""Logs (protocol ext/40-logs.md): adding lines to a running process or to an executor, reading
them by process and by executor (count, since, latest), searching, limits, lifetime (colony
removal, restart), the SDK methods, and the store's log methods (on the backend under test)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from pycolonies import AccessDeniedError, AsyncColonies, BadRequestError, Colonies, Process
from pycolonies.client import core
from pycolonies.crypto import id_of, sign
from pycolonies.rpc import build_request
from pycolonies.server.store import Store, connect_store

from ..backends import new_store
from ..conftest import SERVER_PRVKEY, Env, ServerProcess
from .raw import raw_post
from .rpc_helpers import add_colony, env_on, new_key, no_colony, not_member, ok, outsiders, refused, spec

NS_PER_DAY = 86_400 * 1_000_000_000
NOT_RUNNING = "Failed to set output, process is not running"
NOT_ASSIGNED = "Failed to add log, not allowed to add log, only the assigned Executor may att logs"


# -- helpers --------------------------------------------------------------------------------


def running(env: Env) -> Process:
    """A process of the env's colony, assigned to (and RUNNING on) the env's executor."""
    env.client.submit_func_spec(spec(env), env.user_prvkey)
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    return process


def add_msg(processid: str, message: str) -> dict[str, Any]:
    return {"msgtype": "addlogmsg", "processid": processid, "message": message}


def executor_log_msg(env: Env, message: str, executorname: str | None = None) -> dict[str, Any]:
    return {
        "msgtype": "addexecutorlogmsg",
        "colonyname": env.colonyname,
        "executorname": env.executorname if executorname is None else executorname,
        "message": message,
    }


def get_msg(
    env: Env, *, processid: str = "", executorname: str = "", count: int = 100, since: int = 0, latest: bool = False
) -> dict[str, Any]:
    return {
        "msgtype": "getlogsmsg",
        "colonyname": env.colonyname,
        "processid": processid,
        "executorname": executorname,
        "count": count,
        "since": since,
        "latest": latest,
    }


def search_msg(env: Env, text: str, days: int = 1, count: int = 100) -> dict[str, Any]:
    return {"msgtype": "searchlogsmsg", "colonyname": env.colonyname, "text": text, "days": days, "count": count}


def messages(logs: list[dict[str, Any]] | None) -> list[str]:
    return [log["message"] for log in logs or []]


def write_lines(env: Env, processid: str, lines: list[str]) -> None:
    for line in lines:
        assert ok(env.server, add_msg(processid, line), env.executor_prvkey) == {}


# -- adding ---------------------------------------------------------------------------------


def test_assigned_executor_adds_lines_that_members_read(env: Env) -> None:
    process = running(env)
    before = time.time_ns()
    write_lines(env, process.processid, ["hello world\n", "  second line, kept as sent  ", ""])
    after = time.time_ns()

    _, other_executor_prvkey = env.add_executor()
    for key in (env.executor_prvkey, env.user_prvkey, other_executor_prvkey):
        logs = ok(env.server, get_msg(env, processid=process.processid), key)
        assert [set(log) for log in logs] == [{"processid", "colonyname", "executorname", "message", "timestamp"}] * 3
        assert messages(logs) == ["hello world\n", "  second line, kept as sent  ", ""]
        for log in logs:
            assert log["processid"] == process.processid
            assert log["colonyname"] == env.colonyname
            assert log["executorname"] == env.executorname  # the name, not the id
            assert type(log["timestamp"]) is int and before <= log["timestamp"] <= after  # Unix ns
        stamps = [log["timestamp"] for log in logs]
        assert stamps == sorted(set(stamps))  # oldest first, strictly increasing

    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, get_msg(env, processid=process.processid), key, 403, not_member(env.colonyname))


def test_only_the_assigned_executor_of_a_running_process_adds(env: Env) -> None:
    process = running(env)
    pid = process.processid
    other_name, other_prvkey = env.add_executor()

    refused(env.server, add_msg("f" * 64, "x"), env.executor_prvkey, 500, "Failed to add log, process is nil")
    for key in (env.user_prvkey, other_prvkey):  # members, but not the assigned executor
        refused(env.server, add_msg(pid, "x"), key, 403, NOT_ASSIGNED)
    refused(env.server, add_msg(pid, "x"), env.colony_prvkey, 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, add_msg(pid, "x"), key, 403, not_member(env.colonyname))

    # a waiting process: nobody may log to it
    waiting = env.client.submit_func_spec(spec(env), env.user_prvkey)
    for key in (env.executor_prvkey, other_prvkey, env.user_prvkey):
        refused(env.server, add_msg(waiting.processid, "x"), key, 403, NOT_RUNNING)

    write_lines(env, pid, ["kept"])
    env.client.close(pid, [], env.executor_prvkey)
    refused(env.server, add_msg(pid, "after close"), env.executor_prvkey, 403, NOT_RUNNING)

    # refused attempts stored nothing; the lines stay readable after the process closed
    assert messages(ok(env.server, get_msg(env, processid=pid), env.user_prvkey)) == ["kept"]
    assert ok(env.server, get_msg(env, processid=waiting.processid), env.user_prvkey) is None
    assert ok(env.server, get_msg(env, executorname=other_name), env.user_prvkey) is None


def test_executor_logs(env: Env) -> None:
    process = running(env)
    assert ok(env.server, executor_log_msg(env, "starting up"), env.executor_prvkey) == {}
    write_lines(env, process.processid, ["working"])
    assert ok(env.server, executor_log_msg(env, "idle"), env.executor_prvkey) == {}

    by_executor = ok(env.server, get_msg(env, executorname=env.executorname), env.user_prvkey)
    assert messages(by_executor) == ["starting up", "working", "idle"]
    assert [log["processid"] for log in by_executor] == ["", process.processid, ""]
    assert {log["colonyname"] for log in by_executor} == {env.colonyname}
    assert {log["executorname"] for log in by_executor} == {env.executorname}
    # executor-level lines are not process lines
    assert messages(ok(env.server, get_msg(env, processid=process.processid), env.user_prvkey)) == ["working"]

    refused(
        env.server, executor_log_msg(env, "x"), env.user_prvkey, 403, "Failed to add executor log, executor not found"
    )
    other_name, other_prvkey = env.add_executor()
    refused(
        env.server,
        executor_log_msg(env, "x"),  # names env's executor, signed by another one
        other_prvkey,
        403,
        "Failed to add executor log, executor name mismatch",
    )
    pending_name, pending_prvkey = env.add_executor(approve=False)
    refused(env.server, executor_log_msg(env, "x", pending_name), pending_prvkey, 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, executor_log_msg(env, "x"), key, 403, not_member(env.colonyname))
    missing = executor_log_msg(env, "x")
    missing["colonyname"] = "no-such-colony-" + secrets.token_hex(4)
    refused(env.server, missing, env.executor_prvkey, 403, no_colony(missing["colonyname"]))

    # nothing of the refused attempts was stored
    assert messages(ok(env.server, get_msg(env, executorname=env.executorname), env.user_prvkey)) == [
        "starting up",
        "working",
        "idle",
    ]
    assert ok(env.server, get_msg(env, executorname=other_name), env.user_prvkey) is None


def test_executor_query_stays_in_the_colony(env: Env) -> None:
    """A same-named executor in another colony: its lines are not the env executor's (upstream
    mixes them; see docs/compatibility.md)."""
    other, other_prvkey = add_colony(env.client)
    try:
        twin_prvkey, twin_id = new_key()
        twin = {"executorid": twin_id, "executorname": env.executorname, "executortype": "t", "colonyname": other}
        env.client.add_executor(twin, other_prvkey)
        env.client.approve_executor(other, env.executorname, other_prvkey)
        twin_msg = executor_log_msg(env, "in the other colony")
        twin_msg["colonyname"] = other
        assert ok(env.server, twin_msg, twin_prvkey) == {}
        assert ok(env.server, executor_log_msg(env, "here"), env.executor_prvkey) == {}

        assert messages(ok(env.server, get_msg(env, executorname=env.executorname), env.user_prvkey)) == ["here"]
        theirs = get_msg(env, executorname=env.executorname)
        theirs["colonyname"] = other
        assert messages(ok(env.server, theirs, twin_prvkey)) == ["in the other colony"]
        # the executor query is checked against the executor's colony
        refused(env.server, theirs, env.user_prvkey, 403, not_member(other))
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)


# -- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["process", "executor"])
def test_count_since_latest(env: Env, by: str) -> None:
    process = running(env)
    lines = [f"line {i}" for i in range(10)]
    write_lines(env, process.processid, lines)
    target = {"processid": process.processid} if by == "process" else {"executorname": env.executorname}

    def read(**kw: Any) -> list[dict[str, Any]] | None:
        return ok(env.server, get_msg(env, **target, **kw), env.user_prvkey)  # type: ignore[no-any-return]

    every = read(count=500)
    assert messages(every) == lines
    stamps = [log["timestamp"] for log in every or []]
    assert messages(read(count=3)) == lines[:3]
    assert read(count=0) is None  # LIMIT 0
    assert read(count=-1) is None
    assert messages(read(count=3, latest=True)) == lines[7:]  # the newest, oldest of them first
    assert messages(read(count=50, latest=True)) == lines
    assert messages(read(count=100, since=stamps[4])) == lines[5:]  # strictly after
    assert messages(read(count=2, since=stamps[4])) == lines[5:7]
    assert read(count=100, since=stamps[9]) is None
    assert messages(read(count=100, since=-1)) == lines  # <= 0: from the beginning
    assert messages(read(count=2, since=stamps[4], latest=True)) == lines[8:]  # latest ignores since

    # the CLI's --follow pattern sees every line exactly once
    seen: list[str] = []
    since = 0
    while batch := read(count=3, since=since):
        seen += messages(batch)
        since = batch[-1]["timestamp"]
    assert seen == lines

    # the count limit is checked after membership
    refused(env.server, get_msg(env, **target, count=501), env.user_prvkey, 403, "Count exceeds max log count (500)")
    with outsiders(env) as keys:
        refused(env.server, get_msg(env, **target, count=501), keys[2], 403, not_member(env.colonyname))


def test_get_logs_of_unknown_targets(env: Env) -> None:
    refused(
        env.server,
        get_msg(env, processid="f" * 64),
        env.user_prvkey,
        500,
        "Failed to get logs, process does not exist",
    )
    refused(env.server, get_msg(env), env.user_prvkey, 500, "Failed to get logs, process does not exist")
    refused(
        env.server,
        get_msg(env, executorname="nobody"),
        env.user_prvkey,
        500,
        "Failed to get logs, executor does not exist",
    )


def test_removing_a_process_keeps_its_lines(env: Env) -> None:
    process = running(env)
    write_lines(env, process.processid, ["survives"])
    env.client.close(process.processid, [], env.executor_prvkey)
    env.client.remove_process(process.processid, env.user_prvkey)
    refused(
        env.server,
        get_msg(env, processid=process.processid),
        env.user_prvkey,
        500,
        "Failed to get logs, process does not exist",
    )
    by_executor = ok(env.server, get_msg(env, executorname=env.executorname), env.user_prvkey)
    assert [(log["processid"], log["message"]) for log in by_executor] == [(process.processid, "survives")]


# -- searching ------------------------------------------------------------------------------


def test_search(env: Env) -> None:
    process = running(env)
    lines = ["Error: disk full", "error: lower case", "100% done", "a_b", "plain", "ab"]
    write_lines(env, process.processid, lines)
    assert ok(env.server, executor_log_msg(env, "executor Error"), env.executor_prvkey) == {}

    def search(text: str, days: int = 1, count: int = 100) -> list[str]:
        return messages(ok(env.server, search_msg(env, text, days, count), env.user_prvkey))

    assert sorted(search("Error")) == ["Error: disk full", "executor Error"]  # case-sensitive
    assert search("error") == ["error: lower case"]
    assert search("%") == ["100% done"]  # literal, not a LIKE wildcard
    assert search("a_b") == ["a_b"]  # "_" does not match the "b" of "ab"
    assert search("nothing like this") == []
    assert sorted(search("")) == sorted([*lines, "executor Error"])  # "" matches every line
    assert len(search("", count=2)) == 2
    assert search("Error", days=30) != []
    reply = ok(env.server, search_msg(env, "Error"), env.user_prvkey)
    assert {log["colonyname"] for log in reply} == {env.colonyname}
    assert {log["processid"] for log in reply} == {process.processid, ""}
    for empty in (search_msg(env, "", count=0), search_msg(env, "", days=0), search_msg(env, "", days=-1)):
        assert ok(env.server, empty, env.user_prvkey) is None

    refused(env.server, search_msg(env, "x", count=101), env.user_prvkey, 400, "Count exceeds max log count (100)")
    refused(env.server, search_msg(env, "x", days=31), env.user_prvkey, 400, "Count exceeds max day count (30)")
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, search_msg(env, "Error", count=101), key, 403, not_member(env.colonyname))


def test_search_stays_in_the_colony(env: Env, server: ServerProcess) -> None:
    with env_on(server) as other:
        process = running(other)
        write_lines(other, process.processid, ["shared words"])
        assert ok(env.server, search_msg(env, "shared words"), env.user_prvkey) is None
        assert messages(ok(other.server, search_msg(other, "shared words"), other.user_prvkey)) == ["shared words"]


def _mismatched(msg: dict[str, Any], payloadtype: str, prvkey: str) -> bytes:
    """A signed envelope whose payloadtype need not be the message's msgtype."""
    payload = base64.b64encode(json.dumps(msg).encode()).decode()
    return json.dumps({"payloadtype": payloadtype, "payload": payload, "signature": sign(payload, prvkey)}).encode()


def test_error_texts_of_the_message_checks(env: Env) -> None:
    cases = {
        "addlogmsg": ("Failed to add log, invalid JSON", "Failed to add log, msg.MsgType"),
        "addexecutorlogmsg": ("Failed to add executor log, invalid JSON", "Failed to add executor log, msg.MsgType"),
        "getlogsmsg": ("Failed to get logs, invalid JSON", "Failed to get logs, msg.MsgType"),
        "searchlogsmsg": ("Failed to search logs, invalid JSON", "Failed to get logs, msg.MsgType"),  # sic
    }
    for msgtype, (invalid, mismatch) in cases.items():
        status, _, payload = raw_post(env.server, _mismatched({"msgtype": "other"}, msgtype, env.user_prvkey))
        assert (status, payload["message"]) == (400, f"{mismatch} does not match payloadType")
        bad = {"msgtype": msgtype, "count": "ten", "message": 1}
        status, _, payload = raw_post(env.server, _mismatched(bad, msgtype, env.user_prvkey))
        assert status == 400 and payload["message"].startswith(invalid), payload


# -- size, lifetime -------------------------------------------------------------------------


def test_large_lines_and_the_body_limit(own_server: ServerProcess) -> None:
    """No per-line limit (as upstream); a request over COLONIES_MAX_BODY_BYTES is refused whole."""
    own_server.env["COLONIES_MAX_BODY_BYTES"] = str(256 * 1024)
    own_server.restart()
    with env_on(own_server) as env:
        process = running(env)
        big = "ä€😀 line\n" * 2_000  # ~130 KB once JSON-escaped and base64-encoded: below the limit
        assert ok(env.server, add_msg(process.processid, big), env.executor_prvkey) == {}
        oversized = build_request(add_msg(process.processid, "x" * 300_000), env.executor_prvkey)
        status, _, payload = raw_post(env.server, oversized)
        assert status == 413 and payload == {
            "status": 413,
            "message": "Request body larger than the limit of 262144 bytes",
        }
        logs = ok(env.server, get_msg(env, processid=process.processid), env.user_prvkey)
        assert messages(logs) == [big]  # stored exactly, the oversized line not at all


def test_colony_removal_deletes_its_logs(env: Env) -> None:
    process = running(env)
    write_lines(env, process.processid, ["gone with the colony"])
    assert ok(env.server, executor_log_msg(env, "executor line"), env.executor_prvkey) == {}
    assert ok(env.server, search_msg(env, ""), env.user_prvkey) is not None

    # remove the colony, then make it again with the same names
    env.client.del_colony(env.colonyname, SERVER_PRVKEY)
    env.client.add_colony({"colonyid": id_of(env.colony_prvkey), "name": env.colonyname}, SERVER_PRVKEY)
    executor = {
        "executorname": env.executorname,
        "executorid": id_of(env.executor_prvkey),
        "colonyname": env.colonyname,
        "executortype": env.executortype,
    }
    env.client.add_executor(executor, env.colony_prvkey)
    env.client.approve_executor(env.colonyname, env.executorname, env.colony_prvkey)
    assert ok(env.server, get_msg(env, executorname=env.executorname), env.executor_prvkey) is None
    assert ok(env.server, search_msg(env, ""), env.executor_prvkey) is None


def test_logs_survive_a_restart_and_search_honours_days(own_server: ServerProcess) -> None:
    with env_on(own_server) as env:
        process = running(env)
        write_lines(env, process.processid, ["before restart 1", "before restart 2"])
        assert ok(env.server, executor_log_msg(env, "executor line"), env.executor_prvkey) == {}
        logs = ok(env.server, get_msg(env, processid=process.processid), env.user_prvkey)

        # Put lines of 2 and 40 days ago in the store (the server must be stopped: one owner per file).
        own_server.stop()

        async def put_old_lines() -> None:
            store = await connect_store(own_server.env.get("COLONIES_DB") or str(own_server.data_dir / "colonies.db"))
            now = time.time_ns()
            for days in (2, 40):
                line = {
                    "processid": process.processid,
                    "colonyname": env.colonyname,
                    "executorname": env.executorname,
                    "message": f"old line {days} days",
                    "timestamp": now - days * NS_PER_DAY,
                }
                await store.add_log(line, now - days * NS_PER_DAY)
            await store.close()

        asyncio.run(put_old_lines())
        own_server.start()

        after = ok(env.server, get_msg(env, processid=process.processid), env.user_prvkey)
        assert messages(after) == ["old line 40 days", "old line 2 days", "before restart 1", "before restart 2"]
        assert after[2:] == logs  # identical, timestamps included
        assert messages(ok(env.server, get_msg(env, executorname=env.executorname), env.user_prvkey))[-1] == (
            "executor line"
        )
        assert ok(env.server, search_msg(env, "old line", days=1), env.user_prvkey) is None
        assert messages(ok(env.server, search_msg(env, "old line", days=3), env.user_prvkey)) == ["old line 2 days"]
        assert messages(ok(env.server, search_msg(env, "old line", days=30), env.user_prvkey)) == ["old line 2 days"]
        # a new line after the restart still sorts after the old ones
        write_lines(env, process.processid, ["after restart"])
        latest = ok(env.server, get_msg(env, processid=process.processid, count=1, latest=True), env.user_prvkey)
        assert messages(latest) == ["after restart"]


# -- SDK ------------------------------------------------------------------------------------


def test_sdk_methods(env: Env) -> None:
    client: Colonies = env.client
    process = running(env)
    pid = process.processid
    for i in range(5):
        client.add_log(pid, f"sdk {i}\n", env.executor_prvkey)
    client.add_executor_log(env.colonyname, env.executorname, "sdk executor line", env.executor_prvkey)

    logs = client.get_process_log(env.colonyname, pid, 100, -1, env.user_prvkey)
    assert messages(logs) == [f"sdk {i}\n" for i in range(5)]
    assert messages(client.get_process_log(env.colonyname, pid, 2, 0, env.user_prvkey)) == ["sdk 0\n", "sdk 1\n"]
    since = logs[2]["timestamp"]
    assert messages(client.get_process_log(env.colonyname, pid, 100, since, env.user_prvkey)) == ["sdk 3\n", "sdk 4\n"]
    assert messages(client.get_process_log(env.colonyname, pid, 2, 0, env.user_prvkey, latest=True)) == [
        "sdk 3\n",
        "sdk 4\n",
    ]
    by_executor = client.get_executor_log(env.colonyname, env.executorname, 100, 0, env.user_prvkey)
    assert messages(by_executor)[-1] == "sdk executor line" and len(by_executor) == 6
    latest = client.get_executor_log(env.colonyname, env.executorname, 1, 0, env.user_prvkey, latest=True)
    assert messages(latest) == ["sdk executor line"]
    assert messages(client.search_logs(env.colonyname, "sdk 3", 1, 10, env.user_prvkey)) == ["sdk 3\n"]
    assert client.search_logs(env.colonyname, "absent", 1, 10, env.user_prvkey) is None
    assert client.get_process_log(env.colonyname, pid, 0, 0, env.user_prvkey) is None

    with pytest.raises(AccessDeniedError) as denied:
        client.add_log(pid, "not mine", env.user_prvkey)
    assert denied.value.message == NOT_ASSIGNED
    with pytest.raises(AccessDeniedError):
        client.get_process_log(env.colonyname, pid, 501, 0, env.user_prvkey)
    with pytest.raises(BadRequestError):
        client.search_logs(env.colonyname, "x", 31, 10, env.user_prvkey)

    # default calls send upstream's exact messages; latest only when asked for
    assert "latest" not in core.get_process_log(client, env.colonyname, pid, 1, 0).msg
    assert "latest" not in core.get_executor_log(client, env.colonyname, env.executorname, 1, 0).msg
    assert core.get_process_log(client, env.colonyname, pid, 1, 0, latest=True).msg["latest"] is True

    async def run_async() -> None:
        async with AsyncColonies("127.0.0.1", env.server.port, tls=False) as aclient:
            await aclient.add_log(pid, "async line", env.executor_prvkey)
            got = await aclient.get_process_log(env.colonyname, pid, 1, 0, env.user_prvkey, latest=True)
            assert messages(got) == ["async line"]
            found = await aclient.search_logs(env.colonyname, "async", 1, 10, env.user_prvkey)
            assert messages(found) == ["async line"]

    asyncio.run(run_async())


# -- store ----------------------------------------------------------------------------------


def _line(colony: str, message: str, ts: int, processid: str = "p", executor: str = "e") -> dict[str, Any]:
    return {"processid": processid, "colonyname": colony, "executorname": executor, "message": message, "timestamp": ts}


def test_store_log_methods(tmp_path: Path) -> None:
    async def run() -> None:
        store = await new_store(tmp_path)
        try:
            await check(store)
        finally:
            await store.close()

    async def check(store: Store) -> None:
        for name in ("c", "d"):
            await store.add_colony({"name": name, "colonyid": name * 64})
        # equal timestamps keep insertion order
        for i, ts in enumerate([10, 20, 20, 30]):
            await store.add_log(_line("c", f"m{i}", ts), added=ts)
        await store.add_log(_line("d", "m-d", 25, processid="q"), added=25)
        await store.add_log(_line("c", "exec", 40, processid=""), added=40)

        assert messages(await store.get_process_logs("p", 10)) == ["m0", "m1", "m2", "m3"]
        assert messages(await store.get_process_logs("p", 2, latest=True)) == ["m2", "m3"]
        assert messages(await store.get_process_logs("p", 10, since=20)) == ["m3"]
        assert await store.get_process_logs("p", 0) == []
        assert await store.get_process_logs("p", -5) == []
        assert messages(await store.get_executor_logs("c", "e", 10)) == ["m0", "m1", "m2", "m3", "exec"]
        assert messages(await store.get_executor_logs("d", "e", 10)) == ["m-d"]
        assert messages(await store.search_logs("c", "m", 1, 10, now=35)) == ["m0", "m1", "m2", "m3"]
        assert messages(await store.search_logs("c", "M", 1, 10, now=35)) == []
        assert await store.search_logs("c", "", 0, 10, now=100) == []  # days 0: an empty window

        assert await store.remove_logs_before(20) == 1  # m0
        assert messages(await store.get_process_logs("p", 10)) == ["m1", "m2", "m3"]
        assert await store.remove_logs("c") == 4
        assert await store.get_executor_logs("c", "e", 10) == []
        assert messages(await store.get_process_logs("q", 10)) == ["m-d"]
        assert await store.remove_colony("d")
        assert await store.get_process_logs("q", 10) == []

    asyncio.run(run())
