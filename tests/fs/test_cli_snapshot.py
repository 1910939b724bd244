"""``colonies fs snapshot`` (and its shorthand ``colonies snapshot``): create, ls, info, download,
remove, removeall; and ``colonies function submit`` taking the snapshots a spec asks for."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from ..cli.conftest import Cli, parse_kv, write_json
from ..conftest import Env


@pytest.fixture
def fscli(env: Env, storage_env: dict[str, str]) -> Cli:
    return Cli(env, extra=dict(storage_env))


def fill(cli: Cli, root: Path, label: str, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    cli.ok("fs", "sync", "-d", str(root), "-l", label, "--yes")


def test_snapshot_create_ls_info_download_remove(fscli: Cli, tmp_path: Path) -> None:
    label = "/data-" + secrets.token_hex(4)
    fill(fscli, tmp_path / "src", label, {"a.txt": b"first", "deep/b.txt": b"bee"})
    name = "snap-" + secrets.token_hex(3)
    created = fscli.json("fs", "snapshot", "create", "-l", label, "-n", name)
    assert created["name"] == name and created["label"] == label and len(created["fileids"]) == 2

    # later changes do not reach the snapshot
    (tmp_path / "src" / "a.txt").write_bytes(b"second")
    fscli.ok("fs", "sync", "-d", str(tmp_path / "src"), "--yes")

    headers, rows = fscli.table("fs", "snapshot", "ls")
    assert headers == ["NAME", "SNAPSHOTID", "LABEL", "FILES", "ADDED"]
    assert [name, created["snapshotid"], label, "2"] == rows[0][:4]
    assert fscli.json("snapshot", "ls") == fscli.json("fs", "snapshot", "ls")  # the shorthand

    out = fscli.ok("fs", "snapshot", "info", "-n", name).stdout
    assert parse_kv(out)["SnapshotId"] == created["snapshotid"]
    assert "a.txt" in out and "b.txt" in out
    detail = fscli.json("fs", "snapshot", "get", "-i", created["snapshotid"])  # `get` is an alias
    assert sorted(f["name"] for f in detail["files"]) == ["a.txt", "b.txt"]

    dst = tmp_path / "dst"
    result = fscli.json("fs", "snapshot", "download", "-n", name, "-d", str(dst))
    assert len(result["files"]) == 2
    assert (dst / "a.txt").read_bytes() == b"first" and (dst / "deep" / "b.txt").read_bytes() == b"bee"
    assert (
        "Downloaded 2 file(s)" in fscli.ok("snapshot", "download", "-i", created["snapshotid"], "-d", str(dst)).stderr
    )

    assert "removed" in fscli.ok("fs", "snapshot", "remove", "-n", name).stderr
    assert "Snapshot not found with name" in fscli.error("fs", "snapshot", "info", "-n", name)
    assert "--snapshotid ID or --snapshotname NAME" in fscli.error("fs", "snapshot", "remove", code=2)


def test_snapshot_removeall_and_empty_snapshots(env: Env, local_env: dict[str, str]) -> None:
    cli = Cli(env, extra=dict(local_env))
    empty = cli.ok("fs", "snapshot", "create", "-l", "/nothing-here")
    assert "no files at label /nothing-here" in empty.stderr
    cli.ok("fs", "snapshot", "create", "-l", "/nothing-here", "-n", "second")
    assert "cannot contain ':'" in cli.error("fs", "snapshot", "create", "-l", "/x", "-n", "a:b", code=2)
    assert "aborted" in cli.error("fs", "snapshot", "removeall", input="no\n")
    assert len(cli.json("fs", "snapshot", "ls")) == 2
    cli.ok("fs", "snapshot", "removeall", input="YES\n")
    assert cli.json("fs", "snapshot", "ls") in ([], None)
    assert "No snapshots" in cli.ok("fs", "snapshot", "ls").stderr


def test_function_submit_takes_the_snapshots_a_spec_asks_for(
    env: Env, local_env: dict[str, str], tmp_path: Path
) -> None:
    cli = Cli(env, extra=dict(local_env))
    label = "/in-" + secrets.token_hex(4)
    fill(cli, tmp_path / "src", label, {"x.txt": b"x"})
    spec = {
        "funcname": "train",
        "conditions": {"executortype": env.executortype},
        "fs": {
            "mount": "/cfs",
            "snapshots": [
                {"label": label, "dir": "/in", "keepfiles": False, "keepsnapshot": False},
                {"snapshotid": "kept-as-is", "label": label, "dir": "/other"},
            ],
            "dirs": [
                {
                    "label": "/out",
                    "dir": "/out",
                    "keepfiles": False,
                    "onconflicts": {"onstart": {"keeplocal": False}, "onclose": {"keeplocal": True}},
                }
            ],
        },
    }
    result = cli("function", "submit", "--spec", str(write_json(tmp_path / "spec.json", spec)), "--json")
    assert result.exit_code == 0, result.stderr
    assert f"Snapshot of {label} created: " in result.stderr
    process = env.client.get_process(json.loads(result.stdout)["processid"], env.user_prvkey)
    fs = process.spec.fs
    assert fs is not None and fs.snapshots is not None and fs.dirs is not None
    snapshotid = fs.snapshots[0].snapshotid
    assert len(snapshotid) == 64 and fs.snapshots[1].snapshotid == "kept-as-is"
    assert fs.dirs[0].onconflicts.onclose.keeplocal is True
    snapshot = env.client.get_snapshot_by_id(env.colonyname, snapshotid, env.user_prvkey)
    assert snapshot["label"] == label and len(snapshot["fileids"]) == 1

    # --snapshot takes a new one for every entry; an entry with neither id nor label is refused
    result = cli("function", "submit", "--spec", str(tmp_path / "spec.json"), "--snapshot")
    assert result.exit_code == 0 and result.stderr.count("Snapshot of") == 2
    spec["fs"]["snapshots"] = [{"dir": "/in"}]  # type: ignore[index]
    error = cli.error("function", "submit", "--spec", str(write_json(tmp_path / "bad.json", spec)))
    assert "fs.snapshots[0] of train has neither a snapshotid nor a label" in error


def test_workflow_submit_takes_snapshots_and_removes_them_when_refused(
    env: Env, local_env: dict[str, str], tmp_path: Path
) -> None:
    cli = Cli(env, extra=dict(local_env))
    label = "/wf-" + secrets.token_hex(4)
    fill(cli, tmp_path / "src", label, {"a.txt": b"a"})
    node = {
        "nodename": "prep",
        "funcname": "prep",
        "conditions": {"executortype": env.executortype},
        "fs": {"mount": "/cfs", "snapshots": [{"label": label, "dir": "/in"}], "dirs": None},
    }
    result = cli("workflow", "submit", "--spec", str(write_json(tmp_path / "wf.json", [node])), "--json")
    assert result.exit_code == 0, result.stderr
    graph = json.loads(result.stdout)
    process = env.client.get_process(graph["processids"][0], env.user_prvkey)
    assert process.spec.fs is not None and process.spec.fs.snapshots is not None
    snapshotid = process.spec.fs.snapshots[0].snapshotid
    assert env.client.get_snapshot_by_id(env.colonyname, snapshotid, env.user_prvkey)["label"] == label

    # A workflow the server refuses (a dependency on a node that does not exist) leaves no snapshot.
    before = env.client.get_snapshots(env.colonyname, env.user_prvkey) or []
    node["conditions"] = {"executortype": env.executortype, "dependencies": ["missing"]}
    refused = cli("workflow", "submit", "--spec", str(write_json(tmp_path / "bad.json", [node])))
    assert refused.exit_code != 0 and f"Snapshot of {label} created" in refused.stderr  # made, then removed
    after = env.client.get_snapshots(env.colonyname, env.user_prvkey) or []
    assert [s["snapshotid"] for s in after] == [s["snapshotid"] for s in before]
