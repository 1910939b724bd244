"""The Store contract: everything the server keeps, behind async methods with no SQL outside the
backends and no HTTP inside them. Backends: ``sqlite`` (embedded, the default) and, for several
replicas, ``postgres``. Every method is atomic; the ones that change a process's state are
conditional (they take the states the change is allowed from) so that concurrent servers never
apply two transitions to one process, and ``claim_process`` never hands one process to two
executors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from .records import Claim, GraphRecord, ProcessRecord

__all__ = ["Store"]


class Store(ABC):
    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def get_server_id(self) -> str | None: ...

    @abstractmethod
    async def set_server_id(self, serverid: str) -> None: ...

    @abstractmethod
    async def add_colony(self, colony: dict[str, Any]) -> bool: ...

    @abstractmethod
    async def get_colony(self, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_colonies(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def set_colony_id(self, name: str, colonyid: str) -> bool: ...

    @abstractmethod
    async def remove_colony(self, name: str) -> bool: ...

    @abstractmethod
    async def set_paused(self, name: str, paused: bool) -> bool: ...

    @abstractmethod
    async def is_paused(self, name: str) -> bool: ...

    @abstractmethod
    async def add_executor(self, e: dict[str, Any], *, replace: bool) -> bool: ...

    @abstractmethod
    async def get_executor(self, colonyname: str, executorname: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_executor_by_id(self, executorid: str, colonyname: str = "") -> dict[str, Any] | None:
        """The executor with this id (in ``colonyname`` when given; one key may serve several colonies)."""
        ...

    @abstractmethod
    async def list_executors(self, colonyname: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def set_executor_state(self, colonyname: str, executorname: str, state: int) -> bool: ...

    @abstractmethod
    async def update_executor(self, colonyname: str, executorname: str, **fields: Any) -> bool: ...

    @abstractmethod
    async def touch_executor(self, executorid: str, now: int) -> None: ...

    @abstractmethod
    async def unregister_executor(self, colonyname: str, executorname: str) -> list[str]: ...

    @abstractmethod
    async def stale_executors(self, older_than: int) -> list[tuple[str, str]]: ...

    @abstractmethod
    async def change_executor_id(self, oldid: str, colonyname: str, newid: str) -> bool: ...

    @abstractmethod
    async def add_function(self, fn: dict[str, Any], now: int) -> bool: ...

    @abstractmethod
    async def get_function(self, functionid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_functions(self, colonyname: str, executorname: str = "") -> list[dict[str, Any]]: ...

    @abstractmethod
    async def remove_function(self, functionid: str) -> bool: ...

    @abstractmethod
    async def find_functions(self, colonyname: str, executorname: str, funcname: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def update_function(self, fn: dict[str, Any]) -> None: ...

    @abstractmethod
    async def add_user(self, user: dict[str, Any]) -> bool: ...

    @abstractmethod
    async def get_user(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_user_by_id(self, colonyname: str, userid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_users(self, colonyname: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def remove_user(self, colonyname: str, name: str) -> bool: ...

    @abstractmethod
    async def change_user_id(self, colonyname: str, oldid: str, newid: str) -> bool: ...

    @abstractmethod
    async def add_location(self, loc: dict[str, Any]) -> bool: ...

    @abstractmethod
    async def get_location(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_locations(self, colonyname: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def remove_location(self, colonyname: str, name: str) -> bool: ...

    @abstractmethod
    async def add_processes(self, processes: Sequence[ProcessRecord]) -> None: ...

    @abstractmethod
    async def get_process(self, processid: str) -> ProcessRecord | None: ...

    @abstractmethod
    async def claim_process(
        self,
        *,
        colonyname: str,
        executortype: str,
        executorid: str,
        executorname: str,
        locationname: str,
        cpu: int | None,
        mem: int | None,
        now: int,
    ) -> Claim:
        """Assign the best eligible process to the executor. Nothing is assigned while the colony's
        assignments are paused."""
        ...

    @abstractmethod
    async def update_process(
        self,
        processid: str,
        from_states: Sequence[int] | None,
        fields: dict[str, Any],
        assigned_to: str | None = None,
        mirror_attributes: bool = True,
    ) -> bool:
        """Set ``fields`` on the process if its state is one of ``from_states`` (and, when given,
        it is assigned to ``assigned_to``); a new ``state`` is mirrored onto its attributes unless
        the caller knows it has none."""
        ...

    @abstractmethod
    async def list_processes(
        self,
        colonyname: str,
        state: int,
        count: int,
        *,
        executortype: str = "",
        label: str = "",
        initiatorid: str = "",
    ) -> list[ProcessRecord]: ...

    @abstractmethod
    async def process_history(
        self, colonyname: str, executorid: str, since: int, state: int
    ) -> list[ProcessRecord]: ...

    @abstractmethod
    async def remove_process(self, processid: str) -> bool: ...

    @abstractmethod
    async def remove_processes(self, colonyname: str, state: int | None, *, workflows: bool) -> int: ...

    @abstractmethod
    async def expired_running(self, before: int, limit: int = 1000) -> list[ProcessRecord]: ...

    @abstractmethod
    async def expired_waiting(self, before: int, limit: int = 1000) -> list[ProcessRecord]: ...

    @abstractmethod
    async def count_processes(self, colonyname: str | None) -> dict[int, int]: ...

    @abstractmethod
    async def count_executors(self, colonyname: str | None) -> dict[int, int]: ...

    @abstractmethod
    async def count_colonies(self) -> int: ...

    @abstractmethod
    async def add_graph(self, graph: GraphRecord, processes: Sequence[ProcessRecord]) -> None:
        """Store a graph and all its processes in one transaction."""
        ...

    @abstractmethod
    async def get_graph(self, processgraphid: str) -> GraphRecord | None: ...

    @abstractmethod
    async def list_graphs(self, colonyname: str, state: int, count: int) -> list[GraphRecord]: ...

    @abstractmethod
    async def count_graphs(self, colonyname: str) -> dict[int, int]: ...

    @abstractmethod
    async def update_graph(
        self, processgraphid: str, from_states: Sequence[int] | None, fields: dict[str, Any]
    ) -> bool: ...

    @abstractmethod
    async def count_graph_success(self, processgraphid: str) -> tuple[int, int, int] | None:
        """One more process of the graph succeeded: returns (successful, total, graph state)."""
        ...

    @abstractmethod
    async def graph_processes(self, processgraphid: str) -> list[ProcessRecord]: ...

    @abstractmethod
    async def parent_succeeded(self, childid: str) -> int | None:
        """One parent of ``childid`` succeeded: returns how many of its parents are still pending."""
        ...

    @abstractmethod
    async def outputs(self, processids: Sequence[str]) -> dict[str, str]:
        """The output JSON text of each process."""
        ...

    @abstractmethod
    async def add_child(self, child: ProcessRecord, parent: str, insert: bool, before: str) -> bool:
        """Store ``child`` under ``parent`` and rewire the graph (protocol core/30-semantics.md 6.5):
        ``insert`` hands the parent's children to the child; otherwise the child is a new leaf, or,
        with ``before``, a new parent of that existing process. False if the parent is not RUNNING."""
        ...

    @abstractmethod
    async def cancel_graph(self, processgraphid: str, now: int) -> list[str]:
        """Cancel every waiting or running process of the graph and the graph; returns their ids."""
        ...

    @abstractmethod
    async def remove_graph(self, processgraphid: str) -> bool: ...

    @abstractmethod
    async def remove_graphs(self, colonyname: str, state: int | None) -> int:
        """Remove the colony's graphs in ``state`` (all but running ones for None) with their processes."""
        ...

    @abstractmethod
    async def add_attribute(self, attribute: dict[str, Any], now: int) -> bool: ...

    @abstractmethod
    async def get_attribute(self, attributeid: str) -> dict[str, Any] | None: ...
