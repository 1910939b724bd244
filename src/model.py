"""Upstream-compatible top-level module: ``from model import FuncSpec, Process, ...`` keeps working."""

from __future__ import annotations

from pycolonies.models import *  # noqa: F403
from pycolonies.models import __all__ as __all__
