"""Saving a flow refuses a trigger filter no request could be checked against, and says why.

`{"$ref": "#"}` used to be accepted, after which every request to the trigger was a 500
(RecursionError); a pattern `regex` cannot compile, or compiles only in minutes, was accepted too.
Recursive filters that go deeper into the body each time are fine and must stay accepted.
"""

from __future__ import annotations

import pytest

import flows
from flows.filter_checks import filter_problem
from tests.flows.documents import chain


@pytest.mark.parametrize("schema, words", [
    ({"$ref": "#"}, "refers back to itself ($ref '#')"),
    ({"$dynamicRef": "#"}, "refers back to itself"),
    ({"allOf": [{"$ref": "#"}]}, "(allOf → $ref '#')"),
    ({"not": {"anyOf": [{"oneOf": [{"$ref": "#"}]}]}}, "refers back to itself"),
    ({"if": {"type": "object"}, "then": {"$ref": "#"}}, "(then → $ref '#')"),
    ({"dependentSchemas": {"a": {"$ref": "#"}}}, "refers back to itself"),
    ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
      "properties": {"x": {"$ref": "#/$defs/a"}}}, "refers back to itself"),
    ({"$defs": {"a": {"$anchor": "here", "allOf": [{"$ref": "#here"}]}}, "$ref": "#here"}, "$ref '#here'"),
    ({"properties": {"a": {"$id": "https://example.com/a", "not": {"$ref": "#"}}}}, "refers back to itself"),
    ({"$ref": "#/nope"}, "has a $ref that points to nothing in it ('#/nope')"),
    ({"properties": {"a": {"$ref": "#missing"}}}, "points to nothing"),
    ({"$dynamicRef": "https://example.com/schema"}, "only use local references"),
    ({"properties": {"a": {"pattern": "a{1000000}"}}}, "requires more than 10,000 repeated characters"),
    ({"patternProperties": {"(?:x{200}){200}": {}}}, "requires more than 10,000 repeated characters"),
    ({"properties": {"a": {"pattern": "(" * 500 + ")" * 500}}}, "nests too deeply"),
    ({"properties": {"a": {"pattern": "("}}}, "not a valid JSON Schema"),
])
def test_a_filter_no_request_could_be_checked_against_is_refused_with_the_reason(schema, words):
    problem = filter_problem(schema)
    assert problem is not None and words in problem, problem
    document = chain({"id": "api", "type": "api_trigger", "config": {"key": "orders", "filter": schema}},
                     {"id": "start", "type": "start", "config": {}}, {"id": "reply", "type": "reply", "config": {"text": "ok"}})
    found = [p for p in flows.validate(document) if p.code == "invalid_filter"]
    assert [(p.node_id, p.path) for p in found] == [("api", "config.filter")] and words in found[0].message


@pytest.mark.parametrize("schema", [
    {"required": ["order_id"], "properties": {"order_id": {"type": "string", "pattern": "^A-\\d{1,12}$"}}},
    {"properties": {"user_message": {"pattern": "(a+)+$"}}},  # slow in `re`; checks on requests are bounded
    {"properties": {"children": {"items": {"$ref": "#"}}}},  # recursive, one level deeper each time
    {"properties": {"a": {"$ref": "#"}}, "propertyNames": {"$ref": "#/$defs/name"},
     "$defs": {"name": {"pattern": "^[a-z]+$"}}},
    {"$defs": {"unused": {"then": {"$ref": "#"}}}, "if": {"$ref": "#/$defs/unused"}},  # `then` without `if` is never applied
    {"properties": {"pattern": {"type": "string"}}},  # a field named "pattern" is no pattern
])
def test_a_usable_filter_is_accepted(schema):
    assert filter_problem(schema) is None
