"""The ``/pubsub`` WebSocket (protocol core/20-messages.md section 10, 30-semantics.md section 7)
with a raw websockets client, and the SDK's ``wait()`` on top of it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from pycolonies import AsyncColonies, SubscriptionTimeoutError
from pycolonies.crypto import generate_prvkey, sign
from pycolonies.rpc import build_request

from ..conftest import Env
from .proc_helpers import Background, assign, call_ok, get, submit

PUSH = "subscribeprocessmsg"


def _connect(env: Env) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{env.server.port}/pubsub", open_timeout=5)


def _send(ws: ClientConnection, msg: dict[str, Any], prvkey: str, *, binary: bool = False) -> None:
    body = build_request(msg, prvkey)
    ws.send(body if binary else body.decode())


def _recv(ws: ClientConnection, timeout: float = 5.0) -> tuple[dict[str, Any], Any]:
    frame = ws.recv(timeout=timeout)
    envelope = json.loads(frame)
    return envelope, json.loads(base64.b64decode(envelope["payload"]))


def _nothing_within(ws: ClientConnection, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


def _sub(pid: str, state: int, timeout: int = 10, executortype: str = "", colonyname: str = "") -> dict[str, Any]:
    return {
        "msgtype": "subscribeprocessmsg",
        "processid": pid,
        "executortype": executortype,
        "state": state,
        "timeout": timeout,
        "colonyname": colonyname,
    }


def _subs(executortype: str, state: int, timeout: int = 10) -> dict[str, Any]:
    return {
        "msgtype": "subscribeprocessesmsg",
        "executortype": executortype,
        "state": state,
        "timeout": timeout,
        "colonyname": "",
    }


def _push(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    envelope, payload = _recv(ws, timeout)
    assert envelope["payloadtype"] == PUSH and envelope["error"] is False, payload
    return payload  # type: ignore[no-any-return]


def _run_and_close(env: Env, out: list[Any]) -> str:
    status, p = assign(env)
    assert status == 200, p
    call_ok(env, {"msgtype": "closesuccessfulmsg", "processid": p["processid"], "out": out})
    return p["processid"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# subscribeprocessmsg


def test_subscribe_pushes_at_once_when_already_in_state(env: Env) -> None:
    pid = submit(env)["processid"]
    with _connect(env) as ws:
        _send(ws, _sub(pid, 0), env.executor_prvkey)
        p = _push(ws, 2)
        assert p["processid"] == pid and p["state"] == 0 and p["spec"]["funcname"] == "f"
        _nothing_within(ws, 0.3)  # once, not repeatedly


def test_subscribe_pushes_on_later_change(env: Env) -> None:
    pid = submit(env)["processid"]
    with _connect(env) as running, _connect(env) as done:
        _send(running, _sub(pid, 1, executortype=env.executortype), env.executor_prvkey)
        _send(done, _sub(pid, 2), env.user_prvkey)  # no membership check, any member may watch
        _nothing_within(done, 0.3)
        _nothing_within(running, 0.01)
        assert _run_and_close(env, ["result"]) == pid
        p = _push(running)
        assert p["processid"] == pid and p["state"] == 1
        p = _push(done)
        assert p["processid"] == pid and p["state"] == 2 and p["out"] == ["result"]


def test_subscribe_by_outsider_and_binary_frames(env: Env) -> None:
    # No membership check upstream: any valid signature may subscribe. Binary in, binary out.
    pid = submit(env)["processid"]
    with _connect(env) as ws:
        _send(ws, _sub(pid, 0), generate_prvkey(), binary=True)
        frame = ws.recv(timeout=5)
        assert isinstance(frame, bytes)
        envelope = json.loads(frame)
        assert envelope["payloadtype"] == PUSH and json.loads(base64.b64decode(envelope["payload"]))["processid"] == pid


def test_subscribe_cancel_event(env: Env) -> None:
    pid = submit(env)["processid"]
    with _connect(env) as ws:
        _send(ws, _sub(pid, 4), env.executor_prvkey)
        _nothing_within(ws, 0.2)
        call_ok(env, {"msgtype": "cancelprocessmsg", "processid": pid})
        p = _push(ws)
        assert p["processid"] == pid and p["state"] == 4


def test_subscribe_failed_event(env: Env) -> None:
    pid = submit(env)["processid"]
    with _connect(env) as ws:
        _send(ws, _sub(pid, 3), env.executor_prvkey)
        assert assign(env)[0] == 200
        call_ok(env, {"msgtype": "closefailedmsg", "processid": pid, "errors": ["bad"]})
        p = _push(ws)
        assert p["state"] == 3 and p["errors"] == ["bad"]


def test_subscribe_server_closes_at_timeout(env: Env) -> None:
    pid = submit(env)["processid"]
    with _connect(env) as ws:
        started = time.monotonic()
        _send(ws, _sub(pid, 2, timeout=1), env.executor_prvkey)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert 0.8 <= time.monotonic() - started < 3
    with _connect(env) as ws:
        started = time.monotonic()
        _send(ws, _sub(pid, 2, timeout=0), env.executor_prvkey)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert time.monotonic() - started < 1


def test_subscribe_unknown_process_error_frame(env: Env) -> None:
    missing = "5" * 64
    with _connect(env) as ws:
        _send(ws, _sub(missing, 2), env.executor_prvkey)
        envelope, payload = _recv(ws)
        assert envelope["payloadtype"] == "error" and envelope["error"] is True
        assert payload == {"status": 403, "message": f"Invalid process with Id {missing}"}
        # The connection stays open and takes another subscription.
        pid = submit(env)["processid"]
        _send(ws, _sub(pid, 0), env.executor_prvkey)
        assert _push(ws)["processid"] == pid


def test_subscribe_msgtype_mismatch_error_frame(env: Env) -> None:
    pid = submit(env)["processid"]
    msg = _sub(pid, 0)
    msg["msgtype"] = "subscribeprocessesmsg"
    body = json.loads(build_request(msg, env.executor_prvkey))
    body["payloadtype"] = "subscribeprocessmsg"
    body["signature"] = sign(body["payload"], env.executor_prvkey)
    with _connect(env) as ws:
        ws.send(json.dumps(body))
        envelope, failure = _recv(ws)
        assert envelope["error"] is True and failure["status"] == 403
        assert "msg.MsgType does not match payloadType" in failure["message"]


@pytest.mark.parametrize("signature", ["", "zz", "00" * 65, "ab" * 64])
def test_subscribe_bad_signature_closes_without_frame(env: Env, signature: str) -> None:
    pid = submit(env)["processid"]
    body = json.loads(build_request(_sub(pid, 0), env.executor_prvkey))
    body["signature"] = signature
    with _connect(env) as ws:
        ws.send(json.dumps(body))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_subscribe_garbage_closes_without_frame(env: Env) -> None:
    with _connect(env) as ws:
        ws.send("this is not an envelope")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


# --------------------------------------------------------------------------------------------
# subscribeprocessesmsg


def test_subscribe_processes_requires_executor(env: Env) -> None:
    for key in (env.user_prvkey, generate_prvkey(), env.colony_prvkey):
        with _connect(env) as ws:
            _send(ws, _subs(env.executortype, 0), key)
            envelope, payload = _recv(ws)
            assert envelope["payloadtype"] == "error" and envelope["error"] is True
            assert payload == {"status": 403, "message": "executor not found"}


def test_subscribe_processes_pushes_of_type(env: Env) -> None:
    _, pending = env.add_executor(approve=False)  # any registered executor, approved or not
    with _connect(env) as waiting, _connect(env) as done:
        _send(waiting, _subs(env.executortype, 0), pending)
        _send(done, _subs(env.executortype, 2), env.executor_prvkey)
        _nothing_within(waiting, 0.2)
        submit(env, executortype=env.executortype + "-other")
        pid = submit(env)["processid"]
        p = _push(waiting)
        assert p["processid"] == pid and p["state"] == 0
        assert _run_and_close(env, ["x"]) == pid
        p = _push(done)
        assert p["processid"] == pid and p["state"] == 2
        _nothing_within(waiting, 0.2)  # the other type never arrives


def test_subscribe_processes_closes_at_timeout(env: Env) -> None:
    with _connect(env) as ws:
        started = time.monotonic()
        _send(ws, _subs(env.executortype, 0, timeout=1), env.executor_prvkey)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert 0.8 <= time.monotonic() - started < 3


# --------------------------------------------------------------------------------------------
# SDK wait()


def test_sdk_wait_returns_closed_process(env: Env) -> None:
    process = env.client.submit_func_spec(
        {
            "funcname": "f",
            "maxexectime": -1,
            "conditions": {"colonyname": env.colonyname, "executortype": env.executortype},
        },
        env.executor_prvkey,
    )

    def later() -> str:
        time.sleep(0.3)
        return _run_and_close(env, ["waited"])

    closer = Background(later)
    started = time.monotonic()
    done = env.client.wait(process, 10, env.user_prvkey)
    assert closer.result() == process.processid
    assert done.processid == process.processid and done.state == 2 and done.output == ["waited"]
    assert time.monotonic() - started < 3
    # Already successful: returns at once.
    again = env.client.wait(process.processid, 10, env.executor_prvkey)
    assert again.state == 2 and again.output == ["waited"]


def test_sdk_wait_times_out_when_process_fails(env: Env) -> None:
    pid = submit(env)["processid"]
    assert assign(env)[0] == 200
    call_ok(env, {"msgtype": "closefailedmsg", "processid": pid, "errors": ["no"]})
    started = time.monotonic()
    with pytest.raises(SubscriptionTimeoutError):
        env.client.wait(pid, 1, env.executor_prvkey)
    assert time.monotonic() - started < 4
    assert get(env, pid)["state"] == 3


def test_async_sdk_wait_returns_closed_process(env: Env) -> None:
    pid = submit(env)["processid"]

    async def main() -> Any:
        async with AsyncColonies("127.0.0.1", env.server.port) as client:
            waiter = asyncio.create_task(client.wait(pid, 10, env.executor_prvkey))
            await asyncio.sleep(0.3)
            assert not waiter.done()
            await asyncio.to_thread(_run_and_close, env, [1, 2])
            return await asyncio.wait_for(waiter, 5)

    done = asyncio.run(main())
    assert done.processid == pid and done.state == 2 and done.output == [1, 2]
