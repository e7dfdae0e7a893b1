"""Test runs of drafts are recorded and shown as test runs, never as the published flow's traffic.

Real stack: a published flow called through its REST trigger and a draft tested through the API,
both run by the session's worker; then the filters, the pages and the overview are read.
"""

from __future__ import annotations

import pytest

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.runsetup import Flows
from tests.app.trigger_helpers import bearer


@pytest.fixture
def runs(client, api_key):
    """One published run (REST trigger) and one test run of a draft, both finished."""
    flows_api = Flows(client, api_key)
    flow = flows_api.publish()
    published = flows_api.call(flow, "hello")["run_id"]
    tested = client.post(f"/api/v1/flows/{flow['id']}/test", headers=bearer(api_key),
                         json={"document": with_reply_text(greeting_flow(), "draft"), "inputs": {"message": "x"}})
    assert tested.status_code == 200, tested.json
    return {"flow": flow, "published": published, "test": tested.json["run_id"]}


def _ids(client, api_key, query: str) -> list[str]:
    answer = client.get(f"/api/v1/runs?{query}", headers=bearer(api_key))
    assert answer.status_code == 200, answer.json
    return [r["id"] for r in answer.json["runs"]]


def test_test_runs_have_their_own_filter(client, api_key, runs):
    assert _ids(client, api_key, "trigger_type=test") == [runs["test"]]
    assert _ids(client, api_key, "trigger_type=api_trigger") == [runs["published"]]
    assert set(_ids(client, api_key, "")) == {runs["test"], runs["published"]}
    assert _ids(client, api_key, "version=1") == [runs["published"]]  # a draft is no version
    summary = client.get("/api/v1/runs?trigger_type=test", headers=bearer(api_key)).json["runs"][0]
    assert summary["trigger_type"] == "test" and summary["draft"] is True and summary["version"] is None


def test_pages_label_test_runs_and_never_show_a_negative_version(client, auth, runs):
    listed = client.get("/runs?trigger_type=test").get_data(as_text=True)
    assert runs["test"][:8] in listed and runs["published"][:8] not in listed
    assert "Test run (draft)" in listed and "v-1" not in listed and ">draft<" in listed
    assert '<option value="test" selected>Test run (draft)</option>' in listed
    page = client.get(f"/runs/{runs['test']}").get_data(as_text=True)
    assert "Test run (draft)" in page and "v-1" not in page
    flow_runs = client.get(f"/flows/{runs['flow']['id']}/runs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Test run (draft)" in flow_runs and "v-1" not in flow_runs and "v1" in flow_runs


def test_the_flow_overview_counts_only_the_published_flows_traffic(app, client, auth, runs):
    from app.services.runs import run_stats

    with app.app_context():
        overview = run_stats.flow_overview(runs["flow"]["id"])
    assert overview.total == 1 and overview.totals == {"succeeded": 1}
    fragment = client.get(f"/flows/{runs['flow']['id']}/overview").get_data(as_text=True)
    assert "1 succeeded" in fragment and "2 succeeded" not in fragment


def test_the_pinned_inputs_of_the_last_test_prefill_the_next_one(app, client, auth, runs):
    import json
    import re

    page = client.get(f"/flows/{runs['flow']['id']}").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="canvas-data">(.*?)</script>', page, re.S).group(1))
    assert data["test_inputs"] == {"message": "x"}
    assert data["urls"]["test"] == f"/api/v1/flows/{runs['flow']['id']}/test"


def test_metrics_count_test_runs_apart_from_every_triggers_traffic(client, runs):
    """Workers did run them, so /metrics shows them, but only under their own trigger_type label."""
    text = client.get("/metrics").get_data(as_text=True)
    assert 'switchboard_runs{status="succeeded",trigger_type="api_trigger"} 1' in text
    assert 'switchboard_runs{status="succeeded",trigger_type="test"} 1' in text
