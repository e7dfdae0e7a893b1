"""The node-type registry, its palette, the Graph helper and canonical_json()."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

import flows
from flows import Graph, NodeRegistry, canonical_json, registry

EXPECTED_TYPES = ["api_trigger", "openai_trigger", "manual_trigger", "schedule_trigger", "start", "llm", "http_request",
                  "template", "set_variables", "condition", "switch", "delay", "reply", "end"]


def test_registry_lists_every_type_in_palette_order():
    assert [t.type for t in registry.types()] == EXPECTED_TYPES


@pytest.mark.parametrize("type_name", EXPECTED_TYPES)
def test_palette_entry_describes_the_type(type_name):
    entry = next(e for e in registry.palette() if e["type"] == type_name)

    assert set(entry) >= {"type", "version", "category", "title", "description", "config_schema",
                          "is_trigger", "default_config"}
    assert entry["category"] in {"trigger", "start", "logic", "output"}
    assert entry["is_trigger"] == (entry["category"] == "trigger")
    assert entry["input_ports"] == ([] if entry["is_trigger"] else ["in"])


@pytest.mark.parametrize("node_type", registry.types(), ids=lambda t: t.type)
def test_config_schema_can_drive_a_form(node_type):
    schema = node_type.config_schema
    Draft202012Validator.check_schema(schema)

    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"{node_type.type}.{name} needs a title for the generated form"
        assert prop.get("description"), f"{node_type.type}.{name} needs a description"


@pytest.mark.parametrize("node_type", registry.types(), ids=lambda t: t.type)
def test_default_config_is_valid_except_for_values_only_the_author_can_choose(node_type):
    errors = list(node_type.config_validator.iter_errors(node_type.default_config()))

    # A trigger key must be unique in the workspace, so no default can be given.
    expected = ["'key' is a required property"] if node_type.type in ("api_trigger", "openai_trigger") else []
    assert [e.message for e in errors] == expected


def test_effective_config_fills_in_defaults():
    api = registry.get("api_trigger")

    assert api.effective_config({"key": "k", "timeout_seconds": 5}) == {
        "key": "k", "authenticate": True, "wait_for_response": True, "timeout_seconds": 5, "enabled": True,
        "session_duration_seconds": 3600, "ignore_duplicate_bodies": False, "rate_limit_per_minute": 0,
        "verify_signature": False, "signature_tolerance_seconds": 300}


def test_ports():
    assert registry.get("api_trigger").input_ports({}) == []
    assert registry.get("start").output_ports({}) == ["out"]
    assert registry.get("reply").output_ports({"text": ""}) == ["out"]
    assert registry.get("end").output_ports({}) == []


@pytest.mark.parametrize("name", ["nope", None, 3, ["start"], {"a": 1}])
def test_get_unknown_or_odd_names_returns_none(name):
    assert registry.get(name) is None


def test_duplicate_registration_is_refused():
    fresh = NodeRegistry()
    fresh.register(registry.get("end"))

    with pytest.raises(ValueError, match="already registered"):
        fresh.register(registry.get("end"))


def test_graph_answers_structural_questions(fixture_json):
    graph = Graph(fixture_json("valid/condition_router.json"))

    assert list(graph.nodes) == ["api", "start", "route", "vip_reply", "large_reply", "small_reply"]
    assert graph.node("route")["type"] == "condition"
    assert graph.node("ghost") is None
    assert graph.start_node()["id"] == "start"
    assert [n["id"] for n in graph.trigger_nodes()] == ["api"]
    assert graph.successors("route", "else") == ["small_reply"]
    assert graph.successors("route", "nope") == []


def test_graph_fans_out_in_document_order(fixture_json):
    assert Graph(fixture_json("valid/fan_out.json")).successors("start", "out") == ["a", "b"]


@pytest.mark.parametrize("document", [None, [], "x", {"nodes": [None, {"id": 1}], "edges": [{"id": "e"}]}])
def test_graph_tolerates_garbage(document):
    graph = Graph(document)

    assert graph.start_node() is None
    assert graph.trigger_nodes() == []
    assert graph.node(["unhashable"]) is None


def test_canonical_json_ignores_key_order_and_whitespace():
    a = {"name": "Flow", "nodes": [{"id": "x", "type": "end"}], "schema_version": 1}
    b = {"schema_version": 1, "nodes": [{"type": "end", "id": "x"}], "name": "Flow"}

    assert canonical_json(a) == canonical_json(b) == \
        '{"name":"Flow","nodes":[{"id":"x","type":"end"}],"schema_version":1}'
    assert canonical_json({"name": "Flöw"}) == '{"name":"Flöw"}'
    assert canonical_json(a) != canonical_json({**a, "name": "Other"})


def test_public_api():
    for name in ["validate", "Problem", "registry", "NodeType", "NodeContext", "NodeResult", "Graph",
                 "canonical_json", "validate_inputs", "input_schema", "message_input", "run_graph",
                 "StepRecord", "Journal", "RunOutcome", "render_template", "TemplateError", "RunEnvironment",
                 "OutcomeStatus", "StepStatus", "Stop"]:
        assert hasattr(flows, name), name


def test_engine_modules_import_each_other_without_a_cycle():
    """The runner, a node step and the journal protocol depend one way (type-only imports included)."""
    import ast
    from pathlib import Path

    package = Path(flows.__file__).parent
    graph = {}
    for path in package.glob("*.py"):
        if path.name == "__init__.py":
            continue
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flows."):
                imported.add(node.module.split(".")[1])
        graph[path.stem] = imported & {p.stem for p in package.glob("*.py")}

    def reaches(start, target, seen=()):
        return any(nxt == target or (nxt not in seen and reaches(nxt, target, (*seen, nxt))) for nxt in graph[start])

    assert [name for name in graph if reaches(name, name)] == []
    assert "journal" in graph["steps"] and "runner" not in graph["steps"]
