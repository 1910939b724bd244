"""Workflows on ``colonies dev``: submit and complete graphs with a few executor threads that only
assign and close, and report how the cost grows with the graph size (seconds, per node, and server
CPU per node, read from /proc).

Shapes: ``fan`` is 1 root -> n-2 middle nodes -> 1 sink (wide: the sink has n-2 parents), ``chain``
is n nodes one after the other (deep: every node waits for the release of the previous one).

    python benchmarks/run_workflows.py [--shape fan] [--sizes 100 300 1000 3000] [--executors 4] [--repeat 3]

Each run uses a fresh server and data directory; prints one JSON line per run, then a summary
table (medians) in Markdown.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import threading
import time

from common import cpu_seconds, dev_server

from pycolonies import Colonies, Conditions, FuncSpec, Workflow
from pycolonies.crypto import generate_prvkey, id_of

COLONY = "dev"
COLONY_PRVKEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
DEV_PRVKEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"


def _node(name: str, after: list[str], executortype: str) -> FuncSpec:
    return FuncSpec(
        nodename=name,
        funcname="work",
        conditions=Conditions(executortype=executortype, dependencies=after),
        maxexectime=600,
    )


def fan_out_fan_in(n: int, executortype: str) -> Workflow:
    """1 root -> n-2 middle nodes -> 1 sink (2(n-2) edges); the sink is the last spec."""
    middle = [f"m{i}" for i in range(n - 2)]
    specs = [_node(m, ["root"], executortype) for m in middle]
    return Workflow(
        colonyname=COLONY,
        functionspecs=[_node("root", [], executortype), *specs, _node("sink", middle, executortype)],
    )


def chain(n: int, executortype: str) -> Workflow:
    """n nodes in a row (n-1 edges); the last one is the last spec."""
    specs = [_node(f"c{i}", [f"c{i - 1}"] if i else [], executortype) for i in range(n)]
    return Workflow(colonyname=COLONY, functionspecs=specs)


SHAPES = {"fan": (fan_out_fan_in, lambda n: 2 * (n - 2)), "chain": (chain, lambda n: n - 1)}


class Executors:
    """``count`` registered executors, each a thread that assigns and closes until stopped."""

    def __init__(self, port: int, executortype: str, count: int, expected: int) -> None:
        self.port, self.executortype, self.expected = port, executortype, expected
        self.closed = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.stop = threading.Event()
        self.finished_at = 0.0
        self.keys = []
        with Colonies("127.0.0.1", port) as client:
            for _ in range(count):
                key = generate_prvkey()
                name = f"bench-{secrets.token_hex(4)}"
                executor = {"executorname": name, "executorid": id_of(key), "colonyname": COLONY}
                client.add_executor({**executor, "executortype": executortype}, COLONY_PRVKEY)
                client.approve_executor(COLONY, name, COLONY_PRVKEY)
                self.keys.append(key)
        self.threads = [threading.Thread(target=self.work, args=(key,), daemon=True) for key in self.keys]
        for thread in self.threads:
            thread.start()

    def work(self, key: str) -> None:
        with Colonies("127.0.0.1", self.port, prvkey=key) as client:
            while not self.stop.is_set():
                process = client.assign(COLONY, 1)
                if process is None:
                    continue
                client.close(process.processid, [1])
                with self.lock:
                    self.closed += 1
                    if self.closed == self.expected:
                        self.finished_at = time.perf_counter()
                        self.done.set()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)


def run_once(shape: str, n: int, executors: int) -> dict[str, object]:
    executortype = "bench-wf-" + secrets.token_hex(3)
    build, edges = SHAPES[shape]
    wf = build(n, executortype)
    with dev_server() as (port, pid), Colonies("127.0.0.1", port, prvkey=DEV_PRVKEY) as client:
        pool = Executors(port, executortype, executors, n)
        try:
            time.sleep(0.2)  # let every executor enter its long poll
            cpu_before = cpu_seconds(pid)
            started = time.perf_counter()
            graph = client.submit_workflow(wf)
            submitted = time.perf_counter()
            if not pool.done.wait(300):
                raise RuntimeError(f"only {pool.closed} of {n} processes closed")
            cpu = cpu_seconds(pid) - cpu_before
            total = pool.finished_at - started
            final = client.get_processgraph(graph.processgraphid)
            last = client.get_process(graph.processids[-1])
        finally:
            pool.close()
    assert final.state == Colonies.SUCCESSFUL, final.state
    assert len(last.input or []) == (n - 2 if shape == "fan" else 1)
    return {
        "shape": shape,
        "nodes": n,
        "edges": edges(n),
        "executors": executors,
        "submit_s": round(submitted - started, 4),
        "total_s": round(total, 4),
        "per_node_ms": round(total / n * 1e3, 3),
        "server_cpu_s": round(cpu, 3),
        "server_cpu_per_node_ms": round(cpu / n * 1e3, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="fan")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    ap.add_argument("--executors", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    runs: dict[int, list[dict[str, object]]] = {}
    for _ in range(a.repeat):
        for n in a.sizes:
            result = run_once(a.shape, n, a.executors)
            print(json.dumps(result), flush=True)
            runs.setdefault(n, []).append(result)
    keys = ("submit_s", "total_s", "per_node_ms", "server_cpu_per_node_ms")
    print()
    print(f"{a.shape}, {a.executors} executor threads, medians:")
    print("| nodes (edges) | runs | submit s | submit + complete s | per node ms | server CPU per node ms |")
    print("|---|---|---|---|---|---|")
    for n, results in runs.items():
        med = {k: statistics.median(float(r[k]) for r in results) for k in keys}  # type: ignore[arg-type]
        print(
            f"| {n} ({SHAPES[a.shape][1](n)}) | {len(results)} | {med['submit_s']:.3f} | {med['total_s']:.3f} "
            f"| {med['per_node_ms']:.2f} | {med['server_cpu_per_node_ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
