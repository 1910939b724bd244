"""Lenient decoding of incoming JSON, the way Go's ``encoding/json`` decodes into structs.

Unknown keys are dropped, keys match case-insensitively, a missing key or ``null`` gives the
field's zero value (``""``, ``0``, ``False``, ``None`` for lists, maps and optional objects, the
zero object for a nested struct), and a value of the wrong JSON type is an error. Schemas are the
pydantic models of ``pycolonies.models`` or ``TypedDict`` message classes; the result is plain
dicts, so the hot path pays for no model instances.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints, is_typeddict

from pydantic import BaseModel

__all__ = ["WireError", "decode"]

T = TypeVar("T")
Decoder = Callable[[Any], Any]


class WireError(ValueError):
    """A value of the wrong JSON type; the message names the field."""

    def __init__(self, expected: str, value: Any, path: str = "") -> None:
        self.expected, self.value, self.path = expected, value, path
        got = type(value).__name__ if value is not None else "null"
        super().__init__(f"cannot unmarshal {got} into field {path or 'message'} of type {expected}")

    def within(self, step: str) -> WireError:
        """The same error seen from the enclosing object or array (paths are built only on failure)."""
        path = f"{step}.{self.path}" if self.path and not self.path.startswith("[") else step + self.path
        return WireError(self.expected, self.value, path)


def decode(schema: type[T], value: Any) -> T:
    """Decode ``value`` (parsed JSON) against ``schema``; raises WireError on a type mismatch."""
    return typing.cast(T, _decoder(schema)(value))


def _dec_str(v: Any) -> str:
    if type(v) is str:
        return v
    if v is None:
        return ""
    raise WireError("string", v)


def _dec_int(v: Any) -> int:
    if type(v) is int:
        return v
    if v is None:
        return 0
    raise WireError("int", v)


def _dec_float(v: Any) -> float:
    if type(v) in (int, float):
        return v  # type: ignore[no-any-return]
    if v is None:
        return 0.0
    raise WireError("float64", v)


def _dec_bool(v: Any) -> bool:
    if type(v) is bool:
        return v
    if v is None:
        return False
    raise WireError("bool", v)


def _dec_any(v: Any) -> Any:
    return v


_SCALARS: dict[Any, Decoder] = {
    str: _dec_str,
    int: _dec_int,
    float: _dec_float,
    bool: _dec_bool,
    Any: _dec_any,
}


@cache
def _decoder(tp: Any) -> Decoder:
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) != 1:
            return _dec_any
        inner = _decoder(members[0])
        return lambda v: None if v is None else inner(v)
    if origin is list:
        (item_tp,) = get_args(tp) or (Any,)
        item = _decoder(item_tp)

        def dec_list(v: Any) -> Any:
            if v is None:
                return None
            if type(v) is not list:
                raise WireError("array", v)
            if item is _dec_any:
                return v
            out = []
            for i, x in enumerate(v):
                try:
                    out.append(item(x))
                except WireError as exc:
                    raise exc.within(f"[{i}]") from None
            return out

        return dec_list
    if origin is dict:
        args = get_args(tp)
        value_dec = _decoder(args[1]) if len(args) == 2 else _dec_any

        def dec_map(v: Any) -> Any:
            if v is None:
                return None
            if type(v) is not dict:
                raise WireError("object", v)
            if value_dec is _dec_any:
                return v
            out = {}
            for k, x in v.items():
                try:
                    out[k] = value_dec(x)
                except WireError as exc:
                    raise exc.within(str(k)) from None
            return out

        return dec_map
    if isinstance(tp, type) and (issubclass(tp, BaseModel) or is_typeddict(tp)):
        return _struct_decoder(tp)
    return _dec_any


def _struct_fields(tp: type) -> list[tuple[str, Any]]:
    if issubclass(tp, BaseModel):
        return [(f.alias or name, f.annotation) for name, f in tp.model_fields.items()]
    return list(get_type_hints(tp).items())


def _struct_decoder(tp: type) -> Decoder:
    fields: list[tuple[str, str, Decoder]] = []

    def dec_struct(v: Any) -> Any:
        if not fields:  # resolved lazily so that self-referencing schemas work
            # looked up by the lower-case key (camelCase fields such as ``createdAt`` included)
            fields.extend((key, key.lower(), _decoder(ann)) for key, ann in _struct_fields(tp))
        if v is None:
            v = {}
        elif type(v) is not dict:
            raise WireError(tp.__name__, v)
        for k in v:
            if type(k) is str and not k.islower() and k.lower() != k:  # Go matches keys case-insensitively
                v = {(k.lower() if type(k) is str else k): x for k, x in v.items()}
                break
        out = {}
        get = v.get
        for key, lookup, dec in fields:
            try:
                out[key] = dec(get(lookup))
            except WireError as exc:
                raise exc.within(key) from None
        return out

    return dec_struct
