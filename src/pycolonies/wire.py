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
Decoder = Callable[[Any, str], Any]


class WireError(ValueError):
    """A value of the wrong JSON type; the message names the field."""


def decode(schema: type[T], value: Any) -> T:
    """Decode ``value`` (parsed JSON) against ``schema``; raises WireError on a type mismatch."""
    return typing.cast(T, _decoder(schema)(value, ""))


def _fail(path: str, expected: str, value: Any) -> typing.NoReturn:
    got = type(value).__name__ if value is not None else "null"
    where = path.lstrip(".") or "message"
    raise WireError(f"cannot unmarshal {got} into field {where} of type {expected}")


def _dec_str(v: Any, path: str) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    _fail(path, "string", v)


def _dec_int(v: Any, path: str) -> int:
    if type(v) is int:
        return v
    if v is None:
        return 0
    _fail(path, "int", v)


def _dec_float(v: Any, path: str) -> float:
    if type(v) in (int, float):
        return v  # type: ignore[no-any-return]
    if v is None:
        return 0.0
    _fail(path, "float64", v)


def _dec_bool(v: Any, path: str) -> bool:
    if type(v) is bool:
        return v
    if v is None:
        return False
    _fail(path, "bool", v)


def _dec_any(v: Any, path: str) -> Any:
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
        return lambda v, path: None if v is None else inner(v, path)
    if origin is list:
        (item_tp,) = get_args(tp) or (Any,)
        item = _decoder(item_tp)

        def dec_list(v: Any, path: str) -> Any:
            if v is None:
                return None
            if not isinstance(v, list):
                _fail(path, "array", v)
            return [item(x, f"{path}[{i}]") for i, x in enumerate(v)]

        return dec_list
    if origin is dict:
        args = get_args(tp)
        value_dec = _decoder(args[1]) if len(args) == 2 else _dec_any

        def dec_map(v: Any, path: str) -> Any:
            if v is None:
                return None
            if not isinstance(v, dict):
                _fail(path, "object", v)
            return {k: value_dec(x, f"{path}.{k}") for k, x in v.items()}

        return dec_map
    if isinstance(tp, type) and (issubclass(tp, BaseModel) or is_typeddict(tp)):
        return _struct_decoder(tp)
    return _dec_any


def _struct_fields(tp: type) -> list[tuple[str, Any]]:
    if issubclass(tp, BaseModel):
        return [(f.alias or name, f.annotation) for name, f in tp.model_fields.items()]
    return list(get_type_hints(tp).items())


def _struct_decoder(tp: type) -> Decoder:
    fields: list[tuple[str, Decoder]] = []

    def dec_struct(v: Any, path: str) -> Any:
        if not fields:  # resolved lazily so that self-referencing schemas work
            fields.extend((key, _decoder(ann)) for key, ann in _struct_fields(tp))
        if v is None:
            v = {}
        elif not isinstance(v, dict):
            _fail(path, tp.__name__, v)
        if any(k not in v for k, _ in fields) and any(type(k) is str and k != k.lower() for k in v):
            v = {(k.lower() if type(k) is str else k): x for k, x in v.items()}
        return {key: dec(v.get(key), f"{path}.{key}") for key, dec in fields}

    return dec_struct
