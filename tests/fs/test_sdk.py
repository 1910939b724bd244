"""The upstream-style file methods of Colonies and AsyncColonies: upstream's test flows
(test_sync, test_get_files, test_upload_file, test_upload_data, test_get_file and the ValueError
tests of pycolonies' colonies_test.py), signatures, and the async twins."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from pycolonies import AsyncColonies, Colonies, ColonyFS

from ..conftest import Env

UPSTREAM = {
    "upload_file": ["colonyname", "prvkey", "filepath", "label"],
    "upload_data": ["colonyname", "prvkey", "filename", "data", "label"],
    "download_file": ["colonyname", "prvkey", "dst", "label", "fileid", "filename", "latest"],
    "download_data": ["colonyname", "prvkey", "label", "fileid", "filename", "latest"],
    "delete_file": ["colonyname", "prvkey", "label", "fileid", "filename"],
    "sync": ["dir", "label", "keeplocal", "colonyname", "prvkey"],
}
BOTH = "Both 'fileid' and 'filename' cannot be set at the same time. Please provide only one."


@pytest.mark.parametrize("cls", [Colonies, AsyncColonies])
@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_upstream_signatures(cls: type, name: str) -> None:
    params = list(inspect.signature(getattr(cls, name)).parameters.values())[1:]
    assert [p.name for p in params] == UPSTREAM[name]
    assert next(p for p in params if p.name == "prvkey").default is None
    assert inspect.iscoroutinefunction(getattr(cls, name)) is (cls is AsyncColonies)
    assert getattr(Colonies, name).__doc__ == getattr(AsyncColonies, name).__doc__


def test_download_file_raise_value_error_for_conflicting_parameters() -> None:
    client = Colonies("localhost", 50080, tls=False)
    with pytest.raises(ValueError) as err:
        client.download_file("test", "prvkey", fileid="123", filename="filename", dst="/tmp", label="/test")
    assert str(err.value) == BOTH


def test_download_data_raise_value_error_for_conflicting_parameters() -> None:
    client = Colonies("localhost", 50080, tls=False)
    with pytest.raises(ValueError) as err:
        client.download_data("test", "prvkey", fileid="123", filename="filename", label="/test")
    assert str(err.value) == BOTH
    with pytest.raises(ValueError, match="Both 'fileid' and 'name' cannot be set"):
        client.delete_file("test", "prvkey", label="/test", fileid="123", filename="filename")


def test_upload_file(env: Env, fs_environ: dict[str, str], tmp_path: Path) -> None:
    srcdir, dstdir = tmp_path / "srcdir", tmp_path / "dstdir"
    srcdir.mkdir()
    dstdir.mkdir()
    (srcdir / "hello.txt").write_text("hello\n")
    client, colonyname, key = env.client, env.colonyname, env.executor_prvkey

    added = client.upload_file(colonyname, key, filepath=str(srcdir / "hello.txt"), label="/test")
    assert added["name"] == "hello.txt"
    dst = client.download_file(colonyname, key, dst=str(dstdir), label="/test", filename="hello.txt")
    assert dst == str(dstdir) + "/hello.txt"
    assert (dstdir / "hello.txt").read_text() == "hello\n"


def test_upload_data_get_file_and_delete(env: Env, fs_environ: dict[str, str]) -> None:
    client, colonyname, key = env.client, env.colonyname, env.executor_prvkey
    client.upload_data(colonyname, key, filename="data", label="/testdata", data=b"testdata")
    assert client.download_data(colonyname, key, label="/testdata", filename="data").decode("utf-8") == "testdata"
    file = client.get_file(colonyname, key, label="/testdata", filename="data")
    assert len(file) == 1 and file[0]["name"] == "data"

    client.upload_data(colonyname, key, filename="data", label="/testdata", data=b"v2")
    assert client.delete_file(colonyname, key, label="/testdata", filename="data") is None
    assert client.get_file_labels(colonyname, key) is None


def test_sync_twice_and_get_files(env: Env, fs_environ: dict[str, str], tmp_path: Path) -> None:
    client, colonyname, key = env.client, env.colonyname, env.executor_prvkey
    testdir, testdir2 = tmp_path / "testdir", tmp_path / "testdir2"
    testdir.mkdir()
    testdir2.mkdir()
    (testdir / "hello.txt").write_text("hello\n")

    client.sync(str(testdir), "/test", False, colonyname, key)
    client.sync(str(testdir2), "/test", False, colonyname, key)

    assert (testdir2 / "hello.txt").read_text() == "hello\n"  # upstream's test reads testdir again
    files = client.get_files("/test", colonyname, key)
    assert len(files) == 1


def test_default_key_and_fs_handle(env: Env, fs_environ: dict[str, str], tmp_path: Path) -> None:
    client = Colonies("127.0.0.1", env.server.port, prvkey=env.executor_prvkey)
    try:
        cfs = client.fs(env.colonyname)
        assert isinstance(cfs, ColonyFS) and cfs.stores is client.fs(env.colonyname).stores  # stores are reused
        client.upload_data(env.colonyname, filename="k", data=b"default key", label="/k")
        assert cfs.download_data(label="/k", filename="k") == b"default key"
        path = client.download_file(env.colonyname, dst=str(tmp_path), label="/k", filename="k")
        assert Path(path).read_bytes() == b"default key"
    finally:
        client.close()


def test_async_twins(env: Env, fs_environ: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_bytes(b"async a")

    async def main() -> None:
        async with AsyncColonies("127.0.0.1", env.server.port, prvkey=env.executor_prvkey) as client:
            added = await client.upload_file(env.colonyname, filepath=str(tmp_path / "src" / "a.txt"), label="/as")
            assert added["name"] == "a.txt"
            await client.upload_data(env.colonyname, None, "b.txt", b"async b", "/as")
            assert await client.download_data(env.colonyname, label="/as", filename="b.txt") == b"async b"
            path = await client.download_file(env.colonyname, dst=str(tmp_path / "dst"), label="/as", filename="a.txt")
            assert Path(path).read_bytes() == b"async a"
            (tmp_path / "mirror").mkdir()
            synced = await client.sync(str(tmp_path / "mirror"), "/as", False, env.colonyname)
            assert len(synced.downloaded) == 2
            await client.delete_file(env.colonyname, label="/as", filename="a.txt")
            assert [f["name"] for f in await client.get_files("/as", env.colonyname)] == ["b.txt"]
            assert isinstance(client.fs(env.colonyname), ColonyFS)
            with pytest.raises(ValueError, match="Both 'fileid' and 'filename'"):
                await client.download_data(env.colonyname, fileid="x", filename="y")

    asyncio.run(main())
