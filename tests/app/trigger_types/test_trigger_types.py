"""Trigger types are adapters: one module each under app/trigger_types, and nowhere else in the app.

The grep is the rule itself (issue 15): a trigger type name written in a view, a service, a
template or a script is a string branch the next trigger type would have to find and extend.
"""

from __future__ import annotations

import re

import pytest

import flows
from tests.app.flowdocs import echo_flow, schedule_flow
from tests.app.trigger_helpers import bearer
from tests.conftest import ROOT

TRIGGER_TYPES = sorted(t.type for t in flows.registry.types() if t.is_trigger)
ALLOWED = ("app/trigger_types/",)  # the adapters and their registry
SCANNED = (".py", ".html", ".js", ".css", ".json", ".txt")


def test_trigger_type_names_appear_only_in_their_adapters_and_registry():
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, TRIGGER_TYPES)) + r")\b")
    found = []
    for path in sorted((ROOT / "app").rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if not path.is_file() or path.suffix not in SCANNED or relative.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "Ask the trigger's adapter (app.trigger_types) instead:\n" + "\n".join(found)


def test_every_engine_trigger_type_has_exactly_one_adapter(app):
    from app.trigger_types import registry

    assert sorted(registry.types()) == TRIGGER_TYPES
    entries = {a.entry_point for a in registry.adapters()}
    assert entries == {"hook", "openai", "manual", "clock"}


def test_the_registry_refuses_unknown_types_and_duplicates(app):
    from app.trigger_types import registry
    from app.trigger_types.base import TriggerAdapter
    from app.trigger_types.registry import TriggerTypes

    class NotANode(TriggerAdapter):
        type, entry_point = "webhook_trigger", "hook"

    fresh = TriggerTypes()
    with pytest.raises(ValueError, match="not a trigger node type"):
        fresh.register(NotANode())
    fresh.register(registry.adapters()[0])
    with pytest.raises(ValueError, match="already has an adapter"):
        fresh.register(registry.adapters()[0])

    class StartIsNoTrigger(TriggerAdapter):
        type, entry_point = "start", "hook"

    with pytest.raises(ValueError, match="not a trigger node type"):
        TriggerTypes().register(StartIsNoTrigger())


def test_the_node_type_json_carries_each_trigger_types_hints_for_the_canvas(client, api_key):
    entries = client.get("/api/v1/node-types", headers=bearer(api_key)).json["node_types"]
    hints = {e["type"]: e.get("trigger") for e in entries if e["is_trigger"]}
    assert sorted(hints) == TRIGGER_TYPES and all(hints.values())
    assert [t for t, h in hints.items() if h["scheduled"]] == ["schedule_trigger"]
    assert [t for t, h in hints.items() if h["runs_here"]] == ["manual_trigger"]
    assert [t for t, h in hints.items() if h["new_key"]] == ["api_trigger"]
    assert [t for t, h in hints.items() if h["shows_model"]] == ["openai_trigger"]
    assert all("trigger" not in e for e in entries if not e["is_trigger"])


def _all_types_flow() -> dict:
    document = echo_flow(key="rest")
    scheduled = schedule_flow()["nodes"][0]
    extra = [{"id": "ai", "type": "openai_trigger", "name": "Chat", "config": {"key": "chat"}, "position": {"x": 0, "y": 100}},
             {"id": "hand", "type": "manual_trigger", "config": {}, "position": {"x": 0, "y": 200}},
             dict(scheduled, id="tick")]
    document["nodes"] += extra
    document["edges"] += [{"id": f"x{i}", "source": n["id"], "source_port": "out", "target": "start",
                           "target_port": "in"} for i, n in enumerate(extra)]
    return document


def test_each_type_answers_with_its_own_fields_and_panel(client, api_key, auth):
    created = client.post("/api/v1/flows", json={"document": _all_types_flow()}, headers=bearer(api_key))
    assert created.status_code == 201, created.json
    by_node = {t["node_id"]: t for t in created.json["triggers"]}
    assert by_node["api"]["method"] == "POST" and by_node["api"]["url"].endswith("/rest")
    assert set(created.json["secrets"]) == {"api"}  # only the REST trigger has a secret
    assert by_node["ai"]["model"] == "chat" and by_node["ai"]["base_url"].endswith("/v1")
    assert by_node["tick"]["schedule"]["mode"] == "interval" and by_node["tick"]["url"] is None
    assert by_node["hand"]["url"].endswith(f"/flows/{created.json['id']}/triggers/hand/run")
    assert {t["name"] for t in by_node.values()} == {"REST API", "Chat", "Manual", "Schedule"}
    assert all(t["authentication"] for t in by_node.values())
    rotate = client.post(f"/api/v1/triggers/{by_node['ai']['id']}/rotate-secret", headers=bearer(api_key))
    assert rotate.status_code == 400 and "REST API" in rotate.json["error"]["message"]
    pause = client.post(f"/api/v1/triggers/{by_node['hand']['id']}/pause", headers=bearer(api_key))
    assert pause.status_code == 400 and "cannot be paused" in pause.json["error"]["message"]

    flow_id = created.json["id"]
    panels = {node: client.get(f"/flows/{flow_id}/triggers/{node}/panel").get_data(as_text=True)
              for node in by_node}
    assert "REST API trigger" in panels["api"] and "Rotate secret" in panels["api"]
    assert "OpenAI API trigger" in panels["ai"] and 'data-trigger-model>chat<' in panels["ai"]
    assert "Copy base URL" in panels["ai"] and "Rotate secret" not in panels["ai"]
    assert "POST</code> the inputs" in panels["hand"]
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    for label in ("REST API", "OpenAI API", "Run now", "Schedule"):
        assert f"<strong>{label}</strong>" in page
    assert "data-schedule-summary" in page and 'class="runform"' in page
