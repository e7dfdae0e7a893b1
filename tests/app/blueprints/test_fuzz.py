"""Generated garbage at every public endpoint: always a clear 4xx JSON answer, never a 5xx.

Hypothesis builds thousands of requests (odd JSON, wrong types, broken encodings, unknown fields,
invalid ids, hostile headers) and sends them through the real app with real storage.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.body_endpoints import body_endpoints
from tests.app.flowdocs import greeting_flow

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=40)
           | st.sampled_from(["a\x00b", "\ud7ff", "💥", "x" * 300]))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                           | st.dictionaries(st.text(max_size=12), children, max_size=5), max_leaves=20)
flowish = st.fixed_dictionaries({}, optional={
    "schema_version": json_values, "name": json_values,
    "nodes": st.lists(st.fixed_dictionaries({}, optional={
        "id": st.text(max_size=8) | json_values,
        "type": st.sampled_from(["start", "api_trigger", "template", "condition", "reply", "end", "nope"]) | json_values,
        "config": json_values, "position": json_values, "name": json_values}), max_size=6) | json_values,
    "edges": st.lists(st.fixed_dictionaries({}, optional={
        "id": json_values, "source": st.text(max_size=8), "source_port": st.text(max_size=5),
        "target": st.text(max_size=8), "target_port": st.text(max_size=5)}), max_size=6) | json_values,
})
raw_bodies = (st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
              | st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n))
# What Python's json module accepts but no JSON consumer can keep: each must get a clear 400.
huge_integers = st.tuples(st.sampled_from(["", "-"]), st.integers(1001, 30_000)).map(lambda t: t[0] + "7" * t[1])
huge_numbers = huge_integers | st.integers(1001, 30_000).map(lambda n: "0." + "3" * n) \
    | st.integers(309, 99_999).map(lambda e: f"1e{e}") | st.integers(309, 99_999).map(lambda e: f"-9.5E+{e}")
lone_surrogates = st.integers(0xD800, 0xDFFF).map(lambda c: f'"x\\u{c:04x}y"') \
    | st.integers(0xD800, 0xDFFF).map(lambda c: f'{{"\\u{c:04x}": 1}}')
non_finite = st.sampled_from(["NaN", "Infinity", "-Infinity", "[NaN]", '{"x": Infinity}'])
deep_nesting = st.integers(65, 100_000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, '{"a":' * n + "0" + "}" * n, "[{" * (n // 2) + "}]" * (n // 2)]))
hostile_values = huge_numbers | lone_surrogates | non_finite | deep_nesting
labels = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                          "application/json; charset=latin-1", "multipart/form-data; boundary=b"])
ids = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"), min_size=1, max_size=80)


def _no_server_error(response) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if response.status_code >= 400:
        assert response.is_json and response.json["error"]["message"], response.get_data(as_text=True)[:300]


def _setup(client, api_key):
    headers = {"Authorization": f"Bearer {api_key}"}
    flow = client.post("/api/v1/flows", json={"document": greeting_flow(wait_for_response=False)},
                       headers=headers).json
    trigger = next(t for t in flow["triggers"] if t["type"] == "api_trigger")
    path = "/" + trigger["url"].split("://", 1)[1].split("/", 1)[1]
    return flow, path, headers


def test_trigger_endpoint_never_fails_on_any_body_or_header(client, api_key):
    flow, path, headers = _setup(client, api_key)

    @SETTINGS
    @given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "", "application/x-www-form-urlencoded"]),
           authorization=st.sampled_from([headers["Authorization"], "", "Bearer", "Bearer  x", "Basic Zm9v"])
           | st.text(max_size=30).filter(lambda t: "\n" not in t and "\r" not in t))
    def check(body, content_type, authorization):
        response = client.post(path, data=body, headers={"Authorization": authorization, "Content-Type": content_type})
        _no_server_error(response)

    check()


def test_trigger_inputs_of_every_shape_are_validated(client, api_key):
    flow, path, headers = _setup(client, api_key)

    @SETTINGS
    @given(body=st.dictionaries(st.sampled_from(["user_message", "text", "instruction", "message", "person", "count", "x"]),
                                json_values, max_size=4))
    def check(body):
        _no_server_error(client.post(path, json=body, headers=headers))

    check()


def test_flow_documents_of_every_shape_are_refused_or_saved_cleanly(client, api_key):
    flow, _, headers = _setup(client, api_key)

    @SETTINGS
    @given(document=flowish | json_values, base=st.none() | json_values)
    def check(document, base):
        body = {"document": document} if base is None else {"document": document, "base_version": base}
        _no_server_error(client.post("/api/v1/flows/validate", json={"document": document}, headers=headers))
        _no_server_error(client.put(f"/api/v1/flows/{flow['id']}", json=body, headers=headers))
        _no_server_error(client.post("/api/v1/flows", json={"document": document}, headers=headers))

    check()


def test_ids_and_settings_of_every_shape_answer_4xx(client, api_key):
    flow, _, headers = _setup(client, api_key)

    @SETTINGS
    @given(some_id=ids, settings_body=st.dictionaries(st.sampled_from(["name", "description", "run_timeout_seconds", "x"]),
                                                      json_values, max_size=3), raw=raw_bodies)
    def check(some_id, settings_body, raw):
        for method, path in [("get", f"/api/v1/runs/{some_id}"), ("post", f"/api/v1/runs/{some_id}/cancel"),
                             ("get", f"/api/v1/flows/{some_id}"), ("get", f"/api/v1/flows/{some_id}/versions"),
                             ("post", f"/api/v1/flows/{flow['id']}/triggers/{some_id}/run"),
                             ("post", f"/hooks/{some_id}/{some_id}")]:
            _no_server_error(getattr(client, method)(path, data=raw, headers=headers))
        _no_server_error(client.patch(f"/api/v1/flows/{flow['id']}", json=settings_body, headers=headers))
        _no_server_error(client.post(f"/api/v1/flows/{flow['id']}/rollback", data=raw, headers=headers))

    check()


def test_nul_characters_are_refused_before_they_reach_the_database(client, api_key, auth):
    flow, path, headers = _setup(client, api_key)
    for response in (
        client.post(path, json={"user_message": "a\x00b"}, headers=headers),
        client.patch(f"/api/v1/flows/{flow['id']}", json={"name": "a\x00b"}, headers=headers),
        client.post("/api/v1/flows", json={"document": {**greeting_flow(key="k2"), "name": "x\x00"}}, headers=headers),
        client.get(f"/api/v1/flows/{flow['id']}/runs?limit=1\x00"),
    ):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "NUL" in response.json["error"]["message"]
    form = client.post("/flows/new", data={"name": "a\x00b"})
    assert form.status_code == 400


schedule_configs = st.fixed_dictionaries({}, optional={
    key: json_values | st.sampled_from(values) for key, values in {
        "mode": ["cron", "interval", "weekly"], "cron": ["0 9 * * *", "61 * * * *", "H * * * *", "0 0 30 2 *", "* * * * * *"],
        "interval_seconds": [0, 1, 15, 10**12], "timezone": ["", "UTC", "America", "../etc", "Europe/Berlin", "a\x00b"],
        "start_date": ["2026-01-01", "2026-02-30", "2026-01-01T25:00"], "end_date": ["2025-01-01", "x"],
        "missed_policy": ["skip", "run_once"], "overlap_policy": ["skip", "allow"], "inputs": [{}, {"note": 1}],
    }.items()})


def test_schedule_settings_and_time_zones_of_every_shape_answer_4xx(client, api_key):
    from tests.app.flowdocs import schedule_flow

    _, _, headers = _setup(client, api_key)
    workspace_id = client.get("/api/v1/workspaces", headers=headers).json["workspaces"][0]["id"]

    @SETTINGS
    @given(config=schedule_configs, zone=json_values | st.sampled_from(["America", "Etc/GMT+5", "../../x"]),
           raw=raw_bodies)
    def check(config, zone, raw):
        _no_server_error(client.post("/api/v1/schedules/preview", json={"config": config}, headers=headers))
        _no_server_error(client.post("/api/v1/schedules/preview", data=raw, headers=headers))
        document = schedule_flow()
        document["nodes"][0]["config"] = config
        _no_server_error(client.post("/api/v1/flows/validate", json={"document": document}, headers=headers))
        _no_server_error(client.post("/api/v1/flows", json={"document": document}, headers=headers))
        _no_server_error(client.patch(f"/api/v1/workspaces/{workspace_id}", json={"timezone": zone}, headers=headers))

    check()


def test_hostile_json_gets_a_clear_400_at_every_endpoint_that_takes_a_body(client, api_key):
    endpoints = body_endpoints(client, api_key)

    @SETTINGS
    @given(endpoint=st.sampled_from(endpoints), value=hostile_values, label=labels)
    def check(endpoint, value, label):
        response = endpoint.send(client, endpoint.body(value), label)
        _no_server_error(response)
        assert response.status_code == 400, (endpoint.path, value[:40], response.get_data(as_text=True)[:300])

    check()


def test_wide_objects_get_a_short_answer_at_every_endpoint_that_takes_a_body(client, api_key):
    endpoints = body_endpoints(client, api_key)

    @settings(SETTINGS, max_examples=60)
    @given(endpoint=st.sampled_from(endpoints), width=st.integers(500, 20_000), inside=st.booleans())
    def check(endpoint, width, inside):
        fields = ",".join(f'"f{i}":{i}' for i in range(width))
        good = endpoint.template % '"ok"'
        body = endpoint.template % ("{" + fields + "}") if inside else "{" + fields + "," + good[1:]
        response = endpoint.send(client, body.encode())
        _no_server_error(response)
        if response.status_code >= 400:  # a flow may echo a wide body back; an error lists 20 fields at most
            assert len(response.get_data()) < 20_000, (endpoint.path, width, len(response.get_data()))
            assert len(response.json["error"].get("details") or []) <= 20, (endpoint.path, width)

    check()
