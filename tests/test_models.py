"""The models serialise exactly as upstream's SDK (protocol core/10-objects.md section 4)."""

from __future__ import annotations

import json

from pycolonies import Conditions, File, FuncSpec, Process, Reference, S3Object

UPSTREAM_DUMP = json.loads(
    """
{"nodename": "", "funcname": "", "args": [], "kwargs": {}, "priority": 0, "maxwaittime": 0,
 "maxexectime": 0, "maxretries": 0,
 "conditions": {"colonyname": "", "executornames": null, "executortype": "x", "dependencies": [],
                "nodes": 0, "cpu": "", "processes": 0, "processespernode": 0, "mem": "",
                "storage": "", "gpu": {"name": "", "mem": "", "count": 0, "nodecount": 0},
                "walltime": 0},
 "label": "", "fs": {"mount": "", "snapshots": null, "dirs": null}, "env": {}, "channels": []}
"""
)


def test_funcspec_dump_equals_upstream() -> None:
    dump = FuncSpec(conditions=Conditions(executortype="x")).model_dump(by_alias=True)
    assert dump == UPSTREAM_DUMP
    assert list(dump) == list(UPSTREAM_DUMP)
    assert list(dump["conditions"]) == list(UPSTREAM_DUMP["conditions"])
    assert json.dumps(dump) == json.dumps(UPSTREAM_DUMP)


def test_locationname_is_sent_only_when_set() -> None:
    conditions = Conditions(executortype="x", locationname="edge")
    assert conditions.model_dump()["locationname"] == "edge"
    assert json.loads(conditions.model_dump_json())["locationname"] == "edge"
    assert "locationname" not in Conditions(executortype="x").model_dump()


def test_mutable_defaults_are_not_shared() -> None:
    a = FuncSpec(conditions=Conditions(executortype="x"))
    b = FuncSpec(conditions=Conditions(executortype="x"))
    a.conditions.dependencies.append("p")
    assert a.env is not None
    a.env["k"] = "v"
    assert b.conditions.dependencies == [] and b.env == {}


def _reference() -> Reference:
    s3 = S3Object(
        server="server",
        port=123,
        tls=False,
        accesskey="key",
        secretkey="secret",
        region="region",
        encryptionkey="enckey",
        encryptionalg="alg",
        object="object",
        bucket="bucket",
    )
    return Reference(protocol="proto", s3object=s3)


def test_file_ensures_single_slash() -> None:
    common = dict(
        fileid="id",
        colonyname="testcolony",
        name="filename",
        size=100,
        sequencenr=1,
        checksum="cheksum",
        checksumalg="alg",
        ref=_reference(),
        added=None,
    )
    assert File(label="filelabel", **common).label == "/filelabel"
    assert File(label="///filelabel", **common).label == "/filelabel"
    assert File(label="/a/b/", **common).label == "/a/b"


PROCESS_REPLY = {
    "processid": "p" * 64,
    "initiatorid": "i" * 64,
    "initiatorname": "exec",
    "assignedexecutorid": "",
    "isassigned": False,
    "state": 0,
    "prioritytime": 1739179502123456000,
    "submissiontime": "2026-02-10T09:15:02.123456789Z",
    "starttime": "0001-01-01T00:00:00Z",
    "endtime": "0001-01-01T00:00:00Z",
    "waitdeadline": "2026-02-10T10:15:02+01:00",
    "execdeadline": "0001-01-01T00:00:00Z",
    "retries": 0,
    "attributes": None,
    "spec": UPSTREAM_DUMP,
    "parents": [],
    "children": [],
    "processgraphid": "",
    "in": [1, "two", 3.5],
    "out": [],
    "errors": [],
}


def test_process_parses_a_reply_with_in_and_out() -> None:
    process = Process(**PROCESS_REPLY)
    assert process.input == [1, "two", 3.5]
    assert process.output == []
    assert process.spec.conditions.executortype == "x"
    assert process.waitforparents is False


def test_process_accepts_input_output_keywords() -> None:
    reply = {k: v for k, v in PROCESS_REPLY.items() if k not in ("in", "out")}
    process = Process(**reply, input=["a"], output=["b"])
    assert (process.input, process.output) == (["a"], ["b"])
    assert process.model_dump(by_alias=True)["in"] == ["a"]
