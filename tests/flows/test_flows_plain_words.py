"""Every choice in a node's settings has words for people, and advanced settings are marked.

The editor renders each enum with its "x-enum-titles" (issue 17: "Text" rather than "string",
"Stop the run" rather than "fail"); a new enum without titles would show its raw values again,
so these tests walk every node type's schema instead of listing fields by hand.
"""

from __future__ import annotations

import pytest

import flows
from flows.inputs import INPUT_TYPES
from flows.nodes.outputs import INPUT_TYPE_TITLES

NODE_TYPES = sorted(flows.registry.types(), key=lambda t: t.type)


def _walk(schema: object, path: str):
    """Yield (path, schema) for every dict inside `schema`."""
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _walk(value, f"{path}[{index}]")


def _enums(node_type):
    return [(path, part) for path, part in _walk(node_type.palette_entry()["config_schema"], node_type.type)
            if "enum" in part]


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.type)
def test_every_enum_in_every_node_schema_has_a_title_for_each_value(node_type):
    for path, part in _enums(node_type):
        titles = part.get("x-enum-titles")
        assert isinstance(titles, dict), f"{path} has no x-enum-titles"
        assert set(titles) == set(part["enum"]), f"{path}: titles and values differ"
        words = list(titles.values())
        assert all(isinstance(w, str) and w.strip() and "_" not in w for w in words), f"{path}: {words}"
        assert len(set(words)) == len(words), f"{path}: two options read the same"


def test_the_schemas_have_enums_at_all():
    """Guard the walk above: it must find the enums it is meant to check."""
    assert sum(len(_enums(t)) for t in NODE_TYPES) >= 15


def test_start_input_types_read_as_plain_words_and_keep_their_values():
    prop = flows.registry.get("start").config_schema["properties"]["inputs"]["items"]["properties"]["type"]
    assert sorted(prop["enum"]) == sorted(INPUT_TYPES)  # documents stay compatible
    assert set(INPUT_TYPE_TITLES) == set(INPUT_TYPES)
    assert [prop["x-enum-titles"][v] for v in ("string", "number", "integer", "boolean", "array", "object")] == [
        "Text", "Number", "Whole number", "Yes/No", "List", "Object"]


def test_on_error_reads_as_what_happens():
    prop = flows.registry.get("http_request").config_schema["properties"]["on_error"]
    assert prop["enum"] == ["fail", "port"]
    assert prop["x-enum-titles"] == {"fail": "Stop the run", "port": "Continue from the error port"}


def test_enum_titles_do_not_change_what_validates():
    """The annotation is not a keyword: a stored value still validates, a title never does."""
    node_type = flows.registry.get("http_request")
    assert node_type.config_validator.is_valid({"url": "https://example.com", "on_error": "port"})
    assert not node_type.config_validator.is_valid({"url": "https://example.com", "on_error": "Stop the run"})


@pytest.mark.parametrize("node_type", NODE_TYPES, ids=lambda t: t.type)
def test_advanced_marks_are_true_and_only_on_properties(node_type):
    for path, part in _walk(node_type.config_schema, node_type.type):
        if "x-advanced" in part:
            assert part["x-advanced"] is True, path
            assert ".properties." in path, f"{path}: only a setting can be advanced"


def test_the_rest_trigger_shows_only_its_essentials_first():
    props = flows.registry.get("api_trigger").config_schema["properties"]
    essentials = [name for name, prop in props.items() if not prop.get("x-advanced")]
    assert essentials == ["key", "authenticate", "wait_for_response", "enabled", "description"]
    assert props["filter"]["title"] == "Only accept requests that match"
    assert all(props[name].get("x-advanced") for name in ("filter", "verify_signature", "signature_tolerance_seconds",
                                                           "ignore_duplicate_bodies", "timeout_seconds"))


@pytest.mark.parametrize("node_type", [t for t in NODE_TYPES if t.is_trigger], ids=lambda t: t.type)
def test_no_trigger_setting_title_is_jargon(node_type):
    jargon = ("JSON Schema", "Standard Webhooks signatures", "Rate limit", "Session duration", "bodies")
    for name, prop in node_type.config_schema.get("properties", {}).items():
        assert not any(word in prop.get("title", "") for word in jargon), f"{node_type.type}.{name}: {prop['title']}"
