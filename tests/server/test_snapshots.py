"""ColonyFS snapshots (protocol ext/50-files-snapshots.md section 3): creating a snapshot of a
label tree, getting it by id and by name, listing newest first, removing, duplicate names (also
when created concurrently), who may do it, bad input, and the store's snapshot methods (on the
backend under test)."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pycolonies.timefmt import parse_ns

from ..backends import new_store
from ..conftest import SERVER_PRVKEY, Env
from .fs_helpers import add, failure, files_msg, labels, second_colony
from .raw import raw_call
from .rpc_helpers import not_member, ok, outsiders, refused

HEX64 = re.compile(r"[0-9a-f]{64}")
SNAPSHOT_KEYS = ["snapshotid", "colonyname", "label", "name", "fileids", "added"]


def create_msg(colonyname: str, label: str, name: str) -> dict[str, Any]:
    return {"msgtype": "createsnapshotmsg", "colonyname": colonyname, "label": label, "name": name}


def get_msg(colonyname: str, *, snapshotid: Any = "", name: Any = "") -> dict[str, Any]:
    return {"msgtype": "getsnapshotmsg", "colonyname": colonyname, "snapshotid": snapshotid, "name": name}


def list_msg(colonyname: str) -> dict[str, Any]:
    return {"msgtype": "getsnapshotsmsg", "colonyname": colonyname}


def remove_msg(colonyname: str, *, snapshotid: str = "", name: str = "") -> dict[str, Any]:
    return {"msgtype": "removesnapshotmsg", "colonyname": colonyname, "snapshotid": snapshotid, "name": name}


def remove_all_msg(colonyname: str) -> dict[str, Any]:
    return {"msgtype": "removeallsnapshotmsg", "colonyname": colonyname}


def create(env: Env, label: str, name: str, key: str | None = None) -> dict[str, Any]:
    return ok(env.server, create_msg(env.colonyname, label, name), key or env.user_prvkey)  # type: ignore[no-any-return]


def exists(env: Env, name: str) -> str:
    return f"Snapshot with name <{name}> in Colony <{env.colonyname}> already exists"


# -- creating -------------------------------------------------------------------------------


def test_snapshot_of_a_tree_holds_the_latest_versions(env: Env) -> None:
    add(env, "/proj", "a.txt")
    a2 = add(env, "/proj", "a.txt")  # the latest version of a.txt
    b = add(env, "/proj", "b.txt")
    c = add(env, "/proj/sub", "c.txt")
    d = add(env, "/proj/sub/deep", "d.txt")
    add(env, "/project", "not-below.txt")  # a string prefix, but not below /proj
    add(env, "/other", "x.txt")

    before = time.time_ns()
    snap = create(env, "/proj/", "v1")  # one trailing slash is removed
    after = time.time_ns()
    assert list(snap) == SNAPSHOT_KEYS
    assert HEX64.fullmatch(snap["snapshotid"])
    assert (snap["colonyname"], snap["label"], snap["name"]) == (env.colonyname, "/proj", "v1")
    assert sorted(snap["fileids"]) == sorted(f["fileid"] for f in (a2, b, c, d))
    assert snap["added"].endswith("Z") and before <= parse_ns(snap["added"]) <= after

    # later versions do not change it
    add(env, "/proj", "a.txt")
    assert ok(env.server, get_msg(env.colonyname, snapshotid=snap["snapshotid"]), env.executor_prvkey) == snap

    assert create(env, "/proj//", "v2")["label"] == "/proj/"  # only one slash is removed
    assert create(env, "/proj/sub", "sub")["fileids"] in ([c["fileid"], d["fileid"]], [d["fileid"], c["fileid"]])


def test_tree_without_files_at_its_base_and_empty_snapshots(env: Env) -> None:
    below = add(env, "/base/child", "f.txt")
    snap = create(env, "/base", "from-empty-base")  # upstream finds nothing when /base holds no file
    assert snap["fileids"] == [below["fileid"]]
    assert labels(env, "/base", exact=True) == {"/base/child": 1}

    empty = create(env, "/nothing/here", "empty")
    assert empty["fileids"] is None  # null, and the snapshot is still created
    assert ok(env.server, get_msg(env.colonyname, name="empty"), env.user_prvkey) == empty


def test_snapshot_of_the_root(env: Env) -> None:
    files = [add(env, label, "f") for label in ("/x", "/y/z")]
    for label in ("/", ""):
        snap = create(env, label, f"root{label}")
        assert snap["label"] == ""
        assert sorted(snap["fileids"]) == sorted(f["fileid"] for f in files)


def test_duplicate_names_are_refused_even_when_concurrent(env: Env) -> None:
    add(env, "/dup", "f")
    first = create(env, "/dup", "same")
    refused(env.server, create_msg(env.colonyname, "/other", "same"), env.user_prvkey, 500, exists(env, "same"))
    [stored] = ok(env.server, list_msg(env.colonyname), env.user_prvkey)
    assert stored == first

    msg = create_msg(env.colonyname, "/dup", "race")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: raw_call(env.server, msg, env.user_prvkey), range(8)))
    winners = [payload for status, payload in results if status == 200]
    assert len(winners) == 1
    assert [r for r in results if r[0] != 200] == [(500, {"status": 500, "message": exists(env, "race")})] * 7
    assert ok(env.server, get_msg(env.colonyname, name="race"), env.user_prvkey) == winners[0]

    with second_colony(env) as (other, user):  # names are per colony
        assert ok(env.server, create_msg(other, "/dup", "same"), user)["fileids"] is None


def test_names_are_kept_as_they_are(env: Env) -> None:
    add(env, "/n", "f")
    for name in ("with:colon", "a:b:c", ":", "x/y", " spaced ", "é"):
        assert create(env, "/n", name)["name"] == name
        assert ok(env.server, get_msg(env.colonyname, name=name), env.user_prvkey)["name"] == name
    listed = ok(env.server, list_msg(env.colonyname), env.user_prvkey)  # upstream fails on a ':' here
    assert {s["name"] for s in listed} == {"with:colon", "a:b:c", ":", "x/y", " spaced ", "é"}


def test_bad_snapshot_requests(env: Env) -> None:
    key, name = env.user_prvkey, env.colonyname
    status, message = failure(env.server, "createsnapshotmsg", create_msg(name, "/l", ""), key)
    assert status == 400 and message.startswith("Failed to create snapshot, "), message
    status, message = failure(env.server, "createsnapshotmsg", create_msg(name, "/l", "n" * 1025), key)
    assert status == 400 and "longer than 1024" in message
    status, message = failure(env.server, "createsnapshotmsg", create_msg(name, "/" * 4097, "n"), key)
    assert status == 400 and "longer than 4096" in message
    assert ok(env.server, list_msg(name), key) is None  # nothing was created

    refused(env.server, get_msg(name), key, 500, "Failed to get snapshot, malformatted msg")
    refused(env.server, get_msg(name, snapshotid=None, name=None), key, 500, "Failed to get snapshot, malformatted msg")
    refused(env.server, remove_msg(name), key, 500, "Failed to remove snapsnot, malformatted msg")
    refused(
        env.server,
        get_msg(name, snapshotid="0" * 64),
        key,
        500,
        f"Snapshot not found with Id {'0' * 64} in Colony {name} does not exists",
    )
    refused(
        env.server,
        get_msg(name, name="nope"),
        key,
        500,
        f"Snapshot not found with name nope in Colony {name} does not exists",
    )

    prefixes = {
        "createsnapshotmsg": "Failed to create snapshot",
        "getsnapshotmsg": "Failed to get snapshot",
        "getsnapshotsmsg": "Failed to get snapshots",
        "removesnapshotmsg": "Failed to remove snapshot",
        "removeallsnapshotmsg": "Failed to remove snapshot",
    }
    for msgtype, prefix in prefixes.items():
        status, message = failure(env.server, msgtype, {"msgtype": msgtype, "colonyname": ["x"]}, key)
        assert status == 400 and message.startswith(f"{prefix}, invalid JSON"), message
        mismatch = {"msgtype": "getcoloniesmsg", "colonyname": name, "name": "n", "label": "/l"}
        assert failure(env.server, msgtype, mismatch, key) == (400, f"{prefix}, msg.MsgType does not match payloadType")
    assert ok(env.server, list_msg(name), key) is None


# -- listing and removing -------------------------------------------------------------------


def test_list_newest_first_and_remove(env: Env) -> None:
    server, key = env.server, env.executor_prvkey
    assert ok(server, list_msg(env.colonyname), key) is None  # none: null
    kept = add(env, "/l", "f")
    made = [create(env, "/l", f"s{i}") for i in range(4)]
    assert ok(server, list_msg(env.colonyname), key) == made[::-1]

    assert ok(server, remove_msg(env.colonyname, snapshotid=made[0]["snapshotid"]), key) == {}
    assert ok(server, remove_msg(env.colonyname, name="s1"), key) == {}
    assert ok(server, remove_msg(env.colonyname, name="s1"), key) == {}  # a missing snapshot is fine
    assert ok(server, remove_msg(env.colonyname, snapshotid="0" * 64), key) == {}
    # the id wins over the name
    assert ok(server, remove_msg(env.colonyname, snapshotid=made[2]["snapshotid"], name="s3"), key) == {}
    assert ok(server, list_msg(env.colonyname), key) == [made[3]]
    refused(
        server,
        get_msg(env.colonyname, snapshotid=made[0]["snapshotid"]),
        key,
        500,
        f"Snapshot not found with Id {made[0]['snapshotid']} in Colony {env.colonyname} does not exists",
    )

    with second_colony(env) as (other, user):
        theirs = ok(server, create_msg(other, "/l", "theirs"), user)
        # colonies do not see or remove each other's snapshots
        refused(
            server,
            get_msg(other, snapshotid=made[3]["snapshotid"]),
            user,
            500,
            f"Snapshot not found with Id {made[3]['snapshotid']} in Colony {other} does not exists",
        )
        assert ok(server, remove_msg(other, snapshotid=made[3]["snapshotid"]), user) == {}
        assert ok(server, remove_all_msg(env.colonyname), key) == {}
        assert ok(server, list_msg(env.colonyname), key) is None
        assert ok(server, list_msg(other), user) == [theirs]

    # files are untouched by snapshot removal
    [data] = ok(server, files_msg(env.colonyname, "/l"), key)
    assert data["s3filename"] == kept["ref"]["s3object"]["object"]
    assert ok(server, remove_all_msg(env.colonyname), key) == {}  # nothing to remove is fine


def test_only_members_may(env: Env) -> None:
    snap = create(env, "/m", "mine")
    name = env.colonyname
    messages = [
        create_msg(name, "/m", "theirs"),
        get_msg(name, snapshotid=snap["snapshotid"]),
        get_msg(name, name="mine"),
        get_msg(name),
        list_msg(name),
        remove_msg(name, snapshotid=snap["snapshotid"]),
        remove_msg(name, name="mine"),
        remove_msg(name),
        remove_all_msg(name),
    ]
    with outsiders(env) as keys:
        for key in [env.colony_prvkey, SERVER_PRVKEY, *keys]:
            for msg in messages:
                refused(env.server, msg, key, 403, not_member(name))
    assert ok(env.server, list_msg(name), env.user_prvkey) == [snap]


# -- the store ------------------------------------------------------------------------------


def test_store_add_snapshot_is_refused_for_a_taken_name(tmp_path: Path) -> None:
    async def run() -> None:
        store = await new_store(tmp_path)
        try:
            ref = {"protocol": "s3", "s3object": {"object": "o"}}
            for i, label in enumerate(("/t", "/t", "/t/u", "/tu")):
                file = {"fileid": f"f{i}", "colonyname": "c", "label": label, "name": "n", "size": 0}
                await store.add_file({**file, "checksum": "", "checksumalg": "", "ref": ref, "added": i})
            snap = {"snapshotid": "s1", "colonyname": "c", "label": "/t", "name": "n", "added": 7}
            stored = await store.add_snapshot(snap)
            assert stored == {**snap, "fileids": ["f1", "f2"]}
            assert await store.add_snapshot({**snap, "snapshotid": "s2", "label": "/tu"}) is None
            assert await store.add_snapshot({**snap, "name": "other"}) is None  # the id is taken
            assert await store.list_snapshots("c") == [stored]
            assert await store.get_snapshot("c", "s1") == stored
            assert await store.get_snapshot("d", "s1") is None
            assert await store.remove_snapshots("c") == 1
        finally:
            await store.close()

    asyncio.run(run())
