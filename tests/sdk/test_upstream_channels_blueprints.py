"""Upstream pycolonies' ``test/channel_test.py`` (``TestChannels``) and ``test/blueprint_test.py``
(``TestBlueprints``), ported to pytest and run against our server (protocol core/40-sdk.md
sections 5.6 and 5.7).

Upstream runs them against a shared colony ``test`` with an executor of type ``cli``, made by
``setup_test_env.py``; here each test gets that setup afresh (the ``shared`` fixture of the core
suite's port). Test bodies keep upstream's calls, keys and checks (the process's submitter and its
executor are the same key, as upstream's), with a few extra checks marked "beyond upstream".
"""

from __future__ import annotations

import random
import string
import threading
import time
from typing import Any

import pytest

from pycolonies import Colonies, func_spec

from ..conftest import ServerProcess
from .test_upstream_suite import SharedTestColony, shared  # noqa: F401 (the fixture)


class TestChannels:
    """Port of upstream ``TestChannels``."""

    @pytest.fixture(autouse=True)
    def _setup(self, shared: SharedTestColony, server: ServerProcess) -> None:  # noqa: F811
        self.host, self.port, self.tls = "127.0.0.1", server.port, False
        self.colony_name = shared.colony_name
        self.executor_prvkey = shared.executor_prvkey
        self.executor_type = "cli"
        self.client = shared.client

    def _start(self, funcname: str, args: list[Any], channel: str) -> Any:
        spec = func_spec(
            funcname, args, self.colony_name, self.executor_type, maxexectime=60, maxwaittime=60, maxretries=0
        )
        spec.channels = [channel]
        process = self.client.submit_func_spec(spec, self.executor_prvkey)
        assert process.processid is not None
        assigned = self.client.assign(self.colony_name, 10, self.executor_prvkey)
        assert assigned.processid == process.processid
        time.sleep(0.2)  # "Wait for channel to be ready after assignment"
        return process

    def test_channel_append_and_read(self) -> None:
        process = self._start("echo", ["hello"], "chat")
        self.client.channel_append(process.processid, "chat", 1, "Hello from client!", self.executor_prvkey)
        entries = self.client.channel_read(process.processid, "chat", 0, 10, self.executor_prvkey)
        assert len(entries) == 1
        assert entries[0]["payload"] == b"Hello from client!"
        assert entries[0]["sequence"] == 1
        self.client.channel_append(
            process.processid, "chat", 2, "Hello from executor!", self.executor_prvkey, in_reply_to=1
        )
        all_entries = self.client.channel_read(process.processid, "chat", 0, 10, self.executor_prvkey)
        assert len(all_entries) == 2
        assert all_entries[1]["payload"] == b"Hello from executor!"
        assert all_entries[1]["inreplyto"] == 1
        self.client.close(process.processid, ["done"], self.executor_prvkey)

    def test_channel_with_end_message(self) -> None:
        process = self._start("stream", [], "stream")
        for i in range(1, 4):
            self.client.channel_append(
                process.processid, "stream", i, f"chunk {i}", self.executor_prvkey, payload_type="data"
            )
        self.client.channel_append(process.processid, "stream", 4, "", self.executor_prvkey, payload_type="end")
        entries = self.client.channel_read(process.processid, "stream", 0, 10, self.executor_prvkey)
        assert len(entries) == 4
        assert entries[0]["type"] == "data"
        assert entries[3]["type"] == "end"
        assert entries[3]["payload"] == ""  # beyond upstream: an empty payload stays "" (a str)
        self.client.close(process.processid, ["done"], self.executor_prvkey)

    def test_channel_websocket_subscription(self) -> None:
        process = self._start("realtime", [], "realtime")
        received_messages: list[dict[str, Any]] = []

        def sender_thread() -> None:
            time.sleep(0.5)  # Wait for subscriber to connect
            sender = Colonies(self.host, self.port, tls=self.tls, native_crypto=False)
            for i in range(1, 4):
                sender.channel_append(process.processid, "realtime", i, f"realtime message {i}", self.executor_prvkey)
                time.sleep(0.1)

        sender = threading.Thread(target=sender_thread)
        sender.start()

        def on_message(entries: list[dict[str, Any]]) -> bool:
            for entry in entries:
                received_messages.append(entry)
            return len(received_messages) < 3

        self.client.subscribe_channel(
            process.processid, "realtime", self.executor_prvkey, timeout=5, callback=on_message
        )
        sender.join()
        assert len(received_messages) == 3
        assert received_messages[0]["payload"] == b"realtime message 1"
        assert received_messages[2]["payload"] == b"realtime message 3"
        self.client.close(process.processid, ["done"], self.executor_prvkey)

    def test_channel_chat_simulation(self) -> None:
        process = self._start("chat", [], "chat")
        executor_received: list[dict[str, Any]] = []
        client_received: list[dict[str, Any]] = []

        def executor_thread() -> None:
            time.sleep(0.1)
            executor = Colonies(self.host, self.port, tls=self.tls, native_crypto=False)

            def on_executor_message(entries: list[dict[str, Any]]) -> bool:
                for entry in entries:
                    executor_received.append(entry)
                    response_seq = entry["sequence"] + 100
                    executor.channel_append(
                        process.processid,
                        "chat",
                        response_seq,
                        f"Executor received: {entry['payload'].decode()}",
                        self.executor_prvkey,
                        in_reply_to=entry["sequence"],
                    )
                return len(executor_received) < 2

            executor.subscribe_channel(
                process.processid, "chat", self.executor_prvkey, timeout=5, callback=on_executor_message
            )

        def client_thread() -> None:
            time.sleep(0.3)
            client = Colonies(self.host, self.port, tls=self.tls, native_crypto=False)

            def on_client_message(entries: list[dict[str, Any]]) -> bool:
                for entry in entries:
                    if entry["sequence"] >= 100:  # Only collect executor responses
                        client_received.append(entry)
                return len(client_received) < 2

            client.subscribe_channel(
                process.processid, "chat", self.executor_prvkey, timeout=5, callback=on_client_message
            )

        executor = threading.Thread(target=executor_thread)
        client = threading.Thread(target=client_thread)
        executor.start()
        client.start()
        time.sleep(0.5)
        self.client.channel_append(process.processid, "chat", 1, "Hello executor!", self.executor_prvkey)
        time.sleep(0.2)
        self.client.channel_append(process.processid, "chat", 2, "How are you?", self.executor_prvkey)
        executor.join(timeout=6)
        client.join(timeout=6)
        assert len(executor_received) >= 2
        assert executor_received[0]["payload"] == b"Hello executor!"
        assert len(client_received) >= 2
        assert b"Executor received:" in client_received[0]["payload"]
        # beyond upstream: the first reply answers the first message (the executor's subscriber
        # also sees its own replies, since both sides use one key, and answers them too)
        assert (client_received[0]["sequence"], client_received[0]["inreplyto"]) == (101, 1)
        self.client.close(process.processid, ["done"], self.executor_prvkey)


class TestBlueprints:
    """Port of upstream ``TestBlueprints``."""

    @pytest.fixture(autouse=True)
    def _setup(self, shared: SharedTestColony) -> None:  # noqa: F811
        self.colony_name = shared.colony_name
        self.executor_prvkey = shared.executor_prvkey
        self.colony_prvkey = shared.colony_prvkey
        self.client = shared.client

    def _random_suffix(self) -> str:
        return "".join(random.choices(string.ascii_lowercase + string.digits, k=8))

    def _definition(self, def_name: str, kind: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "metadata": {"name": def_name, "colonyname": self.colony_name},
            "spec": {"names": {"kind": kind}},
        }

    def test_blueprint_definition_crud(self) -> None:
        suffix = self._random_suffix()
        def_name = f"test-def-{suffix}"
        kind = f"TestKind-{suffix}"
        result = self.client.add_blueprint_definition(self._definition(def_name, kind), self.colony_prvkey)
        assert result is not None
        retrieved = self.client.get_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)
        assert retrieved is not None
        assert retrieved["kind"] == kind
        definitions = self.client.get_blueprint_definitions(self.colony_name, self.colony_prvkey)
        assert definitions is None or isinstance(definitions, list)
        if definitions:
            assert any(d.get("metadata", {}).get("name") == def_name for d in definitions)
        self.client.remove_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)
        with pytest.raises(Exception):  # noqa: B017 - upstream's check
            self.client.get_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)

    def test_blueprint_instance_crud(self) -> None:
        suffix = self._random_suffix()
        def_name, bp_name, kind = f"test-def-{suffix}", f"test-bp-{suffix}", f"TestKind-{suffix}"
        self.client.add_blueprint_definition(self._definition(def_name, kind), self.colony_prvkey)
        try:
            blueprint = {
                "kind": kind,
                "metadata": {"name": bp_name, "colonyname": self.colony_name},
                "handler": {"executortype": "test-reconciler"},
                "spec": {"deviceType": "light", "power": False, "brightness": 0},
            }
            result = self.client.add_blueprint(blueprint, self.executor_prvkey)
            assert result is not None
            retrieved = self.client.get_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            assert retrieved is not None
            assert retrieved["kind"] == kind
            assert retrieved["spec"]["power"] is False
            blueprints = self.client.get_blueprints(self.colony_name, self.executor_prvkey)
            assert blueprints is None or isinstance(blueprints, list)
            if blueprints:
                assert any(b.get("metadata", {}).get("name") == bp_name for b in blueprints)
            blueprint["spec"]["power"] = True
            blueprint["spec"]["brightness"] = 100
            self.client.update_blueprint(blueprint, self.executor_prvkey)
            updated = self.client.get_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            assert updated["spec"]["power"] is True
            assert updated["spec"]["brightness"] == 100
            assert updated["metadata"]["generation"] == 1  # beyond upstream: the spec changed once
            self.client.remove_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            with pytest.raises(Exception):  # noqa: B017 - upstream's check
                self.client.get_blueprint(self.colony_name, bp_name, self.executor_prvkey)
        finally:
            self.client.remove_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)

    def test_blueprint_status_update(self) -> None:
        suffix = self._random_suffix()
        def_name, bp_name, kind = f"test-def-{suffix}", f"test-bp-{suffix}", f"TestKind-{suffix}"
        self.client.add_blueprint_definition(self._definition(def_name, kind), self.colony_prvkey)
        try:
            blueprint = {
                "kind": kind,
                "metadata": {"name": bp_name, "colonyname": self.colony_name},
                "handler": {"executortype": "test-reconciler"},
                "spec": {"power": True, "brightness": 80},
            }
            self.client.add_blueprint(blueprint, self.executor_prvkey)
            status = {"power": True, "brightness": 80, "lastSeen": "2024-01-01T12:00:00Z"}
            self.client.update_blueprint_status(self.colony_name, bp_name, status, self.executor_prvkey)
            retrieved = self.client.get_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            assert retrieved.get("status") is not None
            assert retrieved["status"]["power"] is True
            assert retrieved["status"]["brightness"] == 80
        finally:
            self.client.remove_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            self.client.remove_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)

    def test_blueprint_filter_by_kind(self) -> None:
        suffix = self._random_suffix()
        def_name, bp_name, kind = f"test-def-{suffix}", f"test-bp-{suffix}", f"FilterKind-{suffix}"
        self.client.add_blueprint_definition(self._definition(def_name, kind), self.colony_prvkey)
        try:
            blueprint = {
                "kind": kind,
                "metadata": {"name": bp_name, "colonyname": self.colony_name},
                "handler": {"executortype": "test-reconciler"},
                "spec": {"test": True},
            }
            self.client.add_blueprint(blueprint, self.executor_prvkey)
            blueprints = self.client.get_blueprints(self.colony_name, self.executor_prvkey, kind=kind)
            assert blueprints is None or isinstance(blueprints, list)
            assert blueprints  # beyond upstream: the blueprint is found
            for bp in blueprints:
                assert bp["kind"] == kind
        finally:
            self.client.remove_blueprint(self.colony_name, bp_name, self.executor_prvkey)
            self.client.remove_blueprint_definition(self.colony_name, def_name, self.colony_prvkey)
