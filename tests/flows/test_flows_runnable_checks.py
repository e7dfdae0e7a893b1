"""Publish only what can run: each refused class, and the runnable flows that must stay allowed."""

from __future__ import annotations

import json

import pytest

import flows
from flows.runnable_checks import credential_settings, fixed_input_errors, url_problem
from tests.flows.documents import chain
from tests.flows.test_flows_examples import EXAMPLES

START = {"id": "start", "type": "start", "config": {"message_input": "message", "inputs": [
    {"name": "message", "type": "string", "required": True}, {"name": "items", "type": "array", "default": []},
    {"name": "n", "type": "integer", "default": 1}]}}


def _flow(*nodes: dict) -> dict:
    return chain({"id": "manual", "type": "manual_trigger"}, START, *nodes)


def _errors(document, **kwargs) -> list[tuple]:
    return [(p.code, p.node_id, p.path) for p in flows.errors(flows.validate(document, **kwargs))]


@pytest.mark.parametrize("url", [
    "https://example.com", "http://localhost:8080/a?b=c", "HTTPS://EXAMPLE.COM", "{{ inputs.message }}",
    "https://x.example.com/{{ inputs.message | urlencode }}", "https://{{ inputs.message }}/api", "http{{ inputs.message }}",
    "{% if inputs.n %}https://a.example{% else %}https://b.example{% endif %}", "  https://example.com/  ",
])
def test_absolute_and_templated_urls_are_allowed(url):
    assert url_problem(url.strip()) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("https://", "placeholder"), ("http://", "placeholder"), ("ftp://example.com", "not a web address"),
    ("example.com", "not a web address"), ("/relative/path", "not a web address"), ("https:///x", "no host"),
    ("mailto:a@b.c", "not a web address"), ("api/{{ inputs.x }}", "must start with"),
    ("file://{{ inputs.x }}", "must start with"), ("http://[::1", "not a web address"),
])
def test_urls_that_cannot_be_requested_are_refused(url, reason):
    assert reason in url_problem(url)


def test_blank_required_settings_are_refused_with_node_and_field_names():
    document = _flow({"id": "answer", "type": "reply", "name": "Answer", "config": {"text": " \n "}})
    [problem] = flows.errors(flows.validate(document))
    assert (problem.code, problem.node_id, problem.path) == ("empty_field", "answer", "config.text")
    assert problem.message.startswith('Answer: "Text" is empty')
    default = _flow({"id": "t", "type": "template", "config": flows.registry.get("template").default_config()},
                    {"id": "r", "type": "reply", "config": {"text": "x"}})
    assert _errors(default) == [("empty_field", "t", "config.template")]  # a fresh node's default is blank


def test_a_blank_value_inside_a_list_setting_is_refused_and_named_as_the_form_names_it():
    """A condition, switch or LLM message on nothing published, then answered wrongly: blanks in lists count too."""
    condition = {"id": "route", "type": "condition", "name": "Status?", "config": {"branches": [
        {"port": "a", "conditions": [{"value": "{{ inputs.message }}", "operator": "is_not_empty"}]},
        {"port": "b", "conditions": [{"value": "{{ inputs.n }}", "operator": "is_not_empty"},
                                     {"value": "  ", "operator": "equals", "compare_to": "42"}]}]}}
    switch = {"id": "pick", "type": "switch", "config": {"value": "", "cases": [{"port": "one", "equals": "1"}]}}
    llm = {"id": "ask", "type": "llm", "config": {**flows.registry.get("llm").default_config(), "messages": [
        {"role": "user", "content": "{{ inputs.message }}"}, {"role": "user", "content": ""}]}}
    problems = {p.node_id: p for p in flows.errors(flows.validate(_flow(condition)))}
    problems |= {p.node_id: p for p in flows.errors(flows.validate(_flow(switch)))}
    problems |= {p.node_id: p for p in flows.errors(flows.validate(_flow(llm)))}

    assert {(p.code, p.node_id, p.path) for p in problems.values()} == {
        ("empty_field", "route", "config.branches[1].conditions[1].value"),
        ("empty_field", "pick", "config.value"), ("empty_field", "ask", "config.messages[1].content")}
    assert problems["route"].message.startswith('Status?: "Branch 2 › Condition 2 › Value" is empty; fill it in')
    assert problems["pick"].message.startswith('Switch: "Value" is empty')
    assert problems["ask"].message.startswith('LLM: "Message 2 › Content" is empty')
    fresh = flows.registry.get("condition").default_config()
    assert _errors(_flow({"id": "c", "type": "condition", "config": fresh})) == [
        ("empty_field", "c", "config.branches[0].conditions[0].value")]  # a fresh node asks for its value


def _list_settings(schema: object, path: str = "config"):
    """Yield (path, schema) of every list setting in a node type's settings schema, nested ones too."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "array" or "items" in schema:
        yield path, schema
        yield from _list_settings(schema.get("items"), path + "[]")
    for name, prop in (schema.get("properties") or {}).items():
        yield from _list_settings(prop, f"{path}.{name}")


def test_every_list_setting_names_its_items_in_the_schema_the_canvas_reads():
    """The canvas names list items from the palette's schemas; the messages from the same annotation."""
    from flows.nodes.schema_parts import ITEM_TITLE

    lists = {(entry["type"], path): prop.get(ITEM_TITLE)
             for entry in flows.registry.palette() for path, prop in _list_settings(entry["config_schema"])}
    assert lists == {("start", "config.inputs"): "Input", ("llm", "config.messages"): "Message",
                     ("set_variables", "config.variables"): "Variable", ("condition", "config.branches"): "Branch",
                     ("condition", "config.branches[].conditions"): "Condition", ("switch", "config.cases"): "Case"}


def test_a_list_item_is_named_by_its_annotation_and_by_the_old_rule_only_without_one():
    from flows.nodes.schema_parts import item_title

    branches = flows.registry.get("condition").config_schema["properties"]["branches"]
    conditions = branches["items"]["properties"]["conditions"]
    condition = {"id": "route", "type": "condition", "name": "Status?", "config": {"branches": [
        {"port": "a", "conditions": [{"value": "{{ inputs.message }}", "operator": "is_not_empty"}]},
        {"port": "b", "conditions": [{"value": "{{ inputs.n }}", "operator": "is_not_empty"},
                                     {"value": "", "operator": "is_empty"}]}]}}
    [problem] = flows.errors(flows.validate(_flow(condition)))
    assert f'"{item_title(branches)} 2 › {item_title(conditions)} 2 › Value"' in problem.message
    assert '"Branch 2 › Condition 2 › Value"' in problem.message  # the words themselves, not only their source
    assert item_title({"title": "Criteria", "x-item-title": "Criterion"}) == "Criterion"  # no rule gets this right
    assert [item_title({"title": t}) for t in ("Branches", "Entries", "Messages", "Address", "s")] == [
        "Branch", "Entry", "Message", "Address", "s"]  # canvas-forms.js's `singular`, for lists without one
    assert item_title({}) == "Item"


def test_the_http_placeholder_left_from_the_palette_is_refused():
    document = _flow({"id": "call", "type": "http_request", "config": flows.registry.get("http_request").default_config()},
                     {"id": "r", "type": "reply", "config": {"text": "{{ nodes.call.body }}"}})
    assert _errors(document) == [("invalid_url", "call", "config.url")]


def test_credentials_are_checked_only_when_their_names_are_known():
    document = _flow({"id": "call", "type": "http_request", "name": "Fetch",
                      "config": {"url": "https://x.example", "credential": "tok"}},
                     {"id": "r", "type": "reply", "config": {"text": "{{ nodes.call.status }}"}})
    assert _errors(document) == []
    assert _errors(document, credentials={"tok"}) == []
    assert _errors(document, credentials=[]) == [("unknown_credential", "call", "config.credential")]
    [problem] = flows.validate(document, credentials=("other",))
    assert "Fetch" in problem.message and '"Credential"' in problem.message and "'tok'" in problem.message


def test_schedule_inputs_are_checked_like_a_request_body():
    assert fixed_input_errors(START["config"], {"message": "hi"}) == []
    assert fixed_input_errors(START["config"], {"user_message": "hi", "n": 3}) == []
    assert fixed_input_errors(START["config"], {}) == ["leave out the required input 'message'"]
    assert fixed_input_errors(START["config"], {"message": "hi", "n": "3"}) == ["set 'n', which must be an integer"]
    assert fixed_input_errors(START["config"], {"text": "a", "user_message": "b"}) == [
        "set the message twice (user_message, text)"]
    assert fixed_input_errors({"inputs": []}, {"text": "hi"}) == ["send 'text', but the start node has no message input"]
    # A fire would be refused for this (the body rule), so the editor refuses it too.
    assert fixed_input_errors(START["config"], {"user_message": "a", "message": "b"}) == [
        "set the message twice ('user_message' and 'message')"]


@pytest.mark.parametrize("text", [
    "{{ inputs.message }} {{ inputs.get('message') }} {{ inputs.get('n', 2) }}",
    "{% for item in inputs['items'] %}{{ item.name }}{{ loop.index }}{% endfor %}",
    "{{ nodes['shape'].text | upper }} {{ nodes.shape.data.whatever[0] }}",
    "{{ nodes.start.message }} {{ trigger.body.anything }} {{ session.contact }} {{ run.id }}",
    "{% set x = nodes.shape %}{{ x.anything }}",
    "{% if nodes.later is defined %}{{ 1 }}{% endif %}",
])
def test_templates_that_can_render_are_allowed(text):
    document = _flow({"id": "shape", "type": "template", "config": {"template": "{}", "parse_json": True}},
                     {"id": "answer", "type": "reply", "config": {"text": text}})
    assert _errors(document) == []


@pytest.mark.parametrize(("text", "code"), [
    ("{{ inputs.mesage }}", "unknown_input"), ("{{ inputs.get('city') }}", "unknown_input"),
    ("{{ nodes.ghost.text }}", "unknown_node"), ("{{ nodes['ghost'] }}", "unknown_node"),
    ("{{ nodes.answer.text }}", "node_not_upstream"), ("{{ nodes.shape.txt }}", "unknown_output"),
    ("{{ nodes.start.city }}", "unknown_output"), ("{% for x in inputs.message %}", "template_syntax_error"),
    ("{{ inputs.message | shout }}", "template_syntax_error"),
])
def test_templates_that_cannot_render_are_refused(text, code):
    document = _flow({"id": "shape", "type": "template", "config": {"template": "x"}},
                     {"id": "answer", "type": "reply", "config": {"text": text}})
    assert _errors(document) == [(code, "answer", "config.text")]


def test_refusals_name_values_as_the_canvas_does_not_by_internal_id():
    text = "{{ inputs.mesage }} {{ nodes.ghost.text }} {{ nodes.answer.text }} {{ nodes.shape.txt }}"
    document = _flow({"id": "shape", "type": "template", "name": "Shape it", "config": {"template": "x"}},
                     {"id": "answer", "type": "reply", "name": "Answer", "config": {"text": text}})
    where = 'Answer: "Text" uses '
    assert [p.message for p in flows.errors(flows.validate(document))] == [
        where + "Start › mesage, but the start node has no input 'mesage' (its inputs are: message, items, n); "
                "add the input or pick another value.",
        where + "ghost › text, but no such step is on the canvas (was it deleted?); pick a value from an earlier "
                "step with Insert value.",
        where + 'Answer › text, but "Answer" never runs before this node; connect it earlier in the flow or pick '
                "another value.",
        where + "Shape it › txt, but \"Shape it\" has no output 'txt' (it has: text); pick another value.",
    ]


def _branches(reply_a: str, reply_b: str, port_b: str) -> dict:
    document = _flow({"id": "check", "type": "condition", "config": {"branches": [{"port": "yes", "conditions": [
        {"value": "{{ inputs.message }}", "operator": "is_not_empty"}]}]}})
    document["nodes"] += [{"id": "a", "type": "reply", "config": {"text": reply_a}},
                          {"id": "b", "type": "reply", "config": {"text": reply_b}}]
    document["edges"] = [e for e in document["edges"] if e["source"] != "check"] + [
        {"id": "ya", "source": "check", "source_port": "yes", "target": "a", "target_port": "in"},
        {"id": "yb", "source": "check", "source_port": port_b, "target": "b", "target_port": "in"}]
    return document


def test_a_disabled_schedule_is_not_held_to_its_inputs_until_it_is_enabled():
    document = _flow({"id": "r", "type": "reply", "config": {"text": "x"}})
    document["nodes"][0] = {"id": "manual", "type": "schedule_trigger", "config": {"enabled": False}}
    assert _errors(document) == []
    document["nodes"][0]["config"]["enabled"] = True
    assert _errors(document) == [("invalid_schedule_inputs", "manual", "config.inputs")]


def test_a_node_on_the_other_side_of_a_condition_never_ran_and_is_refused():
    document = _branches("A", "{{ nodes.a.text }}", "else")
    assert _errors(document) == [("node_not_upstream", "b", "config.text")]


def test_a_node_on_a_parallel_branch_is_only_a_warning():
    document = _branches("A", "{{ nodes.a.text }}", "yes")  # both leave by "yes": a runs first, in document order
    problems = flows.validate(document)
    assert [(p.code, p.severity) for p in problems] == [("node_maybe_not_run", "warning"),
                                                         ("branch_without_reply", "warning")]


def test_a_branch_that_ends_without_a_reply_is_a_warning_unless_only_schedules_start_the_flow():
    document = _flow({"id": "call", "type": "template", "name": "Log", "config": {"template": "x"}})
    [warning] = flows.validate(document)
    assert (warning.code, warning.severity, warning.node_id) == ("branch_without_reply", "warning", "call")
    assert '"Log"' in warning.message
    document["nodes"][0] = {"id": "manual", "type": "schedule_trigger", "config": {"inputs": {"message": "tick"}}}
    assert flows.validate(document) == []
    assert flows.validate(_branches("A", "B", "else")) == []  # both branches reply


def test_every_example_flow_publishes_in_a_workspace_with_its_credentials():
    for path in EXAMPLES:
        document = json.loads(path.read_text())
        names = {name for node in document["nodes"] if flows.registry.get(node["type"])
                 for _, name in credential_settings(flows.registry.get(node["type"]), node.get("config") or {})}
        assert flows.errors(flows.validate(document, credentials=names)) == [], path.name
