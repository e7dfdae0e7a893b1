"""run_graph(): node-by-node execution, step records, failures and the step limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flows
from flows.nodes import (
    NodeRegistry, NodeResult, NodeType, registry as default_registry,
)

FIXTURES = Path(__file__).parent / "fixtures"
RUN_CASES = [
    pytest.param(path, index, id=f"{path.stem}: {case['name']}")
    for path in sorted((FIXTURES / "runs").glob("*.json"))
    for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))["cases"])
]


def _fixture_document(fixture: dict) -> dict:
    if "document_file" in fixture:
        return json.loads((FIXTURES / fixture["document_file"]).read_text(encoding="utf-8"))
    return fixture["document"]


@pytest.mark.parametrize(("path", "index"), RUN_CASES)
def test_run_fixture(path, index, run_flow):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    document, case = _fixture_document(fixture), fixture["cases"][index]
    # A fixture may run a flow validation refuses, to show the runner still fails it cleanly.
    assert [p.code for p in flows.errors(flows.validate(document))] == fixture.get("refused_with", [])

    outcome, journal = run_flow(document, case["entry"], case["payload"]["inputs"],
                                trigger=case["payload"]["trigger"], max_steps=case.get("max_steps", 1000))

    expect = case["expect"]
    assert outcome.status == expect["status"], outcome.error
    if "output" in expect:
        assert outcome.output == expect["output"]
    if "executed" in expect:
        assert journal.executed == expect["executed"]
        assert outcome.steps == len(expect["executed"])
    for node_id, output in expect.get("outputs", {}).items():
        assert journal.records[journal.executed.index(node_id) + 1].output == output
    for node_id, step_input in expect.get("inputs", {}).items():
        assert journal.started[journal.executed.index(node_id)]["input"] == step_input
    if "error" in expect:
        assert outcome.error == expect["error"]
    for fragment in expect.get("error_contains", []):
        assert fragment in outcome.error
    if "error_node_id" in expect:
        assert outcome.error_node_id == expect["error_node_id"]
    if outcome.status == "succeeded":
        assert outcome.error is None and outcome.error_node_id is None


def test_steps_are_recorded_with_input_output_and_port(fixture_json, run_flow):
    outcome, journal = run_flow(fixture_json("valid/condition_router.json"), "api", {"amount": 3},
                                trigger={"request_id": "req-9"})

    assert [(c["seq"], c["node_id"], c["node_type"], c["attempt"]) for c in journal.started] == [
        (1, "api", "api_trigger", 1), (2, "start", "start", 1),
        (3, "route", "condition", 1), (4, "small_reply", "reply", 1)]
    assert journal.started[0]["input"] == {"key": "router", "wait_for_response": False, "authenticate": True,
                                           "timeout_seconds": 30, "enabled": True,
                                           "session_duration_seconds": 3600, "ignore_duplicate_bodies": False,
                                           "rate_limit_per_minute": 0, "verify_signature": False,
                                           "signature_tolerance_seconds": 300}
    assert journal.started[1]["input"] == {"inputs": {"amount": 3}}
    assert [(r.status, r.port) for r in journal.completed_steps()] == [
        ("succeeded", "out"), ("succeeded", "out"), ("succeeded", "else"), ("succeeded", "out")]
    assert journal.records[1].output == {"request_id": "req-9"}
    assert journal.records[2].output == {"amount": 3, "vip": False}
    assert set(journal.errors.values()) == {None}


def test_a_failed_step_records_the_error_and_stops_the_run(fixture_json, run_flow):
    document = fixture_json("valid/reply_then_continue.json")
    document["nodes"][3]["config"]["template"] = "{{ nodes.missing.text }}"

    outcome, journal = run_flow(document, "manual")

    assert outcome.status == "failed"
    assert outcome.output == {"text": "first answer"}  # the reply that ran before the failure
    assert outcome.error_node_id == "note"
    assert journal.records[4].status == "failed"
    assert journal.errors[4] == outcome.error
    assert outcome.error.startswith("Template config.template: 'nodes' has no attribute 'missing'")
    assert "second" not in journal.executed


def test_step_limit_stops_before_the_step_that_would_exceed_it(fixture_json, run_flow):
    outcome, journal = run_flow(fixture_json("valid/fan_out.json"), "manual", max_steps=4)

    assert (outcome.status, outcome.error, outcome.error_node_id) == ("failed", "step limit of 4 reached", "reply_a")
    assert journal.executed == ["manual", "start", "a", "b"]
    assert all(r.status == "succeeded" for r in journal.completed_steps())


def test_template_context_exposes_trigger_and_run(run_flow):
    document = {
        "schema_version": 1, "name": "Context",
        "nodes": [
            {"id": "api", "type": "api_trigger", "config": {"key": "ctx"}},
            {"id": "start", "type": "start"},
            {"id": "answer", "type": "reply",
             "config": {"text": "{{ trigger.request_id }} {{ run.id }} v{{ run.version }} {{ nodes.api.request_id }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e2", "source": "start", "source_port": "out", "target": "answer", "target_port": "in"},
        ],
    }

    outcome, _ = run_flow(document, "api", trigger={"request_id": "req-1"})

    assert outcome.output == {"text": "req-1 run-1 v3 req-1"}


class _Explode(NodeType):
    type = "explode"
    category = "logic"
    title = "Explode"
    description = "Fails with an unexpected exception."
    config_schema = {"type": "object", "additionalProperties": False, "properties": {}}

    def run(self, ctx):
        return 1 / 0


class _Unstorable(_Explode):
    type = "unstorable"

    def run(self, ctx):
        return NodeResult(output={"when": object()})


class _WrongPort(_Explode):
    type = "wrong_port"

    def run(self, ctx):
        return NodeResult(output={}, port="sideways")


def _registry_with(*extra: NodeType) -> NodeRegistry:
    registry = NodeRegistry()
    for node_type in [*default_registry.types(), *extra]:
        registry.register(node_type)
    return registry


def _one_node_flow(node_type: str) -> dict:
    return {
        "schema_version": 1, "name": "One node",
        "nodes": [{"id": "start", "type": "start"}, {"id": "x", "type": node_type}],
        "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "x", "target_port": "in"}],
    }


@pytest.mark.parametrize(("node_type", "message"), [
    ("explode", "Unexpected error in the explode node: ZeroDivisionError: division by zero"),
    ("unstorable", "The unstorable node produced output that cannot be stored as JSON; this is a bug in the node type."),
    ("wrong_port", "The wrong_port node chose the unknown port 'sideways'; this is a bug in the node type."),
])
def test_node_bugs_fail_the_step_with_a_readable_message(node_type, message, run_flow):
    registry = _registry_with(_Explode(), _Unstorable(), _WrongPort())
    document = _one_node_flow(node_type)
    assert flows.errors(flows.validate(document, registry)) == []

    outcome, journal = run_flow(document, "start", registry=registry)

    assert (outcome.status, outcome.error, outcome.error_node_id) == ("failed", message, "x")
    assert "Traceback" not in outcome.error
    assert journal.records[2].status == "failed"


def test_unknown_node_type_fails_the_step_not_the_worker(run_flow):
    outcome, journal = run_flow(_one_node_flow("teleport"), "start")

    assert outcome.error == "Unknown node type 'teleport'; this server cannot run it."
    assert journal.records[2].status == "failed"


def test_invalid_settings_fail_the_step_instead_of_crashing(run_flow):
    document = _one_node_flow("reply")
    document["nodes"][1]["config"] = {"text": 42}

    outcome, _ = run_flow(document, "start")

    assert outcome.error_node_id == "x"
    assert outcome.error == ("The node's settings are invalid (Text must be text.); open the flow and save it "
                             "again to see every problem.")


def test_journal_failures_propagate_instead_of_failing_the_run(fixture_json):
    class BrokenJournal:
        def completed_steps(self):
            return []

        def step_started(self, *args):
            raise ConnectionError("database is down")

        def step_finished(self, *args):
            raise AssertionError("never reached")

        def step_recorded(self, *args):
            raise ConnectionError("database is down")

    with pytest.raises(ConnectionError):
        flows.run_graph(fixture_json("valid/minimal.json"), entry_node_id="manual",
                        payload={"inputs": {"user_message": "x"}}, journal=BrokenJournal(), run_info={})


def test_outputs_are_plain_json_copies(run_flow):
    document = _one_node_flow("template")
    document["nodes"][1]["config"] = {"template": '{"a": [1, 2]}', "parse_json": True}

    outcome, journal = run_flow(document, "start")

    assert journal.records[2].output == {"text": '{"a": [1, 2]}', "data": {"a": [1, 2]}}
    assert outcome.status == "succeeded"


def test_parse_json_failure_explains_how_to_fix(run_flow):
    document = _one_node_flow("template")
    document["nodes"][1]["config"] = {"template": "{not json", "parse_json": True}

    outcome, _ = run_flow(document, "start")

    assert outcome.error == ("The rendered template is not valid JSON (Expecting property name enclosed in "
                             "double quotes at line 1 column 2). Fix the template or turn off 'Parse as JSON'.")
