"""An id field in a JSON body (workspace_id, flow_id, node_id) that is not text is named in a 400.

Before, `{"workspace_id": ["x"]}` was a 500 on `POST /api/v1/api-keys`, and 0, "" or [] quietly
meant "my default workspace" on the endpoints that have one: a script's bug went unnoticed.
"""

from __future__ import annotations

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer

ENDPOINTS = [
    ("/api/v1/api-keys", {"name": "k"}, "workspace_id"),
    ("/api/v1/flows", {"document": echo_flow(key="ids")}, "workspace_id"),
    ("/api/v1/flows/validate", {"document": echo_flow(key="ids")}, "workspace_id"),
    ("/api/v1/flows/validate", {"document": echo_flow(key="ids")}, "flow_id"),
    ("/api/v1/schedules/preview", {"config": {"interval_seconds": 60}}, "workspace_id"),
    ("/api/v1/flows/values", {"document": echo_flow(key="ids")}, "node_id"),
    ("/api/v1/triggers", {"type": "api_trigger"}, "flow_id"),
]


@pytest.mark.parametrize(("path", "body", "field"), ENDPOINTS)
def test_an_id_that_is_not_text_is_a_400_naming_it(app, client, api_key, path, body, field):
    from tests.app.trigger_helpers import run_rows

    for value in (0, 1, "", "   ", [], ["x"], {}, {"id": "x"}, True, 1e300):
        response = client.post(path, json={**body, field: value}, headers=bearer(api_key))

        assert response.status_code == 400, (value, response.status_code, response.json)
        assert response.json["error"]["code"] == f"invalid_{field}"
        assert response.json["error"]["details"] == [{"field": field, "reason": "not an id"}]
    assert client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"] == []
    assert run_rows(app) == []


def test_null_or_left_out_still_means_the_default_workspace(client, api_key):
    for body in ({"name": "a"}, {"name": "b", "workspace_id": None}):
        assert client.post("/api/v1/api-keys", json=body, headers=bearer(api_key)).status_code == 201
