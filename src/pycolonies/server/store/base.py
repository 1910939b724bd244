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
    input_errors: tuple[type[BaseException], ...] = ()
    """Errors the database raises for values it cannot hold (PostgreSQL: a NUL character in text):
    bad input, answered with 400, not a server fault."""

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

    async def unresponsive_running(self, heard_before: int, limit: int = 1000) -> list[ProcessRecord]:
        """RUNNING processes whose assigned executor (same colony) was last heard from before
        ``heard_before`` (the liveness loop). A backend without it raises NotImplementedError, which
        turns liveness off."""
        raise NotImplementedError

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

    # -- crons and generators (protocol ext/30-crons-generators.md); records are dicts with the
    # wire's field names and times in Unix nanoseconds. Firings are claimed by conditional updates
    # so that several trigger loops (or replicas) never start one instant or one batch twice.

    @abstractmethod
    async def add_cron(self, cron: dict[str, Any]) -> bool:
        """Insert a cron; False if its colony already has a cron of that name."""
        ...

    @abstractmethod
    async def get_cron(self, cronid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_crons(self, colonyname: str, count: int) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def crons_to_check(self, now: int) -> list[dict[str, Any]]:
        """Crons not evaluated yet (``nextrun`` 0) or due (``nextrun`` before ``now``)."""
        ...

    @abstractmethod
    async def remove_cron(self, cronid: str) -> bool: ...

    @abstractmethod
    async def move_cron_nextrun(self, cronid: str, expected: int, nextrun: int, *, first: bool = False) -> bool:
        """Set ``nextrun`` if it still is ``expected``; True for the one caller that moved it (the
        claim of a firing). ``first`` (the first evaluation) also clears lastrun and prevprocessgraphid."""
        ...

    @abstractmethod
    async def record_cron_run(self, cronid: str, lastrun: int, prevprocessgraphid: str, nextrun: int | None) -> None:
        """After a run: set lastrun and prevprocessgraphid (and nextrun unless None)."""
        ...

    @abstractmethod
    async def add_generator(self, generator: dict[str, Any]) -> bool:
        """Insert a generator; False if its colony already has a generator of that name."""
        ...

    @abstractmethod
    async def get_generator(self, generatorid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_generator_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_generators(self, colonyname: str, count: int) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def remove_generator(self, generatorid: str) -> bool:
        """Remove a generator and its pending arguments."""
        ...

    @abstractmethod
    async def pack_generator(self, arg: dict[str, Any], now: int) -> None:
        """Queue ``arg`` ({argid, generatorid, colonyname, arg}) and set the generator's firstpack
        to ``now`` if it is still 0."""
        ...

    @abstractmethod
    async def count_generator_args(self, generatorid: str) -> int: ...

    @abstractmethod
    async def pending_generators(self) -> list[tuple[dict[str, Any], int]]:
        """Every generator with pending arguments, with how many."""
        ...

    @abstractmethod
    async def take_generator_args(
        self, generatorid: str, count: int, *, exact: bool, lastrun: int, now: int
    ) -> list[dict[str, Any]]:
        """Claim a batch atomically: if the generator's lastrun still is ``lastrun``, remove its
        oldest ``count`` arguments (all or none when ``exact``), set lastrun to ``now`` and return
        them oldest first; otherwise return []."""
        ...

    @abstractmethod
    async def return_generator_args(
        self, generatorid: str, args: Sequence[dict[str, Any]], lastrun: int, now: int
    ) -> None:
        """Undo ``take_generator_args`` (the workflow could not be submitted): put the arguments
        back in their places and lastrun back to ``lastrun`` if it still is ``now``."""
        ...

    # -- logs (protocol ext/40-logs.md) -----------------------------------------------------
    # A log is the wire dict {processid, colonyname, executorname, message, timestamp}; lists
    # come back oldest first (timestamp, then insertion order).

    @abstractmethod
    async def add_log(self, log: dict[str, Any], added: int) -> None:
        """Store one line; ``added`` (Unix ns) is the storing time used by search and retention."""
        ...

    @abstractmethod
    async def get_process_logs(
        self, processid: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        """Up to ``count`` lines of the process: the newest ones when ``latest``, else the first ones
        with a timestamp after ``since`` (when > 0)."""
        ...

    @abstractmethod
    async def get_executor_logs(
        self, colonyname: str, executorname: str, count: int, since: int = 0, latest: bool = False
    ) -> list[dict[str, Any]]:
        """The same selection over the lines the executor wrote in the colony (process and executor logs)."""
        ...

    @abstractmethod
    async def search_logs(self, colonyname: str, text: str, days: int, count: int, now: int) -> list[dict[str, Any]]:
        """Up to ``count`` lines of the colony added in the ``days`` days before ``now`` whose message
        contains ``text`` (case-sensitive, literal)."""
        ...

    @abstractmethod
    async def remove_logs(self, colonyname: str) -> int:
        """Remove every line of the colony; returns how many."""
        ...

    @abstractmethod
    async def remove_logs_before(self, before: int, limit: int | None = None) -> int:
        """Remove the lines added before ``before`` (Unix ns), at most ``limit`` of them (all for
        None), for retention; returns how many."""
        ...

    # -- retention (COLONIES_RETENTION): each call removes one bounded batch in one transaction,
    # so that the caller can pace a large purge; a result below ``limit`` means nothing is left.

    @abstractmethod
    async def remove_succeeded_processes(self, before: int, limit: int) -> int:
        """Remove up to ``limit`` SUCCESS processes submitted before ``before`` (Unix ns) that are
        not part of a workflow, with their attributes; returns how many. Workflow processes go with
        their graph (:meth:`remove_succeeded_graphs`) only."""
        ...

    @abstractmethod
    async def remove_succeeded_graphs(self, before: int, limit: int) -> int:
        """Remove up to ``limit`` SUCCESS graphs submitted before ``before`` (Unix ns), each with all
        its processes and their attributes, as ``remove_graph`` does; a graph that a cron still
        names as its previous one (whose outputs feed the cron's next run) is kept. Returns how
        many graphs."""
        ...

    # -- channels (protocol ext/10-channels.md) ---------------------------------------------
    # A channel is {processid, name, submitterid, executorid, entries}; ``entries`` counts the
    # entries ever appended and is the ``arrival`` number of the last one. An entry is {arrival,
    # sequence, inreplyto, timestamp (Unix ns), senderid, payload (bytes or None), type}.
    # ``arrival`` (1, 2, 3, ... per channel) is the store's own order: appends to one channel are
    # serialised (the channel row is locked while the entry is inserted), so an entry is visible
    # only once every entry with a smaller arrival number is, and a subscriber that resumes after
    # the last arrival number it delivered never misses nor repeats one, on any replica. The log
    # *position* (what ``channelreadmsg`` counts in) follows upstream's ordering rule instead.

    @abstractmethod
    async def get_channel(self, processid: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def add_channel(self, channel: dict[str, Any], max_channels: int) -> dict[str, Any] | None:
        """Create the channel unless it exists (then return the stored one); None when its process
        already has ``max_channels`` channels."""
        ...

    @abstractmethod
    async def bind_channels(self, processid: str, executorid: str) -> None:
        """Give the process's channels to the executor it was just assigned to."""
        ...

    @abstractmethod
    async def append_channel_entry(self, processid: str, name: str, entry: dict[str, Any], max_entries: int) -> int:
        """Append ``entry`` (without ``arrival``): it goes before the earliest entry of the same
        sender with a larger ``sequence``, else last. Returns its arrival number; 0 when the channel
        already holds ``max_entries`` entries, -1 when the channel does not exist."""
        ...

    @abstractmethod
    async def read_channel(
        self, processid: str, name: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        """In one snapshot: the entries at log positions ``offset``.. (at most ``limit``; 0 or less:
        all) in log order, and the channel's ``entries`` count. None when the channel does not exist."""
        ...

    @abstractmethod
    async def read_channel_after(
        self, processid: str, name: str, arrival: int, limit: int
    ) -> list[dict[str, Any]] | None:
        """Up to ``limit`` entries with an arrival number above ``arrival``, in arrival order; None
        when the channel does not exist (any more)."""
        ...

    @abstractmethod
    async def remove_channels(self, processid: str) -> int:
        """Remove the process's channels and their entries; returns how many channels."""
        ...

    @abstractmethod
    async def remove_orphan_channels(self) -> int:
        """Remove the channels of processes that no longer exist or are successful or failed;
        returns how many channels."""
        ...

    # -- blueprints (protocol ext/20-blueprints.md) -------------------------------------------
    # Definitions and blueprints are their wire documents (dicts), keyed by (colonyname, name);
    # a definition's kind is ``spec.names.kind``, a blueprint's location ``metadata.locationname``.
    # Lists are sorted by name.

    @abstractmethod
    async def add_blueprint_definition(self, definition: dict[str, Any]) -> bool:
        """False when the colony already has a definition of that name (or the id is taken)."""
        ...

    @abstractmethod
    async def get_blueprint_definition(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_blueprint_definitions(self, colonyname: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def find_blueprint_definition(self, colonyname: str, kind: str) -> dict[str, Any] | None:
        """The first definition (by name) of the colony that defines ``kind``."""
        ...

    @abstractmethod
    async def remove_blueprint_definition(self, colonyname: str, name: str) -> bool: ...

    @abstractmethod
    async def add_blueprint(self, blueprint: dict[str, Any]) -> bool:
        """False when the colony already has a blueprint of that name (or the id is taken)."""
        ...

    @abstractmethod
    async def get_blueprint(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_blueprint_by_id(self, blueprintid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_blueprints(self, colonyname: str, kind: str = "", locationname: str = "") -> list[dict[str, Any]]:
        """The colony's blueprints, of ``kind`` when given, and then at ``locationname`` (ignoring case)
        when given."""
        ...

    @abstractmethod
    async def count_blueprints(self, colonyname: str, kind: str, locationname: str | None = None) -> int:
        """Blueprints of ``kind`` in the colony (at exactly ``locationname`` when not None)."""
        ...

    @abstractmethod
    async def replace_blueprint(self, blueprint: dict[str, Any]) -> bool:
        """Replace the stored document with the same ``blueprintid``; False when there is none."""
        ...

    @abstractmethod
    async def set_blueprint_status(self, colonyname: str, name: str, status: dict[str, Any] | None) -> bool: ...

    @abstractmethod
    async def remove_blueprint(self, colonyname: str, name: str) -> bool: ...

    @abstractmethod
    async def add_blueprint_history(self, entry: dict[str, Any], timestamp: int) -> None:
        """Store a history entry (its wire dict; ``timestamp`` in Unix ns orders the history)."""
        ...

    @abstractmethod
    async def blueprint_history(self, blueprintid: str, limit: int) -> list[dict[str, Any]]:
        """The blueprint's history, newest first (at most ``limit`` when > 0)."""
        ...

    # -- ColonyFS: files and snapshots (protocol ext/50-files-snapshots.md) --------------------
    # A file is one *version*: {fileid, colonyname, label, name, size, sequencenr, checksum,
    # checksumalg, ref, added}, ``ref`` being the Reference dict as the client sent it (returned as
    # stored) and ``added`` Unix ns. ``sequencenr`` comes from one global sequence across all
    # colonies, strictly increasing: the highest of a (colonyname, label, name) is its latest
    # version. A snapshot is {snapshotid, colonyname, label, name, fileids (list, or None for none),
    # added}. Labels are matched literally (no wildcards): a label's *tree* is the label itself
    # and every label starting with ``label + "/"``.

    @abstractmethod
    async def add_file(self, file: dict[str, Any]) -> dict[str, Any] | None:
        """Store a version (every key but ``sequencenr``); returns it as stored, with the next
        sequence number. None (nothing stored) when its ``fileid`` is taken."""
        ...

    @abstractmethod
    async def get_file(self, colonyname: str, fileid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_file_versions(self, colonyname: str, label: str, name: str, latest: bool) -> list[dict[str, Any]]:
        """The versions of the file, newest first (only the newest when ``latest``)."""
        ...

    @abstractmethod
    async def list_latest_files(self, colonyname: str, label: str) -> list[dict[str, Any]]:
        """The newest version of each name whose label is exactly ``label``, by name."""
        ...

    @abstractmethod
    async def list_file_labels(self, colonyname: str, name: str = "", exact: bool = False) -> list[dict[str, Any]]:
        """{name, files} of each label holding files, by label; ``files`` counts every version.
        Every label when ``name`` is ""; else ``name``'s tree when ``exact`` (also when ``name``
        itself holds no files); else every label starting with ``name`` (a plain string prefix)."""
        ...

    @abstractmethod
    async def remove_file(self, colonyname: str, fileid: str) -> bool:
        """Remove one version; False when there was none."""
        ...

    @abstractmethod
    async def remove_file_versions(self, colonyname: str, label: str, name: str) -> int:
        """Remove every version of the file; returns how many."""
        ...

    @abstractmethod
    async def add_snapshot(self, snapshot: dict[str, Any]) -> dict[str, Any] | None:
        """Atomically: collect the ids of the newest version of each file in the tree of
        ``snapshot["label"]`` (by label, then name) and store the snapshot ({snapshotid,
        colonyname, label, name, added}) with them. None (nothing stored) when the colony already
        has a snapshot of that name (or the id is taken)."""
        ...

    @abstractmethod
    async def get_snapshot(self, colonyname: str, snapshotid: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_snapshot_by_name(self, colonyname: str, name: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def list_snapshots(self, colonyname: str) -> list[dict[str, Any]]:
        """The colony's snapshots, newest first."""
        ...

    @abstractmethod
    async def remove_snapshot(self, colonyname: str, snapshotid: str) -> bool: ...

    @abstractmethod
    async def remove_snapshot_by_name(self, colonyname: str, name: str) -> bool: ...

    @abstractmethod
    async def remove_snapshots(self, colonyname: str) -> int:
        """Remove every snapshot of the colony; returns how many."""
        ...
