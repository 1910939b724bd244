"""``colonies fs`` against the real server, on both object stores: sync up and down (plans,
prompts, the .cfs label, conflicts), ls, info, labels, get, remove, label remove, clean, and
bad input (missing keys or store settings, unknown files) as one ``Error:`` line."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ..cli.conftest import Cli, parse_kv, parse_table
from ..conftest import Env


@pytest.fixture
def fscli(env: Env, storage_env: dict[str, str]) -> Cli:
    """The CLI for the env's colony and user, with the current object store's settings."""
    return Cli(env, extra=dict(storage_env))


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def label() -> str:
    return "/proj-" + secrets.token_hex(4)


def test_sync_up_and_down_ls_info_get_remove(fscli: Cli, tmp_path: Path) -> None:
    lab = label()
    src = make_tree(tmp_path / "src", {"a.txt": b"alpha", "sub/b.txt": b"beta" * 100})

    # a dry run shows the plan and changes nothing
    dry = fscli.ok("fs", "sync", "-d", str(src), "-l", lab, "--dry")
    headers, rows = parse_table(dry.stdout)
    assert headers == ["FILE", "SIZE", "LABEL"]
    assert rows == [["a.txt", "5 B", lab], ["b.txt", "400 B", f"{lab}/sub"]]
    assert "These files will be uploaded" in dry.stdout
    assert fscli.json("fs", "ls", "-l", lab) == []

    # answering anything but yes aborts
    assert "aborted" in fscli.error("fs", "sync", "-d", str(src), "-l", lab, input="no\n")
    # yes syncs
    done = fscli.ok("fs", "sync", "-d", str(src), "-l", lab, input="yes\n")
    assert f"Synced {src} with {lab}: 2 file(s) uploaded, 0 downloaded" in done.stderr
    assert json.loads((src / ".cfs").read_text()) == {"label": lab}
    # in step now
    assert "Nothing to sync" in fscli.ok("fs", "sync", "-d", str(src), "-l", lab, "--yes").stderr

    headers, rows = fscli.table("fs", "ls", "-l", lab)
    assert headers == ["FILENAME", "SIZE (KIB)", "LATEST ID", "ADDED", "REVISIONS"]
    assert [(r[0], r[4]) for r in rows] == [("a.txt", "1")]
    [entry] = fscli.json("fs", "ls", "-l", lab + "/sub")
    assert entry["name"] == "b.txt" and entry["size"] == 400 and entry["revisions"] == 1

    # down into an empty directory (created), then a local change goes up as a new version
    dst = tmp_path / "dst"
    result = fscli.json("fs", "sync", "-d", str(dst), "-l", lab, "--yes")
    assert len(result["downloaded"]) == 2 and result["uploaded"] == []
    assert (dst / "a.txt").read_bytes() == b"alpha" and (dst / "sub" / "b.txt").read_bytes() == b"beta" * 100
    (dst / "a.txt").write_bytes(b"alpha, edited")
    plan = fscli.ok("fs", "sync", "-d", str(dst), "--dry").stdout  # the label comes from .cfs
    assert "These files will be replaced at the server" in plan
    fscli.ok("fs", "sync", "-d", str(dst), "--yes", "--quiet")
    versions = fscli.json("fs", "info", "-n", "a.txt", "-l", lab)
    assert [v["size"] for v in versions] == [13, 5]  # newest first
    assert all(v["ref"]["s3object"]["secretkey"] in ("", "****") for v in versions)
    info = parse_kv(fscli.ok("fs", "info", "-i", versions[1]["fileid"]).stdout)
    assert info["Filename"] == "a.txt" and info["Size"] == "5 bytes" and info["Label"] == lab

    # --no-keeplocal takes the server's version of a conflicting file
    (src / "a.txt").write_bytes(b"stale")
    fscli.ok("fs", "sync", "-d", str(src), "--no-keeplocal", "--yes")
    assert (src / "a.txt").read_bytes() == b"alpha, edited"

    # get: the latest by name, or a version by id
    out = tmp_path / "out"
    got = fscli.ok("fs", "get", "-n", "a.txt", "-l", lab, "-d", str(out))
    assert (out / "a.txt").read_bytes() == b"alpha, edited" and "Downloaded" in got.stderr
    fscli.ok("fs", "get", "-i", versions[1]["fileid"], "-d", str(tmp_path / "old"))
    assert (tmp_path / "old" / "a.txt").read_bytes() == b"alpha"

    # labels
    headers, rows = fscli.table("fs", "label", "ls")
    assert headers == ["LABEL", "FILES"]
    assert [lab, "2"] in rows and [lab + "/sub", "1"] in rows
    assert fscli.json("fs", "labels") == fscli.json("fs", "label", "ls")

    # remove by name takes every version
    assert "Removed 2 version(s)" in fscli.ok("fs", "remove", "-n", "a.txt", "-l", lab).stderr
    assert fscli.json("fs", "ls", "-l", lab) == []
    assert f"no file a.txt under label {lab} in colony" in fscli.error("fs", "remove", "-n", "a.txt", "-l", lab)
    assert "no file with id" in fscli.error("fs", "info", "-i", "0" * 64)
    # label remove takes everything below
    assert "aborted" in fscli.error("fs", "label", "remove", "-l", lab, input="n\n")
    assert fscli.json("fs", "label", "remove", "-l", lab, "--yes")["removed"] == 1
    assert [r for r in fscli.json("fs", "label", "ls") if r["name"].startswith(lab)] == []


def test_clean_removes_local_files_not_in_colonyfs(fscli: Cli, tmp_path: Path) -> None:
    lab = label()
    root = make_tree(tmp_path / "d", {"keep.txt": b"k"})
    fscli.ok("fs", "sync", "-d", str(root), "-l", lab, "--yes")
    make_tree(root, {"junk.txt": b"j", "tmp/x.bin": b"x"})
    dry = fscli.ok("fs", "clean", "-d", str(root), "--dry")  # label from .cfs
    assert "junk.txt" in dry.stdout and "tmp" in dry.stdout and (root / "junk.txt").exists()
    result = fscli.json("fs", "clean", "-d", str(root), "-l", lab, "--yes")
    assert sorted(Path(p).name for p in result["removed"]) == ["junk.txt", "tmp"]
    assert sorted(p.name for p in root.iterdir()) == [".cfs", "keep.txt"]


def test_transfers_use_the_chosen_store(env: Env, local_env: dict[str, str], tmp_path: Path) -> None:
    cli = Cli(env, extra={"COLONIES_FS_DIR": local_env["COLONIES_FS_DIR"], "AWS_S3_ENDPOINT": "127.0.0.1:9"})
    lab = label()
    src = make_tree(tmp_path / "src", {"f.txt": b"f"})
    # AWS_S3_ENDPOINT selects S3 by default (nobody listens on port 9); --driver local overrides it
    error = cli.error("fs", "sync", "-d", str(src), "-l", lab, "--yes")
    assert "AWS_S3_ACCESSKEY is not set" in error
    cli.ok("fs", "sync", "-d", str(src), "-l", lab, "--yes", "--driver", "local")
    [file] = cli.json("fs", "info", "-n", "f.txt", "-l", lab)
    assert file["ref"]["protocol"] == "local"
    assert list((Path(local_env["COLONIES_FS_DIR"])).rglob(file["ref"]["s3object"]["object"]))
    assert "--driver must be s3 or local" in cli.error("fs", "sync", "-d", str(src), "--driver", "ftp", code=2)


def test_bad_input_is_one_error_line(env: Env, s3_env: dict[str, str], tmp_path: Path) -> None:
    cli = Cli(env, extra=dict(s3_env))
    lab = label()
    # no key: reported before anything is sent
    assert "no private key (a user's or an executor's): set COLONIES_PRVKEY" in cli.error(
        "fs", "ls", "-l", lab, COLONIES_PRVKEY=None
    )
    # no store credentials
    src = make_tree(tmp_path / "src", {"f.txt": b"f"})
    error = cli.error("fs", "sync", "-d", str(src), "-l", lab, "--yes", AWS_S3_SECRETKEY=None)
    assert "AWS_S3_SECRETKEY is not set" in error
    # an unreachable store
    error = cli.error("fs", "sync", "-d", str(src), "-l", lab, "--yes", AWS_S3_ENDPOINT="127.0.0.1:9")
    assert "Cannot reach the S3 object store at 127.0.0.1:9" in error
    # unknown files, missing selectors, a missing label
    assert f"no file nope.txt under label {lab}" in cli.error("fs", "get", "-n", "nope.txt", "-l", lab, "-d", ".")
    assert "--fileid ID, or --name NAME with --label LABEL" in cli.error("fs", "get", "-n", "x", code=2)
    assert "no label: pass --label" in cli.error("fs", "sync", "-d", str(tmp_path))
    assert "is not a directory" in cli.error("fs", "clean", "-d", str(tmp_path / "nope"), "-l", lab)
    assert "--quiet needs --yes" in cli.error("fs", "sync", "-d", str(src), "-l", lab, "--quiet", code=2)


def test_large_transfers_draw_a_progress_bar_on_terminals(
    env: Env, local_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pycolonies.cli.fs as cli_fs

    bars: list[tuple[str, bool, int]] = []  # (description, drawn, bytes reported)
    real = cli_fs.transfer_progress

    @contextmanager
    def spy(s: Any, description: str, total: int | None, files: int = 1) -> Iterator[Any]:
        with real(s, description, total, files) as progress:
            counted = [0]

            def count(n: int) -> None:
                counted[0] += n
                progress(n)

            yield count if progress is not None else None
        bars.append((description, progress is not None, counted[0]))

    monkeypatch.setattr(cli_fs, "_isatty", lambda stream: True)  # stderr "is" a terminal
    monkeypatch.setattr(cli_fs, "transfer_progress", spy)
    cli = Cli(env, extra=dict(local_env))
    lab = label()
    data = secrets.token_bytes(2 * 1024 * 1024 + 1)
    src = make_tree(tmp_path / "src", {"big.bin": data, "small.txt": b"s"})
    cli.ok("fs", "sync", "-d", str(src), "-l", lab, "--yes")
    cli.ok("fs", "get", "-n", "big.bin", "-l", lab, "-d", str(tmp_path / "out"))
    cli.ok("fs", "get", "-n", "small.txt", "-l", lab, "-d", str(tmp_path / "out"))
    cli.ok("fs", "get", "-n", "big.bin", "-l", lab, "-d", str(tmp_path / "json"), "--json")
    assert (tmp_path / "out" / "big.bin").read_bytes() == data
    assert bars == [
        (f"Syncing {lab}", True, len(data) + 1),
        ("Downloading big.bin", True, len(data)),
        ("Downloading small.txt", False, 0),  # too small for a bar
        ("Downloading big.bin", False, 0),  # --json: never
    ]
