"""Execution and waiting deadlines, retries (protocol core/30-semantics.md section 5). The deadline
loop ticks every second and compares whole seconds, so a 1 s deadline fires 1-3 s later.

Our documented difference: ``maxexectime``/``maxwaittime`` <= 0 mean "no limit" (upstream expires a
single process with ``maxexectime`` 0 right after assignment)."""

from __future__ import annotations

from typing import Any

from pycolonies.crypto import id_of
from pycolonies.timefmt import parse_ns

from ..conftest import Env
from .proc_helpers import ZERO_TIME, Background, assign, get, submit, wait_for

EXEC_ERROR = "Maximum execution time limit exceeded"
WAIT_ERROR = "Maximum waiting time limit exceeded"


def _assigned(env: Env, timeout: int = -1) -> dict[str, Any]:
    status, p = assign(env, timeout=timeout)
    assert status == 200, p
    return p  # type: ignore[no-any-return]


def _in_state(env: Env, pid: str, state: int) -> Any:
    def check() -> Any:
        p = get(env, pid)
        return p if p["state"] == state else None

    return wait_for(check, timeout=6)


def test_exec_deadline_releases_then_fails(env: Env) -> None:
    pid = submit(env, maxexectime=1, maxretries=1, env={"k": "v"})["processid"]
    first = _assigned(env)
    assert first["processid"] == pid
    assigned_at = parse_ns(first["starttime"])
    assert parse_ns(first["execdeadline"]) == assigned_at + 1_000_000_000
    # The release emits a WAITING event: a long-polling assigner picks the process up again.
    again = Background(lambda: assign(env, timeout=8))
    status, second = again.result(15)
    assert status == 200 and second["processid"] == pid
    assert second["retries"] == 1 and second["state"] == 1
    assert second["assignedexecutorid"] == id_of(env.executor_prvkey)
    assert parse_ns(second["starttime"]) > assigned_at
    # The second timeout has no retries left: FAILED.
    failed = _in_state(env, pid, 3)
    assert failed["errors"] == [EXEC_ERROR] and failed["retries"] == 1
    assert parse_ns(failed["endtime"]) > parse_ns(second["starttime"])
    assert failed["attributes"][0]["state"] == 3
    # Nothing is left to assign.
    assert assign(env)[0] == 404


def test_unlimited_retries_keep_releasing(env: Env) -> None:
    pid = submit(env, maxexectime=1, maxretries=-1, maxwaittime=60)["processid"]
    for retries in (1, 2):
        _assigned(env)
        released = _in_state(env, pid, 0)
        assert released["retries"] == retries and released["errors"] == []
        assert released["isassigned"] is False and released["assignedexecutorid"] == ""
        assert parse_ns(released["endtime"]) > parse_ns(released["starttime"])
        # The wait deadline is renewed from the release.
        assert parse_ns(released["waitdeadline"]) == parse_ns(released["endtime"]) + 60 * 1_000_000_000
    assert _assigned(env)["retries"] == 2


def test_wait_deadline_fails_unassigned_process(env: Env) -> None:
    nobody = env.executortype + "-nobody"
    pid = submit(env, executortype=nobody, maxwaittime=1)["processid"]
    unlimited = [submit(env, executortype=nobody, maxwaittime=w)["processid"] for w in (0, -1)]
    p = get(env, pid)
    assert parse_ns(p["waitdeadline"]) == parse_ns(p["submissiontime"]) + 1_000_000_000
    assert all(get(env, u)["waitdeadline"] == ZERO_TIME for u in unlimited)
    failed = _in_state(env, pid, 3)
    assert failed["errors"] == [WAIT_ERROR] and failed["isassigned"] is False
    assert parse_ns(failed["endtime"]) > parse_ns(failed["submissiontime"])
    for u in unlimited:  # maxwaittime 0 and -1: no limit
        assert get(env, u)["state"] == 0


def test_exec_time_zero_and_negative_never_expire(env: Env) -> None:
    # Our documented difference from upstream: 0 and other values <= 0 mean "no limit".
    ids = [submit(env, maxexectime=t, maxretries=0)["processid"] for t in (0, -1, -5)]
    control = submit(env, maxexectime=1, maxretries=0)["processid"]
    for expected in [*ids, control]:
        p = _assigned(env)
        assert p["processid"] == expected
        if expected != control:
            assert p["execdeadline"] == ZERO_TIME
    # The pass that expired the control (assigned last) would have expired these too.
    failed = _in_state(env, control, 3)
    assert failed["errors"] == [EXEC_ERROR] and failed["retries"] == 0  # maxretries 0: no release
    for pid in ids:
        p = get(env, pid)
        assert p["state"] == 1 and p["retries"] == 0 and p["errors"] == []
