"""Server messages: versionmsg, getserverinfomsg, getstatisticsmsg, changeserveridmsg, plus the
pipeline errors every message shares (core/00-overview.md section 4, 20-messages.md section 1)."""

from __future__ import annotations

import base64
import json

from pycolonies import Colonies

from ..conftest import SERVER_ID, SERVER_PRVKEY, Env, ServerProcess
from .raw import raw_post
from .rpc_helpers import add_colony, env_on, new_key, ok, refused, spec

STAT_KEYS = {
    "colonies",
    "executors",
    "activeexecutors",
    "unregisteredexecutors",
    "waitingprocesses",
    "runningprocesses",
    "successfulprocesses",
    "failedprocesses",
    "cancelledprocesses",
    "waitingworkflows",
    "runningworkflows",
    "successfulworkflows",
    "failedworkflows",
    "cancelledworkflows",
}


def unsigned(msg: dict[str, object], signature: str = "") -> bytes:
    payload = base64.b64encode(json.dumps(msg).encode()).decode()
    return json.dumps({"payloadtype": msg["msgtype"], "payload": payload, "signature": signature}).encode()


# -- versionmsg ------------------------------------------------------------------------------


def test_version_unsigned(server: ServerProcess) -> None:
    for signature in ("", "zz", "00" * 65):
        status, envelope, payload = raw_post(
            server, unsigned({"msgtype": "versionmsg", "buildversion": "", "buildtime": ""}, signature)
        )
        assert status == 200
        assert envelope["payloadtype"] == "versionmsg" and envelope["error"] is False
        assert set(payload) == {"buildversion", "buildtime", "msgtype"}
        assert payload["msgtype"] == "versionmsg"
        assert isinstance(payload["buildversion"], str) and isinstance(payload["buildtime"], str)


def test_version_sdk_matches_raw(env: Env) -> None:
    status, _, payload = raw_post(env.server, unsigned({"msgtype": "versionmsg", "buildversion": "", "buildtime": ""}))
    assert status == 200
    assert env.client.version() == payload


def test_version_msgtype_mismatch(server: ServerProcess) -> None:
    payload = base64.b64encode(json.dumps({"msgtype": "getcoloniesmsg"}).encode()).decode()
    body = json.dumps({"payloadtype": "versionmsg", "payload": payload, "signature": ""})
    status, envelope, failure = raw_post(server, body)
    assert status == 400 and envelope["error"] is True and envelope["payloadtype"] == "error"
    assert failure["status"] == 400
    assert failure["message"].endswith("msg.MsgType does not match payloadType")


def test_version_invalid_json(server: ServerProcess) -> None:
    status, _, failure = raw_post(server, unsigned({"msgtype": "versionmsg", "buildversion": 5}))
    assert status == 400 and failure["status"] == 400
    assert failure["message"].startswith("Failed to ") and "invalid JSON" in failure["message"]


# -- getserverinfomsg ------------------------------------------------------------------------


def test_server_info_unsigned(server: ServerProcess) -> None:
    status, envelope, info = raw_post(server, unsigned({"msgtype": "getserverinfomsg"}))
    assert status == 200 and envelope["payloadtype"] == "getserverinfomsg"
    assert set(info) == {"buildversion", "buildtime", "backends"}
    # http backend on our port; "tls"/"insecure" are omitted when false
    assert info["backends"] == [{"type": "http", "port": server.port, "host": "127.0.0.1"}]


def test_server_info_payload_not_decoded(server: ServerProcess) -> None:
    body = json.dumps({"payloadtype": "getserverinfomsg", "payload": "!!not base64!!", "signature": "zz"})
    status, _, info = raw_post(server, body)
    assert status == 200 and info["backends"][0]["port"] == server.port


def test_server_info_sdk(env: Env) -> None:
    info = env.client.server_info()
    assert info["backends"][0]["type"] == "http"
    assert info["buildversion"] == env.client.version()["buildversion"]


# -- pipeline errors shared by every signed message -------------------------------------------


def test_unknown_payload_type(server: ServerProcess) -> None:
    for msgtype in ("getnodesmsg", "getnodemsg", "getnodesbylocationmsg", "nosuchmsg"):
        refused(server, {"msgtype": msgtype}, SERVER_PRVKEY, 403, f"invalid rpcMsg.PayloadType: {msgtype}")


def test_bad_signature(server: ServerProcess) -> None:
    status, _, failure = raw_post(server, unsigned({"msgtype": "getcoloniesmsg"}, "zz"))
    assert status == 403 and failure["status"] == 403
    status, _, failure = raw_post(server, unsigned({"msgtype": "getcoloniesmsg"}, ""))
    assert status == 403 and failure["status"] == 403


def test_not_an_envelope(server: ServerProcess) -> None:
    status, _, failure = raw_post(server, b"xyz")
    assert status == 400 and failure["status"] == 400


# -- getstatisticsmsg ------------------------------------------------------------------------


def test_statistics_shape_and_counts(env: Env) -> None:
    before = ok(env.server, {"msgtype": "getstatisticsmsg"}, SERVER_PRVKEY)
    assert set(before) == STAT_KEYS and all(isinstance(v, int) for v in before.values())
    assert before["colonies"] >= 1 and before["executors"] >= 1

    env.add_executor(approve=False)  # pending executors count
    removed, _ = env.add_executor()
    env.client.remove_executor(env.colonyname, removed, env.colony_prvkey)  # unregistered ones do not
    env.client.submit_func_spec(spec(env), env.executor_prvkey)
    running = env.client.submit_func_spec(spec(env), env.executor_prvkey)
    assigned = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert assigned is not None
    after = env.client.server_stats(SERVER_PRVKEY)
    assert after["colonies"] == before["colonies"]
    assert after["executors"] == before["executors"] + 1
    assert after["waitingprocesses"] == before["waitingprocesses"] + 1
    assert after["runningprocesses"] == before["runningprocesses"] + 1

    env.client.close(assigned.processid, [], env.executor_prvkey)
    nxt = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert nxt is not None
    env.client.fail(nxt.processid, ["boom"], env.executor_prvkey)
    cancelled = env.client.submit_func_spec(spec(env), env.executor_prvkey)
    env.client.cancel_process(cancelled.processid, env.executor_prvkey)
    final = env.client.server_stats(SERVER_PRVKEY)
    assert final["waitingprocesses"] == before["waitingprocesses"]
    assert final["runningprocesses"] == before["runningprocesses"]
    assert final["successfulprocesses"] == before["successfulprocesses"] + 1
    assert final["failedprocesses"] == before["failedprocesses"] + 1
    # server statistics only fill colonies, executors and four process counters
    zeroed = {"activeexecutors", "unregisteredexecutors", "cancelledprocesses"}
    for key in zeroed | {k for k in STAT_KEYS if k.endswith("workflows")}:
        assert final[key] == 0, key
    assert running.processid in (assigned.processid, nxt.processid)
    colony_name, _ = add_colony(env.client)
    try:
        assert env.client.server_stats(SERVER_PRVKEY)["colonies"] == final["colonies"] + 1
    finally:
        env.client.del_colony(colony_name, SERVER_PRVKEY)


def test_statistics_refused_for_non_owner(env: Env) -> None:
    for key in (env.colony_prvkey, env.executor_prvkey, env.user_prvkey, new_key()[0]):
        refused(env.server, {"msgtype": "getstatisticsmsg"}, key, 403, "Access denied, not server owner")


# -- changeserveridmsg (own server: it changes who owns the server) -----------------------------


def test_change_server_id(own_server: ServerProcess) -> None:
    new_prvkey, new_id = new_key()
    with Colonies("127.0.0.1", own_server.port, tls=False) as client:
        msg = {"msgtype": "changeserveridmsg", "serverid": new_id}
        reply = ok(own_server, msg, SERVER_PRVKEY)
        assert reply == {"serverid": new_id, "msgtype": "changeserveridmsg"}
        # the old key lost every server-owner right, the new one has them
        refused(own_server, {"msgtype": "getcoloniesmsg"}, SERVER_PRVKEY, 403, "Access denied, not server owner")
        refused(own_server, {"msgtype": "getstatisticsmsg"}, SERVER_PRVKEY, 403, "Access denied, not server owner")
        refused(own_server, msg, SERVER_PRVKEY, 403, "Access denied, not server owner")
        assert client.list_colonies(new_prvkey) is None
        _, colony_id = new_key()
        added = client.add_colony({"colonyid": colony_id, "name": "c1"}, new_prvkey)
        assert added == {"colonyid": colony_id, "name": "c1"}
        assert client.server_stats(new_prvkey)["colonies"] == 1
        # and back again with the SDK method
        assert client.change_server_id(SERVER_ID, new_prvkey) == {"serverid": SERVER_ID, "msgtype": "changeserveridmsg"}
        assert [c["name"] for c in client.list_colonies(SERVER_PRVKEY)] == ["c1"]


def test_change_server_id_errors(own_server: ServerProcess) -> None:
    refused(
        own_server,
        {"msgtype": "changeserveridmsg", "serverid": ""},
        SERVER_PRVKEY,
        400,
        "Failed to change colony Id, colony Id is empty",
    )
    with env_on(own_server) as env:
        for key in (env.colony_prvkey, env.executor_prvkey, env.user_prvkey):
            refused(
                own_server,
                {"msgtype": "changeserveridmsg", "serverid": new_key()[1]},
                key,
                403,
                "Access denied, not server owner",
            )
        # nothing changed
        assert ok(own_server, {"msgtype": "getstatisticsmsg"}, SERVER_PRVKEY)["colonies"] == 1
