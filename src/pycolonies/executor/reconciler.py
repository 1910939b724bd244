"""A blueprint reconciler: an executor that makes the world match blueprints' specs
(protocol ext/20-blueprints.md section 7).

Register one function per kind; it receives the blueprint (its ``spec`` is the desired state,
``metadata.generation`` its version) and returns the observed status, which the reconciler
reports with ``update_blueprint_status``::

    reconciler = Reconciler(client, colonyname, colony_prvkey=key, executortype="light-reconciler")

    @reconciler.kind("Light")
    def light(blueprint, ctx):
        apply(blueprint["spec"])
        return {"power": blueprint["spec"]["power"], "generation": blueprint["metadata"].get("generation", 0)}

    @reconciler.cleanup("Light")
    def light_removed(name, ctx):
        switch_off(name)

    reconciler.run()

The server sends it a process per add, spec change or ``reconcile`` (``kwargs`` ``kind`` and
``blueprintName``, plus ``force``), a periodic one per kind and location from a cron (``kind``
only: every blueprint of the kind at the reconciler's location is reconciled), and a ``cleanup``
process per removed blueprint. The process's output lists the blueprints reconciled. A function
that raises fails the process; in a periodic run the other blueprints are still reconciled first.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ..client import Colonies
from ..errors import ColoniesError, NotFoundError
from ..models import Process
from .base import Executor, ExecutorError

__all__ = ["ReconcileFunction", "Reconciler"]

log = logging.getLogger("pycolonies.executor")

ReconcileFunction = Callable[..., Any]
"""``fn(blueprint)`` or ``fn(blueprint, ctx)`` -> status dict (None: leave the status as it is)."""
F = TypeVar("F", bound=Callable[..., Any])


def _takes_ctx(function: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL or p.name == "ctx" for p in params)


class Reconciler(Executor):
    """An executor of the handler type of one or more blueprint kinds.

    ``function_name`` is the definitions' ``spec.handler.functionName`` (default ``reconcile``);
    ``locationname`` the location it serves (its periodic runs reconcile the blueprints there; an
    executor that registers itself is registered at it). Other arguments are :class:`Executor`'s.
    """

    def __init__(
        self,
        client: Colonies,
        colonyname: str,
        *,
        function_name: str = "reconcile",
        locationname: str = "",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("functions", (function_name, "cleanup"))
        super().__init__(client, colonyname, **kwargs)
        self.function_name = function_name
        self.locationname = locationname
        self._reconcilers: dict[str, ReconcileFunction] = {}
        self._cleanups: dict[str, Callable[..., Any]] = {}

    # registration ---------------------------------------------------------------------------

    def kind(self, kind: str) -> Callable[[F], F]:
        """Decorator: ``fn`` reconciles blueprints of ``kind`` and returns their status."""

        def register(fn: F) -> F:
            self._reconcilers[kind] = fn
            return fn

        return register

    def cleanup(self, kind: str) -> Callable[[F], F]:
        """Decorator: ``fn(name)`` (or ``fn(name, ctx)``) tears down a removed blueprint of ``kind``."""

        def register(fn: F) -> F:
            self._cleanups[kind] = fn
            return fn

        return register

    @property
    def kinds(self) -> list[str]:
        return sorted(self._reconcilers)

    def _register(self) -> None:
        if not self.locationname:
            super()._register()
            return
        # as Executor._register, with the location the blueprints' processes are addressed to
        assert self.colony_prvkey is not None
        executor = {
            "executorname": self.executorname,
            "executorid": self.executorid,
            "colonyname": self.colonyname,
            "executortype": self.executortype,
            "locationname": self.locationname,
        }
        try:
            self.client.add_executor(executor, self.colony_prvkey)
            self._registered = True
            self.client.approve_executor(self.colonyname, self.executorname, self.colony_prvkey)
        except ColoniesError as exc:
            if self._registered:
                self.shutdown()
            raise ExecutorError(f"Cannot register executor {self.executorname}: {exc}", exc.status) from exc
        log.info(
            "Reconciler %s (type %s) registered at location %s", self.executorname, self.executortype, self.locationname
        )

    # the work ---------------------------------------------------------------------------------

    def handle(self, process: Process) -> list[Any]:
        spec = process.spec
        kwargs = spec.kwargs or {}
        kind = str(kwargs.get("kind", ""))
        name = kwargs.get("blueprintName")
        ctx = self.context(process)  # the executor's context (a dict), plus what a reconcile needs
        ctx["kind"], ctx["force"] = kind, kwargs.get("force") is True
        if spec.funcname == "cleanup":
            return self._cleanup(kind, str(name or ""), ctx)
        if spec.funcname != self.function_name:
            raise ExecutorError(f"{type(self).__name__} does not run {spec.funcname!r}")
        function = self._reconcilers.get(kind)
        if function is None:
            raise ExecutorError(f"No reconciler for blueprints of kind {kind!r} (known: {', '.join(self.kinds)})")
        if name:  # targeted: an add, a spec change or an explicit reconcile
            try:
                blueprints = [self.colonies.get_blueprint(self.colonyname, str(name))]
            except NotFoundError:
                log.info("Blueprint %s of kind %s is gone: nothing to reconcile", name, kind)
                return []
            return [self._reconcile(function, blueprints[0], ctx)]
        # periodic: every blueprint of the kind at this reconciler's location
        found = self.colonies.get_blueprints(self.colonyname, kind=kind, location=self.locationname or None) or []
        done, failures = [], []
        for blueprint in found:
            try:
                done.append(self._reconcile(function, blueprint, ctx))
            except Exception as exc:
                failures.append(f"{blueprint['metadata']['name']}: {exc}")
                log.warning("Blueprint %s of kind %s: reconcile failed: %s", blueprint["metadata"]["name"], kind, exc)
        if failures:
            raise ExecutorError(
                f"{len(failures)} of {len(found)} blueprints of kind {kind} failed: " + "; ".join(failures)
            )
        return done

    def _reconcile(self, function: ReconcileFunction, blueprint: dict[str, Any], ctx: Any) -> str:
        name = blueprint["metadata"]["name"]
        ctx["blueprint"] = blueprint
        status = function(blueprint, ctx) if _takes_ctx(function) else function(blueprint)
        if status is not None:
            self.colonies.update_blueprint_status(self.colonyname, name, status)
        log.info("Blueprint %s of kind %s reconciled", name, blueprint["kind"])
        return str(name)

    def _cleanup(self, kind: str, name: str, ctx: Any) -> list[Any]:
        function = self._cleanups.get(kind)
        if function is None:
            log.info("Blueprint %s of kind %s removed (no cleanup registered)", name, kind)
            return []
        if _takes_ctx(function):
            function(name, ctx)
        else:
            function(name)
        return [name]
