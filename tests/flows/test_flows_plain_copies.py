"""Step outputs are stored and handed on as their JSON round trip, whichever way the copy is made.

`flows.steps._plain` copies small plain values directly instead of through `json`; these
values must come out exactly as the round trip gives them, and what the round trip refuses
must still be refused.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest

from flows.steps import _plain


class Text(str):
    pass


def _round_trip(value):
    """The JSON round trip, with NUL and lone surrogates as U+FFFD: what every store keeps."""
    def storable(item):
        if isinstance(item, str):
            return "".join("\ufffd" if ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in item)
        if isinstance(item, list):
            return [storable(x) for x in item]
        if isinstance(item, dict):
            return {storable(k): storable(v) for k, v in item.items()}
        return item
    return storable(json.loads(json.dumps(value, allow_nan=False)))


@pytest.mark.parametrize("value", [
    {"text": "Service db is degraded."},
    {"a": 1, "b": -0.0, "c": 1.5e300, "d": True, "e": None, "f": [1, [2, {"g": "é\ud800"}]], "h": {}},
    {"tuple": (1, 2), "nested": {"t": ((3,),)}},  # tuples become lists
    {"sub": OrderedDict(a=1), "text": Text("x")},  # subclasses become plain dicts and strings
    {1: "a", None: "b", 2.5: "c", True: "d"},  # keys become text
    {"big": 10 ** 4000},
    {"long": list(range(1000)), "wide": {str(i): i for i in range(200)}},  # past the direct copy's size
    {"nul": "a\x00b", "k\x00": ["\udc00", "😀 \\u0000 typed"]},  # text no database keeps, copied directly
    {"nul": "a\x00b", "k\x00": ["\udfff x"], "pad": list(range(200))},  # the same, through the round trip
])
def test_a_copy_equals_the_json_round_trip(value):
    copied = _plain(value)

    assert copied == _round_trip(value)
    assert json.dumps(copied) == json.dumps(_round_trip(value))
    assert [type(v) for v in copied.values()] == [type(v) for v in _round_trip(value).values()]


def test_a_copy_shares_no_container_with_the_original():
    inner = {"list": [1, 2]}
    value = {"a": inner, "b": inner}

    copied = _plain(value)
    inner["list"].append(3)

    assert copied == {"a": {"list": [1, 2]}, "b": {"list": [1, 2]}}
    assert copied["a"] is not copied["b"]


@pytest.mark.parametrize("value", [{"x": float("nan")}, {"x": [float("inf")]}, {"x": object()}, {"x": 10 ** 5000}])
def test_what_the_round_trip_refuses_is_still_refused(value):
    with pytest.raises((TypeError, ValueError)):
        _plain(value)


def test_a_value_holding_itself_is_refused():
    value: dict = {"a": []}
    value["a"].append(value)

    with pytest.raises(ValueError):
        _plain(value)


@pytest.mark.parametrize("pad", [0, 500])  # the direct copy, and the round trip past its size
def test_text_no_database_keeps_becomes_the_replacement_character_and_nothing_else_changes(pad):
    copied = _plain({"nul": "a\x00b", "lone": "x\ud800y", "pair": "😀", "typed": "\\u0000", "k\x00": 1,
                     "pad": list(range(pad))})

    assert copied["nul"] == "a\ufffdb" and copied["lone"] == "x\ufffdy" and copied["k\ufffd"] == 1
    assert copied["pair"] == "😀" and copied["typed"] == "\\u0000"
    json.dumps(copied).encode("utf-8")  # every text can be written as UTF-8 now
