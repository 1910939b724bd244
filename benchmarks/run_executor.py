"""Processes/s through ONE executor process built on ``pycolonies.executor.Executor`` (a no-op
function, concurrency 1, 4 and 16) against ``colonies dev``, next to the raw protocol: colobench's
own e2e run with one executor process, and colobench's executor loop (http.client + coincurve, no
framework) in the same harness as ours. Each run is on a fresh server and data directory.

Per run: the executor process starts and registers; two colobench submitter processes submit n
processes (colobench's spec: funcname ``bench``, one argument); the executor process reports the
time of its n-th close and its own CPU time. processes/s = n / (last close - first submit), as
colobench's e2e computes it; CPU per process = the executor process's CPU time / n.

    python benchmarks/run_executor.py [--repeat 3] [-n 2000] [--concurrency 1 4 16]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from common import DEFAULT_COLOBENCH, colobench, cpu_seconds, dev_server

DEV_COLONY_PRVKEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
DEV_PRVKEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"


def load_colobench(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("colobench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------------
# the executor process


def child(options: argparse.Namespace) -> None:
    """Serve ``n`` processes, then print {"last_close": unix time, "cpu_s": CPU seconds since it
    was ready (registered, imports done), "n": ...}."""
    n = options.n
    if options.raw:
        raw_child(options)
        return
    from pycolonies import Colonies
    from pycolonies.executor import Executor

    executor = Executor(
        Colonies("127.0.0.1", options.port),
        "dev",
        colony_prvkey=DEV_COLONY_PRVKEY,
        executortype=options.executortype,
        concurrency=options.concurrency,
    )

    @executor.function
    def bench(i: str) -> None:
        return None

    def watch() -> None:
        while executor.stats["succeeded"] + executor.stats["failed"] < n:
            time.sleep(0.001)
        last = time.time()
        cpu = time.process_time() - cpu_at_ready
        print(json.dumps({"last_close": last, "cpu_s": cpu, "n": n, **executor.stats}), flush=True)
        executor.stop()

    executor.start()
    cpu_at_ready = time.process_time()
    print("ready", flush=True)
    threading.Thread(target=watch, daemon=True).start()
    executor.run()


def raw_child(options: argparse.Namespace) -> None:
    """colobench's executor loop, unchanged protocol-wise: assign (1 s polls) and close."""
    bench = load_colobench(options.colobench)
    a = argparse.Namespace(host="127.0.0.1", port=str(options.port), colony="dev", colony_prvkey=DEV_COLONY_PRVKEY)
    [key] = bench.add_executors(a, options.executortype, 1)
    cpu_at_ready = time.process_time()
    print("ready", flush=True)
    r = bench.Rpc("127.0.0.1", options.port)
    done = 0
    while done < options.n:
        msg = {"msgtype": "assignprocessmsg", "colonyname": "dev", "timeout": 1, "availablecpu": "", "availablemem": ""}
        status, body = r.call(msg, key)
        if status == 404:
            continue
        assert status == 200, (status, body)
        status, _ = r.call({"msgtype": "closesuccessfulmsg", "processid": body["processid"], "out": ["ok"]}, key)
        assert status == 200
        done += 1
    cpu = time.process_time() - cpu_at_ready
    print(json.dumps({"last_close": time.time(), "cpu_s": cpu, "n": done}), flush=True)


# ------------------------------------------------------------------------------------------------
# one run


def run_once(options: argparse.Namespace, concurrency: int | None) -> dict[str, Any]:
    """concurrency None: colobench's raw executor loop in our harness."""
    bench = load_colobench(options.colobench)
    executortype = "bench-" + secrets.token_hex(3)
    with dev_server() as (port, server_pid):
        args = [sys.executable, __file__, "child", "--port", str(port), "-n", str(options.n)]
        args += ["--executortype", executortype, "--colobench", str(options.colobench)]
        args += ["--raw"] if concurrency is None else ["--concurrency", str(concurrency)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        server_before = cpu_seconds(server_pid)
        a = argparse.Namespace(host="127.0.0.1", port=str(port), colony="dev")
        queue: mp.Queue[Any] = mp.Queue()
        half = options.n // 2
        submitters = [
            mp.Process(target=bench.submitter, args=(a, executortype, s * half, (s + 1) * half, DEV_PRVKEY, queue))
            for s in range(2)
        ]
        for p in submitters:
            p.start()
        reports = [queue.get(timeout=600) for _ in submitters]
        for p in submitters:
            p.join()
        assert all(r[0] == "submitted" for r in reports), reports
        first_submit = min(r[2] for r in reports)
        result = json.loads(proc.stdout.readline())
        proc.wait(30)
        server_cpu = cpu_seconds(server_pid) - server_before
    elapsed = result["last_close"] - first_submit
    return {
        "executor": "colobench loop" if concurrency is None else "pycolonies Executor",
        "concurrency": concurrency or 1,
        "n": options.n,
        "per_s": round(options.n / elapsed, 1),
        "executor_cpu_us_per_process": round(result["cpu_s"] / options.n * 1e6),
        "server_cpu_us_per_process": round(server_cpu / options.n * 1e6),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="bench", choices=["bench", "child"])
    ap.add_argument("--colobench", type=Path, default=DEFAULT_COLOBENCH)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--executortype", default="bench")
    ap.add_argument("--raw", action="store_true")
    options = ap.parse_args()
    if options.mode == "child":
        options.concurrency = options.concurrency[0]
        child(options)
        return
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(options.repeat):
        with dev_server() as (port, _pid):
            raw = colobench(options.colobench, "e2e", "-n", str(options.n), "--executors", "1", "--port", str(port))
        raw_run = {"executor": "colobench e2e", "concurrency": 1, "n": options.n, "per_s": raw["e2e_per_s"]}
        print(json.dumps(raw_run), flush=True)
        runs.setdefault("colobench e2e", []).append(raw_run)
        for concurrency in [None, *options.concurrency]:
            result = run_once(options, concurrency)
            print(json.dumps(result), flush=True)
            runs.setdefault(f"{result['executor']} c={result['concurrency']}", []).append(result)
    for name, results in runs.items():
        medians = {
            key: statistics.median(float(r[key]) for r in results)
            for key in ("per_s", "executor_cpu_us_per_process", "server_cpu_us_per_process")
            if key in results[0]
        }
        spread = f"{min(r['per_s'] for r in results)}-{max(r['per_s'] for r in results)}"
        print(json.dumps({"run": name, "runs": len(results), "median": medians, "per_s_range": spread}), flush=True)


if __name__ == "__main__":
    main()
