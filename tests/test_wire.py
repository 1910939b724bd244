"""Lenient decoding as Go's encoding/json does it (protocol core/00-overview.md section 3.1)."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from pycolonies.messages import AssignProcessMsg, SubmitFuncSpecMsg
from pycolonies.models import FuncSpec
from pycolonies.wire import WireError, decode


class Nested(TypedDict):
    name: str
    values: list[int] | None
    extra: dict[str, Any] | None


class Outer(TypedDict):
    msgtype: str
    count: int
    ratio: float
    flag: bool
    inner: Nested
    maybe: FuncSpec | None


def test_missing_fields_take_zero_values() -> None:
    out = decode(Outer, {"msgtype": "x"})
    assert out == {
        "msgtype": "x",
        "count": 0,
        "ratio": 0.0,
        "flag": False,
        "inner": {"name": "", "values": None, "extra": None},
        "maybe": None,
    }


def test_null_scalars_take_zero_values_and_unknown_keys_are_dropped() -> None:
    out = decode(Outer, {"msgtype": None, "count": None, "flag": None, "unknown": 1, "inner": {"name": None}})
    assert out["msgtype"] == "" and out["count"] == 0 and out["flag"] is False
    assert "unknown" not in out and out["inner"]["name"] == ""


def test_keys_match_case_insensitively() -> None:
    out = decode(AssignProcessMsg, {"MsgType": "assignprocessmsg", "ColonyName": "dev", "TIMEOUT": 5})
    assert out["msgtype"] == "assignprocessmsg" and out["colonyname"] == "dev" and out["timeout"] == 5


def test_user_data_keys_keep_their_case() -> None:
    spec = {"funcname": "f", "kwargs": {"CamelKey": 1}, "env": {"MY_VAR": "v"}, "conditions": {"executortype": "t"}}
    out = decode(SubmitFuncSpecMsg, {"msgtype": "submitfuncspecmsg", "spec": spec})
    assert out["spec"] is not None
    assert out["spec"]["kwargs"] == {"CamelKey": 1} and out["spec"]["env"] == {"MY_VAR": "v"}


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"count": "10"}, "count"),
        ({"count": True}, "count"),
        ({"count": 1.5}, "count"),
        ({"ratio": "1"}, "ratio"),
        ({"flag": 1}, "flag"),
        ({"msgtype": 3}, "msgtype"),
        ({"inner": []}, "inner"),
        ({"inner": {"values": {}}}, "inner.values"),
        ({"inner": {"values": [1, "2"]}}, "inner.values[1]"),
        ({"inner": {"extra": [1]}}, "inner.extra"),
    ],
)
def test_wrong_json_types_are_errors_naming_the_field(message: dict[str, Any], field: str) -> None:
    with pytest.raises(WireError) as info:
        decode(Outer, message)
    assert field in str(info.value)


def test_integers_are_valid_floats() -> None:
    assert decode(Outer, {"ratio": 2})["ratio"] == 2


def test_a_non_object_message_is_an_error() -> None:
    with pytest.raises(WireError):
        decode(Outer, ["not", "an", "object"])
