"""Channels on ``colonies dev``: how many messages per second the server takes and delivers, and
the delay from an append to its arrival at a WebSocket subscriber (p50/p99).

    python benchmarks/run_channels.py [--processes 16] [--messages 450] [--writers 4] [--latency-n 500] [--repeat 3]

``throughput``: ``--processes`` processes, each declaring one channel with one subscriber (a
thread of this process, subscribed through the SDK); ``--writers`` writer processes append
``--messages`` entries to each channel (a channel's messages come from one writer, in order).
Reported: appends/s (all appends acknowledged) and deliveries/s (every subscriber got every
message), over the same wall time. The per-process rate limit (500 at once, then 100/s, as
upstream) is why each channel gets at most 450 messages: the limit, not the server, would set the
pace beyond that.

``latency``: one channel, one subscriber; one writer appends ``--latency-n`` messages 10 ms apart;
the delay is from just before the append request to the subscriber's receipt of the entry.

Each run uses a fresh server and data directory; prints one JSON line per run, then the medians.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
from typing import Any

from common import cpu_seconds, dev_server

from pycolonies import Colonies, Conditions, FuncSpec

COLONY = "dev"
DEV_PRVKEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
EXECUTOR_TYPE = "channel-bench"  # nobody assigns these processes: the submitter talks to itself


def submit(client: Colonies, count: int) -> list[str]:
    spec = FuncSpec(
        funcname="bench",
        maxexectime=-1,
        channels=["bench"],
        conditions=Conditions(colonyname=COLONY, executortype=EXECUTOR_TYPE),
    )
    return [client.submit_func_spec(spec).processid for _ in range(count)]


class Subscriber(threading.Thread):
    """Follows one channel until ``expected`` entries arrived; records when each arrived."""

    def __init__(self, port: int, processid: str, expected: int) -> None:
        super().__init__(daemon=True)
        self.client = Colonies("127.0.0.1", port, prvkey=DEV_PRVKEY)
        self.processid, self.expected = processid, expected
        self.arrivals: list[tuple[int, int]] = []  # (time ns, sequence)
        self.ready = threading.Event()

    def run(self) -> None:
        stream = self.client.follow_channel(self.processid, "bench", timeout=120, until_end=False, segment=60)
        self.ready.set()
        for entry in stream:
            self.arrivals.append((time.time_ns(), entry["sequence"]))
            if len(self.arrivals) >= self.expected:
                break
        self.client.close()


def write(args: tuple[int, list[str], int]) -> tuple[int, int]:
    """A writer process: append ``messages`` entries to each of its channels, round robin."""
    port, processids, messages = args
    with Colonies("127.0.0.1", port, prvkey=DEV_PRVKEY) as client:
        for seq in range(1, messages + 1):
            for processid in processids:
                client.channel_append(processid, "bench", seq, b"x" * 64)
    return len(processids) * messages, time.time_ns()


def throughput(port: int, pid: int, a: argparse.Namespace) -> dict[str, Any]:
    with Colonies("127.0.0.1", port, prvkey=DEV_PRVKEY) as client:
        processids = submit(client, a.processes)
    subscribers = [Subscriber(port, p, a.messages) for p in processids]
    for s in subscribers:
        s.start()
        s.ready.wait(5)
    time.sleep(0.5)  # the subscriptions are registered
    groups = [processids[i :: a.writers] for i in range(a.writers)]
    before = cpu_seconds(pid)
    began = time.time_ns()
    with multiprocessing.get_context("spawn").Pool(a.writers) as pool:
        results = pool.map(write, [(port, g, a.messages) for g in groups if g])
    appended = sum(n for n, _ in results)
    acked = max(t for _, t in results)
    for s in subscribers:
        s.join(60)
    delivered = sum(len(s.arrivals) for s in subscribers)
    last = max(t for s in subscribers for t, _ in s.arrivals)
    in_order = all([q for _, q in s.arrivals] == list(range(1, a.messages + 1)) for s in subscribers)
    return {
        "scenario": "throughput",
        "channels": a.processes,
        "writers": a.writers,
        "appends": appended,
        "appends_per_s": round(appended / ((acked - began) / 1e9)),
        "delivered": delivered,
        "deliveries_per_s": round(delivered / ((last - began) / 1e9)),
        "in_order_no_duplicates": in_order and delivered == appended,
        "server_cpu_us_per_message": round((cpu_seconds(pid) - before) / appended * 1e6),
    }


def latency(port: int, a: argparse.Namespace) -> dict[str, Any]:
    with Colonies("127.0.0.1", port, prvkey=DEV_PRVKEY) as client:
        [processid] = submit(client, 1)
        subscriber = Subscriber(port, processid, a.latency_n)
        subscriber.start()
        subscriber.ready.wait(5)
        time.sleep(0.5)
        sent: dict[int, int] = {}
        round_trips = []
        for seq in range(1, a.latency_n + 1):
            sent[seq] = time.time_ns()
            client.channel_append(processid, "bench", seq, b"x" * 64)
            round_trips.append((time.time_ns() - sent[seq]) / 1e6)
            time.sleep(0.01)
        subscriber.join(30)
    delays = sorted((t - sent[q]) / 1e6 for t, q in subscriber.arrivals)
    return {
        "scenario": "latency",
        "n": len(delays),
        "p50_ms": round(statistics.median(delays), 2),
        "p99_ms": round(delays[int(len(delays) * 0.99) - 1], 2),
        "append_rtt_p50_ms": round(statistics.median(round_trips), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processes", type=int, default=16)
    ap.add_argument("--messages", type=int, default=450)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--latency-n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario", choices=["throughput", "latency"], action="append")
    a = ap.parse_args()
    summary: dict[str, list[dict[str, Any]]] = {}
    for name in a.scenario or ["throughput", "latency"]:
        for _ in range(a.repeat):
            with dev_server() as (port, pid):
                result = throughput(port, pid, a) if name == "throughput" else latency(port, a)
            print(json.dumps(result), flush=True)
            summary.setdefault(name, []).append(result)
    for name, runs in summary.items():
        keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
        medians = {k: statistics.median(float(r[k]) for r in runs) for k in keys}
        print(json.dumps({"scenario": name, "runs": len(runs), "median": medians}))


if __name__ == "__main__":
    main()
