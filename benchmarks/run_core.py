"""Core throughput and wake-up latency of ``colonies dev`` (embedded SQLite), measured with the
neutral colobench load generator. Each scenario runs on a fresh server; prints one JSON line per run.

    python benchmarks/run_core.py [--colobench PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import DEFAULT_COLOBENCH, colobench, cpu_seconds, dev_server

SCENARIOS = {
    "e2e": ["e2e", "-n", "2000", "--executors", "4", "--submitters", "2"],
    "latency": ["latency", "-n", "200"],
    "submit": ["submit", "-n", "2000", "--submitters", "2"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--colobench", type=Path, default=DEFAULT_COLOBENCH)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    a = ap.parse_args()
    a.n_e2e = int(SCENARIOS["e2e"][2])
    summary: dict[str, list[dict[str, object]]] = {}
    for name in a.scenario or list(SCENARIOS):
        for _ in range(a.repeat):
            with dev_server() as (port, pid):
                before = cpu_seconds(pid)
                result = colobench(a.colobench, *SCENARIOS[name], "--port", str(port))
                if name == "e2e":
                    result["server_cpu_us_per_process"] = round((cpu_seconds(pid) - before) / a.n_e2e * 1e6)
            print(json.dumps(result), flush=True)
            summary.setdefault(name, []).append(result)
    for name, runs in summary.items():
        keys = [
            k for k in ("e2e_per_s", "submit_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_process") if k in runs[0]
        ]
        medians = {k: statistics.median(float(r[k]) for r in runs) for k in keys}  # type: ignore[arg-type]
        print(json.dumps({"scenario": name, "runs": len(runs), "median": medians}))


if __name__ == "__main__":
    main()
