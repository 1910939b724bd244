"""``func_spec``: build a FuncSpec from a function name or a Python function (upstream's helper)."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable
from typing import Any

from .models import Conditions, Fs, FuncSpec

__all__ = ["func_spec"]


def _b64(code: str) -> str:
    return base64.b64encode(code.encode("utf-8")).decode("ascii")


def func_spec(
    func: str | Callable[..., Any],
    args: list[Any] | None,
    colonyname: str,
    executortype: str,
    executorname: str | None = None,
    priority: int = 1,
    maxexectime: int = -1,
    maxretries: int = -1,
    maxwaittime: int = -1,
    code: str | None = None,
    kwargs: dict[str, Any] | None = None,
    fs: Fs | None = None,
) -> FuncSpec:
    """A FuncSpec for ``func``.

    ``func`` is a function name (``code``, if given, goes Base64-encoded into ``env["code"]``), or a
    Python function whose source goes into ``env["code"]`` and whose parameter names go into
    ``env["args_spec"]``. ``executorname`` restricts the spec to that executor.
    """
    conditions = Conditions(colonyname=colonyname, executortype=executortype)
    if isinstance(func, str):
        spec = FuncSpec(
            nodename=func,
            funcname=func,
            args=args,
            kwargs=kwargs,
            fs=fs,
            priority=priority,
            maxwaittime=maxwaittime,
            maxexectime=maxexectime,
            maxretries=maxretries,
            conditions=conditions,
        )
        if code is not None:
            spec.env = {**(spec.env or {}), "code": _b64(code)}
    else:
        name = func.__name__
        spec = FuncSpec(
            nodename=name,
            funcname=name,
            args=args,
            kwargs=kwargs,
            priority=priority,
            maxwaittime=maxwaittime,
            maxexectime=maxexectime,
            maxretries=maxretries,
            conditions=conditions,
            env={
                "args_spec": ",".join(inspect.getfullargspec(func).args),
                "code": _b64(inspect.getsource(func)),
            },
        )
    if executorname is not None:
        spec.conditions.executornames = [executorname]
    return spec
