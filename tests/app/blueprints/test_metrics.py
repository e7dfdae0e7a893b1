"""`/metrics`: Prometheus text with runs by status and trigger type, queue depth, a duration histogram."""

from __future__ import annotations

import re

import pytest

from app.config import replace_settings
from tests.app.runsetup import Flows
from tests.conftest import wait_for


@pytest.fixture
def flows_api(client, api_key):
    return Flows(client, api_key)


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_runs_by_status_and_trigger_type_and_bucket_durations(app, client, api_key, flows_api):
    flow = flows_api.publish()
    for message in ("a", "b", "c"):
        flows_api.call(flow, message)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert "# TYPE switchboard_runs gauge" in text
    assert "# TYPE switchboard_run_duration_seconds histogram" in text
    samples = _samples(text)
    assert samples['switchboard_runs{status="succeeded",trigger_type="api_trigger"}'] == 3
    assert samples['switchboard_runs{status="failed",trigger_type=""}'] == 0
    assert samples['switchboard_run_duration_seconds_count{trigger_type="api_trigger"}'] == 3
    assert samples['switchboard_run_duration_seconds_bucket{trigger_type="api_trigger",le="+Inf"}'] == 3
    buckets = [value for name, value in samples.items() if name.startswith("switchboard_run_duration_seconds_bucket")]
    assert buckets == sorted(buckets)  # cumulative
    assert samples['switchboard_run_duration_seconds_sum{trigger_type="api_trigger"}'] > 0
    assert samples["switchboard_queue_up"] == 1
    assert re.search(r'^switchboard_queue_depth\{queue="[^"]+"\} 0$', text, re.M)


def test_queue_depth_counts_runs_waiting_for_a_worker(app, client, flows_api, stack):
    from tests.app.flowdocs import greeting_flow

    flow = flows_api.publish(greeting_flow(wait_for_response=False))
    stack.stop_worker()  # no worker at all (a stopped one would still hold one job in its BLPOP)
    try:
        for message in ("x", "y"):
            flows_api.call(flow, message)
        samples = _samples(client.get("/metrics").get_data(as_text=True))
        depth = next(v for k, v in samples.items() if k.startswith("switchboard_queue_depth"))
        assert depth == 2
        assert samples['switchboard_runs{status="queued",trigger_type="api_trigger"}'] == 2
    finally:
        stack.start_worker()
    wait_for(lambda: _samples(client.get("/metrics").get_data(as_text=True))
             .get('switchboard_runs{status="succeeded",trigger_type="api_trigger"}') == 2)


def test_metrics_are_for_this_machine_unless_a_token_is_set(app, client):
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", environ_base=remote)
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.get_data(as_text=True)

    replace_settings(app, metrics_token="scrape-me")
    assert client.get("/metrics", environ_base=remote).status_code == 401
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer wrong"}).status_code == 401
    allowed = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer scrape-me"})
    assert allowed.status_code == 200
    assert "switchboard_queue_up 1" in allowed.get_data(as_text=True)
