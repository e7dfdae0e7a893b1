"""Set variables, switch, delay, retry and the error port, redaction, sessions and template limits, in the engine."""

from __future__ import annotations

import time

import pytest

import flows
from flows import TemplateError, render_template


def flow(*nodes: dict, edges: list[tuple] | None = None, inputs: list | None = None) -> dict:
    """start → nodes in a chain (or along `edges`: (source, port, target))."""
    start = {"id": "start", "type": "start", "config": {"inputs": inputs or [
        {"name": "message", "type": "string", "required": True}], "message_input": "message"}}
    all_nodes = [start, *nodes]
    if edges is None:
        edges = [(a["id"], "out", b["id"]) for a, b in zip(all_nodes, all_nodes[1:])]
    return {"schema_version": 1, "name": "t", "nodes": all_nodes,
            "edges": [{"id": f"e{i}", "source": s, "source_port": p, "target": t, "target_port": "in"}
                      for i, (s, p, t) in enumerate(edges)]}


def reply(node_id: str, text: str) -> dict:
    return {"id": node_id, "type": "reply", "config": {"text": text}}


def test_set_variables_reads_text_numbers_booleans_and_json(run_flow):
    document = flow(
        {"id": "vars", "type": "set_variables", "config": {"variables": [
            {"name": "shout", "value": "{{ inputs.message | upper }}"},
            {"name": "count", "value": "{{ inputs.message | length }}", "as": "number"},
            {"name": "ratio", "value": "0.5", "as": "number"},
            {"name": "loud", "value": "{{ inputs.message.endswith('!') }}", "as": "boolean"},
            {"name": "data", "value": '{"items": {{ [1, 2] | tojson }}}', "as": "json"}]}},
        reply("answer", "{{ nodes.vars.shout }} {{ nodes.vars.count + 1 }} {{ nodes.vars.data['items'][1] }}"))
    assert flows.errors(flows.validate(document)) == []

    outcome, _ = run_flow(document, "start", {"message": "hey!"})

    assert outcome.status == "succeeded"
    assert outcome.output["text"] == "HEY! 5 2"


def test_set_variables_says_which_variable_is_not_a_number(run_flow):
    document = flow({"id": "vars", "type": "set_variables", "config": {"variables": [
        {"name": "count", "value": "{{ inputs.message }}", "as": "number"}]}})

    outcome, _ = run_flow(document, "start", {"message": "many"})

    assert outcome.status == "failed"
    assert "Variable 'count' should be a number" in outcome.error


def test_duplicate_variable_names_are_a_problem():
    document = flow({"id": "vars", "type": "set_variables", "config": {"variables": [
        {"name": "a", "value": "1"}, {"name": "a", "value": "2"}]}})

    assert [(p.code, p.path) for p in flows.errors(flows.validate(document))] == [
        ("duplicate_variable", "config.variables[1].name")]


@pytest.mark.parametrize(("message", "answer"), [("db", "red"), ("API", "green"), ("web", "unknown")])
def test_switch_takes_the_first_equal_case_or_default(run_flow, message, answer):
    document = flow(
        {"id": "pick", "type": "switch", "config": {"value": "{{ inputs.message }}", "ignore_case": True, "cases": [
            {"port": "bad", "equals": "db"}, {"port": "good", "equals": "api"}]}},
        reply("red", "red"), reply("green", "green"), reply("other", "unknown"),
        edges=[("start", "out", "pick"), ("pick", "bad", "red"), ("pick", "good", "green"),
               ("pick", "default", "other")])
    assert flows.errors(flows.validate(document)) == []

    outcome, _ = run_flow(document, "start", {"message": message})

    assert outcome.output["text"] == answer


def test_switch_refuses_reserved_and_repeated_ports():
    document = flow({"id": "pick", "type": "switch", "config": {"value": "x", "cases": [
        {"port": "a", "equals": "1"}, {"port": "a", "equals": "2"}, {"port": "default", "equals": "3"}]}})

    assert [p.path for p in flows.validate(document) if p.code == "duplicate_port"] == [
        "config.cases[1].port", "config.cases[2].port"]


def test_delay_parks_the_run_and_a_later_call_continues_without_rerunning_steps(run_flow):
    document = flow(reply("before", "wait for it"), {"id": "wait", "type": "delay", "config": {"amount": 2, "unit": "hours"}},
                    reply("after", "done after {{ nodes.wait.seconds | int }} s"))
    now = [1_000_000.0]

    outcome, journal = run_flow(document, "start", {"message": "x"}, clock=lambda: now[0])

    assert outcome.status == "waiting"
    assert outcome.resume_at == 1_000_000.0 + 7200
    assert outcome.output["text"] == "wait for it"
    assert journal.executed == ["start", "before", "wait"]

    early, journal = run_flow(document, "start", {"message": "x"}, journal=journal, clock=lambda: now[0] + 60)
    assert (early.status, early.resume_at, journal.executed) == ("waiting", 1_000_000.0 + 7200, ["start", "before", "wait"])

    now[0] += 7200
    resumed, journal = run_flow(document, "start", {"message": "x"}, journal=journal, clock=lambda: now[0])
    assert resumed.status == "succeeded"
    assert resumed.output["text"] == "done after 7200 s"
    assert journal.executed == ["start", "before", "wait", "after"]  # nothing ran twice


def test_retry_records_each_attempt_and_the_error_port_carries_the_message(run_flow):
    failing = {"id": "parse", "type": "template", "config": {
        "template": "{{ inputs.message }}", "parse_json": True,
        "retry": {"attempts": 3, "backoff_seconds": 0.5}, "on_error": "port"}}
    document = flow(failing, reply("ok", "parsed"), reply("sorry", "Could not parse: {{ nodes.parse.error.message }}"),
                    edges=[("start", "out", "parse"), ("parse", "out", "ok"), ("parse", "error", "sorry")])
    assert flows.errors(flows.validate(document)) == []
    waits = []

    outcome, journal = run_flow(document, "start", {"message": "not json"}, sleep=waits.append)

    assert outcome.status == "succeeded"
    assert outcome.output["text"].startswith("Could not parse: The rendered template is not valid JSON")
    assert [s["attempt"] for s in journal.started if s["node_id"] == "parse"] == [1, 2, 3]
    assert waits == [0.5, 1.0]  # doubled after each failed attempt
    parse = journal.records[2]
    assert (parse.status, parse.port, parse.output["error"]["attempts"]) == ("failed", "error", 3)


def test_without_an_error_port_the_last_failed_attempt_fails_the_run(run_flow):
    document = flow({"id": "parse", "type": "template", "config": {
        "template": "x", "parse_json": True, "retry": {"attempts": 2, "backoff_seconds": 0}}})

    outcome, journal = run_flow(document, "start", {"message": "m"}, sleep=lambda s: None)

    assert (outcome.status, outcome.error_node_id) == ("failed", "parse")
    assert [s["attempt"] for s in journal.started if s["node_id"] == "parse"] == [1, 2]


def test_the_error_port_exists_only_when_chosen():
    document = flow({"id": "t", "type": "template", "config": {"template": "x"}}, reply("r", "r"),
                    edges=[("start", "out", "t"), ("t", "error", "r")])

    assert [p.code for p in flows.errors(flows.validate(document))] == ["unknown_port"]


def test_a_resumed_run_retries_a_failed_attempt_that_had_attempts_left(run_flow, memory_journal):
    document = flow({"id": "parse", "type": "template", "config": {
        "template": "{{ inputs.message }}", "parse_json": True, "retry": {"attempts": 2, "backoff_seconds": 0}}},
        reply("r", "{{ nodes.parse.data.ok }}"))
    records = [flows.StepRecord(1, "start", "succeeded", {"message": '{"ok": "yes"}'}, "out"),
               flows.StepRecord(2, "parse", "failed", None, None, attempt=1)]

    outcome, journal = run_flow(document, "start", {"message": '{"ok": "yes"}'}, journal=memory_journal(records))

    assert outcome.status == "succeeded" and outcome.output["text"] == "yes"
    assert [(s["node_id"], s["attempt"]) for s in journal.started] == [("parse", 2), ("r", 1)]


def test_secrets_given_to_a_node_never_reach_its_recorded_output_or_error(run_flow, memory_journal):
    class EchoCredential(flows.NodeType):
        type, category, title, description = "echo_credential", "logic", "Echo", "Leaks on purpose."
        config_schema = {"type": "object", "additionalProperties": False, "properties": {}}

        def run(self, ctx):
            secret = ctx.credential("svc")["value"]
            if ctx.attempt == 1:
                raise flows.NodeError(f"server said: bad token {secret}")
            return flows.NodeResult({"echo": f"Bearer {secret}", secret: "as a key"})

    registry = flows.NodeRegistry()
    for node_type in flows.registry.types():
        registry.register(node_type)
    registry.register(EchoCredential())
    document = flow({"id": "leak", "type": "echo_credential", "config": {"retry": {"attempts": 2, "backoff_seconds": 0}}})
    secrets = {"svc": {"kind": "bearer", "name": "svc", "value": "sk-very-secret-123"}}

    journal = memory_journal()
    errors = []
    finished = journal.step_finished
    journal.step_finished = lambda seq, status, output, port, error: (errors.append(error),
                                                                      finished(seq, status, output, port, error))

    outcome, journal = run_flow(document, "start", {"message": "m"}, registry=registry, credentials=secrets.get,
                                sleep=lambda s: None, journal=journal)

    assert outcome.status == "succeeded"
    assert "sk-very-secret-123" not in repr([journal.records, errors, journal.started])
    assert "server said: bad token [redacted]" in errors
    assert journal.records[2].output == {"echo": "Bearer [redacted]", "[redacted]": "as a key"}


def test_an_unknown_credential_fails_the_step_naming_it(run_flow):
    document = flow({"id": "call", "type": "http_request", "config": {"url": "http://example.invalid/", "credential": "nope"}})

    outcome, _ = run_flow(document, "start", {"message": "m"}, credentials=lambda name: None)

    assert outcome.status == "failed"
    assert "The credential 'nope' does not exist" in outcome.error


def test_templates_see_the_session_and_an_empty_one_without_it(run_flow):
    document = flow(reply("r", "{{ session.history | default([]) | length }} turns, id {{ session.id | default('none') }}"))
    session = {"id": "s-1", "history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}

    with_session, _ = run_flow(document, "start", {"message": "m"}, trigger={"session": session})
    without, _ = run_flow(document, "start", {"message": "m"})

    assert with_session.output["text"] == "2 turns, id s-1"
    assert without.output["text"] == "0 turns, id none"


def test_each_reply_is_published_as_an_event(run_flow):
    document = flow(reply("first", "Looking that up…"), reply("second", "Found it: {{ inputs.message }}"))
    events = []

    outcome, _ = run_flow(document, "start", {"message": "m"}, emit=events.append)

    assert events == [{"type": "reply", "node_id": "first", "text": "Looking that up…"},
                      {"type": "reply", "node_id": "second", "text": "Found it: m"}]
    assert outcome.output == {"text": "Found it: m"}  # the last reply is the answer


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ (''|attr('__class__')|attr('__mro__'))[1] }}",
    "{{ inputs.update({'x': 1}) }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_escapes_are_refused(source):
    with pytest.raises(TemplateError) as info:
        render_template(source, {"inputs": {"a": 1}}, "config.text")

    assert str(info.value).startswith("Template config.text: ")
    assert "not allowed" in str(info.value) or "has no attribute" in str(info.value) or "undefined" in str(info.value)


# The limits other than time get a time limit a loaded machine cannot reach first (20,000 loop
# passes to the output cap took longer than 0.3 s on two busy cores).
@pytest.mark.parametrize(("source", "reason", "time_limit"), [
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "took longer than 0.3 s", 0.3),
    ("{% set l = range(100000) | list %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}",
     "took longer than 0.3 s", 0.3),
    ("{{ 'x' * 100000 * 100000 }}", "exceeded its size limit: '*' (repetition) would build about 10000000000", 20),
    ("{% for i in range(100000) %}{{ 'y' * 50 }}{% endfor %}", "produced more than 1000000 characters", 20),
    ("{{ 99 ** 99999 }}", "exceeded its size limit: '**' (a number of 699993 bits)", 20),
])
def test_runaway_templates_stop_with_a_clear_error(source, reason, time_limit):
    started = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render_template(source, {}, "config.template", time_limit=time_limit)

    assert reason in str(info.value)
    assert time.monotonic() - started < 30  # bounded: the limit stopped it, not the test's patience
