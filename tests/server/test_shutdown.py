"""A graceful shutdown answers waiting long-polls at once instead of at their timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ..conftest import Env, ServerProcess, make_env


@pytest.fixture
def own_env(own_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(own_server)


def test_sigterm_releases_a_waiting_assign(own_env: Env) -> None:
    results: list[object] = []

    def poll() -> None:
        try:
            results.append(own_env.client.assign(own_env.colonyname, 30, own_env.executor_prvkey))
        except Exception as exc:  # the reply or the connection error, whichever comes
            results.append(exc)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)  # the poll is now waiting on the server
    started = time.monotonic()
    own_env.server.stop()
    assert time.monotonic() - started < 5
    thread.join(5)
    assert results == [None]  # answered "no process" (404), not cut off
