"""validate(): every problem, tied to its node or edge, for any input whatsoever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flows
from flows.validation import PROBLEM_CODES

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _pairs(problems: list[flows.Problem]) -> list[tuple]:
    return [(p.code, p.node_id) for p in problems]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_has_no_problems(path):
    assert flows.errors(flows.validate(_load(path))) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_expected_problems(path):
    fixture = _load(path)
    problems = flows.validate(fixture["document"], credentials=fixture.get("credentials"))
    expected = [(e["code"], e["node_id"]) for e in fixture["expect"]]
    # Warnings count only in fixtures about them: most invalid flows are also suspicious.
    problems = [p for p in problems if p.severity == "error" or p.code in {code for code, _ in expected}]

    if fixture["exact"]:
        assert sorted(_pairs(problems), key=str) == sorted(expected, key=str)
    else:
        for pair in expected:
            assert pair in _pairs(problems)
    for expectation in fixture["expect"]:
        if "edge_id" in expectation:
            assert any(p.code == expectation["code"] and p.edge_id == expectation["edge_id"] for p in problems)


def test_fixtures_cover_every_problem_code():
    covered = {e["code"] for path in INVALID for e in _load(path)["expect"]}
    assert covered == set(PROBLEM_CODES)


def test_problems_say_what_to_fix_and_where():
    problems = flows.validate(_load(FIXTURES / "invalid" / "invalid_config.json")["document"])

    by_path = {p.path: p for p in problems}
    assert by_path["config.key"].message == (
        "Key must be 1 to 64 letters, digits, '-' or '_'; got \"has space\".")
    assert by_path["config.timeout_seconds"].message == "Longest wait for the answer (seconds) must be at least 1."
    assert by_path["config.retries"].message.startswith("Remove 'retries': it is not a known field here")
    assert all(p.node_id == "api" for p in problems)


def test_check_problems_point_at_the_offending_setting():
    problems = flows.validate(_load(FIXTURES / "invalid" / "start_checks.json")["document"])

    assert [(p.code, p.path) for p in problems] == [
        ("duplicate_input", "config.inputs[1].name"),
        ("invalid_default", "config.inputs[2].default"),
        ("invalid_message_input", "config.message_input"),
        ("unknown_input", "config.text"),
    ]


def test_whole_flow_problems_name_nodes_as_the_canvas_shows_them_not_by_id():
    """The people drawing flows never see node ids; a problem names a node by its name, else its type."""
    document = {"schema_version": 1, "name": "Ids", "nodes": [
        {"id": "api_trigger_1", "type": "api_trigger", "config": {"key": "same"}, "position": {"x": 0, "y": 0}},
        {"id": "api_trigger_2", "type": "api_trigger", "name": "Orders hook", "config": {"key": "SAME"},
         "position": {"x": 0, "y": 100}},
        {"id": "start_1", "type": "start", "config": {"inputs": []}, "position": {"x": 200, "y": 0}},
        {"id": "template_1", "type": "template", "name": "Compose", "config": {"template": "x"},
         "position": {"x": 400, "y": 0}},
        {"id": "template_2", "type": "template", "config": {"template": "y"}, "position": {"x": 400, "y": 100}},
        {"id": "template_3", "type": "template", "name": "Loop back", "config": {"template": "z"},
         "position": {"x": 600, "y": 100}},
    ], "edges": [
        {"id": "e1", "source": "api_trigger_2", "source_port": "out", "target": "start_1", "target_port": "in"},
        {"id": "e2", "source": "api_trigger_2", "source_port": "out", "target": "template_1", "target_port": "in"},
        {"id": "e3", "source": "template_2", "source_port": "out", "target": "template_3", "target_port": "in"},
        {"id": "e4", "source": "template_3", "source_port": "out", "target": "template_2", "target_port": "in"},
        {"id": "e5", "source": "start_1", "source_port": "out", "target": "api_trigger_1", "target_port": "in"},
    ]}

    messages = {p.code + ":" + (p.node_id or ""): p.message for p in flows.validate(document)}

    assert messages["trigger_not_connected:api_trigger_1"] == (
        'The trigger "REST API" is not connected to "Start"; draw a connection from it to "Start".')
    assert messages["trigger_edge_not_to_start:api_trigger_2"].startswith(
        'The trigger "Orders hook" is connected to "Compose", but a trigger may only lead to "Start"')
    assert messages["unreachable_node:template_2"].startswith('"Template" can never run because nothing leads to it')
    assert messages["cycle:template_3"].startswith('"Loop back" is part of a loop')
    assert messages["duplicate_trigger_key:api_trigger_2"] == (
        'The key \'SAME\' is already used by another trigger, "REST API" (keys ignore case); choose another key.')
    assert messages["edge_into_trigger:api_trigger_1"].startswith('A connection leads into the trigger "REST API"')
    for message in messages.values():
        assert not any(node_id in message for node_id in ("api_trigger_", "start_1", "template_")), message


def test_edge_problems_carry_edge_and_node():
    problems = flows.validate(_load(FIXTURES / "invalid" / "unknown_port.json")["document"])

    assert [p.to_dict() for p in problems][0] == {
        "code": "unknown_port",
        "message": "\"Start\" has no output port 'output'; its output ports are: out; reconnect or delete the connection.",
        "node_id": "start",
        "edge_id": "e2",
        "path": "source_port",
        "severity": "error",
    }


def test_problem_to_dict_omits_missing_locations():
    assert flows.Problem("no_start_node", "Add a start node.").to_dict() == {
        "code": "no_start_node", "message": "Add a start node.", "severity": "error"}


def test_order_is_deterministic_and_ignores_key_order():
    fixture = _load(FIXTURES / "invalid" / "invalid_config.json")["document"]
    reordered = json.loads(json.dumps(fixture, sort_keys=True))
    for node in reordered["nodes"]:
        node["config"] = dict(reversed(list(node["config"].items())))

    assert flows.validate(fixture) == flows.validate(fixture) == flows.validate(reordered)


def test_a_condition_with_invalid_config_does_not_cause_port_noise(fixture_json):
    document = fixture_json("valid/condition_router.json")
    document["nodes"][2]["config"]["branches"][0]["conditions"] = []

    assert _pairs(flows.validate(document)) == [("invalid_config", "route")]


def test_uppercase_and_lowercase_keys_in_one_document_clash(fixture_json):
    problems = flows.validate(fixture_json("invalid/duplicate_trigger_key.json")["document"])

    assert "'ops-status'" in problems[0].message and "another trigger" in problems[0].message


def _deeply_nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


GARBAGE = [
    None, 0, 1.5, True, "flow", b"bytes", [], [{"nodes": []}], {}, object(), {1: "x"},
    {"schema_version": 1, "name": "x", "nodes": None, "edges": None},
    {"schema_version": 1, "name": "x", "nodes": "abc", "edges": {"a": 1}},
    {"schema_version": 1, "name": "x", "nodes": [None, 1, "x", [], {}], "edges": [None, 3]},
    {"schema_version": 1, "name": "x", "nodes": [{"id": [], "type": {}}], "edges": [{"id": {}, "source": []}]},
    {"schema_version": 1, "name": "x", "nodes": [{"id": "a", "type": "start", "config": []}], "edges": []},
    {"schema_version": 1, "name": "x", "nodes": [{"id": "a", "type": "condition", "config": {"branches": "x"}}],
     "edges": [{"id": "e", "source": "a", "source_port": 1, "target": "a", "target_port": None}]},
    {"schema_version": 1, "name": "x", "nodes": [{"id": "a", "type": "api_trigger", "config": {"key": 5}}],
     "edges": []},
    {"schema_version": 1, "name": "x", "nodes": [{"id": "a", "type": "start", "position": {"x": float("nan"), "y": 0}}],
     "edges": []},
    {"schema_version": 1, "name": float("inf"), "nodes": [], "edges": []},
    {"schema_version": 1, "name": "x", "nodes": [{"id": "a", "type": "start",
                                                   "config": {"inputs": [{"name": "x", "type": "string",
                                                                          "default": {1, 2}}]}}], "edges": []},
    {"schema_version": 1, "name": "x", "nodes": _deeply_nested(5000), "edges": []},
    {"schema_version": True, "name": ["x"], "nodes": [{"id": "a", "type": "start", "type_version": True}], "edges": []},
]


@pytest.mark.parametrize("document", GARBAGE, ids=lambda d: type(d).__name__)
def test_validate_never_raises_and_always_explains(document):
    problems = flows.validate(document)

    assert problems, "garbage must never validate"
    for problem in problems:
        assert problem.code in PROBLEM_CODES
        assert problem.message.endswith(".") or problem.message.endswith(")")
        json.dumps(problem.to_dict())


def test_non_json_values_are_reported_with_their_location():
    document = _load(FIXTURES / "valid" / "minimal.json")
    document["nodes"][2]["position"]["x"] = float("nan")

    assert [p.to_dict() for p in flows.validate(document)] == [{
        "code": "invalid_document",
        "message": "'nodes[2].position.x' must be a finite number.",
        "node_id": "reply",
        "path": "position.x",
        "severity": "error",
    }]


def test_oversized_flows_are_refused_without_checking_every_item():
    document = {"schema_version": 1, "name": "Big", "edges": [],
                "nodes": [{"id": f"n{i}", "type": "end"} for i in range(501)]}

    assert [p.to_dict() for p in flows.validate(document)] == [{
        "code": "invalid_document",
        "message": "The flow has 501 nodes; at most 500 are allowed, so split it into smaller flows.",
        "path": "nodes",
        "severity": "error",
    }]


def _chain(length: int) -> dict:
    nodes = [{"id": "manual", "type": "manual_trigger"}, {"id": "start", "type": "start"}]
    nodes += [{"id": f"n{i}", "type": "template", "config": {"template": f"{i}"}} for i in range(length)]
    ids = [node["id"] for node in nodes]
    edges = [{"id": f"e{i}", "source": a, "source_port": "out", "target": b, "target_port": "in"}
             for i, (a, b) in enumerate(zip(ids, ids[1:]))]
    return {"schema_version": 1, "name": "Chain", "nodes": nodes, "edges": edges}


def test_largest_allowed_chain_validates_and_runs(run_flow):
    document = _chain(498)

    assert flows.errors(flows.validate(document)) == []
    outcome, _ = run_flow(document, "manual")
    assert (outcome.status, outcome.steps) == ("succeeded", 500)


def test_a_long_loop_is_found_without_recursion_limits():
    document = _chain(498)
    document["edges"].append({"id": "back", "source": "n497", "source_port": "out", "target": "n0",
                              "target_port": "in"})

    assert {p.node_id for p in flows.validate(document)} == {f"n{i}" for i in range(498)}
