"""A due schedule fire that cannot start its run still leaves a run: failed, with the reason.

Driven through the same clock path as `test_schedules.py` (`process_due(now=...)`), and checked
where a user looks: the Runs API and page, the run page, the schedule's last fire, the flow
overview.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest

from tests.app.flowdocs import schedule_flow
from tests.app.legacy_versions import store_trigger_setting
from tests.app.services.scheduling.test_schedules import process, runs_of, trigger_row
from tests.app.trigger_helpers import bearer


def _flow_with_required_count(**config) -> dict:
    document = schedule_flow(overlap_policy="allow", **config)
    start = next(node for node in document["nodes"] if node["id"] == "start")
    start["config"]["inputs"].append({"name": "count", "type": "integer", "required": True})
    return document


def _publish_in(app, workspace_id: str, document: dict) -> str:
    """Publish as the logged-in user's workspace, then store the schedule's unfitting inputs.

    Publishing refuses inputs that do not fit the start node; flows saved before it did keep them,
    and their fires must still fail visibly (see `tests.app.legacy_versions`).
    """
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    schedule = next(node for node in document["nodes"] if node["type"] == "schedule_trigger")
    inputs = schedule["config"].get("inputs")
    runnable = copy.deepcopy(document)
    next(node for node in runnable["nodes"] if node["id"] == schedule["id"])["config"]["inputs"] = {"count": 1}
    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, workspace_id), runnable, None)
        db.session.commit()
        flow_id = result.flow.id
    store_trigger_setting(app, flow_id, schedule["id"], "inputs", inputs)
    return flow_id


CASES = {
    "unknown input": ({"nope": 1, "count": 1}, "nope"),
    "wrong type": ({"note": 5, "count": 1}, "note"),
    "missing required input": ({}, "count"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_fire_whose_inputs_do_not_fit_records_a_failed_run_with_the_reason(app, client, auth, api_key, case):
    inputs, field = CASES[case]
    flow_id = _publish_in(app, auth.workspace_id, _flow_with_required_count(inputs=inputs))
    trigger_id, planned = trigger_row(app, flow_id)

    assert process(app, trigger_id, planned + timedelta(seconds=1)) == ["failed"]
    (listed,) = runs_of(client, api_key, flow_id)
    assert listed["status"] == "failed" and listed["trigger_type"] == "schedule_trigger"
    assert "inputs do not fit" in listed["error"] and field in listed["error"]
    run = client.get(f"/api/v1/runs/{listed['id']}", headers=bearer(api_key)).json
    assert run["planned_at"].startswith(planned.strftime("%Y-%m-%dT%H:%M:%S"))
    assert run["steps"] == [] and run["inputs"] == inputs and run["started_at"] is None
    assert run["finished_at"] is not None

    schedule = client.get(f"/api/v1/flows/{flow_id}", headers=bearer(api_key)).json["triggers"][0]["schedule"]
    assert schedule["last_fire"]["outcome"] == "failed" and schedule["last_fire"]["run_id"] == run["id"]
    assert schedule["armed"] is True  # the schedule goes on: the next fire tries again

    runs_page = client.get(f"/flows/{flow_id}/runs?status=failed").get_data(as_text=True)
    assert run["id"][:8] in runs_page
    assert "inputs do not fit" in client.get(f"/runs/{run['id']}").get_data(as_text=True)
    overview = client.get(f"/flows/{flow_id}/overview").get_data(as_text=True)
    assert "<strong>1</strong> runs" in overview
    assert re.findall(r'<rect class="bar" data-status="(\w+)"', overview) == ["failed"]

    _, following = trigger_row(app, flow_id)
    assert process(app, trigger_id, following + timedelta(seconds=1)) == ["failed"]
    assert len(runs_of(client, api_key, flow_id)) == 2


def test_a_missed_fire_caught_up_with_inputs_that_do_not_fit_records_a_failed_run(app, client, auth, api_key):
    document = _flow_with_required_count(inputs={"nope": 1}, missed_policy="run_once", missed_window_seconds=300)
    flow_id = _publish_in(app, auth.workspace_id, document)
    trigger_id, planned = trigger_row(app, flow_id)

    assert process(app, trigger_id, planned + timedelta(minutes=10, seconds=30)) == ["failed", "failed"]
    runs = runs_of(client, api_key, flow_id)
    assert [r["status"] for r in runs] == ["failed", "failed"] and all("nope" in r["error"] for r in runs)


def test_a_failed_fire_is_still_exactly_once(app, client, auth, api_key):
    flow_id = _publish_in(app, auth.workspace_id, _flow_with_required_count(inputs={}))
    trigger_id, planned = trigger_row(app, flow_id)
    outcomes = [process(app, trigger_id, planned + timedelta(seconds=1)) for _ in range(3)]
    assert outcomes == [["failed"], [], []]
    assert len(runs_of(client, api_key, flow_id)) == 1
