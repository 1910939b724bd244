"""ColonyFS uploads, downloads and deletes against a real server, on both object stores."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from pycolonies import AccessDeniedError, BadRequestError, NotFoundError
from pycolonies.fs import (
    ChecksumMismatchError,
    ColonyFS,
    S3Storage,
    StorageConfigError,
    StorageUnreachableError,
    UnsafePathError,
)
from pycolonies.fs.storage import new_key

from ..conftest import Env
from .conftest import S3Server
from .helpers import (
    add_raw_file,
    delete_object,
    object_exists,
    overwrite_object,
    random_bytes,
    sha256,
    stored_keys,
)

MIB = 1024 * 1024


def test_upload_file_and_download_it_back(cfs: ColonyFS, fs_backend: str, s3_server: S3Server, tmp_path: Path) -> None:
    content = random_bytes(300_000)
    src = tmp_path / "src" / "hello.bin"
    src.parent.mkdir()
    src.write_bytes(content)
    seen: list[int] = []

    added = cfs.upload_file(src, "data/raw/", progress=seen.append)

    assert (added["name"], added["label"], added["size"]) == ("hello.bin", "/data/raw", len(content))
    assert (added["checksum"], added["checksumalg"], added["sequencenr"] > 0) == (sha256(content), "SHA256", True)
    assert sum(seen) == len(content)
    obj = added["ref"]["s3object"]
    assert len(obj["object"]) == 64 and int(obj["object"], 16) >= 0
    assert (obj["accesskey"], obj["secretkey"], obj["encryptionkey"], obj["encryptionalg"]) == ("", "", "", "")
    if fs_backend == "s3":  # stored exactly as upstream pycolonies stores it
        assert added["ref"]["protocol"] == "s3"
        assert (obj["server"], obj["port"], obj["tls"], obj["region"]) == ("127.0.0.1", s3_server.port, False, "")
        assert obj["bucket"] == cfs.storage.settings.bucket  # type: ignore[attr-defined]
    else:
        assert added["ref"]["protocol"] == "local"
        assert (obj["server"], obj["port"], obj["tls"], obj["bucket"]) == ("", 0, False, "colonyfs")
    assert object_exists(cfs, added)

    dst = tmp_path / "dst"
    got: list[int] = []
    path = cfs.download_file(dst, label="/data/raw", filename="hello.bin", progress=got.append)
    assert path == dst / "hello.bin"
    assert path.read_bytes() == content
    assert sum(got) == len(content)
    assert sorted(p.name for p in dst.iterdir()) == ["hello.bin"]  # no temporary files left


def test_upload_data_and_download_data(cfs: ColonyFS) -> None:
    cfs.upload_data("data", b"testdata", label="/testdata")
    assert cfs.download_data(label="/testdata", filename="data") == b"testdata"
    assert cfs.download_data(label="testdata/", filename="data") == b"testdata"  # label as File normalises it
    [row] = cfs.get_file(label="/testdata", filename="data")
    assert row["name"] == "data"
    assert cfs.download_data(fileid=row["fileid"]) == b"testdata"


def test_versions_and_latest(cfs: ColonyFS, tmp_path: Path) -> None:
    first = cfs.upload_data("doc.txt", b"version one", "/v")
    second = cfs.upload_data("doc.txt", b"version two", "/v")
    assert second["sequencenr"] > first["sequencenr"]
    versions = cfs.get_file(label="/v", filename="doc.txt", latest=False)
    assert [v["fileid"] for v in versions] == [second["fileid"], first["fileid"]]
    assert cfs.download_file(tmp_path, label="/v", filename="doc.txt").read_bytes() == b"version two"
    # by id, no file name needed (upstream requires one)
    assert cfs.download_file(tmp_path / "old", fileid=first["fileid"]).read_bytes() == b"version one"
    assert (tmp_path / "old" / "doc.txt").exists()


def test_empty_file(cfs: ColonyFS, tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    added = cfs.upload_file(tmp_path / "empty", "/e")
    assert (added["size"], added["checksum"]) == (0, sha256(b""))
    path = cfs.download_file(tmp_path / "out", label="/e", filename="empty")
    assert path.read_bytes() == b""
    # The Go SDK registers empty files without storing an object: nothing is fetched for them.
    add_raw_file(cfs, name="go-empty", label="/e", s3object={"object": new_key()}, protocol="local")
    assert cfs.download_file(tmp_path / "out", label="/e", filename="go-empty").read_bytes() == b""
    assert cfs.download_data(label="/e", filename="go-empty") == b""


def test_delete_removes_every_version_and_object(cfs: ColonyFS) -> None:
    versions = [cfs.upload_data("x.bin", random_bytes(1000), "/del") for _ in range(3)]
    keep = cfs.upload_data("other.bin", b"keep me", "/del")
    assert all(object_exists(cfs, v) for v in versions)

    assert cfs.delete_file(label="/del", filename="x.bin") == 3

    assert not any(object_exists(cfs, v) for v in versions)
    with pytest.raises(NotFoundError):
        cfs.get_file(label="/del", filename="x.bin")
    assert object_exists(cfs, keep)
    assert [f["name"] for f in cfs.get_files("/del")] == ["other.bin"]


def test_delete_one_version_by_id(cfs: ColonyFS) -> None:
    old = cfs.upload_data("x", b"old", "/del")
    new = cfs.upload_data("x", b"new", "/del")
    assert cfs.delete_file(fileid=old["fileid"]) == 1
    assert not object_exists(cfs, old) and object_exists(cfs, new)
    assert [v["fileid"] for v in cfs.get_file(label="/del", filename="x", latest=False)] == [new["fileid"]]
    assert cfs.download_data(label="/del", filename="x") == b"new"


def test_delete_tolerates_missing_objects(cfs: ColonyFS) -> None:
    added = cfs.upload_data("gone", b"soon gone", "/del")
    delete_object(cfs, added)
    assert cfs.delete_file(label="/del", filename="gone") == 1
    with pytest.raises(BadRequestError, match="Failed to get file"):  # upstream's status for an unknown id
        cfs.get_file(fileid=added["fileid"])
    with pytest.raises(ValueError, match="Both 'fileid' and 'name'"):
        cfs.delete_file(label="/del", fileid="a", filename="b")


def test_remove_label_removes_the_tree_only(cfs: ColonyFS) -> None:
    inside_tree = [
        cfs.upload_data("a", b"1", "/tree"),
        cfs.upload_data("a", b"2", "/tree"),
        cfs.upload_data("b", b"3", "/tree/sub"),
        cfs.upload_data("c", b"4", "/tree/sub/deeper"),
    ]
    sibling = cfs.upload_data("d", b"5", "/treehouse")
    assert cfs.remove_label("/tree") == 4
    assert not any(object_exists(cfs, f) for f in inside_tree)
    assert object_exists(cfs, sibling)
    assert cfs.labels("/") == ["/treehouse"]


def test_checksum_mismatch_leaves_nothing(cfs: ColonyFS, tmp_path: Path) -> None:
    added = cfs.upload_data("data.bin", b"the real content", "/tamper")
    overwrite_object(cfs, added, b"the fake content")  # same size, other bytes
    dst = tmp_path / "dst"
    with pytest.raises(ChecksumMismatchError, match="does not match"):
        cfs.download_file(dst, label="/tamper", filename="data.bin")
    assert list(dst.iterdir()) == []
    with pytest.raises(ChecksumMismatchError):
        cfs.download_data(label="/tamper", filename="data.bin")
    overwrite_object(cfs, added, b"short")  # other size
    with pytest.raises(ChecksumMismatchError, match="received 5 bytes"):
        cfs.download_file(dst, label="/tamper", filename="data.bin")
    assert list(dst.iterdir()) == []


def test_failed_registration_removes_the_object(env: Env, storage_env: dict[str, str], tmp_path: Path) -> None:
    outsider = ColonyFS(env.client, env.colonyname, "1" * 64, env=storage_env)  # not a member
    with pytest.raises(AccessDeniedError):
        outsider.upload_data("x", b"never registered", "/x")
    assert stored_keys(outsider) == []


def test_server_refuses_unsafe_names_and_labels(cfs: ColonyFS) -> None:
    for name, label in [("../evil", "/x"), ("a/b", "/x"), ("..", "/x"), ("ok", "/x/../../etc"), ("ok", "/x/./y")]:
        with pytest.raises(BadRequestError):
            add_raw_file(cfs, name=name, label=label)
    with pytest.raises(UnsafePathError):
        cfs.upload_data("../evil", b"x", "/x")  # refused before anything is stored
    assert stored_keys(cfs) == []


def test_unsafe_object_key_is_refused(cfs: ColonyFS, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    add_raw_file(cfs, name="f", label="/k", protocol="local", size=5, s3object={"object": "../../../victim"})
    dst = tmp_path / "dst"
    with pytest.raises(UnsafePathError, match="object key"):
        cfs.download_file(dst, label="/k", filename="f")
    assert not dst.exists() and not victim.exists()
    with pytest.raises(UnsafePathError):
        cfs.download_data(label="/k", filename="f")
    assert cfs.delete_file(label="/k", filename="f") == 1  # nothing of ours to delete; metadata goes


def test_unsafe_name_from_the_server_is_refused(cfs: ColonyFS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    added = cfs.upload_data("good", b"content", "/n")
    evil = {**added, "name": "../escaped"}
    monkeypatch.setattr(cfs, "get_file", lambda **kw: [evil])  # a server that stores any name
    dst = tmp_path / "dst"
    with pytest.raises(UnsafePathError, match="single path component"):
        cfs.download_file(dst, label="/n", filename="good")
    assert not dst.exists() and not (tmp_path / "escaped").exists()


def test_download_through_a_symlink_out_of_the_destination_is_refused(cfs: ColonyFS, tmp_path: Path) -> None:
    cfs.upload_data("f", b"content", "/s")
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "f").symlink_to(outside / "target")
    with pytest.raises(UnsafePathError, match="outside"):
        cfs.download_file(dst, label="/s", filename="f")
    assert list(outside.iterdir()) == []


# S3 only ---------------------------------------------------------------------------------------


def test_large_file_goes_in_parts(env: Env, s3_env: dict[str, str], s3_server: S3Server, tmp_path: Path) -> None:
    storage = S3Storage.from_env(s3_env, part_size=5 * MIB, max_concurrency=1)  # 4 parts, 3 in flight
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, storage, env=s3_env)
    content = random_bytes(20 * MIB)
    (tmp_path / "big.bin").write_bytes(content)
    sent: list[int] = []
    added = cfs.upload_file(tmp_path / "big.bin", "/big", progress=sent.append)
    assert sum(sent) == len(content)
    head = s3_server.client().head_object(Bucket=s3_env["AWS_S3_BUCKET"], Key=added["ref"]["s3object"]["object"])
    assert head["ETag"].strip('"').endswith("-4")  # a multipart upload of 4 parts
    assert head["ContentLength"] == len(content)
    received: list[int] = []
    path = cfs.download_file(tmp_path / "dst", label="/big", filename="big.bin", progress=received.append)
    assert path.read_bytes() == content and sum(received) == len(content)
    assert cfs.download_data(fileid=added["fileid"]) == content


def test_go_and_python_reference_forms(env: Env, s3_env: dict[str, str], s3_server: S3Server, tmp_path: Path) -> None:
    uploader = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=s3_env)
    python_form = uploader.upload_data("py", b"python form", "/forms")
    content = b"go form"
    go = uploader.upload_data("tmp", content, "/forms")
    go_object = {**go["ref"]["s3object"], "server": s3_server.endpoint, "port": -1}  # as the Go SDK registers
    add_raw_file(uploader, name="go", label="/forms", s3object=go_object, size=len(content), checksum=sha256(content))

    # a reader without its own endpoint follows the references
    reader_env = {k: v for k, v in s3_env.items() if k not in ("AWS_S3_ENDPOINT", "AWS_S3_BUCKET")}
    reader = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=reader_env)
    assert reader.download_data(label="/forms", filename="go") == content
    assert reader.download_data(label="/forms", filename="py") == b"python form"
    assert reader.download_file(tmp_path, label="/forms", filename="go").read_bytes() == content
    assert python_form["ref"]["s3object"]["port"] == s3_server.port

    # a reader with its own endpoint uses it, whatever the reference says
    elsewhere = {**go_object, "server": "storage.invalid", "port": 9}
    add_raw_file(
        uploader, name="moved", label="/forms", s3object=elsewhere, size=len(content), checksum=sha256(content)
    )
    assert uploader.download_data(label="/forms", filename="moved") == content


def test_bucket_is_created_on_first_upload(env: Env, s3_env: dict[str, str], s3_server: S3Server) -> None:
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=s3_env)
    bucket = s3_env["AWS_S3_BUCKET"]
    assert bucket not in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    cfs.upload_data("a", b"a", "/b")
    assert bucket in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    cfs.upload_data("b", b"b", "/b")  # the bucket exists now: no second creation
    assert sorted(f["name"] for f in cfs.get_files("/b")) == ["a", "b"]


def test_missing_credentials_name_the_variable(env: Env, s3_env: dict[str, str]) -> None:
    for missing in ("AWS_S3_ACCESSKEY", "AWS_S3_SECRETKEY"):
        broken = {k: v for k, v in s3_env.items() if k != missing}
        cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=broken)
        with pytest.raises(StorageConfigError, match=missing):
            cfs.upload_data("a", b"a", "/c")
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env={**s3_env, "AWS_S3_BUCKET": ""})
    with pytest.raises(StorageConfigError, match="AWS_S3_BUCKET"):
        cfs.upload_data("a", b"a", "/c")
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env={**s3_env, "AWS_S3_ENDPOINT": "http://h:1"})
    with pytest.raises(StorageConfigError, match="AWS_S3_ENDPOINT"):
        cfs.upload_data("a", b"a", "/c")
    assert env.client.get_file_labels(env.colonyname, env.executor_prvkey) is None  # nothing registered


def test_unreachable_object_store_fails_fast(env: Env, s3_env: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    endpoint = f"127.0.0.1:{port}"
    cfs = ColonyFS(env.client, env.colonyname, env.executor_prvkey, env={**s3_env, "AWS_S3_ENDPOINT": endpoint})
    started = time.monotonic()
    with pytest.raises(StorageUnreachableError, match=endpoint):
        cfs.upload_data("a", b"a", "/u")
    assert time.monotonic() - started < 5
