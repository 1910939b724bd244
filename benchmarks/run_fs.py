"""ColonyFS throughput: directory sync of many small files and one large file, up and down, with the
S3 store (a moto S3 server in its own process on loopback) and the local-directory store. The
Colonies server is a fresh ``colonies dev``; the client is the SDK's ``ColonyFS``. Prints one JSON
line per measurement and a summary. With S3 the large file is also sent and fetched in a single
request each way ("s3 (one request)"): moto copies the whole object for every ranged GET, so its
multipart downloads slow down with the square of the size, which real S3 does not.

    python benchmarks/run_fs.py [--files 1000] [--file-kib 4] [--big-mib 1024] [--backend s3 --backend local]

Everything (sources, downloads, the local store, moto's memory) stays in one temporary directory
and the moto process; the large file needs about 2.5x its size free on the temporary directory's
disk (source, download, local store) and about 3x in memory for moto.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from common import dev_server, free_port

from pycolonies import Colonies
from pycolonies.fs import ColonyFS, S3Storage, storage_from_env
from pycolonies.server.dev import DEV_COLONY, DEV_PRVKEY

MIB = 1024 * 1024


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a subprocess (so it does not share the client's GIL); yields host:port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto server did not start")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def write_small_files(root: Path, count: int, size: int) -> None:
    root.mkdir(parents=True)
    for i in range(count):
        (root / f"file-{i:05}.bin").write_bytes(os.urandom(size))


def write_big_file(path: Path, size: int) -> None:
    """``size`` bytes of random data, written block by block (no holes)."""
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(16 * MIB, left))
            f.write(block)
            left -= len(block)


def rate(nbytes: int, seconds: float) -> float:
    return round(nbytes / MIB / seconds, 1)


def run_backend(name: str, env: dict[str, str], client: Colonies, work: Path, a: argparse.Namespace) -> list[dict]:
    results: list[dict] = []
    cfs = ColonyFS(client, DEV_COLONY, DEV_PRVKEY, storage_from_env(env), env=env)
    label = f"/bench-{name}-{int(time.time())}"

    src, dst = work / f"{name}-small-src", work / f"{name}-small-dst"
    write_small_files(src, a.files, a.file_kib * 1024)
    total = a.files * a.file_kib * 1024
    for direction, folder in (("upload", src), ("download", dst)):
        folder.mkdir(exist_ok=True)
        started = time.perf_counter()
        result = cfs.sync(folder, label + "/small", keeplocal=False)
        seconds = time.perf_counter() - started
        moved = result.uploaded if direction == "upload" else result.downloaded
        assert len(moved) == a.files, (direction, len(moved))
        results.append(
            {
                "backend": name,
                "scenario": f"sync {a.files} x {a.file_kib} KiB {direction}",
                "seconds": round(seconds, 2),
                "files_per_s": round(a.files / seconds, 1),
                "mib_per_s": rate(total, seconds),
            }
        )
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(src)
    shutil.rmtree(dst)

    if a.big_mib:
        results += big_file(name, cfs, work, label, a.big_mib)
        if name == "s3":  # the same with one request each way: what the client does without parts
            single = S3Storage.from_env(env, multipart_threshold=a.big_mib * MIB + 1)
            one = ColonyFS(client, DEV_COLONY, DEV_PRVKEY, single, env=env)
            results += big_file("s3 (one request)", one, work, label + "-one", a.big_mib)
    return results


def big_file(name: str, cfs: ColonyFS, work: Path, label: str, mib: int) -> list[dict]:
    """Upload one file of ``mib`` MiB and download it again (both verified by SHA-256)."""
    big = work / "big.bin"
    write_big_file(big, mib * MIB)
    size = big.stat().st_size
    started = time.perf_counter()
    cfs.upload_file(big, label + "/big")
    up = time.perf_counter() - started
    big.unlink()
    started = time.perf_counter()
    path = cfs.download_file(work / "big-dst", label=label + "/big", filename=big.name)
    down = time.perf_counter() - started
    assert path.stat().st_size == size
    path.unlink()
    cfs.remove_label(label + "/big")  # frees the store (moto keeps objects in memory)
    results = []
    for direction, seconds in (("upload", up), ("download", down)):
        results.append(
            {
                "backend": name,
                "scenario": f"one {mib} MiB file {direction}",
                "seconds": round(seconds, 2),
                "mib_per_s": rate(size, seconds),
            }
        )
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000, help="small files to sync")
    ap.add_argument("--file-kib", type=int, default=4, help="size of each small file")
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the large file (0: skip)")
    ap.add_argument("--backend", choices=["s3", "local"], action="append")
    ap.add_argument("--tmp", type=Path, default=None, help="where to put the files (default: the system temp dir)")
    a = ap.parse_args()
    backends = a.backend or ["s3", "local"]
    with tempfile.TemporaryDirectory(prefix="colonyfs-bench-", dir=a.tmp) as tmp:
        work = Path(tmp)
        free = shutil.disk_usage(work).free
        if a.big_mib and free < 3 * a.big_mib * MIB:
            raise SystemExit(f"{work} has {free // MIB} MiB free; the large file needs {3 * a.big_mib} MiB")
        summary: list[dict] = []
        with dev_server() as (port, _), contextlib.ExitStack() as stack:
            client = stack.enter_context(Colonies("127.0.0.1", port))
            for name in backends:
                if name == "s3":
                    endpoint = stack.enter_context(moto_server())
                    env = {
                        "COLONIES_FS_BACKEND": "s3",
                        "AWS_S3_ENDPOINT": endpoint,
                        "AWS_S3_ACCESSKEY": "bench",
                        "AWS_S3_SECRETKEY": "bench-secret",
                        "AWS_S3_TLS": "false",
                        "AWS_S3_BUCKET": "bench",
                    }
                else:
                    env = {"COLONIES_FS_BACKEND": "local", "COLONIES_FS_DIR": str(work / "local-store")}
                summary += run_backend(name, env, client, work, a)
        print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
