"""ColonyFS directory sync, clean and snapshot download against a real server, on both stores."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pycolonies.errors import ColoniesError
from pycolonies.fs import ColonyFS, StorageUnreachableError, UnsafePathError

from ..conftest import Env
from .helpers import random_bytes, sha256, tree


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _without_cfs(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if not k.endswith(".cfs")}


def test_sync_uploads_a_tree_and_a_fresh_directory_gets_it_all(cfs: ColonyFS, tmp_path: Path) -> None:
    files = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/deeper/c.bin": random_bytes(50_000), "other/d": b""}
    src, dst = tmp_path / "src", tmp_path / "dst"
    _write(src, files)

    result = cfs.sync(src, "/proj", keeplocal=False)

    assert sorted(p.relative_to(src).as_posix() for p in result.uploaded) == sorted(files)
    assert result.downloaded == []
    assert cfs.labels("/proj") == ["/proj", "/proj/other", "/proj/sub", "/proj/sub/deeper"]
    assert {f["name"]: f["checksum"] for f in cfs.get_files("/proj/sub/deeper")} == {
        "c.bin": sha256(files["sub/deeper/c.bin"])
    }
    assert json.loads((src / "sub" / ".cfs").read_text()) == {"label": "/proj/sub"}
    assert (src / ".cfs").read_text() == '{"label":"/proj"}'

    dst.mkdir()
    result = cfs.sync(dst, "proj/", keeplocal=False)  # label normalised as the Go CLI does
    assert len(result.downloaded) == 4 and result.uploaded == []
    assert _without_cfs(tree(dst)) == files
    assert json.loads((dst / "sub" / "deeper" / ".cfs").read_text()) == {"label": "/proj/sub/deeper"}

    again = cfs.sync(dst, "/proj", keeplocal=False)  # in step: nothing to do
    assert (again.uploaded, again.downloaded) == ([], [])
    assert all(p.empty for p in again.plans)


def test_sync_finds_sub_labels_under_an_empty_root(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("x", b"only deep", "/empty-root/a/b")
    dst = tmp_path / "dst"
    dst.mkdir()
    cfs.sync(dst, "/empty-root", keeplocal=True)
    assert _without_cfs(tree(dst)) == {"a/b/x": b"only deep"}
    assert not (dst / ".cfs").exists()  # the root had no work
    assert json.loads((dst / "a" / "b" / ".cfs").read_text()) == {"label": "/empty-root/a/b"}


@pytest.mark.parametrize("keeplocal", [True, False])
def test_conflicts(cfs: ColonyFS, tmp_path: Path, keeplocal: bool) -> None:
    cfs.upload_data("f.txt", b"remote version", "/c")
    cfs.upload_data("same.txt", b"same", "/c")
    work = tmp_path / "work"
    _write(work, {"f.txt": b"local version", "same.txt": b"same", "new.txt": b"new here"})

    [plan] = cfs.plan_sync(work, "/c", keeplocal)
    assert [c.name for c in plan.conflicts] == ["f.txt"]
    assert [f.name for f in plan.remote_missing] == ["new.txt"] and plan.local_missing == []
    result = cfs.sync(work, "/c", keeplocal)
    assert result.conflicts == [("/c", "f.txt")]

    versions = cfs.get_file(label="/c", filename="f.txt", latest=False)
    if keeplocal:  # the local copy becomes a new version; the local file is untouched
        assert (work / "f.txt").read_bytes() == b"local version"
        assert len(versions) == 2
        assert cfs.download_data(label="/c", filename="f.txt") == b"local version"
    else:  # the server's copy replaces the local file
        assert (work / "f.txt").read_bytes() == b"remote version"
        assert len(versions) == 1
    assert len(cfs.get_file(label="/c", filename="same.txt", latest=False)) == 1  # equal: left alone
    assert cfs.download_data(label="/c", filename="new.txt") == b"new here"  # uploaded either way


def test_sync_never_deletes(cfs: ColonyFS, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, {"one": b"1", "two": b"2"})
    cfs.sync(a, "/nd", keeplocal=True)
    (a / "one").unlink()
    _write(b, {"mine": b"only in b"})
    cfs.sync(b, "/nd", keeplocal=True)
    assert _without_cfs(tree(b)) == {"one": b"1", "two": b"2", "mine": b"only in b"}
    cfs.sync(a, "/nd", keeplocal=False)
    assert _without_cfs(tree(a)) == {"one": b"1", "two": b"2", "mine": b"only in b"}
    assert sorted(f["name"] for f in cfs.get_files("/nd")) == ["mine", "one", "two"]


def test_dry_run_changes_nothing(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("remote", b"r" * 10, "/dry/sub")
    work = tmp_path / "work"
    _write(work, {"local": b"l" * 7})
    result = cfs.sync(work, "/dry", keeplocal=False, dry_run=True)
    assert result.dry_run and (result.uploaded, result.downloaded) == ([], [])
    by_label = {p.label: p for p in result.plans}
    assert [f.name for f in by_label["/dry"].uploads] == ["local"] and by_label["/dry"].upload_bytes == 7
    assert [f.name for f in by_label["/dry/sub"].downloads] == ["remote"]
    assert by_label["/dry/sub"].download_bytes == 10 and by_label["/dry/sub"].dir == work / "sub"
    assert tree(work) == {"local": b"l" * 7}
    assert cfs.get_files("/dry") == []


def test_many_files_in_parallel(cfs: ColonyFS, tmp_path: Path) -> None:
    files = {f"f{i:03}": random_bytes(100 + i) for i in range(80)}  # more than the 50 workers
    _write(tmp_path / "src", files)
    assert len(cfs.sync(tmp_path / "src", "/many", keeplocal=False).uploaded) == 80
    (tmp_path / "dst").mkdir()
    assert len(cfs.sync(tmp_path / "dst", "/many", keeplocal=False).downloaded) == 80
    assert _without_cfs(tree(tmp_path / "dst")) == files


def test_sync_stops_at_the_first_error(env: Env, s3_env: dict[str, str], tmp_path: Path) -> None:
    broken = {**s3_env, "AWS_S3_ENDPOINT": "127.0.0.1:1"}
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=broken)
    _write(tmp_path / "src", {f"f{i}": b"x" for i in range(5)})
    with pytest.raises(StorageUnreachableError, match=r"127\.0\.0\.1:1"):
        cfs.sync(tmp_path / "src", "/err", keeplocal=False)
    assert env.client.get_file_labels(env.colonyname, env.executor_prvkey) is None


def test_sync_needs_a_directory(cfs: ColonyFS, tmp_path: Path) -> None:
    with pytest.raises(ColoniesError, match="not a directory"):
        cfs.sync(tmp_path / "missing", "/x", keeplocal=False)


def test_unsafe_remote_label_aborts_before_writing(
    cfs: ColonyFS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfs.upload_data("x", b"x", "/safe/a")
    real = cfs.labels
    monkeypatch.setattr(cfs, "labels", lambda label="/", exact=True: [*real(label, exact=exact), "/safe/../../etc"])
    dst = tmp_path / "dst"
    dst.mkdir()
    with pytest.raises(UnsafePathError, match="not a safe directory name"):
        cfs.sync(dst, "/safe", keeplocal=False)
    assert list(dst.iterdir()) == []


def test_sync_will_not_follow_a_symlink_out(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("x", b"x", "/sym/link")
    outside, dst = tmp_path / "outside", tmp_path / "dst"
    outside.mkdir()
    dst.mkdir()
    (dst / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        cfs.sync(dst, "/sym", keeplocal=False)
    assert list(outside.iterdir()) == []


def test_clean_removes_what_the_label_does_not_have(cfs: ColonyFS, tmp_path: Path) -> None:
    work = tmp_path / "work"
    _write(work, {"keep": b"k", "sub/keep2": b"k2"})
    cfs.sync(work, "/cl", keeplocal=False)
    _write(work, {"stray": b"s", "sub/stray2": b"s2", "junk/x": b"j"})

    would = cfs.clean(work, "/cl", dry_run=True)
    assert sorted(p.relative_to(work).as_posix() for p in would) == ["junk", "stray", "sub/stray2"]
    assert (work / "stray").exists()

    cfs.clean(work, "/cl")
    assert tree(work) == {
        ".cfs": b'{"label":"/cl"}',
        "keep": b"k",
        "sub/.cfs": b'{"label":"/cl/sub"}',
        "sub/keep2": b"k2",
    }
    with pytest.raises(ColoniesError, match="Root directory not found"):
        cfs.clean(work, "/nothing-here")


def test_download_snapshot(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("a", b"top", "/snap")
    cfs.upload_data("b", b"old", "/snap/sub")
    cfs.upload_data("b", b"new", "/snap/sub")
    cfs.upload_data("c", b"deep", "/snap/sub/deeper")
    cfs.upload_data("no", b"not in it", "/snapshot-sibling")
    snap = cfs.client.create_snapshot(cfs.colonyname, "/snap", "snap-1", cfs.prvkey)
    assert len(snap["fileids"]) == 3
    cfs.upload_data("late", b"after the snapshot", "/snap")

    dst = tmp_path / "dst"
    paths = cfs.download_snapshot("snap-1", dst)
    assert sorted(p.relative_to(dst).as_posix() for p in paths) == ["a", "sub/b", "sub/deeper/c"]
    assert tree(dst) == {"a": b"top", "sub/b": b"new", "sub/deeper/c": b"deep"}

    # already there with the same checksum: not downloaded again (checked in the subdirectory)
    before = {p: p.stat().st_mtime_ns for p in paths}
    os.utime(dst / "sub" / "b", ns=(1, 1))
    cfs.download_snapshot(snap["snapshotid"], dst)
    assert (dst / "sub" / "b").stat().st_mtime_ns == 1
    assert (dst / "a").stat().st_mtime_ns == before[dst / "a"]
    (dst / "sub" / "b").write_bytes(b"changed")
    cfs.download_snapshot(snap, dst)
    assert (dst / "sub" / "b").read_bytes() == b"new"


def test_snapshot_with_a_removed_file_fails(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("a", b"a", "/gone")
    cfs.client.create_snapshot(cfs.colonyname, "/gone", "snap-gone", cfs.prvkey)
    cfs.remove_label("/gone")
    with pytest.raises(ColoniesError):
        cfs.download_snapshot("snap-gone", tmp_path / "dst")
    assert not (tmp_path / "dst").exists()
