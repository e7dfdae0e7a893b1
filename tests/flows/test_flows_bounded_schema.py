"""A trigger filter's check answers within its time budget, whatever the filter and the body.

jsonschema's own validator ran `pattern` with Python's `re`: `(a+)+$` held a worker for 30 s on
a 41-character value. Each case here is a schema and a body that hung, crashed or ran for minutes
before; the check must answer (match or not) or say it gave up, quickly.
"""

from __future__ import annotations

import time

import pytest
from jsonschema import Draft202012Validator

from flows import SchemaTooSlow, SchemaUnusable, first_schema_error

SLOW = "(a|aa)+$"  # catastrophic for the `regex` module too
VALUE = "a" * 40 + "!"
BUDGET = 0.3


def _timed(schema, body, seconds: float = BUDGET):
    """The outcome and the CPU time it took: `regex` times out on CPU time, and the test machine may be busy."""
    began = time.process_time()
    try:
        return first_schema_error(schema, body, seconds=seconds), time.process_time() - began
    except SchemaTooSlow as exc:
        return exc, time.process_time() - began


def test_the_audits_pattern_answers_at_once_instead_of_hanging():
    error, took = _timed({"properties": {"user_message": {"pattern": "(a+)+$"}}}, {"user_message": VALUE})
    assert took < BUDGET and "does not match" in error.message


@pytest.mark.parametrize("schema, body", [
    ({"properties": {"text": {"pattern": SLOW}}}, {"text": VALUE}),
    ({"patternProperties": {SLOW: {"type": "string"}}}, {VALUE: 1}),
    ({"patternProperties": {SLOW: {}}, "additionalProperties": False}, {VALUE: 1}),
    ({"patternProperties": {SLOW: {}}, "unevaluatedProperties": False}, {VALUE: 1}),
    ({"propertyNames": {"pattern": SLOW}}, {VALUE: 1}),
    ({"items": {"pattern": SLOW}}, [VALUE]),
])
def test_a_catastrophic_pattern_gives_up_within_the_budget_naming_itself(schema, body):
    outcome, took = _timed(schema, body)
    assert isinstance(outcome, SchemaTooSlow) and outcome.pattern == SLOW
    assert took < BUDGET + 0.3


def test_references_that_multiply_the_work_give_up_within_the_budget():
    definitions = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(40)}
    schema = {"$defs": {**definitions, "d40": {"type": "string"}}, "$ref": "#/$defs/d0"}
    outcome, took = _timed(schema, 5)  # 2**40 paths, none of them passes
    assert isinstance(outcome, SchemaTooSlow) and outcome.pattern is None and took < BUDGET + 0.3


def test_unique_items_of_many_objects_is_linear_and_keeps_json_equality():
    many = [{"id": i} for i in range(20_000)]  # pairwise, 200 million comparisons
    outcome, took = _timed({"uniqueItems": True}, many, seconds=10)
    assert outcome is None and took < 2
    assert "non-unique" in first_schema_error({"uniqueItems": True}, [*many, {"id": 7}]).message
    assert first_schema_error({"uniqueItems": True}, [1, 1.0]) is not None  # equal numbers
    assert first_schema_error({"uniqueItems": True}, [1, True, 0, False, None, [1], [True], {"a": 1}, {"a": True}]) \
        is None  # booleans are not numbers


def test_multiple_of_answers_for_integers_too_large_for_a_float():
    assert first_schema_error({"multipleOf": 0.5}, 10 ** 400) is None
    assert "not a multiple" in first_schema_error({"multipleOf": 0.75}, 10 ** 400).message


@pytest.mark.parametrize("schema, words", [
    ({"$ref": "#"}, "refers to itself"),
    ({"allOf": [{"$ref": "#"}]}, "refers to itself"),
    ({"$ref": "#/nope"}, "points to nothing"),
    ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "points to nothing"),
    ({"properties": {"a": {"pattern": "a{1000000}"}}}, "requires more than 10,000 repeated characters"),
    ({"properties": {"a": {"pattern": "(?:(?:a{1000}){1000}){1000}"}}}, "requires more than"),
])
def test_a_schema_that_cannot_be_applied_says_why(schema, words):
    with pytest.raises(SchemaUnusable, match=words):
        first_schema_error(schema, {"a": "x"}, seconds=BUDGET)


@pytest.mark.parametrize("schema, body", [
    ({"required": ["order_id"], "properties": {"order_id": {"type": "string", "pattern": "^A-\\d+$"}}},
     {"order_id": "A-12"}),
    ({"required": ["order_id"]}, {"text": "x"}),
    ({"properties": {"order_id": {"pattern": "^A-\\d+$"}}}, {"order_id": "B-1"}),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": "1", "y": 2}),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type": "integer"}}, {"x-a": "1", "y": 2}),
    ({"allOf": [{"properties": {"a": {}}}], "patternProperties": {"^b": {}}, "unevaluatedProperties": False},
     {"a": 1, "b1": 2, "c": 3}),
    ({"if": {"required": ["a"]}, "then": {"patternProperties": {"^z": {}}}, "unevaluatedProperties": False},
     {"a": 1, "zz": 2}),
    ({"properties": {"tags": {"uniqueItems": True}}}, {"tags": ["a", "b", "a"]}),
    ({"properties": {"n": {"multipleOf": 3}}}, {"n": 10}),
    ({"properties": {"kids": {"items": {"$ref": "#"}}, "name": {"type": "string"}}},
     {"name": "a", "kids": [{"name": "b", "kids": [{"name": 3}]}]}),
])
def test_ordinary_filters_decide_as_jsonschema_does(schema, body):
    assert (first_schema_error(schema, body) is None) == Draft202012Validator(schema).is_valid(body)


def test_a_refusal_is_short_and_keeps_its_reason_whatever_the_value():
    from flows.schema_errors import short_refusal

    error = first_schema_error({"properties": {"m": {"enum": ["yes", "no"]}}}, {"m": "a" * 1_000_000})
    where, why = short_refusal(error)
    assert where == "m" and why.endswith("is not one of ['yes', 'no']") and len(why) <= 300
    wide = first_schema_error({"additionalProperties": False}, {f"k{i}": i for i in range(10_000)})
    where, why = short_refusal(wide)
    assert where == "the body" and why.startswith("Additional properties are not allowed ('k0'")
    assert why.endswith("were unexpected)") and len(why) <= 300
