"""Small flow documents for app tests, built in code so each test states what differs."""

from __future__ import annotations

import copy


def greeting_flow(key: str = "hello", name: str = "Greeter", **trigger_config) -> dict:
    """api + manual trigger → start(message, name) → template → condition → reply."""
    api_config = {"key": key, **trigger_config}
    return {
        "schema_version": 1,
        "name": name,
        "description": "Greets people, and reports status when asked.",
        "nodes": [
            {"id": "api", "type": "api_trigger", "name": "REST", "config": api_config, "position": {"x": 0, "y": 0}},
            {"id": "manual", "type": "manual_trigger", "name": "Run now", "config": {}, "position": {"x": 0, "y": 120}},
            {"id": "start", "type": "start", "name": "Start", "position": {"x": 200, "y": 60}, "config": {
                "message_input": "message",
                "inputs": [
                    {"name": "message", "type": "string", "required": True, "description": "what the user said"},
                    {"name": "person", "type": "string", "default": "friend"},
                    {"name": "count", "type": "integer", "default": 1},
                ]}},
            {"id": "greet", "type": "template", "name": "Compose", "position": {"x": 400, "y": 60},
             "config": {"template": "Hello {{ inputs.person }} x{{ inputs.count }}: {{ inputs.message }}"}},
            {"id": "route", "type": "condition", "name": "Status?", "position": {"x": 600, "y": 60}, "config": {
                "branches": [{"port": "status", "label": "asks for status", "match": "any", "conditions": [
                    {"value": "{{ inputs.message }}", "operator": "contains", "compare_to": "status"}]}]}},
            {"id": "status_reply", "type": "reply", "name": "Status", "position": {"x": 800, "y": 0},
             "config": {"text": "All systems operational. ({{ nodes.greet.text }})"}},
            {"id": "reply", "type": "reply", "name": "Answer", "position": {"x": 800, "y": 120},
             "config": {"text": "{{ nodes.greet.text }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e2", "source": "manual", "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e3", "source": "start", "source_port": "out", "target": "greet", "target_port": "in"},
            {"id": "e4", "source": "greet", "source_port": "out", "target": "route", "target_port": "in"},
            {"id": "e5", "source": "route", "source_port": "status", "target": "status_reply", "target_port": "in"},
            {"id": "e6", "source": "route", "source_port": "else", "target": "reply", "target_port": "in"},
        ],
    }


def with_reply_text(document: dict, text: str) -> dict:
    changed = copy.deepcopy(document)
    for node in changed["nodes"]:
        if node["id"] == "reply":
            node["config"]["text"] = text
    return changed


def without_node(document: dict, node_id: str) -> dict:
    changed = copy.deepcopy(document)
    changed["nodes"] = [n for n in changed["nodes"] if n["id"] != node_id]
    changed["edges"] = [e for e in changed["edges"] if node_id not in (e["source"], e["target"])]
    return changed


def with_trigger_config(document: dict, **config) -> dict:
    changed = copy.deepcopy(document)
    for node in changed["nodes"]:
        if node["id"] == "api":
            node["config"].update(config)
    return changed


def echo_flow(key: str = "echo", reply: str = "{{ inputs.message }}", inputs: list | None = None,
              **trigger_config) -> dict:
    """api trigger → start(message) → reply(`reply`): shows what a request made of the run."""
    return {
        "schema_version": 1,
        "name": "Echo",
        "nodes": [
            {"id": "api", "type": "api_trigger", "config": {"key": key, **trigger_config}, "position": {"x": 0, "y": 0}},
            {"id": "start", "type": "start", "position": {"x": 200, "y": 0}, "config": {
                "message_input": "message",
                "inputs": inputs or [{"name": "message", "type": "string", "default": ""}]}},
            {"id": "reply", "type": "reply", "position": {"x": 400, "y": 0}, "config": {"text": reply}},
        ],
        "edges": [
            {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e2", "source": "start", "source_port": "out", "target": "reply", "target_port": "in"},
        ],
    }


def with_slow_step(document: dict, service_url: str, seconds: float = 2) -> dict:
    """Make the `greet` step take `seconds`: an HTTP call to a loopback stand-in that answers late.

    A real slow call (not a long template loop, which the render time limit would stop) is what
    a flow that waits on another system looks like. The replies then use its answer.
    """
    changed = copy.deepcopy(document)
    for node in changed["nodes"]:
        if node["id"] == "greet":
            node.update(type="http_request", config={"url": f"{service_url}/slow?seconds={seconds}"})
        elif node["type"] == "reply":
            node["config"]["text"] = node["config"]["text"].replace("nodes.greet.text", "nodes.greet.json.text")
    return changed


def schedule_flow(name: str = "Ticker", node_id: str = "every", **config) -> dict:
    """schedule trigger → start(note with a default) → reply naming the planned fire time."""
    schedule_config = {"mode": "interval", "interval_seconds": 60, **config}
    return {
        "schema_version": 1,
        "name": name,
        "nodes": [
            {"id": node_id, "type": "schedule_trigger", "name": "Schedule", "config": schedule_config,
             "position": {"x": 0, "y": 0}},
            {"id": "start", "type": "start", "name": "Start", "position": {"x": 200, "y": 0}, "config": {
                "inputs": [{"name": "note", "type": "string", "default": "tick"}]}},
            {"id": "reply", "type": "reply", "name": "Answer", "position": {"x": 400, "y": 0},
             "config": {"text": "{{ inputs.note }} planned {{ trigger.planned_at }}"}},
        ],
        "edges": [
            {"id": "e1", "source": node_id, "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e2", "source": "start", "source_port": "out", "target": "reply", "target_port": "in"},
        ],
    }


def compared_flow(document: dict) -> dict:
    """The greeting flow's second version for the compare tests: the Answer's text changed, the manual
    trigger removed, a "Farewell" reply added on the status branch, and the start node only moved."""
    after = without_node(with_reply_text(document, "Bye {{ inputs.person }}"), "manual")
    after["nodes"].append({"id": "note", "type": "reply", "name": "Farewell", "position": {"x": 1000, "y": 300},
                           "config": {"text": "Goodbye"}})
    after["edges"].append({"id": "e9", "source": "route", "source_port": "status", "target": "note",
                           "target_port": "in"})
    start = next(n for n in after["nodes"] if n["id"] == "start")
    start["position"] = {"x": 222, "y": 66}
    return after
