"""Upstream pycolonies 1.0.25's CORE server tests, ported to pytest and run against our server.

``TestColonies`` follows upstream's ``test/colonies_test.py`` (protocol core/40-sdk.md section 5.4):
every test makes its own colony ``python-test-<rand>`` with a fresh key (signed by the server key)
and an executor ``test-executor-<rand>`` of type ``test-executor-type``, written with upstream's
imports (``pycolonies``, ``model``, ``crypto``) and upstream's calls. Where upstream only checks
"no error", the port also checks the server really did it.

``TestAPIEndpoints`` / ``TestAttributeOperations`` follow ``test/api_test.py`` (section 5.5). Upstream
runs them against a shared colony ``test`` with an executor of type ``cli`` made by
``setup_test_env.py``; here each test sets that up afresh (colony and executor keys are random so the
shared session server stays clean for other tests).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crypto import Crypto
from model import Conditions, FuncSpec, Workflow
from pycolonies import Colonies, ColoniesConnectionError, func_spec

from ..conftest import SERVER_PRVKEY, ServerProcess


class TestColonies:
    """Port of upstream ``TestColonies`` (colonies_test.py)."""

    @pytest.fixture(autouse=True)
    def _setup(self, server: ServerProcess) -> Iterator[None]:
        self.colonies = Colonies("127.0.0.1", server.port, tls=False, native_crypto=False)
        self.crypto = Crypto(native=False)
        self.server_prv = SERVER_PRVKEY
        self._created: list[str] = []
        yield
        # Upstream deletes its colony at the end of (almost) every test; do it for all of them.
        for colonyname in self._created:
            try:
                self.colonies.del_colony(colonyname, self.server_prv)
            except ColoniesConnectionError:
                pass
        self.colonies.close()

    def ran_prefix(self) -> str:
        return "".join(random.choices(string.ascii_uppercase + string.digits, k=10))

    def add_test_colony(self) -> tuple[Any, str, str, str]:
        colony_prvkey = self.crypto.prvkey()
        colonyid = self.crypto.id(colony_prvkey)
        colony = {"colonyid": colonyid, "name": "python-test-" + self.ran_prefix()}
        added = self.colonies.add_colony(colony, self.server_prv)
        self._created.append(colony["name"])
        return added, colonyid, colony["name"], colony_prvkey

    def add_test_executor(self, colonyname: str, colony_prvkey: str) -> tuple[Any, str, str, str]:
        executor_prvkey = self.crypto.prvkey()
        executorid = self.crypto.id(executor_prvkey)
        executor = {
            "executorname": "test-executor-" + self.ran_prefix(),
            "executorid": executorid,
            "colonyname": colonyname,
            "executortype": "test-executor-type",
        }
        return (
            self.colonies.add_executor(executor, colony_prvkey),
            executor["executorid"],
            executor["executorname"],
            executor_prvkey,
        )

    def submit_test_funcspec(self, colonyname: str, executor_prvkey: str) -> Any:
        spec = FuncSpec(
            conditions=Conditions(colonyname=colonyname, executortype="test-executor-type"),
            env={"test_key": "test_value2"},
            maxexectime=-1,
            maxretries=3,
        )
        return self.colonies.submit_func_spec(spec, executor_prvkey)

    def approved_executor(self) -> tuple[str, str, str, str]:
        """A colony with one approved executor: (colonyname, colony_prvkey, executorname, executor_prvkey)."""
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        _, _, executorname, executor_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, executorname, colony_prvkey)
        return colonyname, colony_prvkey, executorname, executor_prvkey

    def listed_ids(self, colonyname: str, state: int, prvkey: str, count: int = 2) -> list[str]:
        return [p["processid"] for p in self.colonies.list_processes(colonyname, count, state, prvkey) or []]

    # -- colonies ------------------------------------------------------------------------------

    def test_add_colony(self) -> None:
        added_colony, colonyid, colonyname, _ = self.add_test_colony()
        assert added_colony["name"] == colonyname
        assert added_colony["colonyid"] == colonyid
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_del_colony(self) -> None:
        _, _, colonyname, _ = self.add_test_colony()
        colonies_from_server = self.colonies.list_colonies(self.server_prv)
        assert any(colony["name"] == colonyname for colony in colonies_from_server)

        assert self.colonies.del_colony(colonyname, self.server_prv) == {}
        colonies_from_server = self.colonies.list_colonies(self.server_prv) or []
        assert not any(colony["name"] == colonyname for colony in colonies_from_server)

    # -- executors -----------------------------------------------------------------------------

    def test_add_executor(self) -> None:
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        added_executor, executorid, executorname, _ = self.add_test_executor(colonyname, colony_prvkey)
        assert executorid == added_executor["executorid"]
        assert added_executor["executorname"] == executorname
        assert added_executor["state"] == 0  # pending until approved
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_approve_executor(self) -> None:
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        _, _, executorname, executor_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        # A pending executor may already list the colony's executors (approval not required).
        assert self.colonies.list_executors(colonyname, executor_prvkey)[0]["state"] == 0
        with pytest.raises(ColoniesConnectionError, match="Access denied"):  # ... but not submit
            self.submit_test_funcspec(colonyname, executor_prvkey)

        assert self.colonies.approve_executor(colonyname, executorname, colony_prvkey) == {}
        executors_from_server = self.colonies.list_executors(colonyname, executor_prvkey)
        assert executors_from_server[0]["state"] == 1
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_reject_executor(self) -> None:
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        _, _, executorname, executor_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, executorname, colony_prvkey)
        assert self.colonies.reject_executor(colonyname, executorname, colony_prvkey) == {}
        # A rejected executor has lost its membership.
        with pytest.raises(ColoniesConnectionError):
            self.colonies.assign(colonyname, 1, executor_prvkey)
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_list_executors(self) -> None:
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        _, executorid, executorname, executor_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, executorname, colony_prvkey)
        executors_from_server = self.colonies.list_executors(colonyname, executor_prvkey)
        assert executors_from_server[0]["state"] == 1

        executors_from_server = self.colonies.list_executors(colonyname, executor_prvkey)
        assert len(executors_from_server) == 1
        assert executors_from_server[0]["executorname"] == executorname
        assert executors_from_server[0]["executorid"] == executorid
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_remove_executor(self) -> None:
        _, _, colonyname, colony_prvkey = self.add_test_colony()
        _, _, executorname, executor_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, executorname, colony_prvkey)
        # A second, approved executor to look with after the first is gone.
        _, _, other_name, other_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, other_name, colony_prvkey)

        assert self.colonies.remove_executor(colonyname, executorname, colony_prvkey) == {}
        # The record stays, UNREGISTERED (3), and it may no longer work in the colony.
        states = {e["executorname"]: e["state"] for e in self.colonies.list_executors(colonyname, other_prvkey)}
        assert states == {executorname: 3, other_name: 1}
        with pytest.raises(ColoniesConnectionError, match="Access denied"):
            self.submit_test_funcspec(colonyname, executor_prvkey)
        self.colonies.del_colony(colonyname, self.server_prv)

    # -- processes -----------------------------------------------------------------------------

    def test_submit(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        process = self.submit_test_funcspec(colonyname, executor_prvkey)
        assert process.state == 0
        assert process.spec.conditions.colonyname == colonyname
        assert process.spec.env == {"test_key": "test_value2"}
        assert process.spec.maxretries == 3
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_submit_workflow(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        workflow = Workflow(
            colonyname=colonyname,
            functionspecs=[
                FuncSpec(
                    nodename="node1",
                    conditions=Conditions(colonyname=colonyname, executortype="test-executor-type"),
                    env={"test_key": "test_value2"},
                    maxexectime=-1,
                    maxretries=3,
                ),
                FuncSpec(
                    nodename="node2",
                    conditions=Conditions(
                        colonyname=colonyname, executortype="test-executor-type", dependencies=["node1"]
                    ),
                    env={"test_key": "test_value2"},
                    maxexectime=-1,
                    maxretries=3,
                ),
            ],
        )
        process = self.colonies.submit_workflow(workflow, executor_prvkey)
        assert process.state == 0
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_assign(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        process = self.submit_test_funcspec(colonyname, executor_prvkey)

        assigned_process = self.colonies.assign(colonyname, 10, executor_prvkey)
        assert assigned_process.processid == process.processid
        assert assigned_process.state == Colonies.RUNNING
        assert assigned_process.assignedexecutorid == self.crypto.id(executor_prvkey)
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_list_process(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        p1 = self.submit_test_funcspec(colonyname, executor_prvkey)
        p2 = self.submit_test_funcspec(colonyname, executor_prvkey)

        waiting_processes = self.colonies.list_processes(colonyname, 2, Colonies.WAITING, executor_prvkey)
        assert len(waiting_processes) == 2
        assert {p["processid"] for p in waiting_processes} == {p1.processid, p2.processid}
        assert self.colonies.list_processes(colonyname, 2, Colonies.RUNNING, executor_prvkey) in (None, [])
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_get_process(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        submitted_process = self.submit_test_funcspec(colonyname, executor_prvkey)

        process = self.colonies.get_process(submitted_process.processid, executor_prvkey)
        assert process.processid == submitted_process.processid
        assert process.spec.env == {"test_key": "test_value2"}
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_remove_process(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        submitted_process = self.submit_test_funcspec(colonyname, executor_prvkey)
        self.colonies.get_process(submitted_process.processid, executor_prvkey)  # exists before

        self.colonies.remove_process(submitted_process.processid, executor_prvkey)
        with pytest.raises(ColoniesConnectionError):
            self.colonies.get_process(submitted_process.processid, executor_prvkey)
        self.colonies.del_colony(colonyname, self.server_prv)

    def _four_processes_in_four_states(self, colonyname: str, executor_prvkey: str) -> list[Any]:
        """Upstream's set-up of test_close_process and test_stats: submit 4, assign 3, close the
        first as successful and the second as failed (errors ``[]``)."""
        submitted = [self.submit_test_funcspec(colonyname, executor_prvkey) for _ in range(4)]
        assigned = [self.colonies.assign(colonyname, 10, executor_prvkey) for _ in range(3)]
        # FIFO among equal priorities: the three oldest, in submission order.
        assert [p.processid for p in assigned] == [p.processid for p in submitted[:3]]
        self.colonies.close(submitted[0].processid, [], executor_prvkey)
        self.colonies.fail(submitted[1].processid, [], executor_prvkey)
        return submitted

    def test_close_process(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        p1, p2, p3, p4 = self._four_processes_in_four_states(colonyname, executor_prvkey)

        waiting_processes = self.colonies.list_processes(colonyname, 2, Colonies.WAITING, executor_prvkey)
        running_processes = self.colonies.list_processes(colonyname, 2, Colonies.RUNNING, executor_prvkey)
        successful_processes = self.colonies.list_processes(colonyname, 2, Colonies.SUCCESSFUL, executor_prvkey)
        failed_processes = self.colonies.list_processes(colonyname, 2, Colonies.FAILED, executor_prvkey)

        assert len(waiting_processes) == 1
        assert len(running_processes) == 1
        assert len(successful_processes) == 1
        assert len(failed_processes) == 1
        assert waiting_processes[0]["processid"] == p4.processid
        assert running_processes[0]["processid"] == p3.processid
        assert successful_processes[0]["processid"] == p1.processid
        assert failed_processes[0]["processid"] == p2.processid

        closed = self.colonies.get_process(p1.processid, executor_prvkey)
        assert closed.state == Colonies.SUCCESSFUL and closed.output == []
        failed = self.colonies.get_process(p2.processid, executor_prvkey)
        assert failed.state == Colonies.FAILED
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_stats(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        self._four_processes_in_four_states(colonyname, executor_prvkey)

        waiting_processes = self.colonies.list_processes(colonyname, 2, 0, executor_prvkey)
        running_processes = self.colonies.list_processes(colonyname, 2, 1, executor_prvkey)
        successful_processes = self.colonies.list_processes(colonyname, 2, 2, executor_prvkey)
        failed_processes = self.colonies.list_processes(colonyname, 2, 3, executor_prvkey)

        stats = self.colonies.stats(colonyname, executor_prvkey)

        assert len(waiting_processes) == stats["waitingprocesses"]
        assert len(running_processes) == stats["runningprocesses"]
        assert len(successful_processes) == stats["successfulprocesses"]
        assert len(failed_processes) == stats["failedprocesses"]
        assert (stats["waitingprocesses"], stats["runningprocesses"]) == (1, 1)
        assert (stats["successfulprocesses"], stats["failedprocesses"]) == (1, 1)
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_set_output(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        self.submit_test_funcspec(colonyname, executor_prvkey)
        assigned_process = self.colonies.assign(colonyname, 10, executor_prvkey)
        self.colonies.set_output(assigned_process.processid, ["output1", "output2"], executor_prvkey)

        process_from_server = self.colonies.get_process(assigned_process.processid, executor_prvkey)
        assert len(process_from_server.output) == 2
        assert process_from_server.output[0] == "output1"
        assert process_from_server.output[1] == "output2"
        assert process_from_server.state == Colonies.RUNNING  # set_output does not close
        # (upstream forgets to delete this colony; the fixture does it)

    # -- attributes ----------------------------------------------------------------------------

    def test_add_attribute(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        submitted_process = self.submit_test_funcspec(colonyname, executor_prvkey)
        self.colonies.assign(colonyname, 10, executor_prvkey)

        self.colonies.add_attribute(submitted_process.processid, "py_test_key", "py_test_value", executor_prvkey)

        process = self.colonies.get_process(submitted_process.processid, executor_prvkey)
        found = False
        for attr in process.attributes:
            if attr.key == "py_test_key" and attr.value == "py_test_value":
                found = True
                assert attr.targetid == submitted_process.processid
        assert found
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_get_attribute(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        submitted_process = self.submit_test_funcspec(colonyname, executor_prvkey)
        self.colonies.assign(colonyname, 10, executor_prvkey)

        attribute = self.colonies.add_attribute(
            submitted_process.processid, "py_test_key", "py_test_value", executor_prvkey
        )
        attribute_from_server = self.colonies.get_attribute(attribute["attributeid"], executor_prvkey)
        assert attribute_from_server["attributeid"] == attribute["attributeid"]
        assert attribute_from_server["key"] == "py_test_key"
        assert attribute_from_server["value"] == "py_test_value"
        assert attribute_from_server["targetid"] == submitted_process.processid
        self.colonies.del_colony(colonyname, self.server_prv)

    # -- functions -----------------------------------------------------------------------------

    def test_add_function(self) -> None:
        colonyname, _, executorname, executor_prvkey = self.approved_executor()
        function = self.colonies.add_function(colonyname, executorname, "funcname", executor_prvkey)
        assert function["funcname"] == "funcname"
        assert function["executorname"] == executorname
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_get_functions_by_colony(self) -> None:
        colonyname, _, executorname, executor_prvkey = self.approved_executor()
        self.colonies.add_function(colonyname, executorname, "funcname", executor_prvkey)
        functions = self.colonies.get_functions_by_colony(colonyname, executor_prvkey)
        assert len(functions) == 1
        assert functions[0]["funcname"] == "funcname"
        # (upstream forgets to delete this colony; the fixture does it)

    def test_get_functions_by_executor(self) -> None:
        colonyname, colony_prvkey, executorname, executor_prvkey = self.approved_executor()
        self.colonies.add_function(colonyname, executorname, "funcname", executor_prvkey)
        # Another executor's function must not show up for this executor.
        _, _, other_name, other_prvkey = self.add_test_executor(colonyname, colony_prvkey)
        self.colonies.approve_executor(colonyname, other_name, colony_prvkey)
        self.colonies.add_function(colonyname, other_name, "otherfunc", other_prvkey)

        functions = self.colonies.get_functions_by_executor(colonyname, executorname, executor_prvkey)
        assert len(functions) == 1
        assert functions[0]["funcname"] == "funcname"
        assert len(self.colonies.get_functions_by_colony(colonyname, executor_prvkey)) == 2
        self.colonies.del_colony(colonyname, self.server_prv)

    # -- the non-core tests: snapshots, logs, crons ----------------------------------------------

    def test_create_snapshot(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("COLONIES_FS_BACKEND", "local")  # the file's bytes go to a local store
        monkeypatch.setenv("COLONIES_FS_DIR", str(tmp_path))
        colonyname, _, _, executor_prvkey = self.approved_executor()
        self.colonies.upload_data(colonyname, executor_prvkey, filename="f", data=b"x", label="/testlabel")
        snapshot = self.colonies.create_snapshot(colonyname, "/testlabel", "test_snapshot_name", executor_prvkey)
        snapshots = self.colonies.get_snapshots(colonyname, executor_prvkey)
        assert len(snapshots) == 1
        by_name = self.colonies.get_snapshot_by_name(colonyname, "test_snapshot_name", executor_prvkey)
        assert by_name["name"] == snapshot["name"] == "test_snapshot_name"
        by_id = self.colonies.get_snapshot_by_id(colonyname, snapshot["snapshotid"], executor_prvkey)
        assert by_id["name"] == snapshot["name"]
        assert len(by_id["fileids"]) == 1
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_get_add_logs(self) -> None:
        colonyname, _, executorname, executor_prvkey = self.approved_executor()
        process = self.submit_test_funcspec(colonyname, executor_prvkey)
        assigned = self.colonies.assign(colonyname, 10, executor_prvkey)
        assert assigned.processid == process.processid
        self.colonies.add_log(process.processid, "test_msg", executor_prvkey)
        logs = self.colonies.get_process_log(colonyname, process.processid, 100, -1, executor_prvkey)
        assert len(logs) == 1
        assert logs[0]["message"] == "test_msg"
        logs = self.colonies.get_executor_log(colonyname, executorname, 100, -1, executor_prvkey)
        assert len(logs) == 1
        assert logs[0]["message"] == "test_msg"
        self.colonies.del_colony(colonyname, self.server_prv)

    def test_add_cron(self) -> None:
        colonyname, _, _, executor_prvkey = self.approved_executor()
        spec = FuncSpec(
            nodename="node1",
            funcname="cron_func",
            conditions=Conditions(colonyname=colonyname, executortype="test-executor-type"),
            maxexectime=-1,
            maxretries=3,
        )
        workflow = Workflow(colonyname=colonyname, functionspecs=[spec])
        cron1 = self.colonies.add_cron("test_cron1", "0/1 * * * * *", True, workflow, colonyname, executor_prvkey)
        cron2 = self.colonies.add_cron("test_cron2", "0/1 * * * * *", True, workflow, colonyname, executor_prvkey)
        assert self.colonies.get_cron(cron1["cronid"], executor_prvkey)["name"] == "test_cron1"
        assert len(self.colonies.get_crons(colonyname, 100, executor_prvkey)) == 2
        self.colonies.del_cron(cron2["cronid"], executor_prvkey)
        crons = self.colonies.get_crons(colonyname, 100, executor_prvkey)
        assert [c["name"] for c in crons] == ["test_cron1"]
        self.colonies.del_colony(colonyname, self.server_prv)


# ------------------------------------------------------------------------------------------------
# api_test.py


class SharedTestColony:
    """What upstream's ``setup_test_env.py`` makes: a colony with an approved executor of type
    ``cli``; ``executor_prvkey`` plays the role of the well-known ``ddf7…`` key."""

    def __init__(self, client: Colonies) -> None:
        crypto = Crypto()
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        self.client = client
        self.colony_prvkey = crypto.prvkey()
        self.colony_name = "test-" + suffix
        self.executor_prvkey = crypto.prvkey()
        self.executor_name = "test-executor-" + suffix
        self.server_prvkey = SERVER_PRVKEY
        client.add_colony({"colonyid": crypto.id(self.colony_prvkey), "name": self.colony_name}, SERVER_PRVKEY)
        client.add_executor(
            {
                "executorname": self.executor_name,
                "executorid": crypto.id(self.executor_prvkey),
                "colonyname": self.colony_name,
                "executortype": "cli",
            },
            self.colony_prvkey,
        )
        client.approve_executor(self.colony_name, self.executor_name, self.colony_prvkey)


@pytest.fixture
def shared(server: ServerProcess) -> Iterator[SharedTestColony]:
    client = Colonies("127.0.0.1", server.port, tls=False, native_crypto=False)
    # upstream's setUpClass: skip unless the server answers list_colonies with the server key
    client.list_colonies(SERVER_PRVKEY)
    env = SharedTestColony(client)
    yield env
    client.del_colony(env.colony_name, SERVER_PRVKEY)
    client.close()


class TestAPIEndpoints:
    """Port of upstream ``TestAPIEndpoints`` (api_test.py), core tests."""

    def test_get_executor(self, shared: SharedTestColony) -> None:
        executors = shared.client.list_executors(shared.colony_name, shared.executor_prvkey)
        assert executors and len(executors) > 0
        executor_name = executors[0].get("executorname")
        assert executor_name == shared.executor_name
        executor = shared.client.get_executor(shared.colony_name, executor_name, shared.executor_prvkey)
        assert executor is not None
        assert executor.get("executorname") == executor_name
        assert executor.get("executortype") == "cli"

    def test_get_users(self, shared: SharedTestColony) -> None:
        # Upstream skips on "Access denied"; the server owner is not a colony member, so that is
        # what both upstream's server and ours answer.
        with pytest.raises(ColoniesConnectionError, match="Access denied"):
            shared.client.get_users(shared.colony_name, shared.server_prvkey)

    def test_user_crud(self, shared: SharedTestColony) -> None:
        crypto = Crypto()
        user_prvkey = crypto.prvkey()
        user_name = "test-user-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        user = {
            "colonyname": shared.colony_name,
            "userid": crypto.id(user_prvkey),
            "name": user_name,
            "email": "test@example.com",
            "phone": "",
        }
        with pytest.raises(ColoniesConnectionError, match="Access denied"):
            shared.client.add_user(user, shared.server_prvkey)
        # ... and nothing was added
        users = shared.client.get_users(shared.colony_name, shared.executor_prvkey) or []
        assert all(u["name"] != user_name for u in users)
        with pytest.raises(ColoniesConnectionError, match="Access denied"):
            shared.client.remove_user(shared.colony_name, user_name, shared.server_prvkey)

    def test_get_processgraphs(self, shared: SharedTestColony) -> None:
        graphs = shared.client.get_processgraphs(shared.colony_name, 10, shared.executor_prvkey)
        assert graphs is None or isinstance(graphs, list)

    def test_process_lifecycle(self, shared: SharedTestColony) -> None:
        spec = func_spec("test_func", ["arg1"], shared.colony_name, "cli", maxexectime=60, maxwaittime=60, maxretries=0)
        process = shared.client.submit_func_spec(spec, shared.executor_prvkey)
        assert process.processid
        assert process.spec.funcname == "test_func" and process.spec.args == ["arg1"]
        assert process.spec.maxexectime == 60 and process.spec.maxwaittime == 60 and process.spec.maxretries == 0

        processes = shared.client.list_processes(shared.colony_name, 10, 0, shared.executor_prvkey)
        assert isinstance(processes, list)
        assert [p["processid"] for p in processes] == [process.processid]

        shared.client.remove_process(process.processid, shared.executor_prvkey)
        assert shared.client.list_processes(shared.colony_name, 10, 0, shared.executor_prvkey) in (None, [])

    def test_stats(self, shared: SharedTestColony) -> None:
        stats = shared.client.stats(shared.colony_name, shared.executor_prvkey)
        assert stats is not None
        for key in ("waitingprocesses", "runningprocesses", "successfulprocesses", "failedprocesses"):
            assert stats[key] == 0

    def test_get_functions(self, shared: SharedTestColony) -> None:
        functions = shared.client.get_functions_by_colony(shared.colony_name, shared.executor_prvkey)
        assert functions is None or isinstance(functions, list)
        assert not functions


class TestAttributeOperations:
    """Port of upstream ``TestAttributeOperations`` (api_test.py)."""

    def test_attribute_on_process(self, shared: SharedTestColony) -> None:
        spec = func_spec("attr_test", [], shared.colony_name, "cli", maxexectime=60, maxwaittime=60, maxretries=0)
        process = shared.client.submit_func_spec(spec, shared.executor_prvkey)

        assigned = shared.client.assign(shared.colony_name, 10, shared.executor_prvkey)
        assert assigned.processid == process.processid

        attr = shared.client.add_attribute(process.processid, "test_key", "test_value", shared.executor_prvkey)
        assert attr is not None and "attributeid" in attr
        retrieved = shared.client.get_attribute(attr["attributeid"], shared.executor_prvkey)
        assert retrieved is not None
        assert retrieved.get("key") == "test_key"
        assert retrieved.get("value") == "test_value"

        assert shared.client.close(process.processid, ["done"], shared.executor_prvkey) == {}
        done = shared.client.get_process(process.processid, shared.executor_prvkey)
        assert done.state == Colonies.SUCCESSFUL
        assert done.output == ["done"]
