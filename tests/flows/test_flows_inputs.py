"""validate_inputs(), input_schema() and message_input(): the start node's contract."""

from __future__ import annotations

import pytest

from flows import input_schema, message_input, validate_inputs

START = {
    "inputs": [
        {"name": "user_message", "type": "string", "required": True, "description": "The question."},
        {"name": "count", "type": "integer", "default": 1},
        {"name": "ratio", "type": "number"},
        {"name": "urgent", "type": "boolean"},
        {"name": "context", "type": "object", "default": {"lang": "en"}},
        {"name": "tags", "type": "array"},
    ],
    "message_input": "user_message",
}


def test_valid_data_gets_defaults_and_nulls_for_optional_inputs():
    values, errors = validate_inputs(START, {"user_message": "hi", "ratio": 0.5})

    assert errors == []
    assert values == {"user_message": "hi", "count": 1, "ratio": 0.5, "urgent": None,
                      "context": {"lang": "en"}, "tags": None}


def test_null_counts_as_not_sent():
    values, errors = validate_inputs(START, {"user_message": "hi", "count": None, "ratio": None})

    assert errors == []
    assert (values["count"], values["ratio"]) == (1, None)


def test_validated_values_validate_again_unchanged():
    """The app stores validated values; the start node checks them again when the run executes."""
    values, _ = validate_inputs(START, {"user_message": "hi"})

    assert validate_inputs(START, values) == (values, [])


def test_defaults_are_copies():
    values, _ = validate_inputs(START, {"user_message": "hi"})
    values["context"]["lang"] = "fr"

    assert START["inputs"][4]["default"] == {"lang": "en"}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("user_message", 5, "must be a string"),
    ("count", 1.5, "must be an integer"),
    ("count", "1", "must be an integer"),
    ("ratio", "0.5", "must be a number"),
    ("ratio", True, "must be a number"),
    ("urgent", "yes", "must be true or false"),
    ("context", [], "must be an object"),
    ("tags", {}, "must be an array"),
    ("user_message", None, "is required"),  # null counts as not sent
])
def test_wrong_types_are_reported_per_field(field, value, reason):
    data = {"user_message": "hi", field: value}

    _, errors = validate_inputs(START, data)

    assert errors == [{"field": field, "reason": reason}]


@pytest.mark.parametrize("value", [2, 2.0, -7])
def test_whole_numbers_are_integers(value):
    assert validate_inputs(START, {"user_message": "hi", "count": value})[1] == []


def test_missing_required_and_unknown_fields_are_all_reported_in_order():
    _, errors = validate_inputs(START, {"colour": "red", "count": "x", "apples": 1})

    assert errors == [
        {"field": "user_message", "reason": "is required"},
        {"field": "count", "reason": "must be an integer"},
        {"field": "apples", "reason": "is not a declared input; declared inputs: user_message, count, ratio, "
                                     "urgent, context, tags"},
        {"field": "colour", "reason": "is not a declared input; declared inputs: user_message, count, ratio, "
                                     "urgent, context, tags"},
    ]


def test_a_required_input_with_a_default_is_never_missing():
    config = {"inputs": [{"name": "lang", "type": "string", "required": True, "default": "en"}]}

    assert validate_inputs(config, {}) == ({"lang": "en"}, [])


def test_flow_without_inputs_refuses_any_field():
    assert validate_inputs({}, {"x": 1})[1] == [
        {"field": "x", "reason": "is not a declared input; this flow declares no inputs"}]
    assert validate_inputs({}, None) == ({}, [])


@pytest.mark.parametrize(("data", "kind"), [([], "an array"), ("hi", "a string"), (3, "a number")])
def test_data_must_be_an_object(data, kind):
    assert validate_inputs(START, data) == ({}, [{"field": None, "reason": f"inputs must be a JSON object, not {kind}"}])


def test_input_schema_is_a_closed_json_schema():
    schema = input_schema(START)

    assert schema["additionalProperties"] is False
    assert schema["required"] == ["user_message"]
    assert schema["properties"]["user_message"] == {"type": "string", "description": "The question."}
    assert schema["properties"]["count"] == {"type": "integer", "default": 1}
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(("config", "expected"), [
    (START, "user_message"),
    ({"inputs": [{"name": "payload", "type": "object"}], "message_input": "payload"}, "payload"),
    ({"inputs": [{"name": "n", "type": "number"}], "message_input": "n"}, None),
    ({"inputs": [], "message_input": "ghost"}, None),
    ({"inputs": [{"name": "q", "type": "string"}]}, None),
    ({}, None),
])
def test_message_input(config, expected):
    assert message_input(config) == expected


def test_the_shared_validator_refuses_and_accepts_exactly_as_the_published_schema_does():
    from jsonschema import Draft202012Validator

    from flows.inputs import _errors, declared_inputs, input_schema

    config = {"inputs": [
        {"name": "message", "type": "string", "required": True, "description": "asked"},
        {"name": "count", "type": "integer", "default": 2, "required": True},
        {"name": "ratio", "type": "number"}, {"name": "flag", "type": "boolean", "required": True},
        {"name": "extra", "type": "object"}, {"name": "items", "type": "array", "default": []}]}
    samples = [{}, {"message": "hi", "flag": True}, {"message": 1, "count": 2.0, "ratio": True, "flag": 0},
               {"message": "hi", "flag": False, "count": 1.5, "extra": [], "items": {}, "other": 1, "Other": 2},
               {"message": None, "flag": None}]
    for data in samples:
        values, errors = validate_inputs(config, data)
        declared = declared_inputs(config)
        unfilled = {key: value for key, value in values.items() if value is not None or key not in
                    {item["name"] for item in declared}}
        assert errors == _errors(Draft202012Validator(input_schema(config)), unfilled, declared), data
