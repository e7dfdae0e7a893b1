"""The shipped example, the document schema file, the format docs and the package boundary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import flows
from flows.document import document_schema
from flows.nodes.operators import OPERATORS
from flows.patterns import NODE_OR_EDGE_ID
from flows.validation import PROBLEM_CODES

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "flows" / "examples").glob("*.json"))
DOCS = (REPO / "docs" / "flow-format.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_validate(path):
    document = json.loads(path.read_text(encoding="utf-8"))

    assert flows.errors(flows.validate(document)) == []
    Draft202012Validator(document_schema()).validate(document)


@pytest.mark.parametrize(("entry", "inputs", "answer"), [
    ("api", {"user_message": "What is the status of db?", "service": "db"},
     {"text": "Service db is degraded.", "data": {"service": "db"}}),
    ("manual", {"user_message": "Health of the API?"},
     {"text": "Service api is operational.", "data": {"service": "api"}}),
    ("api", {"user_message": "hello"},
     {"text": "I can report server status. Ask me e.g. 'what is the status of db?'"}),
])
def test_ops_example_answers(entry, inputs, answer, ops_flow, run_flow):
    outcome, journal = run_flow(ops_flow, entry, inputs)

    assert (outcome.status, outcome.output) == ("succeeded", answer)
    assert journal.executed[:4] == [entry, "start", "check", "route"]


def test_ops_example_declares_its_message_input(ops_flow):
    assert flows.message_input(flows.Graph(ops_flow).start_node()["config"]) == "user_message"


def test_schema_file_uses_the_shared_id_pattern():
    schema = document_schema()
    Draft202012Validator.check_schema(schema)

    assert schema["$defs"]["id"]["pattern"] == NODE_OR_EDGE_ID


def test_docs_explain_every_problem_code_node_type_and_operator():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS, flags=re.MULTILINE))

    assert set(PROBLEM_CODES) <= documented
    for node_type in flows.registry.types():
        assert f"### `{node_type.type}`" in DOCS
        for setting in node_type.config_schema["properties"]:
            assert f"`{setting}`" in DOCS, f"{node_type.type}.{setting} is not documented"
    for operator in OPERATORS:
        assert f"`{operator}`" in DOCS


def test_docs_example_is_the_shipped_example(ops_flow):
    block = DOCS.split("```json")[-1].split("```")[0]
    documented = json.loads(block)
    for node in ops_flow["nodes"]:  # the docs leave out cosmetic and default-valued fields
        node.pop("name", None)
        for item in node["config"].get("inputs", []):
            item.pop("description", None)
    ops_flow["nodes"][0]["config"] = {"key": "ops-status"}
    ops_flow.pop("description")

    assert documented == ops_flow


def test_engine_imports_no_web_or_queue_libraries():
    code = ("import sys, flows; banned = {'flask', 'rq', 'redis', 'sqlalchemy'}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
