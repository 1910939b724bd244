"""Object stores and path safety without a Colonies server: configuration parsing, store
selection, the local store, reference forms, and the path checks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pycolonies.fs import (
    ColonyFSError,
    LocalStorage,
    ObjectMissingError,
    S3Settings,
    S3Storage,
    StorageConfigError,
    Stores,
    UnsafePathError,
    storage_from_env,
)
from pycolonies.fs.paths import check_key, check_name, inside, label_under, normalize_label, relative_label_parts
from pycolonies.fs.storage import default_fs_dir, is_local_ref, new_key

from .conftest import S3Server

KEYS = {"AWS_S3_ACCESSKEY": "ak", "AWS_S3_SECRETKEY": "sk"}


def test_s3_settings_follow_upstreams_parsing() -> None:
    s = S3Settings.from_env({**KEYS, "AWS_S3_ENDPOINT": "minio:9000", "AWS_S3_TLS": "TRUE", "AWS_S3_BUCKET": "b"})
    assert (s.endpoint, s.tls, s.tls_flag, s.region, s.verify) == ("minio:9000", True, False, "", True)
    s = S3Settings.from_env({**KEYS, "AWS_S3_TLS": "true", "AWS_S3_SKIPVERIFY": "yes", "AWS_S3_REGION": "eu-north-1"})
    assert (s.tls, s.tls_flag, s.verify, s.region) == (True, True, False, "eu-north-1")
    for word in ("1", "Yes"):
        assert S3Settings.from_env({**KEYS, "AWS_S3_TLS": word}).tls
    assert not S3Settings.from_env({**KEYS, "AWS_S3_TLS": "false"}).tls
    for bad in ("http://minio:9000", "minio", "a:b:c", "minio:port"):
        with pytest.raises(StorageConfigError, match="AWS_S3_ENDPOINT"):
            S3Settings.from_env({**KEYS, "AWS_S3_ENDPOINT": bad})
    with pytest.raises(StorageConfigError, match="AWS_S3_SECRETKEY"):
        S3Settings.from_env({"AWS_S3_ACCESSKEY": "ak"})


def test_reference_is_upstream_pythons() -> None:
    env = {**KEYS, "AWS_S3_ENDPOINT": "s3.example:443", "AWS_S3_TLS": "true", "AWS_S3_BUCKET": "bkt"}
    key = new_key()
    assert S3Storage.from_env(env).reference(key) == {
        "protocol": "s3",
        "s3object": {
            "server": "s3.example",
            "port": 443,
            "tls": True,
            "accesskey": "",
            "secretkey": "",
            "region": "",
            "encryptionkey": "",
            "encryptionalg": "",
            "object": key,
            "bucket": "bkt",
        },
    }
    assert S3Storage.from_env({**env, "AWS_S3_TLS": "1"}).reference(key)["s3object"]["tls"] is False  # exact "true"
    assert len(key) == 64 and key == key.lower() and new_key() != key


def test_download_endpoint_accepts_both_reference_forms() -> None:
    store = S3Storage.from_env(KEYS)
    assert store.source({"server": "minio", "port": 9000, "tls": False}) == ("minio:9000", False)
    assert store.source({"server": "minio:9000", "port": -1, "tls": True}) == ("minio:9000", True)  # Go SDK
    assert store.source({"server": "minio:9000", "port": 9000, "tls": False}) == ("minio:9000", False)
    own = S3Storage.from_env({**KEYS, "AWS_S3_ENDPOINT": "mine:1", "AWS_S3_TLS": "yes"})
    assert own.source({"server": "minio", "port": 9000, "tls": False}) == ("mine:1", True)
    with pytest.raises(StorageConfigError, match="AWS_S3_ENDPOINT"):
        store.source({"server": "", "port": 0})


def test_part_size_has_s3s_minimum() -> None:
    with pytest.raises(StorageConfigError, match="5 MiB"):
        S3Storage.from_env(KEYS, part_size=1024 * 1024)


def test_backend_selection(tmp_path: Path) -> None:
    assert isinstance(storage_from_env({}), LocalStorage)
    assert isinstance(storage_from_env({**KEYS, "AWS_S3_ENDPOINT": "h:1"}), S3Storage)
    local = storage_from_env({"COLONIES_FS_BACKEND": "local", "AWS_S3_ENDPOINT": "h:1", "AWS_S3_BUCKET": "mine"})
    assert isinstance(local, LocalStorage) and local.bucket == "mine"
    assert isinstance(storage_from_env({**KEYS, "COLONIES_FS_BACKEND": "S3"}), S3Storage)
    with pytest.raises(StorageConfigError, match="COLONIES_FS_BACKEND"):
        storage_from_env({"COLONIES_FS_BACKEND": "ftp"})
    with pytest.raises(StorageConfigError, match="AWS_S3_ACCESSKEY"):
        storage_from_env({"COLONIES_FS_BACKEND": "s3"})
    with pytest.raises(StorageConfigError, match="AWS_S3_BUCKET"):
        storage_from_env({"COLONIES_FS_BACKEND": "local", "AWS_S3_BUCKET": ".."})


def test_local_directory_defaults(tmp_path: Path) -> None:
    assert default_fs_dir({"HOME": "/home/u"}) == Path("/home/u/.local/share/colonies/fs")
    assert default_fs_dir({"HOME": "/home/u", "XDG_DATA_HOME": "/xdg"}) == Path("/xdg/colonies/fs")
    assert default_fs_dir({"COLONIES_FS_DIR": str(tmp_path), "XDG_DATA_HOME": "/xdg"}) == tmp_path
    store = LocalStorage.from_env({"COLONIES_FS_DIR": str(tmp_path)})
    assert (store.root, store.bucket) == (tmp_path, "colonyfs")


def test_stores_pick_the_store_of_each_reference(tmp_path: Path, s3_server: S3Server) -> None:
    env = {**KEYS, "AWS_S3_ENDPOINT": s3_server.endpoint, "AWS_S3_BUCKET": "b", "COLONIES_FS_DIR": str(tmp_path)}
    stores = Stores(env)
    assert isinstance(stores.upload, S3Storage)
    assert isinstance(stores.for_ref({"protocol": "local", "s3object": {"server": ""}}), LocalStorage)
    assert stores.for_ref({"protocol": "s3", "s3object": {"server": "h", "port": 1}}) is stores.upload
    # a server that reports every protocol as "s3" still leads to the local store: no S3 SDK omits the server
    assert is_local_ref({"protocol": "s3", "s3object": {"server": "", "port": 0}})
    given = LocalStorage(tmp_path / "given")
    assert Stores(env, given).upload is given and Stores(env, given).for_ref({"protocol": "local"}) is given


def test_local_store_round_trip_is_atomic(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "root", "bkt")
    key = new_key()
    seen: list[int] = []
    store.put(key, io.BytesIO(b"hello"), 5, seen.append)
    obj = store.reference(key)["s3object"]
    assert store.reference(key)["protocol"] == "local"
    assert (obj["server"], obj["port"], obj["tls"], obj["bucket"], obj["object"]) == ("", 0, False, "bkt", key)
    assert sorted(p.name for p in (tmp_path / "root" / "bkt").iterdir()) == [key]
    out = io.BytesIO()
    store.get(obj, out)
    assert out.getvalue() == b"hello" and seen == [5]
    with pytest.raises(ColonyFSError, match="expected"):  # a source shorter than announced
        store.put(new_key(), io.BytesIO(b"abc"), 10)
    assert sorted(p.name for p in (tmp_path / "root" / "bkt").iterdir()) == [key]  # no partial object
    store.delete(obj)
    store.delete(obj)  # already gone: fine
    with pytest.raises(ObjectMissingError):
        store.get(obj, io.BytesIO())


def test_local_store_refuses_keys_and_buckets_that_escape(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "root")
    for obj in (
        {"bucket": "colonyfs", "object": "../../etc/passwd"},
        {"bucket": "colonyfs", "object": "A" * 64},
        {"bucket": "..", "object": new_key()},
        {"bucket": "a/b", "object": new_key()},
    ):
        with pytest.raises(UnsafePathError):
            store.get(obj, io.BytesIO())
        with pytest.raises(UnsafePathError):
            store.delete(obj)
    with pytest.raises(UnsafePathError):
        store.put("../x", io.BytesIO(b""), 0)
    assert not (tmp_path / "root").exists()


def test_path_checks(tmp_path: Path) -> None:
    for bad in ("", ".", "..", "a/b", "a\\b", "nul\0", "../x", None):
        with pytest.raises(UnsafePathError):
            check_name(bad)
    assert check_name(".hidden") == ".hidden" and check_name("a b..c") == "a b..c"
    with pytest.raises(UnsafePathError):
        check_key("../" + "a" * 61)
    assert normalize_label("a/b/") == "/a/b" and normalize_label("///x") == "/x" and normalize_label("/") == "/"
    assert label_under("/a/b", "/a") and label_under("/a", "/a") and not label_under("/ab", "/a")
    assert label_under("/anything", "/")
    assert relative_label_parts("/a/b/c", "/a") == ["b", "c"] and relative_label_parts("/a", "/a") == []
    assert relative_label_parts("/x/y", "/") == ["x", "y"]
    for bad in ("/a/../etc", "/a/./b", "/a//b", "/ab", "/a/b\\c"):
        with pytest.raises(UnsafePathError):
            relative_label_parts(bad, "/a")
    assert inside(tmp_path, "a", "b") == tmp_path / "a" / "b"
    (tmp_path / "link").symlink_to("/", target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        inside(tmp_path, "link", "etc")
