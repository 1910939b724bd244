"""The request-building core: the exact messages upstream's SDK sends, and the multi-step methods.

The core is sans-IO, so the multi-step tests feed it replies directly (they stand for the server,
not for any pycolonies component).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pycolonies import (
    AccessDeniedError,
    Colonies,
    ColoniesError,
    Conditions,
    FuncSpec,
    NotFoundError,
    Workflow,
    func_spec,
)
from pycolonies.client import core
from pycolonies.client.core import BaseClient, Call
from pycolonies.crypto import id_of, recover_id
from pycolonies.rpc import decode_payload

PID = "a" * 64
KEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
COLONY_KEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
SPEC = FuncSpec(conditions=Conditions(colonyname="dev", executortype="cli"), maxexectime=-1)

C = BaseClient()

# (builder call, expected message in upstream's field order)
MESSAGES: list[tuple[Callable[[], Any], dict[str, Any]]] = [
    (
        lambda: core.add_colony(C, {"colonyid": PID, "name": "dev"}),
        {"msgtype": "addcolonymsg", "colony": {"colonyid": PID, "name": "dev"}},
    ),
    (lambda: core.del_colony(C, "dev"), {"msgtype": "removecolonymsg", "colonyname": "dev"}),
    (lambda: core.list_colonies(C), {"msgtype": "getcoloniesmsg"}),
    (lambda: core.get_colony(C, "dev"), {"msgtype": "getcolonymsg", "colonyname": "dev"}),
    (lambda: core.list_executors(C, "dev"), {"msgtype": "getexecutorsmsg", "colonyname": "dev"}),
    (
        lambda: core.get_executor(C, "dev", "e"),
        {"msgtype": "getexecutormsg", "colonyname": "dev", "executorname": "e"},
    ),
    (
        lambda: core.approve_executor(C, "dev", "e"),
        {"msgtype": "approveexecutormsg", "colonyname": "dev", "executorname": "e"},
    ),
    (
        lambda: core.reject_executor(C, "dev", "e"),
        {"msgtype": "rejectexecutormsg", "colonyname": "dev", "executorname": "e"},
    ),
    (
        lambda: core.remove_executor(C, "dev", "e"),
        {"msgtype": "removeexecutormsg", "colonyname": "dev", "executorname": "e"},
    ),
    (
        lambda: core.submit_func_spec(C, SPEC),
        {"msgtype": "submitfuncspecmsg", "spec": SPEC.model_dump(by_alias=True)},
    ),
    (
        lambda: core.submit_workflow(C, Workflow(colonyname="dev", functionspecs=[SPEC])),
        {
            "msgtype": "submitworkflowspecmsg",
            "spec": {"colonyname": "dev", "functionspecs": [SPEC.model_dump(by_alias=True)]},
        },
    ),
    (
        lambda: core.list_processes(C, "dev", 10, 0),
        {"msgtype": "getprocessesmsg", "colonyname": "dev", "count": 10, "state": 0},
    ),
    (
        lambda: core.list_processes(C, "dev", 10, 0, label="l"),
        {"msgtype": "getprocessesmsg", "colonyname": "dev", "count": 10, "state": 0, "label": "l"},
    ),
    (lambda: core.get_process(C, PID), {"msgtype": "getprocessmsg", "processid": PID}),
    (lambda: core.remove_process(C, PID), {"msgtype": "removeprocessmsg", "processid": PID}),
    (
        lambda: core.close(C, PID, ["out"]),
        {"msgtype": "closesuccessfulmsg", "processid": PID, "out": ["out"]},
    ),
    (lambda: core.fail(C, PID, ["err"]), {"msgtype": "closefailedmsg", "processid": PID, "errors": ["err"]}),
    (lambda: core.set_output(C, PID, [1, 2]), {"msgtype": "setoutputmsg", "processid": PID, "out": [1, 2]}),
    (lambda: core.stats(C, "dev"), {"msgtype": "getcolonystatsmsg", "colonyname": "dev"}),
    (
        lambda: core.add_attribute(C, PID, "k", "v"),
        {
            "msgtype": "addattributemsg",
            "attribute": {"key": "k", "value": "v", "targetid": PID, "attributetype": 1},
        },
    ),
    (lambda: core.get_attribute(C, PID), {"msgtype": "getattributemsg", "attributeid": PID}),
    (lambda: core.get_processgraph(C, PID), {"msgtype": "getprocessgraphmsg", "processgraphid": PID}),
    (
        lambda: core.get_processgraphs(C, "dev", 10),
        {"msgtype": "getprocessgraphsmsg", "colonyname": "dev", "count": 10},
    ),
    (
        lambda: core.get_processgraphs(C, "dev", 10, None, 2),
        {"msgtype": "getprocessgraphsmsg", "colonyname": "dev", "count": 10, "state": 2},
    ),
    (lambda: core.remove_processgraph(C, PID), {"msgtype": "removeprocessgraphmsg", "processgraphid": PID}),
    (
        lambda: core.remove_all_processgraphs(C, "dev"),
        {"msgtype": "removeallprocessgraphsmsg", "colonyname": "dev"},
    ),
    (
        lambda: core.remove_all_processgraphs(C, "dev", state=-1),
        {"msgtype": "removeallprocessgraphsmsg", "colonyname": "dev", "state": -1},
    ),
    (
        lambda: core.remove_all_processes(C, "dev"),
        {"msgtype": "removeallprocessesmsg", "colonyname": "dev", "state": -1},
    ),
    (
        lambda: core.add_function(C, "dev", "e", "echo"),
        {"msgtype": "addfunctionmsg", "fun": {"executorname": "e", "colonyname": "dev", "funcname": "echo"}},
    ),
    (
        lambda: core.get_functions_by_executor(C, "dev", "e"),
        {"msgtype": "getfunctionsmsg", "colonyname": "dev", "executorname": "e"},
    ),
    (lambda: core.get_functions_by_colony(C, "dev"), {"msgtype": "getfunctionsmsg", "colonyname": "dev"}),
    (
        lambda: core.create_snapshot(C, "dev", "/l", "s"),
        {"msgtype": "createsnapshotmsg", "colonyname": "dev", "label": "/l", "name": "s"},
    ),
    (lambda: core.get_snapshots(C, "dev"), {"msgtype": "getsnapshotsmsg", "colonyname": "dev"}),
    (
        lambda: core.get_snapshot_by_name(C, "dev", "s"),
        {"msgtype": "getsnapshotmsg", "colonyname": "dev", "snapshotid": "", "name": "s"},
    ),
    (
        lambda: core.get_snapshot_by_id(C, "dev", PID),
        {"msgtype": "getsnapshotmsg", "colonyname": "dev", "snapshotid": PID, "name": ""},
    ),
    (lambda: core.add_log(C, PID, "hello"), {"msgtype": "addlogmsg", "processid": PID, "message": "hello"}),
    (
        lambda: core.get_process_log(C, "dev", PID, 100, -1),
        {
            "msgtype": "getlogsmsg",
            "colonyname": "dev",
            "executorid": "",
            "processid": PID,
            "count": 100,
            "since": -1,
        },
    ),
    (
        lambda: core.get_executor_log(C, "dev", "e", 100, -1),
        {
            "msgtype": "getlogsmsg",
            "colonyname": "dev",
            "executorname": "e",
            "processid": "",
            "count": 100,
            "since": -1,
        },
    ),
    (lambda: core.get_files(C, "/l", "dev"), {"msgtype": "getfilesmsg", "colonyname": "dev", "label": "/l"}),
    (
        lambda: core.get_file(C, "dev", None, label="/l", filename="f"),
        {
            "msgtype": "getfilemsg",
            "colonyname": "dev",
            "fileid": None,
            "label": "/l",
            "name": "f",
            "latest": True,
        },
    ),
    (
        lambda: core.get_file_labels(C, "dev"),
        {"msgtype": "getfilelabelsmsg", "colonyname": "dev", "name": "", "exact": False},
    ),
    (lambda: core.get_cron(C, PID), {"msgtype": "getcronmsg", "cronid": PID}),
    (lambda: core.get_crons(C, "dev", 10), {"msgtype": "getcronsmsg", "colonyname": "dev", "count": 10}),
    (lambda: core.del_cron(C, PID), {"msgtype": "removecronmsg", "all": False, "cronid": PID}),
    (lambda: core.run_cron(C, PID), {"msgtype": "runcronmsg", "cronid": PID}),
    (
        lambda: core.get_generators(C, "dev"),
        {"msgtype": "getgeneratorsmsg", "colonyname": "dev", "count": 100},
    ),
    (lambda: core.get_generator(C, PID), {"msgtype": "getgeneratormsg", "generatorid": PID}),
    (
        lambda: core.add_generator(C, {"name": "g"}),
        {"msgtype": "addgeneratormsg", "generator": {"name": "g"}},
    ),
    (lambda: core.remove_generator(C, PID), {"msgtype": "removegeneratormsg", "generatorid": PID}),
    (lambda: core.get_users(C, "dev"), {"msgtype": "getusersmsg", "colonyname": "dev"}),
    (lambda: core.add_user(C, {"name": "u"}), {"msgtype": "addusermsg", "user": {"name": "u"}}),
    (lambda: core.remove_user(C, "dev", "u"), {"msgtype": "removeusermsg", "colonyname": "dev", "name": "u"}),
    (
        lambda: core.channel_append(C, PID, "ch", 1, "hi", in_reply_to=0, payload_type="data"),
        {
            "msgtype": "channelappendmsg",
            "processid": PID,
            "name": "ch",
            "sequence": 1,
            "inreplyto": 0,
            "payload": [104, 105],
            "payloadtype": "data",
        },
    ),
    (
        lambda: core.channel_read(C, PID, "ch", 0, 10),
        {"msgtype": "channelreadmsg", "processid": PID, "name": "ch", "afterseq": 0, "limit": 10},
    ),
    (
        lambda: core.add_blueprint_definition(C, {"kind": "K"}),
        {"msgtype": "addblueprintdefinitionmsg", "blueprintdefinition": {"kind": "K"}},
    ),
    (
        lambda: core.get_blueprint_definition(C, "dev", "d"),
        {"msgtype": "getblueprintdefinitionmsg", "colonyname": "dev", "name": "d"},
    ),
    (
        lambda: core.get_blueprint_definitions(C, "dev"),
        {"msgtype": "getblueprintdefinitionsmsg", "colonyname": "dev"},
    ),
    (
        lambda: core.remove_blueprint_definition(C, "dev", "d"),
        {"msgtype": "removeblueprintdefinitionmsg", "namespace": "dev", "name": "d"},
    ),
    (
        lambda: core.add_blueprint(C, {"kind": "K"}),
        {"msgtype": "addblueprintmsg", "blueprint": {"kind": "K"}},
    ),
    (
        lambda: core.get_blueprint(C, "dev", "b"),
        {"msgtype": "getblueprintmsg", "namespace": "dev", "name": "b"},
    ),
    (lambda: core.get_blueprints(C, "dev"), {"msgtype": "getblueprintsmsg", "namespace": "dev"}),
    (
        lambda: core.get_blueprints(C, "dev", None, kind="K", location="l"),
        {"msgtype": "getblueprintsmsg", "namespace": "dev", "kind": "K", "locationname": "l"},
    ),
    (
        lambda: core.update_blueprint(C, {"kind": "K"}),
        {"msgtype": "updateblueprintmsg", "blueprint": {"kind": "K"}, "forcegeneration": False},
    ),
    (
        lambda: core.remove_blueprint(C, "dev", "b"),
        {"msgtype": "removeblueprintmsg", "namespace": "dev", "name": "b"},
    ),
    (
        lambda: core.update_blueprint_status(C, "dev", "b", {"on": True}),
        {
            "msgtype": "updateblueprintstatusmsg",
            "colonyname": "dev",
            "blueprintname": "b",
            "status": {"on": True},
        },
    ),
    (
        lambda: core.reconcile_blueprint(C, "dev", "b"),
        {"msgtype": "reconcileblueprintmsg", "namespace": "dev", "name": "b", "force": False},
    ),
    (lambda: core.get_blueprint_history(C, PID), {"msgtype": "getblueprinthistorymsg", "blueprintid": PID}),
    (
        lambda: core.get_blueprint_history(C, PID, None, 5),
        {"msgtype": "getblueprinthistorymsg", "blueprintid": PID, "limit": 5},
    ),
    # beyond upstream
    (lambda: core.server_stats(C), {"msgtype": "getstatisticsmsg"}),
    (lambda: core.cancel_process(C, PID), {"msgtype": "cancelprocessmsg", "processid": PID}),
    (lambda: core.cancel_processgraph(C, PID), {"msgtype": "cancelprocessgraphmsg", "processgraphid": PID}),
    (lambda: core.pause_assignments(C, "dev"), {"msgtype": "pauseassignmentsmsg", "colonyname": "dev"}),
    (lambda: core.resume_assignments(C, "dev"), {"msgtype": "resumeassignmentsmsg", "colonyname": "dev"}),
    (lambda: core.get_pause_status(C, "dev"), {"msgtype": "getpausestatusmsg", "colonyname": "dev"}),
    (
        lambda: core.get_process_history(C, "dev", "", 60, 2),
        {"msgtype": "getprocesshistmsg", "colonyname": "dev", "executorid": "", "seconds": 60, "state": 2},
    ),
    (
        lambda: core.get_executor_by_id(C, "dev", PID),
        {"msgtype": "getexecutorbyidmsg", "colonyname": "dev", "executorid": PID},
    ),
    (lambda: core.get_user(C, "dev", "u"), {"msgtype": "getusermsg", "colonyname": "dev", "name": "u"}),
    (
        lambda: core.get_user_by_id(C, "dev", PID),
        {"msgtype": "getuserbyidmsg", "colonyname": "dev", "userid": PID},
    ),
    (
        lambda: core.change_colony_id(C, "dev", PID),
        {"msgtype": "changecolonyidmsg", "colonyname": "dev", "colonyid": PID},
    ),
    (
        lambda: core.change_executor_id(C, "dev", PID),
        {"msgtype": "changeexecutoridmsg", "colonyname": "dev", "executorid": PID},
    ),
    (
        lambda: core.change_user_id(C, "dev", PID),
        {"msgtype": "changeuseridmsg", "colonyname": "dev", "userid": PID},
    ),
    (lambda: core.change_server_id(C, PID), {"msgtype": "changeserveridmsg", "serverid": PID}),
    (lambda: core.remove_function(C, PID), {"msgtype": "removefunctionmsg", "functionid": PID}),
    (lambda: core.add_location(C, {"name": "l"}), {"msgtype": "addlocationmsg", "location": {"name": "l"}}),
    (lambda: core.get_locations(C, "dev"), {"msgtype": "getlocationsmsg", "colonyname": "dev"}),
    (
        lambda: core.get_location(C, "dev", "l"),
        {"msgtype": "getlocationmsg", "colonyname": "dev", "name": "l"},
    ),
    (
        lambda: core.remove_location(C, "dev", "l"),
        {"msgtype": "removelocationmsg", "colonyname": "dev", "name": "l"},
    ),
    (
        lambda: core.resolve_generator(C, "dev", "g"),
        {"msgtype": "resolvegeneratormsg", "colonyname": "dev", "generatorname": "g"},
    ),
    (
        lambda: core.pack_generator(C, PID, "x"),
        {"msgtype": "packgeneratormsg", "generatorid": PID, "arg": "x"},
    ),
    (
        lambda: core.search_logs(C, "dev", "err", 1, 10),
        {"msgtype": "searchlogsmsg", "colonyname": "dev", "text": "err", "days": 1, "count": 10},
    ),
    (
        lambda: core.add_executor_log(C, "dev", "e", "m"),
        {"msgtype": "addexecutorlogmsg", "colonyname": "dev", "executorname": "e", "message": "m"},
    ),
    (
        lambda: core.remove_snapshot_by_name(C, "dev", "s"),
        {"msgtype": "removesnapshotmsg", "colonyname": "dev", "snapshotid": "", "name": "s"},
    ),
    (lambda: core.remove_all_snapshots(C, "dev"), {"msgtype": "removeallsnapshotmsg", "colonyname": "dev"}),
]


@pytest.mark.parametrize(("build", "expected"), MESSAGES, ids=[m[1]["msgtype"] for m in MESSAGES])
def test_message(build: Callable[[], Any], expected: dict[str, Any]) -> None:
    op = build()
    call = op if isinstance(op, Call) else next(op)
    assert list(call.msg.items()) == list(expected.items())
    assert call.prvkey is None
    assert call.signed


def test_wait_message_is_upstreams() -> None:
    msg = core.subscribe_process_msg(PID, "cli", 2, 10, "dev")
    assert list(msg) == ["processid", "executortype", "state", "timeout", "colonyname", "msgtype"]
    assert list(core.subscribe_channel_msg(PID, "ch", 0, 30)) == [
        "processid",
        "name",
        "afterseq",
        "timeout",
        "msgtype",
    ]


def test_add_cron_sends_both_wait_keys() -> None:
    wf = Workflow(colonyname="dev", functionspecs=[SPEC])
    call = core.add_cron(C, "c", "0/1 * * * * *", True, wf, "dev")
    cron = call.msg["cron"]
    assert cron["waitforprevprocessgrap"] is True
    assert cron["waitforprevprocessgraph"] is True
    assert cron["interval"] == -1
    assert json.loads(cron["workflowspec"]) == wf.model_dump(by_alias=True)
    assert list(cron)[:3] == ["name", "colonyname", "interval"]


def test_add_child_sets_nodename() -> None:
    spec = func_spec("child", [], "dev", "cli")
    call = core.add_child(C, "g" * 64, "p" * 64, "", spec, "node2", False)
    assert spec.nodename == "node2"
    assert call.msg["spec"]["nodename"] == "node2"
    assert list(call.msg) == [
        "msgtype",
        "processgraphid",
        "parentprocessid",
        "childprocessid",
        "insert",
        "spec",
    ]


def test_get_file_rejects_id_and_name() -> None:
    with pytest.raises(ValueError, match="Both 'fileid' and 'filename'"):
        core.get_file(C, "dev", None, fileid="x", filename="y")


def test_unsigned_messages() -> None:
    for op in (core.version(C), core.server_info(C)):
        assert not op.signed
        envelope = json.loads(C._encode(op))
        assert envelope["signature"] == ""
        assert decode_payload(envelope["payload"])["msgtype"] == envelope["payloadtype"]


def test_assign_long_poll_gets_a_longer_read_timeout() -> None:
    call = next(core.assign(C, "dev", 10))
    assert call.msg == {"msgtype": "assignprocessmsg", "timeout": 10, "colonyname": "dev"}
    assert call.read_timeout == 10 + core.ASSIGN_MARGIN
    client = BaseClient(timeout=5.0)
    assert client._read_timeout(call) == 20.0
    assert client._read_timeout(core.get_colony(C, "dev")) == 5.0


def test_default_key_and_missing_key() -> None:
    call = core.get_colony(C, "test")
    with pytest.raises(ColoniesError, match="No private key"):
        BaseClient()._encode(call)
    envelope = json.loads(BaseClient(prvkey=KEY)._encode(call))
    assert recover_id(envelope["payload"], envelope["signature"]) == id_of(KEY)
    explicit = core.get_colony(C, "test", COLONY_KEY)
    envelope = json.loads(BaseClient(prvkey=KEY)._encode(explicit))
    assert recover_id(envelope["payload"], envelope["signature"]) == id_of(COLONY_KEY)


def test_client_envelope_is_byte_identical_to_upstream() -> None:
    body = BaseClient()._encode(core.get_colony(C, "test", KEY))
    assert (
        body
        == json.dumps(
            {
                "payloadtype": "getcolonymsg",
                "payload": "eyJtc2d0eXBlIjogImdldGNvbG9ueW1zZyIsICJjb2xvbnluYW1lIjogInRlc3QifQ==",
                "signature": "094a94c81baa80340fca37271ba95d80fe07457fd1b0590f5d658c9fa122f1d11a47c970"
                "da63a3cadcf454582e107f49f679b10b9038e973c1ab0c3f1bc0d58e00",
            }
        ).encode()
    )


# Multi-step methods, driven with canned server replies.


def _replies(*replies: Any) -> Callable[[Call[Any]], Any]:
    queue = list(replies)
    sent: list[dict[str, Any]] = []

    def send(call: Call[Any]) -> Any:
        sent.append(call.msg)
        reply = queue.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    send.sent = sent  # type: ignore[attr-defined]
    return send


def _process_reply(nodename: str) -> dict[str, Any]:
    zero = "0001-01-01T00:00:00Z"
    spec = FuncSpec(nodename=nodename, conditions=Conditions(executortype="cli"))
    return {
        "processid": PID,
        "initiatorid": PID,
        "initiatorname": "e",
        "assignedexecutorid": "",
        "isassigned": False,
        "state": 0,
        "prioritytime": 0,
        "submissiontime": zero,
        "starttime": zero,
        "endtime": zero,
        "waitdeadline": zero,
        "execdeadline": zero,
        "retries": 0,
        "attributes": [],
        "spec": spec.model_dump(by_alias=True),
        "parents": [],
        "children": [],
        "processgraphid": "",
        "in": [],
        "out": [],
        "errors": [],
    }


def test_assign_returns_none_on_the_404_timeout() -> None:
    send = _replies(NotFoundError("No process available for assignment", 404))
    assert core.run_sync(core.assign(C, "dev", 1), send) is None


def test_assign_raises_other_errors() -> None:
    send = _replies(AccessDeniedError("Access denied, not a member", 403))
    with pytest.raises(AccessDeniedError):
        core.run_sync(core.assign(C, "dev", 1), send)


def test_find_process_stops_at_the_first_match() -> None:
    first, second = _process_reply("a"), _process_reply("b")
    send = _replies(first, second)
    found = core.run_sync(core.find_process(C, "b", ["1", "2", "3"]), send)
    assert found is not None and found.spec.nodename == "b"
    assert [m["processid"] for m in send.sent] == ["1", "2"]  # type: ignore[attr-defined]
    assert core.run_sync(core.find_process(C, "z", []), send) is None


def test_get_processes_for_workflow_reads_the_graph() -> None:
    send = _replies({"processids": ["1", "2", "3"]}, {"processid": "1"}, {"processid": "2"})
    result = core.run_sync(core.get_processes_for_workflow(C, "g", "dev", count=2), send)
    assert result == [{"processid": "1"}, {"processid": "2"}]


def test_approve_executor_by_id_after_add_executor() -> None:
    client = BaseClient()
    executorid = id_of(KEY)
    executor = {
        "executorname": "my-executor",
        "executorid": executorid,
        "colonyname": "dev",
        "executortype": "t",
    }
    core.run_sync(core.add_executor(client, executor, COLONY_KEY), _replies(executor))
    for builder, msgtype in (
        (core.approve_executor, "approveexecutormsg"),
        (core.reject_executor, "rejectexecutormsg"),
        (core.remove_executor, "removeexecutormsg"),
    ):
        call = builder(client, executorid, COLONY_KEY)
        assert call.msg == {"msgtype": msgtype, "colonyname": "dev", "executorname": "my-executor"}
        assert call.prvkey == COLONY_KEY


def test_approve_executor_by_unknown_id_explains_the_three_argument_form() -> None:
    with pytest.raises(ColoniesError, match=r"approve_executor\(colonyname, executorname, colony_prvkey\)"):
        core.approve_executor(BaseClient(), id_of(KEY), COLONY_KEY)


def test_channel_read_decodes_payloads() -> None:
    entries = [{"payload": [104, 105]}, {"payload": "aGk="}, {"payload": None}]
    result = core.run_sync(core.channel_read(C, PID, "ch", 0, 10), _replies(entries))
    assert [e["payload"] for e in result] == [b"hi", b"hi", None]


def test_pause_status_is_a_bool() -> None:
    reply = {"msgtype": "pausestatusreplymsg", "colonyname": "dev", "ispaused": True}
    assert core.run_sync(core.get_pause_status(C, "dev"), _replies(reply)) is True


def test_colonies_is_a_base_client() -> None:
    assert issubclass(Colonies, BaseClient)
