"""Bad input on ``POST /api`` (protocol core/00-overview.md sections 3-4): every malformed request
gets the protocol's error reply, with the HTTP status equal to the Failure's ``status``, the server
keeps serving, and nothing is stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pycolonies.crypto import N, generate_prvkey, sign
from pycolonies.rpc import build_request

from ..backends import POSTGRES
from ..conftest import Env, ServerProcess, make_env
from .proc_helpers import assign, call_ok, get, make_spec, submit
from .raw import decode_reply, http

EMPTY_TYPE = (
    "invalid rpcMsg.PayloadType: empty (this usually means the client is misconfigured - check that "
    "COLONIES_PRVKEY and other environment variables are set correctly)"
)
SUBMIT = "Failed to submit function spec"


def _post(server: ServerProcess, body: bytes, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    reply = http().post(f"{server.url}/api", content=body, timeout=10, **kw)
    envelope, payload = decode_reply(reply.content)
    return reply.status_code, envelope, payload


def _expect_failure(result: tuple[int, dict[str, Any], Any], status: int, check: Callable[[str], bool]) -> None:
    got_status, envelope, payload = result
    assert set(envelope) == {"payloadtype", "payload", "error"}
    assert envelope["payloadtype"] == "error" and envelope["error"] is True
    assert set(payload) == {"status", "message"}
    assert (got_status, payload["status"]) == (status, status), payload
    assert isinstance(payload["message"], str) and payload["message"]
    assert check(payload["message"]), payload["message"]


def _envelope(payloadtype: Any, payload: Any, signature: Any) -> bytes:
    return json.dumps({"payloadtype": payloadtype, "payload": payload, "signature": signature}).encode()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _signed(payloadtype: str, payload: str, prvkey: str) -> bytes:
    return _envelope(payloadtype, payload, sign(payload, prvkey))


def _high_s(signature: str) -> str:
    raw = bytes.fromhex(signature)
    s = int.from_bytes(raw[32:64], "big")
    return (raw[:32] + (N - s).to_bytes(32, "big") + bytes([raw[64] ^ 1])).hex()


def _submit_msg(env: Env) -> dict[str, Any]:
    return {"msgtype": "submitfuncspecmsg", "spec": make_spec(env)}


def _valid(env: Env) -> dict[str, Any]:
    """The parts of a valid submit request."""
    body = json.loads(build_request(_submit_msg(env), env.executor_prvkey))
    return body  # type: ignore[no-any-return]


def _with(env: Env, **changes: Any) -> bytes:
    body = _valid(env)
    body.update(changes)
    return json.dumps(body).encode()


def _without(env: Env, key: str) -> bytes:
    body = _valid(env)
    del body[key]
    return json.dumps(body).encode()


def _padded_payload(env: Env) -> str:
    """The Base64 payload of a valid submit whose encoding ends in padding."""
    msg = _submit_msg(env)
    while True:
        payload = _b64(json.dumps(msg))
        if payload.endswith("="):
            return payload
        msg["spec"]["label"] += "x"


def _spec_with(env: Env, path: str, value: Any) -> bytes:
    """A submit whose spec has ``value`` at the dotted ``path``, correctly signed."""
    msg = _submit_msg(env)
    target = msg["spec"]
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    return build_request(msg, env.executor_prvkey)


def _is(text: str) -> Callable[[str], bool]:
    return lambda message: message == text


def _starts(text: str) -> Callable[[str], bool]:
    return lambda message: message.startswith(text)


def _any(message: str) -> bool:
    return True


CASES: dict[str, tuple[Callable[[Env], bytes], int, Callable[[str], bool]]] = {
    # Step 2: the envelope.
    "malformed-json": (lambda e: b'{"payloadtype": "submitfuncspecmsg", ', 400, _any),
    "not-json-at-all": (lambda e: b"x", 400, _any),
    "empty-body": (lambda e: b"", 400, _any),
    "invalid-utf8": (lambda e: b"\xff\xfe{}", 400, _any),
    "json-array": (lambda e: b"[1, 2]", 400, _any),
    "json-string": (lambda e: b'"submitfuncspecmsg"', 400, _any),
    "json-null": (lambda e: b"null", 400, _any),
    "json-number": (lambda e: b"42", 400, _any),
    "payloadtype-number": (lambda e: _with(e, payloadtype=25), 400, _any),
    "payload-object": (lambda e: _with(e, payload={"msgtype": "submitfuncspecmsg"}), 400, _any),
    "signature-list": (lambda e: _with(e, signature=["ab"]), 400, _any),
    "signature-bool": (lambda e: _with(e, signature=True), 400, _any),
    # Step 4: the signature.
    "missing-signature": (lambda e: _without(e, "signature"), 403, _is("Invalid signature length")),
    "empty-signature": (lambda e: _with(e, signature=""), 403, _is("Invalid signature length")),
    "signature-not-hex": (lambda e: _with(e, signature="zz" * 65), 403, _starts("encoding/hex")),
    "signature-odd-hex": (lambda e: _with(e, signature=_valid(e)["signature"][:-1]), 403, _any),
    "signature-short": (
        lambda e: _with(e, signature=_valid(e)["signature"][:-2]),
        403,
        _is("Invalid signature length"),
    ),
    "signature-long": (
        lambda e: _with(e, signature=_valid(e)["signature"] + "00"),
        403,
        _is("Invalid signature length"),
    ),
    "signature-high-s": (
        lambda e: _with(e, signature=_high_s(_valid(e)["signature"])),
        403,
        _is("Failed verify signature: Signature s value is over half the order"),
    ),
    "signature-zero": (lambda e: _with(e, signature="00" * 65), 403, _starts("Failed verify signature")),
    "signature-bad-v": (lambda e: _with(e, signature=_valid(e)["signature"][:-2] + "09"), 403, _any),
    "signature-unknown-key": (
        lambda e: build_request(_submit_msg(e), generate_prvkey()),
        403,
        _starts("Access denied, not a member of Colony with name"),
    ),
    "signature-of-other-payload": (
        lambda e: _with(e, signature=sign(_b64('{"msgtype": "versionmsg"}'), e.executor_prvkey)),
        403,
        _starts("Access denied"),
    ),
    "unknown-type-bad-signature": (
        lambda e: _envelope("nosuchmsg", _b64('{"msgtype": "nosuchmsg"}'), "abcd"),
        403,
        _is("Invalid signature length"),
    ),
    # Step 5: the payload type.
    "unknown-payloadtype": (
        lambda e: _signed("nosuchmsg", _b64('{"msgtype": "nosuchmsg"}'), e.executor_prvkey),
        403,
        _is("invalid rpcMsg.PayloadType: nosuchmsg"),
    ),
    "unhandled-getnodesmsg": (
        lambda e: build_request({"msgtype": "getnodesmsg", "colonyname": e.colonyname}, e.executor_prvkey),
        403,
        _is("invalid rpcMsg.PayloadType: getnodesmsg"),
    ),
    "empty-payloadtype": (lambda e: _with(e, payloadtype=""), 403, _is(EMPTY_TYPE)),
    "missing-payloadtype": (lambda e: _without(e, "payloadtype"), 403, _is(EMPTY_TYPE)),
    # Step 6: the payload.
    "payload-bad-base64": (
        lambda e: _signed("submitfuncspecmsg", "!!!not base64!!!", e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "payload-unpadded-base64": (
        lambda e: _signed("submitfuncspecmsg", _padded_payload(e).rstrip("="), e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "payload-not-json": (
        lambda e: _signed("submitfuncspecmsg", _b64("spec: yes"), e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "payload-json-array": (
        lambda e: _signed("submitfuncspecmsg", _b64('[{"msgtype": "submitfuncspecmsg"}]'), e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "payload-json-null": (
        lambda e: _signed("submitfuncspecmsg", _b64("null"), e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "payload-empty": (
        lambda e: _signed("submitfuncspecmsg", "", e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    # Step 7: the msgtype inside the payload.
    "msgtype-mismatch": (
        lambda e: _signed(
            "submitfuncspecmsg",
            _b64(json.dumps({**_submit_msg(e), "msgtype": "getprocessesmsg"})),
            e.executor_prvkey,
        ),
        400,
        _is(f"{SUBMIT}, msg.MsgType does not match payloadType"),
    ),
    "msgtype-missing": (
        lambda e: _signed("submitfuncspecmsg", _b64(json.dumps({"spec": make_spec(e)})), e.executor_prvkey),
        400,
        _is(f"{SUBMIT}, msg.MsgType does not match payloadType"),
    ),
    "payloadtype-mismatch": (
        lambda e: _signed("getprocessesmsg", _valid(e)["payload"], e.executor_prvkey),
        400,
        _starts("Failed to get processes, msg.MsgType does not match payloadType"),
    ),
    # Wrong JSON types inside the message.
    "spec-string": (
        lambda e: build_request({"msgtype": "submitfuncspecmsg", "spec": "f"}, e.executor_prvkey),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "priority-string": (lambda e: _spec_with(e, "priority", "1"), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "priority-bool": (lambda e: _spec_with(e, "priority", True), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "maxexectime-float": (lambda e: _spec_with(e, "maxexectime", 1.5), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "args-object": (lambda e: _spec_with(e, "args", {"a": 1}), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "env-int-value": (lambda e: _spec_with(e, "env", {"k": 1}), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "conditions-list": (lambda e: _spec_with(e, "conditions", []), 400, _starts(f"{SUBMIT}, invalid JSON")),
    "executornames-string": (
        lambda e: _spec_with(e, "conditions.executornames", "a"),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "executornames-ints": (
        lambda e: _spec_with(e, "conditions.executornames", [1]),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
    "colonyname-number": (
        lambda e: _spec_with(e, "conditions.colonyname", 7),
        400,
        _starts(f"{SUBMIT}, invalid JSON"),
    ),
}


@pytest.fixture
def clean_env(env: Env) -> Iterator[Env]:
    """The env, checked afterwards: nothing stored, and the server still serves normal calls."""
    yield env
    for state in range(5):
        msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 100, "state": state}
        assert call_ok(env, msg) is None
    p = submit(env)
    status, assigned = assign(env)
    assert status == 200 and assigned["processid"] == p["processid"]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_request(clean_env: Env, case: str) -> None:
    build, status, check = CASES[case]
    _expect_failure(_post(clean_env.server, build(clean_env)), status, check)


def test_wrong_type_in_assign_leaves_process_waiting(env: Env) -> None:
    pid = submit(env)["processid"]
    for fields in ({"timeout": "10"}, {"timeout": 1.5}, {"availablecpu": 1000}, {"colonyname": ["x"]}):
        msg = {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": -1, **fields}
        _expect_failure(
            _post(env.server, build_request(msg, env.executor_prvkey)),
            400,
            _starts("Failed to assign process, invalid JSON"),
        )
    assert get(env, pid)["state"] == 0
    for fields in ({"processid": 5}, {"out": "done"}, {"out": {"a": 1}}):
        msg = {"msgtype": "closesuccessfulmsg", "processid": pid, "out": [], **fields}
        _expect_failure(_post(env.server, build_request(msg, env.executor_prvkey)), 400, _starts("Failed to"))
    status, p = assign(env)
    assert status == 200 and p["processid"] == pid


def test_lenient_decoding(env: Env) -> None:
    """Unknown fields are ignored, missing ones take zero values, compact JSON and any content type work."""
    msg = _submit_msg(env)
    msg["unknown"] = {"nested": [1, 2]}
    msg["spec"]["alsounknown"] = True
    del msg["spec"]["label"], msg["spec"]["kwargs"]
    payload = base64.b64encode(json.dumps(msg, separators=(",", ":")).encode()).decode()
    body = json.dumps(
        {"signature": sign(payload, env.executor_prvkey), "payload": payload, "payloadtype": msg["msgtype"]}
    )
    status, envelope, p = _post(
        env.server, body.encode(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert status == 200 and envelope == {
        "payloadtype": "submitfuncspecmsg",
        "payload": envelope["payload"],
        "error": False,
    }
    assert p["spec"]["label"] == "" and p["spec"]["kwargs"] is None
    # Unsigned messages: no signature check at all.
    version = _envelope("versionmsg", _b64('{"msgtype": "versionmsg", "buildversion": "", "buildtime": ""}'), "zz")
    status, envelope, reply = _post(env.server, version)
    assert status == 200 and envelope["payloadtype"] == "versionmsg" and reply["msgtype"] == "versionmsg"
    status, _, info = _post(env.server, _envelope("getserverinfomsg", "not even base64", ""))
    assert status == 200 and info["backends"][0]["port"] == env.server.port


def test_other_routes(server: ServerProcess) -> None:
    reply = http().get(f"{server.url}/health")
    assert reply.status_code == 200 and reply.content == b""
    assert http().get(f"{server.url}/api").status_code in (404, 405)
    assert http().put(f"{server.url}/api", content=b"{}").status_code in (404, 405)
    assert http().post(f"{server.url}/no/such/path", content=b"{}").status_code == 404


def test_oversized_body(own_server: ServerProcess) -> None:
    own_server.env["COLONIES_MAX_BODY_BYTES"] = "4096"
    own_server.restart()
    gen = make_env(own_server)
    env = next(gen)
    try:
        big = build_request(
            {"msgtype": "submitfuncspecmsg", "spec": make_spec(env, label="x" * 5000)}, env.executor_prvkey
        )
        assert len(big) > 4096
        _expect_failure(_post(own_server, big), 413, _any)

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
            for i in range(0, len(big), 1000):
                yield big[i : i + 1000]

        _expect_failure(_post(own_server, chunks()), 413, _any)  # type: ignore[arg-type]
        huge = b"{" + b" " * 10_000_000 + b"}"
        try:
            _expect_failure(_post(own_server, huge), 413, _any)
        except httpx.HTTPError:
            pass  # the server may answer and close before the upload ends; it must not be stored
        msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 100, "state": 0}
        assert call_ok(env, msg) is None
        # Just under the limit is fine.
        fits = build_request(
            {"msgtype": "submitfuncspecmsg", "spec": make_spec(env, label="y" * 2000)}, env.executor_prvkey
        )
        assert len(fits) <= 4096
        status, _, p = _post(own_server, fits)
        assert status == 200 and p["spec"]["label"] == "y" * 2000
        assert len(call_ok(env, msg)) == 1
    finally:
        gen.close()


def test_nul_characters_are_bad_input_not_a_server_fault(env: Env) -> None:
    """PostgreSQL cannot store NUL in text: such requests get 400 and nothing is stored; SQLite
    stores the strings as sent. Either way no 500, and the server keeps serving."""
    colony, key = env.colonyname, env.executor_prvkey
    messages = [
        {"msgtype": "getfilelabelsmsg", "colonyname": colony, "name": "/a\u0000", "exact": True},
        {"msgtype": "getsnapshotmsg", "colonyname": colony, "snapshotid": "", "name": "s\u0000"},
        {"msgtype": "addexecutorlogmsg", "colonyname": colony, "executorname": env.executorname, "message": "\u0000"},
    ]
    for msg in messages:
        result = _post(env.server, build_request(msg, key))
        if POSTGRES:
            _expect_failure(result, 400, _starts("Invalid input, the store cannot hold a value of the request"))
        elif msg["msgtype"] == "getsnapshotmsg":  # upstream's answer for a missing snapshot
            _expect_failure(result, 500, _starts("Snapshot not found with name"))
        else:
            assert result[0] == 200, result
    logs = env.client.get_executor_log(colony, env.executorname, 100, 0, key) or []
    assert ["\u0000" in line["message"] for line in logs] == ([] if POSTGRES else [True])
    assert submit(env)["state"] == 0  # still serving
