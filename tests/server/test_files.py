"""ColonyFS files (protocol ext/50-files-snapshots.md section 2): registering versions, looking
them up by id or by label and name, the latest version of each name under a label, label listings
(literal prefixes, the exact tree), removal, who may do it, bad input, removal with the colony, and
the store's file methods (on the backend under test)."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path
from typing import Any

from pycolonies.crypto import id_of
from pycolonies.timefmt import parse_ns

from ..backends import new_store
from ..conftest import SERVER_PRVKEY, Env
from .fs_helpers import add, failure, file_doc, files_msg, labels, labels_msg, s3object, second_colony
from .rpc_helpers import add_colony, add_user, no_colony, not_member, ok, outsiders, refused

HEX64 = re.compile(r"[0-9a-f]{64}")
FILE_KEYS = ["fileid", "colonyname", "label", "name", "size", "sequencenr", "checksum", "checksumalg", "ref", "added"]


# -- helpers --------------------------------------------------------------------------------


def get_msg(
    colonyname: str, *, fileid: Any = "", label: Any = "", name: Any = "", latest: Any = False
) -> dict[str, Any]:
    return {
        "msgtype": "getfilemsg",
        "colonyname": colonyname,
        "fileid": fileid,
        "label": label,
        "name": name,
        "latest": latest,
    }


def remove_msg(colonyname: str, *, fileid: str = "", label: str = "", name: str = "") -> dict[str, Any]:
    return {"msgtype": "removefilemsg", "colonyname": colonyname, "fileid": fileid, "label": label, "name": name}


def versions(env: Env, label: str, name: str, latest: bool = False) -> list[dict[str, Any]]:
    return ok(env.server, get_msg(env.colonyname, label=label, name=name, latest=latest), env.user_prvkey)  # type: ignore[no-any-return]


# -- adding ---------------------------------------------------------------------------------


def test_add_replies_with_the_stored_file(env: Env) -> None:
    doc = file_doc(env.colonyname, "/data/raw", "sample.csv", fileid="f" * 64, sequencenr=77, size=1234)
    before = time.time_ns()
    reply = ok(env.server, {"msgtype": "addfilemsg", "file": doc}, env.executor_prvkey)
    after = time.time_ns()

    assert list(reply) == FILE_KEYS
    assert HEX64.fullmatch(reply["fileid"]) and reply["fileid"] != "f" * 64  # the server's id
    assert type(reply["sequencenr"]) is int and reply["sequencenr"] > 0 and reply["sequencenr"] != 77
    assert reply["added"].endswith("Z") and before <= parse_ns(reply["added"]) <= after
    for key in ("colonyname", "label", "name", "size", "checksum", "checksumalg", "ref"):
        assert reply[key] == doc[key], key
    assert list(reply["ref"]["s3object"]) == list(s3object())

    # what getfilemsg returns is what addfilemsg replied
    assert ok(env.server, get_msg(env.colonyname, fileid=reply["fileid"]), env.user_prvkey) == [reply]


def test_ref_protocol_is_returned_as_stored(env: Env) -> None:
    local = add(env, "/cache", "x.bin", protocol="local")
    s3 = add(env, "/cache", "y.bin")
    assert local["ref"]["protocol"] == "local" and s3["ref"]["protocol"] == "s3"
    [got] = ok(env.server, get_msg(env.colonyname, fileid=local["fileid"]), env.executor_prvkey)
    assert got["ref"]["protocol"] == "local"


def test_every_member_adds_and_go_zero_times_are_accepted(env: Env) -> None:
    by_user = add(env, "/m", "u.txt", key=env.user_prvkey)
    by_executor = add(env, "/m", "e.txt", added="0001-01-01T00:00:00Z")  # what the Go SDK sends
    assert by_user["colonyname"] == by_executor["colonyname"] == env.colonyname
    assert parse_ns(by_executor["added"]) > 0  # the server's time, not the client's
    assert labels(env) == {"/m": 2}


def test_missing_fields_are_zero_values(env: Env) -> None:
    reply = ok(
        env.server,
        {"msgtype": "addfilemsg", "file": {"colonyname": env.colonyname, "name": "bare", "label": None}},
        env.user_prvkey,
    )
    assert reply["label"] == "" and reply["size"] == 0 and reply["checksum"] == ""
    assert reply["ref"] == {
        "protocol": "",
        "s3object": {
            "server": "",
            "port": 0,
            "tls": False,
            "accesskey": "",
            "secretkey": "",
            "region": "",
            "encryptionkey": "",
            "encryptionalg": "",
            "object": "",
            "bucket": "",
        },
    }


def test_labels_and_names_are_stored_verbatim(env: Env) -> None:
    odd = [("data/x", "n"), ("/a//b/", "n"), ("/dots/.../a..b", ".hidden"), ("/c", "a:b c"), ("", "root")]
    for label, name in odd:
        reply = add(env, label, name)
        assert (reply["label"], reply["name"]) == (label, name)
        [got] = ok(env.server, get_msg(env.colonyname, fileid=reply["fileid"]), env.user_prvkey)
        assert (got["label"], got["name"]) == (label, name)
        if label:  # (an empty label cannot be asked for by name: that is the malformed request)
            assert versions(env, label, name) == [reply]
    assert set(labels(env) or {}) == {label for label, _ in odd}
    [data] = ok(env.server, files_msg(env.colonyname, "/c"), env.user_prvkey)
    assert data["name"] == "a:b c"


# -- versions -------------------------------------------------------------------------------


def test_versions_share_one_increasing_sequence_across_colonies(env: Env) -> None:
    with second_colony(env) as (other, other_user):
        seen = []
        for i in range(3):
            seen.append(add(env, "/v", "f.txt", checksum=f"{i}" * 64))
            other_reply = ok(env.server, {"msgtype": "addfilemsg", "file": file_doc(other, "/v", "f.txt")}, other_user)
            seen.append(other_reply)
        numbers = [f["sequencenr"] for f in seen]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # strictly increasing

        mine = [f for f in seen if f["colonyname"] == env.colonyname]
        newest_first = sorted(mine, key=lambda f: -f["sequencenr"])
        assert versions(env, "/v", "f.txt") == newest_first
        assert versions(env, "/v", "f.txt", latest=True) == newest_first[:1]
        assert newest_first[0]["checksum"] == "2" * 64

        # the other colony's versions are its own
        theirs = ok(env.server, get_msg(other, label="/v", name="f.txt"), other_user)
        assert [f["colonyname"] for f in theirs] == [other] * 3
        assert {f["fileid"] for f in theirs}.isdisjoint(f["fileid"] for f in mine)


def test_get_file_by_id_and_lookup_errors(env: Env) -> None:
    first = add(env, "/g", "doc.md")
    second = add(env, "/g", "doc.md")
    server, key = env.server, env.user_prvkey

    assert ok(server, get_msg(env.colonyname, fileid=first["fileid"]), key) == [first]  # an array in every mode
    # the id wins over label and name
    assert ok(server, get_msg(env.colonyname, fileid=first["fileid"], label="/x", name="y"), key) == [first]
    # the SDK sends null for what it does not use
    assert ok(server, get_msg(env.colonyname, fileid=None, label="/g", name="doc.md", latest=None), key) == [
        second,
        first,
    ]

    refused(server, get_msg(env.colonyname, fileid="0" * 64), key, 400, "Failed to get file")
    refused(server, get_msg(env.colonyname, label="/g", name="nope.md"), key, 404, "Failed to get file")
    refused(server, get_msg(env.colonyname, label="/g", name="nope.md", latest=True), key, 404, "Failed to get file")
    for label in ("/g/", "g", "/G"):  # labels match exactly
        refused(server, get_msg(env.colonyname, label=label, name="doc.md"), key, 404, "Failed to get file")
    for malformed in ({}, {"label": "/g"}, {"name": "doc.md"}, {"fileid": None, "label": None, "name": None}):
        refused(server, get_msg(env.colonyname, **malformed), key, 500, "malformatted get file msg")

    with second_colony(env) as (other, other_user):  # another colony's file is not found by id
        refused(server, get_msg(other, fileid=first["fileid"]), other_user, 400, "Failed to get file")


def test_get_files_lists_the_latest_of_each_name_under_exactly_one_label(env: Env) -> None:
    add(env, "/p", "a.txt", checksum="1" * 64, size=1)
    latest_a = add(env, "/p", "a.txt", checksum="2" * 64, size=2)
    b = add(env, "/p", "b.txt")
    add(env, "/p/sub", "c.txt")
    add(env, "/pp", "d.txt")

    found = ok(env.server, files_msg(env.colonyname, "/p"), env.executor_prvkey)
    assert all(list(f) == ["name", "checksum", "size", "s3filename"] for f in found)
    by_name = {f["name"]: f for f in found}
    assert len(by_name) == len(found) == 2
    assert by_name["a.txt"] == {
        "name": "a.txt",
        "checksum": "2" * 64,
        "size": 2,
        "s3filename": latest_a["ref"]["s3object"]["object"],
    }
    assert by_name["b.txt"]["s3filename"] == b["ref"]["s3object"]["object"]

    for label in ("/nothing", "/p/", "p", ""):
        assert ok(env.server, files_msg(env.colonyname, label), env.executor_prvkey) == []


# -- labels ---------------------------------------------------------------------------------


def test_labels_all_prefix_and_exact_tree(env: Env) -> None:
    assert labels(env) is None  # nothing yet: null
    for label, name in [
        ("/a", "1"),
        ("/a", "1"),  # a second version: counted
        ("/a", "2"),
        ("/a/b", "1"),
        ("/a/b/c", "1"),
        ("/ab", "1"),
        ("/b", "1"),
        ("/t/u", "1"),
    ]:
        add(env, label, name)

    everything = {"/a": 3, "/a/b": 1, "/a/b/c": 1, "/ab": 1, "/b": 1, "/t/u": 1}
    assert labels(env) == everything
    assert labels(env, exact=True) == everything  # exact is ignored without a name
    assert labels(env, "/a") == {"/a": 3, "/a/b": 1, "/a/b/c": 1, "/ab": 1}  # a plain string prefix
    assert labels(env, "/a/") == {"/a/b": 1, "/a/b/c": 1}
    assert labels(env, "/a", exact=True) == {"/a": 3, "/a/b": 1, "/a/b/c": 1}  # the tree: not /ab
    assert labels(env, "/a/b", exact=True) == {"/a/b": 1, "/a/b/c": 1}
    assert labels(env, "/a/b/c", exact=True) == {"/a/b/c": 1}
    # the tree of a label that holds no files itself (upstream answers null)
    assert labels(env, "/t", exact=True) == {"/t/u": 1}
    assert labels(env, "/", exact=True) is None  # "/" and labels under "//"
    for name in ("/z", "/a/x", "a"):
        assert labels(env, name) is None
        assert labels(env, name, exact=True) is None


def test_label_matching_is_literal(env: Env) -> None:
    for label in ("/100%", "/100%/x", "/1000", "/a_b", "/a_b/c", "/aXb", "/aXb/c", "/p.q", "/pXq"):
        add(env, label, "f")
    assert labels(env, "/100%") == {"/100%": 1, "/100%/x": 1}
    assert labels(env, "/10%") is None
    assert labels(env, "/a_b", exact=True) == {"/a_b": 1, "/a_b/c": 1}
    assert labels(env, "/a_") == {"/a_b": 1, "/a_b/c": 1}
    assert labels(env, "/p.") == {"/p.q": 1}
    assert labels(env, "%") is None and labels(env, "_", exact=True) is None


def test_unicode_labels_match_by_prefix(env: Env) -> None:
    for label in ("/é", "/é/ü", "/éa", "/\U0010ffff", "/\U0010ffff/x", "/f"):
        add(env, label, "n")
    assert labels(env, "/é") == {"/é": 1, "/é/ü": 1, "/éa": 1}
    assert labels(env, "/é", exact=True) == {"/é": 1, "/é/ü": 1}
    assert labels(env, "/\U0010ffff") == {"/\U0010ffff": 1, "/\U0010ffff/x": 1}


# -- removing -------------------------------------------------------------------------------


def test_remove_by_id_and_by_label_and_name(env: Env) -> None:
    server, key = env.server, env.user_prvkey
    old = add(env, "/r", "f.txt")
    new = add(env, "/r", "f.txt")
    other = add(env, "/r", "g.txt")

    assert ok(server, remove_msg(env.colonyname, fileid=new["fileid"]), key) == {}
    assert versions(env, "/r", "f.txt", latest=True) == [old]  # the previous version is the latest again
    assert ok(server, remove_msg(env.colonyname, fileid=new["fileid"]), key) == {}  # a missing id is fine
    assert ok(server, remove_msg(env.colonyname, fileid="0" * 64), key) == {}

    add(env, "/r", "f.txt")
    assert ok(server, remove_msg(env.colonyname, label="/r", name="f.txt"), key) == {}  # every version
    refused(server, get_msg(env.colonyname, label="/r", name="f.txt"), key, 404, "Failed to get file")
    assert ok(server, files_msg(env.colonyname, "/r"), key) == [
        {"name": "g.txt", "checksum": other["checksum"], "size": 3, "s3filename": other["ref"]["s3object"]["object"]}
    ]
    assert ok(server, remove_msg(env.colonyname, label="/r", name="none"), key) == {}

    for malformed in ({}, {"label": "/r"}, {"name": "g.txt"}):
        refused(server, remove_msg(env.colonyname, **malformed), key, 400, "malformatted remove file msg")
    assert labels(env) == {"/r": 1}

    with second_colony(env) as (colony, user):  # another colony cannot remove this colony's files
        assert ok(server, remove_msg(colony, fileid=other["fileid"]), user) == {}
        assert ok(server, remove_msg(colony, label="/r", name="g.txt"), user) == {}
    assert versions(env, "/r", "g.txt") == [other]


# -- who may --------------------------------------------------------------------------------


def test_only_members_may(env: Env) -> None:
    existing = add(env, "/sec", "s.txt")
    name = env.colonyname
    messages = [
        {"msgtype": "addfilemsg", "file": file_doc(name, "/sec", "t.txt")},
        get_msg(name, fileid=existing["fileid"]),
        get_msg(name, label="/sec", name="s.txt"),
        get_msg(name),  # refused before the malformed check
        files_msg(name, "/sec"),
        labels_msg(name),
        labels_msg(name, "/sec", exact=True),
        remove_msg(name, fileid=existing["fileid"]),
        remove_msg(name, label="/sec", name="s.txt"),
        remove_msg(name),
    ]
    with outsiders(env) as keys:
        for key in [env.colony_prvkey, SERVER_PRVKEY, *keys]:  # neither owner is a member
            for msg in messages:
                refused(env.server, msg, key, 403, not_member(name))
    _, pending_prvkey = env.add_executor(approve=False)
    for msg in messages:
        refused(env.server, msg, pending_prvkey, 403, not_member(name))

    ghost = "colony-" + secrets.token_hex(5)
    refused(env.server, get_msg(ghost, fileid=existing["fileid"]), env.user_prvkey, 403, no_colony(ghost))
    refused(env.server, {"msgtype": "addfilemsg", "file": file_doc(ghost)}, env.user_prvkey, 403, no_colony(ghost))
    assert labels(env) == {"/sec": 1}  # nothing added or removed
    assert versions(env, "/sec", "s.txt") == [existing]


# -- bad input ------------------------------------------------------------------------------


def test_bad_names_and_labels_are_refused_and_nothing_is_stored(env: Env) -> None:
    def refused_add(doc: dict[str, Any]) -> str:
        status, message = failure(env.server, "addfilemsg", {"msgtype": "addfilemsg", "file": doc}, env.user_prvkey)
        assert status == 400, message
        assert message.startswith("Failed to add file, "), message
        return message

    for name in ("", ".", "..", "a/b", "/etc/passwd", "..\\x", "a\\b", "nul\0byte", "x" * 1025):
        refused_add(file_doc(env.colonyname, "/ok", name))
    for label in ("/a/../b", "/..", "..", "../x", "/a/.", "./a", "/.", ".", "/a\\b", "C:\\x", "/nul\0", "/" * 4097):
        refused_add(file_doc(env.colonyname, label, "f.txt"))
    assert "longer than 1024" in refused_add(file_doc(env.colonyname, "/ok", "n" * 1025))
    assert "longer than 4096" in refused_add(file_doc(env.colonyname, "/" + "l" * 4096, "f.txt"))

    refused(
        env.server, {"msgtype": "addfilemsg", "file": None}, env.user_prvkey, 400, "Failed to add file, msg.File is nil"
    )
    refused(env.server, {"msgtype": "addfilemsg"}, env.user_prvkey, 400, "Failed to add file, msg.File is nil")
    assert labels(env) is None  # nothing was stored

    # the longest accepted ones
    longest = add(env, "/" + "l" * 4095, "n" * 1024)
    assert len(longest["label"]) == 4096 and len(longest["name"]) == 1024


def test_invalid_json_and_msgtype_mismatch_texts(env: Env) -> None:
    key, name = env.user_prvkey, env.colonyname
    invalid = {
        "addfilemsg": ({"file": {"colonyname": name, "size": "big"}}, "Failed to add log, invalid JSON"),
        "getfilemsg": ({"colonyname": name, "latest": "yes"}, "Failed to add log, invalid JSON"),
        "getfilesmsg": ({"colonyname": 5}, "Failed to get files, invalid JSON"),
        "getfilelabelsmsg": ({"colonyname": name, "exact": 1}, "Failed to get files, invalid JSON"),
        "removefilemsg": ({"colonyname": name, "fileid": []}, "Failed to remove file, invalid JSON"),
    }
    for msgtype, (fields, text) in invalid.items():
        status, message = failure(env.server, msgtype, {"msgtype": msgtype, **fields}, key)
        assert status == 400 and message.startswith(text), (msgtype, message)
    status, message = failure(
        env.server, "addfilemsg", {"msgtype": "addfilemsg", "file": file_doc(name, added="yesterday")}, key
    )
    assert status == 400 and message.startswith("Failed to add log, invalid JSON"), message

    mismatch = {
        "addfilemsg": "Failed to add file",
        "getfilemsg": "Failed to get file",
        "getfilesmsg": "Failed to get files",
        "getfilelabelsmsg": "Failed to get files",
        "removefilemsg": "Failed to remove file",
    }
    for msgtype, prefix in mismatch.items():
        msg = {"msgtype": "getcoloniesmsg", "colonyname": name, "file": file_doc(name)}
        assert failure(env.server, msgtype, msg, key) == (400, f"{prefix}, msg.MsgType does not match payloadType")
    assert labels(env) is None


# -- lifetime -------------------------------------------------------------------------------


def test_removing_the_colony_removes_its_files_and_snapshots(env: Env) -> None:
    colony, colony_prvkey = add_colony(env.client)
    removed = False
    try:
        _, user = add_user(env, colony, colony_prvkey)
        added = ok(env.server, {"msgtype": "addfilemsg", "file": file_doc(colony, "/keep", "k.txt")}, user)
        create = {"msgtype": "createsnapshotmsg", "colonyname": colony, "label": "/keep", "name": "snap"}
        assert ok(env.server, create, user)["fileids"] == [added["fileid"]]

        env.client.del_colony(colony, SERVER_PRVKEY)
        removed = True
        env.client.add_colony({"colonyid": id_of(colony_prvkey), "name": colony}, SERVER_PRVKEY)
        removed = False
        _, user = add_user(env, colony, colony_prvkey)

        assert ok(env.server, labels_msg(colony), user) is None
        refused(env.server, get_msg(colony, fileid=added["fileid"]), user, 400, "Failed to get file")
        assert ok(env.server, {"msgtype": "getsnapshotsmsg", "colonyname": colony}, user) is None
        assert ok(env.server, create, user)["fileids"] is None  # the name is free again
    finally:
        if not removed:
            env.client.del_colony(colony, SERVER_PRVKEY)


# -- the store ------------------------------------------------------------------------------


def test_store_add_file_refuses_a_taken_id(tmp_path: Path) -> None:
    async def run() -> None:
        store = await new_store(tmp_path)
        try:
            doc = {
                "fileid": "f1",
                "colonyname": "c",
                "label": "/l",
                "name": "n",
                "size": 1,
                "checksum": "x",
                "checksumalg": "SHA256",
                "ref": {"protocol": "local", "s3object": s3object("o")},
                "added": 5,
            }
            first = await store.add_file(doc)
            assert first is not None and first["sequencenr"] > 0 and first["ref"] == doc["ref"]
            assert await store.add_file({**doc, "name": "other"}) is None
            assert await store.get_file_versions("c", "/l", "other", False) == []
            assert await store.get_file("c", "f1") == first
            assert await store.get_file("d", "f1") is None
        finally:
            await store.close()

    asyncio.run(run())
