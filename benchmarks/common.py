"""Shared helpers for the benchmarks: start ``colonies dev`` on a free port, run colobench."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COLOBENCH = ROOT.parent / "shared" / "bench" / "colobench.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux /proc), in seconds; 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def dev_server(port: int | None = None) -> Iterator[tuple[int, int]]:
    """``colonies dev`` on a fresh data directory; yields its port and pid."""
    port = port or free_port()
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pycolonies.cli.main", "dev", "--port", str(port), "--data-dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("colonies dev did not start")
            yield port, proc.pid
        finally:
            proc.terminate()
            proc.wait(10)


def colobench(colobench_path: Path, *args: str) -> dict[str, object]:
    """Run colobench and return its JSON line."""
    out = subprocess.run([sys.executable, str(colobench_path), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
