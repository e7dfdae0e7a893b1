"""Finding runs through the JSON API: every filter, cursor paging, clear 400s, and replay."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.runsetup import Flows, ago, attach, bearer
from tests.conftest import wait_for


@pytest.fixture
def flows_api(client, api_key):
    return Flows(client, api_key)


def _ids(client, api_key, query: str, path: str = "/api/v1/runs") -> list[str]:
    response = client.get(f"{path}?{query}", headers=bearer(api_key))
    assert response.status_code == 200, response.json
    return [r["id"] for r in response.json["runs"]]


def test_each_filter_narrows_the_workspace_runs(app, client, api_key, flows_api):
    greeter = flows_api.publish()
    other = flows_api.publish(greeting_flow(key="other", name="Other"))
    first = flows_api.call(greeter, "hello", headers={"Idempotency-Key": "idem-1"}, outId="order-1002")["run_id"]
    second = flows_api.call(greeter, "status please", sessionId="sess-42")["run_id"]
    third = flows_api.call(other, "hi")["run_id"]
    manual = client.post(f"/api/v1/flows/{greeter['id']}/triggers/manual/run", json={"message": "by hand"},
                         headers=bearer(api_key)).json["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{manual}", headers=bearer(api_key)).json["status"] == "succeeded")
    attach(app, third, created_at=ago(hours=3))  # time travel: three hours ago

    assert set(_ids(client, api_key, "")) == {first, second, third, manual}
    assert _ids(client, api_key, "out_id=order-1002") == [first]
    assert _ids(client, api_key, "idempotency_key=idem-1") == [first]
    assert _ids(client, api_key, "session=sess-42") == [second]
    assert set(_ids(client, api_key, f"flow={greeter['id']}")) == {first, second, manual}
    assert _ids(client, api_key, "trigger=manual") == [manual]
    assert set(_ids(client, api_key, "trigger_type=api_trigger")) == {first, second, third}
    assert _ids(client, api_key, "trigger_type=manual_trigger") == [manual]
    assert set(_ids(client, api_key, "status=succeeded")) == {first, second, third, manual}
    assert _ids(client, api_key, "status=failed,canceled") == []
    assert _ids(client, api_key, f"until={ago(hours=1).isoformat()}") == [third]
    assert set(_ids(client, api_key, f"since={ago(hours=1).strftime('%Y-%m-%dT%H:%M:%S')}")) == {first, second, manual}
    assert _ids(client, api_key, "version=2") == []
    # The per-flow list takes the same filter names.
    assert _ids(client, api_key, "out_id=order-1002", f"/api/v1/flows/{greeter['id']}/runs") == [first]
    assert _ids(client, api_key, "trigger=api", f"/api/v1/flows/{other['id']}/runs") == [third]
    summary = client.get("/api/v1/runs?out_id=order-1002", headers=bearer(api_key)).json["runs"][0]
    assert summary["out_id"] == "order-1002" and summary["idempotency_key"] == "idem-1"


def test_version_filter_follows_publishes(client, api_key, flows_api):
    flow = flows_api.publish()
    v1 = flows_api.call(flow, "one")["run_id"]
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": with_reply_text(greeting_flow(), "v2 {{ inputs.message }}")},
               headers=bearer(api_key))
    v2 = flows_api.call(flow, "two")["run_id"]
    assert _ids(client, api_key, "version=1") == [v1]
    assert _ids(client, api_key, "version=2") == [v2]


def test_cursor_paging_visits_every_run_once_in_either_order(client, api_key, flows_api):
    flow = flows_api.publish()
    made = [flows_api.call(flow, f"m{i}")["run_id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "take=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/runs?{query}", headers=bearer(api_key)).json
        assert len(body["runs"]) <= 2
        seen += [r["id"] for r in body["runs"]]
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert seen == made[::-1]
    oldest_first = client.get("/api/v1/runs?order=asc&take=3", headers=bearer(api_key)).json
    assert [r["id"] for r in oldest_first["runs"]] == made[:3]
    rest = client.get(f"/api/v1/runs?order=asc&take=3&cursor={oldest_first['next_cursor']}", headers=bearer(api_key)).json
    assert [r["id"] for r in rest["runs"]] == made[3:] and rest["next_cursor"] is None
    # The older `limit` name keeps working on the per-flow list.
    assert len(client.get(f"/api/v1/flows/{flow['id']}/runs?limit=1", headers=bearer(api_key)).json["runs"]) == 1


@pytest.mark.parametrize("query, field", [
    ("status=done", "status"),
    ("version=zero", "version"),
    ("version=0", "version"),
    ("take=500", "take"),
    ("order=sideways", "order"),
    ("since=yesterday", "since"),
    ("since=2026-01-02T00:00&until=2026-01-01T00:00", "since"),
    ("cursor=not-a-cursor", "cursor"),
    ("outid=x", "outid"),
])
def test_bad_filters_get_a_400_naming_the_parameter(client, api_key, query, field):
    response = client.get(f"/api/v1/runs?{query}", headers=bearer(api_key))
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_filter"
    assert error["details"][0]["field"] == field
    assert field.split("_")[0] in error["message"]


def test_runs_of_other_workspaces_are_never_listed(app, client, api_key, flows_api, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    flows_api.publish()
    run_id = flows_api.call(flows_api.publish(greeting_flow(key="mine")), "x")["run_id"]
    stranger = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, other_key = create_api_key(db.session.get(Workspace, stranger.workspace_id), "eve")
        db.session.commit()
    assert _ids(client, other_key, "") == []
    assert _ids(client, api_key, "") == [run_id]


def test_replay_runs_the_same_inputs_on_the_current_version(client, api_key, flows_api):
    flow = flows_api.publish()
    original = flows_api.call(flow, "again please", person="Ada")
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": with_reply_text(greeting_flow(), "v2: {{ inputs.message }}")},
               headers=bearer(api_key))
    response = client.post(f"/api/v1/runs/{original['run_id']}/replay", headers=bearer(api_key))
    assert response.status_code == 202, response.json
    replayed = wait_for(lambda: (r := client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json)
                        ["status"] == "succeeded" and r)
    assert replayed["version"] == 2
    assert replayed["inputs"] == {"message": "again please", "person": "Ada", "count": 1}
    assert replayed["output"]["text"] == "v2: again please"
    assert replayed["trigger_node_id"] == "api"
    assert replayed["trigger_request"]["type"] == "replay"
    assert replayed["trigger_request"]["replay_of"] == original["run_id"]


def test_a_run_records_its_trigger_request_without_credentials(client, api_key, flows_api):
    flow = flows_api.publish()
    run_id = flows_api.call(flow, "hi", headers={"X-Caller": "crm-east", "X-Api-Key": "k-123",
                                                  "X-Request-Id": "my-req-7"})["run_id"]
    run = client.get(f"/api/v1/runs/{run_id}", headers=bearer(api_key)).json
    request = run["trigger_request"]
    assert request["type"] == "api" and request["request_id"] == "my-req-7" == run["request_id"]
    assert request["headers"]["X-Caller"] == "crm-east"
    assert request["headers"]["Authorization"] == "[redacted]" and request["headers"]["X-Api-Key"] == "[redacted]"
    assert flow["secret"] not in str(run) and "k-123" not in str(run)
    assert request["body"] == {"user_message": "hi"}


def test_replay_refuses_inputs_the_current_version_no_longer_declares(client, api_key, flows_api):
    flow = flows_api.publish()
    original = flows_api.call(flow, "hi", person="Ada")
    document = greeting_flow()
    start = next(n for n in document["nodes"] if n["id"] == "start")
    start["config"]["inputs"] = [i for i in start["config"]["inputs"] if i["name"] != "person"]
    greet = next(n for n in document["nodes"] if n["id"] == "greet")
    greet["config"]["template"] = "Hello: {{ inputs.message }}"
    assert client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=bearer(api_key)).status_code == 200
    response = client.post(f"/api/v1/runs/{original['run_id']}/replay", headers=bearer(api_key))
    assert response.status_code == 400
    assert "person" in response.json["error"]["message"]
    assert len(_ids(client, api_key, "")) == 1


def test_generated_filter_values_get_a_list_or_a_clear_400_never_a_500(client, api_key, flows_api):
    flows_api.call(flows_api.publish(), "x")
    names = st.sampled_from(["status", "flow", "trigger", "trigger_type", "version", "session", "conversation",
                             "out_id", "idempotency_key", "since", "until", "take", "order", "cursor", "limit"])
    values = st.text(max_size=60) | st.sampled_from(["a\x00b", "2026-11-21T10:02", "1", "0", "-1", "x" * 300,
                                                      "2026-13-40T99:99", "+01:00", "asc"])

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(params=st.dictionaries(names, values, max_size=4))
    def check(params):
        for path in ("/api/v1/runs",):
            response = client.get(f"{path}?{urlencode(params)}", headers=bearer(api_key))
            assert response.status_code in (200, 400), (params, response.status_code)
            if response.status_code == 400 and response.json["error"]["code"] != "invalid_text":  # NUL: refused app-wide
                assert response.json["error"]["details"][0]["field"] in params

    check()
