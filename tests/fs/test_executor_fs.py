"""Executors acting on ``spec.fs``: a snapshot and a synced directory staged in before the function
runs, results synced out after it, local copies and snapshots removed unless kept; staging errors
(missing snapshot, unreachable store, unsafe paths) fail the process without running the function;
a failed function publishes nothing. On both object stores where it matters."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

import pytest

from pycolonies import Colonies, Fs
from pycolonies.errors import ServerError
from pycolonies.executor import Context, Executor
from pycolonies.fs import ColonyFS, LocalStorage, StorageUnreachableError
from pycolonies.fs.directives import prepare_fs_snapshots
from pycolonies.models import ConflictPolicy, FuncSpec, OnConflict, SnapshotMount, SyncDirMount

from ..conftest import Env, free_port
from ..executor.support import client_of, framework_executor, serving, spec_for, wait_state


@pytest.fixture
def local_cfs(env: Env, local_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ColonyFS:
    """The local store, for this test and for the executors it starts (through os.environ)."""
    for name, value in local_env.items():
        monkeypatch.setenv(name, value)
    return ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=local_env)


def fresh_label(kind: str) -> str:
    return f"/{kind}-{secrets.token_hex(4)}"


def executor_for(env: Env, root: Path, **kwargs: Any) -> Executor:
    return framework_executor(env, "fs-" + secrets.token_hex(3), fs_root=root, **kwargs)


def run_spec(env: Env, executor: Executor, spec: FuncSpec, *, prepare: bool = True) -> Any:
    """Submit ``spec`` (its snapshots created first), let ``executor`` run it; the finished process."""
    spec.conditions.executortype = executor.executortype
    with client_of(env, env.user_prvkey) as client:
        if prepare:
            prepare_fs_snapshots(client, spec)
        with serving(executor):
            process = client.submit_func_spec(spec)
            return wait_state(env, process.processid)


def snapshot_exists(env: Env, snapshotid: str) -> bool:
    try:
        env.client.get_snapshot_by_id(env.colonyname, snapshotid, env.user_prvkey)
    except ServerError:
        return False
    return True


def stage_spec(env: Env, inputs: str, results: str, *, keep: bool = False, mount: str = "/cfs") -> FuncSpec:
    return spec_for(
        env,
        "",
        "work",
        fs=Fs(
            mount=mount,
            snapshots=[SnapshotMount(label=inputs, dir="/input", keepfiles=keep, keepsnapshot=keep)],
            dirs=[
                SyncDirMount(
                    label=results,
                    dir="/results/{processid}",
                    keepfiles=keep,
                    onconflicts=ConflictPolicy(onstart=OnConflict(keeplocal=False), onclose=OnConflict(keeplocal=True)),
                )
            ],
        ),
    )


def test_snapshot_and_dir_are_staged_in_and_results_out(
    env: Env, cfs: ColonyFS, fs_environ: dict[str, str], tmp_path: Path
) -> None:
    inputs, results = fresh_label("inputs"), fresh_label("results")
    cfs.upload_data("numbers.txt", b"1 2 3 4", inputs)
    cfs.upload_data("notes.txt", b"nested", inputs + "/more")
    cfs.upload_data("previous.txt", b"from an earlier run", results)
    root = tmp_path / "root"
    executor = executor_for(env, root)
    seen: dict[str, Any] = {}

    @executor.function
    def work(ctx: Context) -> int:
        snapshot_dir, out_dir = ctx.fs_snapshots[inputs], ctx.fs_dirs[results]
        seen.update(mount=ctx.fs_mount, snapshot=snapshot_dir, out=out_dir)
        seen["nested"] = (snapshot_dir / "more" / "notes.txt").read_text()
        seen["previous"] = (out_dir / "previous.txt").read_text()
        total = sum(int(n) for n in (snapshot_dir / "numbers.txt").read_text().split())
        (out_dir / "sum.txt").write_text(str(total))
        return total

    cfs.upload_data("late.txt", b"after the snapshot", inputs)  # not in the snapshot taken at submit
    spec = stage_spec(env, inputs, results)
    spec.fs.snapshots[0].snapshotid = ""  # type: ignore[union-attr]
    with client_of(env, env.user_prvkey) as client:
        created = prepare_fs_snapshots(client, spec)
    assert len(created) == 1 and created[0].label == inputs
    snapshotid = spec.fs.snapshots[0].snapshotid  # type: ignore[union-attr]
    process = run_spec(env, executor, spec, prepare=False)

    assert process.state == Colonies.SUCCESSFUL, process.errors
    assert process.output == [10]
    assert seen["mount"] == root / "cfs"
    assert seen["snapshot"] == root / "cfs" / "input"
    assert seen["out"] == root / "cfs" / "results" / process.processid
    assert seen["nested"] == "nested" and seen["previous"] == "from an earlier run"
    # the result is in ColonyFS under the label, next to the file that was there
    assert cfs.download_data(label=results, filename="sum.txt") == b"10"
    assert sorted(f["name"] for f in cfs.get_files(results)) == ["previous.txt", "sum.txt"]
    # local copies and the snapshot are gone (keepfiles and keepsnapshot are false)
    assert not seen["snapshot"].exists() and not seen["out"].exists()
    assert not (root / "cfs").exists()
    assert not snapshot_exists(env, snapshotid)
    logs = env.client.get_process_log(env.colonyname, process.processid, 100, 0, env.user_prvkey) or []
    text = "".join(entry["message"] for entry in logs)
    assert f"ColonyFS: snapshot {snapshotid}" in text and f"synced with {results}" in text


def test_keepfiles_and_keepsnapshot_keep_them(env: Env, local_cfs: ColonyFS, tmp_path: Path) -> None:
    cfs = local_cfs
    inputs, results = fresh_label("inputs"), fresh_label("results")
    cfs.upload_data("in.txt", b"abc", inputs)
    executor = executor_for(env, tmp_path / "root")

    @executor.function
    async def work(ctx: Context) -> str:  # an async function: staging still runs in a worker thread
        text = (ctx.fs_snapshots[inputs] / "in.txt").read_text()
        (ctx.fs_dirs[results] / "out.txt").write_text(text.upper())
        return text

    spec = stage_spec(env, inputs, results, keep=True, mount="")  # no mount: a private directory
    process = run_spec(env, executor, spec)
    assert process.state == Colonies.SUCCESSFUL, process.errors
    private = tmp_path / "root" / process.processid
    assert (private / "input" / "in.txt").read_text() == "abc"
    assert (private / "results" / process.processid / "out.txt").read_text() == "ABC"
    assert snapshot_exists(env, process.spec.fs.snapshots[0].snapshotid)  # type: ignore[union-attr]
    assert cfs.download_data(label=results, filename="out.txt") == b"ABC"


def test_a_failed_function_publishes_nothing_but_cleans_up(env: Env, local_cfs: ColonyFS, tmp_path: Path) -> None:
    cfs = local_cfs
    inputs, results = fresh_label("inputs"), fresh_label("results")
    cfs.upload_data("in.txt", b"abc", inputs)
    executor = executor_for(env, tmp_path / "root")

    @executor.function
    def work(ctx: Context) -> None:
        (ctx.fs_dirs[results] / "partial.txt").write_text("half done")
        raise RuntimeError("the model diverged")

    process = run_spec(env, executor, stage_spec(env, inputs, results))
    assert process.state == Colonies.FAILED
    assert process.errors[0] == "RuntimeError: the model diverged"
    assert cfs.get_files(results) == []  # the partial result was not uploaded
    assert not (tmp_path / "root" / "cfs").exists()
    assert not snapshot_exists(env, process.spec.fs.snapshots[0].snapshotid)  # type: ignore[union-attr]

    # with fs_upload_on_failure the partial results are published (as upstream's executors do)
    executor = executor_for(env, tmp_path / "root2", fs_upload_on_failure=True)
    executor.register(work)
    process = run_spec(env, executor, stage_spec(env, inputs, results))
    assert process.state == Colonies.FAILED
    assert cfs.download_data(label=results, filename="partial.txt") == b"half done"


@pytest.mark.parametrize(
    ("mount", "snapshots", "dirs", "expected"),
    [
        ("/cfs", [], [SyncDirMount(label="/x", dir="../../outside")], "fs.dirs[0].dir '../../outside' contains '..'"),
        ("../up", [], [SyncDirMount(label="/x", dir="data")], "fs.mount '../up' contains '..'"),
        ("/", [], [SyncDirMount(label="/x", dir="/")], "is the executor's fs root itself"),
        ("/cfs", [SnapshotMount(label="/x", dir="in")], [], "fs.snapshots[0] has no snapshotid"),
        ("/cfs", [], [SyncDirMount(label="", dir="d")], "fs.dirs[0] has no label"),
    ],
)
def test_unsafe_or_invalid_directives_fail_the_process(
    env: Env, tmp_path: Path, mount: str, snapshots: list[Any], dirs: list[Any], expected: str
) -> None:
    executor = executor_for(env, tmp_path / "root")
    called = threading.Event()
    executor.register(lambda: called.set(), name="work")
    spec = spec_for(env, "", "work", fs=Fs(mount=mount, snapshots=snapshots or None, dirs=dirs or None))
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert len(process.errors) == 1 and process.errors[0].startswith("ColonyFS: ")
    assert expected in process.errors[0], process.errors
    assert not called.is_set()
    assert not (tmp_path / "outside").exists() and not (tmp_path / "up").exists()


def test_a_symlink_out_of_the_mount_is_refused(env: Env, tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "cfs").mkdir(parents=True)
    elsewhere.mkdir()
    (root / "cfs" / "link").symlink_to(elsewhere)
    executor = executor_for(env, root)
    executor.register(lambda: None, name="work")
    spec = spec_for(env, "", "work", fs=Fs(mount="/cfs", dirs=[SyncDirMount(label="/x", dir="link/data")]))
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert "leads outside the mount" in process.errors[0] and "(a symlink?)" in process.errors[0]
    assert not any(elsewhere.iterdir())  # nothing was created through the link


def test_staging_errors_fail_the_process_with_a_clear_message(
    env: Env, s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    executor = executor_for(env, tmp_path / "root")
    executor.register(lambda: calls.append("ran"), name="work")

    # a snapshot that does not exist
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    missing = secrets.token_hex(32)
    spec = spec_for(env, "", "work", fs=Fs(mount="/cfs", snapshots=[SnapshotMount(snapshotid=missing, dir="in")]))
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert process.errors == [
        f"ColonyFS: looking up snapshot {missing} (fs.snapshots[0]) failed: "
        f"Snapshot not found with Id {missing} in Colony {env.colonyname} does not exists"
    ]

    # an object store nobody listens on (the file was uploaded while it was reachable)
    results = fresh_label("results")
    ColonyFS(env.client, env.colonyname, env.executor_prvkey, env=s3_env).upload_data("x.txt", b"x", results)
    monkeypatch.setenv("AWS_S3_ENDPOINT", f"127.0.0.1:{free_port()}")
    executor = executor_for(env, tmp_path / "root")
    executor.register(lambda: calls.append("ran"), name="work")
    spec = spec_for(env, "", "work", fs=Fs(mount="/cfs", dirs=[SyncDirMount(label=results, dir="out")]))
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert process.errors[0].startswith(f"ColonyFS: syncing {tmp_path / 'root' / 'cfs' / 'out'} with label {results}")
    assert "Cannot reach the S3 object store at 127.0.0.1:" in process.errors[0]
    assert calls == []

    # no storage configured at all
    monkeypatch.setenv("COLONIES_FS_BACKEND", "s3")
    monkeypatch.delenv("AWS_S3_ACCESSKEY")
    executor = executor_for(env, tmp_path / "root")
    executor.register(lambda: calls.append("ran"), name="work")
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert "AWS_S3_ACCESSKEY is not set" in process.errors[0], process.errors
    assert calls == []


class FailingUploads(LocalStorage):
    def put(self, *args: Any, **kwargs: Any) -> None:
        raise StorageUnreachableError("Cannot reach the object store (test)")


def test_results_that_cannot_be_uploaded_fail_the_process_and_stay_local(
    env: Env, local_env: dict[str, str], tmp_path: Path
) -> None:
    results = fresh_label("results")
    storage = FailingUploads(local_env["COLONIES_FS_DIR"])
    executor = executor_for(env, tmp_path / "root", fs_storage=storage)

    @executor.function
    def work(ctx: Context) -> str:
        (ctx.fs_dirs[results] / "out.txt").write_text("precious")
        return "done"

    spec = spec_for(env, "", "work", fs=Fs(mount="/cfs", dirs=[SyncDirMount(label=results, dir="out")]))
    process = run_spec(env, executor, spec, prepare=False)
    assert process.state == Colonies.FAILED
    assert process.errors[0].startswith(f"ColonyFS: uploading the results in {tmp_path / 'root' / 'cfs' / 'out'}")
    assert "Cannot reach the object store (test)" in process.errors[0]
    assert process.errors[1] == "output: ['done']"
    assert (tmp_path / "root" / "cfs" / "out" / "out.txt").read_text() == "precious"


def test_processes_without_fs_directives_touch_no_files(env: Env, tmp_path: Path) -> None:
    executor = executor_for(env, tmp_path / "root")

    @executor.function
    def work(ctx: Context) -> tuple[Any, ...]:
        return ctx.fs_mount, ctx.fs_dirs, ctx.fs_snapshots

    process = run_spec(env, executor, spec_for(env, "", "work"))
    assert process.state == Colonies.SUCCESSFUL
    assert process.output == [None, {}, {}]
    assert not (tmp_path / "root").exists()


def test_prepare_fs_snapshots(env: Env, local_cfs: ColonyFS) -> None:
    cfs = local_cfs
    label = fresh_label("data")
    cfs.upload_data("a.txt", b"a", label)
    spec = spec_for(
        env,
        "t",
        "work",
        fs=Fs(snapshots=[SnapshotMount(label=label, dir="a"), SnapshotMount(snapshotid="given", label=label)]),
    )
    with client_of(env, env.user_prvkey) as client:
        created = prepare_fs_snapshots(client, spec)
        assert [s.snapshotid for s in created] == [spec.fs.snapshots[0].snapshotid]  # type: ignore[union-attr]
        assert spec.fs.snapshots[1].snapshotid == "given"  # type: ignore[union-attr]
        assert len(created[0].fileids or []) == 1
        fresh = prepare_fs_snapshots(client, spec, fresh=True)  # upstream's --snapshot: every entry
        assert len(fresh) == 2 and spec.fs.snapshots[1].snapshotid == fresh[1].snapshotid  # type: ignore[union-attr]

        bad = spec_for(
            env,
            "t",
            "work",
            fs=Fs(snapshots=[SnapshotMount(label=label), SnapshotMount(label="", dir="x")]),
        )
        before = len(client.get_snapshots(env.colonyname) or [])
        with pytest.raises(ValueError, match=r"fs.snapshots\[1\] .* has neither a snapshotid nor a label"):
            prepare_fs_snapshots(client, bad)
        assert len(client.get_snapshots(env.colonyname) or []) == before  # the first one was removed again
        assert bad.fs.snapshots[0].snapshotid == ""  # type: ignore[union-attr]
