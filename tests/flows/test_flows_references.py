"""Template references read from Jinja's parse tree, template settings found in any schema, values at a node."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

import flows
from flows.available import available_values, result_schema, value_label
from flows.graph import Graph
from flows.references import expression, template_fields, template_references
from tests.flows.documents import chain


def refs(source: str) -> list[tuple]:
    return [(r.root, r.parts) for r in template_references(source)]


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ inputs.name }}", [("inputs", ("name",))]),
    ("{{ nodes.fetch.json.items }}", [("nodes", ("fetch", "json", "items"))]),
    ("{{ nodes['my-node'].text }}", [("nodes", ("my-node", "text"))]),
    ('{{ nodes["a"]["text"] }}', [("nodes", ("a", "text"))]),
    ("{{ nodes.list[0].name }}", [("nodes", ("list", 0, "name"))]),
    ("{{ nodes.check.text | upper | truncate(5) }}", [("nodes", ("check", "text"))]),
    ("{{ inputs.get('city') }}", [("inputs", ("city",))]),
    ("{{ inputs.get('city', 'Oslo') }}", [("inputs", ("city",))]),
    ("{{ inputs.name.upper() }}", [("inputs", ("name",))]),
    ("{{ inputs | tojson }}", [("inputs", ())]),
    ("{{ nodes[inputs.which].text }}", [("nodes", ()), ("inputs", ("which",))]),
    ("{% for item in nodes.fetch.json %}{{ item.name }} {{ loop.index }}{% endfor %}",
     [("nodes", ("fetch", "json"))]),
    ("{% for k, v in inputs.items() %}{{ k }}={{ v }}{% endfor %}", [("inputs", ())]),
    ("{% if nodes.maybe is defined %}{{ trigger.body.x }}{% endif %}", [("trigger", ("body", "x"))]),
    ("{% set inputs = {'a': 1} %}{{ inputs.b }}", []),  # shadowed: not the run's inputs
    ("{% macro m(nodes) %}{{ nodes.x }}{% endmacro %}{{ m(1) }}", []),
    ("{{ session.history | length }} {{ run.id }}", [("session", ("history",)), ("run", ("id",))]),
    ("{{ ','.join(inputs.tags) }}", [("inputs", ("tags",))]),
    ("{{ range(inputs.n) | list }}", [("inputs", ("n",))]),
    ("plain text, no template", []),
    ("{{ other.thing }} {{ inputsx }}", []),
])
def test_references_are_read_as_the_renderer_reads_them(source, expected):
    assert refs(source) == expected


def test_a_template_that_does_not_parse_raises():
    with pytest.raises(TemplateSyntaxError):
        template_references("{{ inputs.name ")


def test_expressions_are_written_as_people_type_them():
    assert expression("nodes", ("fetch", "text")) == "nodes.fetch.text"
    assert expression("nodes", ("my-node", "text")) == "nodes['my-node'].text"
    assert expression("inputs", ("if",)) == "inputs['if']"
    assert expression("nodes", ("list", 0)) == "nodes.list[0]"


def test_template_settings_are_found_nested_with_readable_titles():
    http = flows.registry.get("http_request")
    config = {"url": "https://x/{{ inputs.a }}", "headers": {"X-Id": "{{ inputs.b }}"}, "json_body": "{}"}
    fields = {f.path: f.title for f in template_fields(http.config_schema, config)}
    assert fields == {"config.url": "URL", "config.headers.X-Id": "Headers › X-Id", "config.json_body": "JSON body"}
    condition = flows.registry.get("condition")
    config = {"branches": [{"port": "yes", "conditions": [{"value": "{{ inputs.a }}", "operator": "is_empty"}]}]}
    [field] = template_fields(condition.config_schema, config)
    assert (field.path, field.title) == ("config.branches[0].conditions[0].value",
                                         "Branch 1 › Condition 1 › Value")


def _flow() -> dict:
    document = chain(
        {"id": "manual", "type": "manual_trigger"},
        {"id": "start", "type": "start", "config": {"inputs": [{"name": "city", "type": "string"},
                                                              {"name": "days", "type": "integer"}]}},
        {"id": "call", "type": "http_request", "name": "Weather", "config": {"url": "https://x", "on_error": "port"}},
        {"id": "vars", "type": "set_variables", "config": {"variables": [{"name": "n", "value": "1", "as": "number"}]}},
        {"id": "answer", "type": "reply", "config": {"text": "{{ nodes.vars.n }}"}})
    return document


def test_values_at_a_node_are_inputs_trigger_and_upstream_outputs_only():
    at_vars = {v["expression"]: v for v in available_values(_flow(), "vars")}
    assert at_vars["inputs.days"]["type"] == "Number" and at_vars["inputs.days"]["label"] == "Start › days"
    assert at_vars["nodes.call.status"] == {"expression": "nodes.call.status", "label": "Weather › status",
                                            "group": "Weather", "type": "Number", "node_id": "call",
                                            "description": "The answer's HTTP status, e.g. 200."}
    assert "nodes.call.error" in at_vars  # its error port is on
    assert "trigger.received_at" in at_vars
    assert not any(e.startswith(("nodes.vars", "nodes.answer", "session.")) for e in at_vars)  # no conversations
    at_answer = {v["expression"]: v for v in available_values(_flow(), "answer")}
    assert at_answer["nodes.vars.n"]["type"] == "Number" and at_answer["nodes.vars.n"]["label"] == "Set variables › n"


def test_trigger_values_read_in_words_with_a_hint_and_insert_their_names():
    at_vars = {v["expression"]: v for v in available_values(_flow(), "vars")}
    request_id = at_vars["trigger.request_id"]
    assert request_id["label"].endswith(" › Request id") and request_id["hint"] == request_id["description"]
    assert at_vars["trigger.received_at"]["label"].endswith(" › Received")
    trigger_labels = [v["label"] for v in at_vars.values() if v["expression"].startswith("trigger.")]
    assert not any("_" in label for label in trigger_labels), trigger_labels  # no node_id, request_id…
    assert "hint" not in at_vars["inputs.days"]  # its name is the person's own word already


def test_problems_name_trigger_and_conversation_values_as_the_picker_does():
    graph = Graph(_flow())
    listed = {v["expression"]: v["label"] for v in available_values(_flow(), "vars")}
    assert value_label(graph, "trigger", "request_id") == listed["trigger.request_id"]
    assert value_label(graph, "trigger", "request_id").endswith(" › Request id")  # the words, not only one source
    assert value_label(graph, "trigger", "not_a_field") == "Trigger › not_a_field"
    assert value_label(graph, "session", "history") == "Conversation › Messages so far"
    assert value_label(graph, "run", "id") is None


def test_a_steps_result_is_named_as_the_picker_names_its_values():
    """The run page labels a step's Result with the picker's titles: one source for both."""
    graph = Graph(_flow())
    listed = {v["expression"]: v["label"] for v in available_values(_flow(), "answer")}
    call = result_schema(graph, "call")["properties"]
    assert listed["nodes.call.duration_ms"] == "Weather › " + call["duration_ms"]["title"] == "Weather › Time taken (ms)"
    assert listed["nodes.call.json"].endswith(call["json"]["title"]) and "title" not in call["status"]
    assert "error" in call  # its error port is on, so a failed call's result has the error
    trigger = result_schema(graph, "manual")["properties"]
    assert trigger["request_id"] == {"title": "Request id"}
    assert trigger["received_at"] == {"title": "Received", "format": "date-time"}  # a time, written as one
    session = trigger["session"]
    assert session["title"] == "Conversation" and session["properties"]["history"]["title"] == "Messages so far"
    assert session["properties"]["conversation_id"]["title"] == "Conversation record"
    assert session["properties"]["started_at"]["format"] == "date-time"
    assert result_schema(graph, "nowhere") is None
    assert not any("ISO" in v["description"] for v in available_values(_flow(), "answer"))  # plain words


def test_nothing_is_available_at_a_trigger_and_its_default_text_is_not_read_as_a_template():
    document = _flow()
    document["nodes"][0] = {"id": "manual", "type": "api_trigger", "config": {"key": "k", "default_text": "{{ raw"}}
    assert available_values(document, "manual") == []
    assert flows.errors(flows.validate(document)) == []


@pytest.mark.parametrize("document", [None, 5, "x", [], {"nodes": {"a": 1}}, {"nodes": [{"id": "a", "config": 7}]},
                                      {"nodes": [{"id": "a", "type": "template", "config": {"parse_json": []}},
                                                 {"id": "b", "type": "reply"}],
                                       "edges": [{"id": "e", "source": "a", "source_port": "out", "target": "b",
                                                  "target_port": "in"}]}])
def test_values_never_fail_on_broken_documents(document):
    assert isinstance(available_values(document, "b"), list)
    assert available_values(document, "ghost") == []
