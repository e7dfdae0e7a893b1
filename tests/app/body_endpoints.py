"""Every endpoint that takes a body, with a body template each, for the body-parsing tests.

A template is JSON text with one `%s` where a value goes: the tests put a good value there (to
show the body is read whatever its Content-Type says) or a hostile one (to show it is refused
with a clear 400). Keep this list complete: a new body-taking endpoint belongs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, local_path


@dataclass
class Endpoint:
    method: str
    path: str
    template: str
    headers: dict

    def send(self, client, body: bytes, content_type: str | None = "application/json"):
        headers = dict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return client.open(self.path, method=self.method, data=body, headers=headers)

    def body(self, fragment: str) -> bytes:
        return (self.template % fragment).encode()


def run_now_document(key: str) -> dict:
    """The echo flow with a manual trigger beside its REST trigger, so Run now has a node to start."""
    document = echo_flow(key=key)
    document["nodes"].append({"id": "manual", "type": "manual_trigger", "config": {}, "position": {"x": 0, "y": 200}})
    document["edges"].append({"id": "e3", "source": "manual", "source_port": "out", "target": "start",
                              "target_port": "in"})
    return document


def _openai_document(key: str) -> dict:
    document = echo_flow(key=key)
    document["nodes"][0] = {"id": "api", "type": "openai_trigger", "config": {"key": key}, "position": {"x": 0, "y": 0}}
    return document


def body_endpoints(client, api_key: str) -> list[Endpoint]:
    """Publish what the endpoints need (a flow, a run, a credential...) and list them all."""
    auth = bearer(api_key)
    flow = client.post("/api/v1/flows", json={"document": run_now_document("bodies")}, headers=auth).json
    assert "id" in flow, flow
    rest = next(t for t in flow["triggers"] if t["type"] == "api_trigger")
    hook = Endpoint("POST", local_path(rest["url"]), '{"user_message": %s}', bearer(flow["secrets"][rest["node_id"]]))
    model = client.post("/api/v1/flows", json={"document": _openai_document("body-model")}, headers=auth).json
    assert "id" in model, model
    run = client.post(f"/api/v1/flows/{flow['id']}/run", json={"message": "first"}, headers=auth).json
    credential = client.post("/api/v1/credentials", json={"name": "body-cred", "kind": "bearer", "value": "s3cret"},
                             headers=auth).json
    assert "id" in credential, credential
    workspace_id = client.get("/api/v1/workspaces", headers=auth).json["workspaces"][0]["id"]
    flows, triggers, trigger = f"/api/v1/flows/{flow['id']}", "/api/v1/triggers", f"/api/v1/triggers/{rest['id']}"
    api = [
        ("POST", "/api/v1/flows/validate", '{"document": %s}'), ("POST", "/api/v1/flows", '{"document": %s}'),
        ("PUT", flows, '{"document": %s}'), ("PATCH", flows, '{"name": %s}'),
        ("POST", f"{flows}/rollback", '{"version": %s}'), ("POST", f"{flows}/run", '{"message": %s}'),
        ("POST", f"{flows}/test", '{"document": %s}'),
        ("POST", f"{flows}/triggers/manual/run", '{"message": %s}'),
        ("POST", f"{flows}/triggers/{rest['node_id']}/rotate-secret", '{"x": %s}'),
        ("POST", f"/api/v1/runs/{run['run_id']}/cancel", '{"x": %s}'),
        ("POST", f"/api/v1/runs/{run['run_id']}/replay", '{"x": %s}'),
        ("POST", triggers, '{"flow_id": %s}'), ("PATCH", trigger, '{"name": %s}'),
        ("POST", f"{trigger}/pause", '{"x": %s}'), ("POST", f"{trigger}/resume", '{"x": %s}'),
        ("POST", f"{trigger}/rotate-secret", '{"x": %s}'), ("POST", f"{trigger}/signing-secret", '{"x": %s}'),
        ("POST", f"{trigger}/setup", '{"x": %s}'), ("POST", f"{trigger}/invoke", '{"body": {"user_message": %s}}'),
        ("POST", "/api/v1/api-keys", '{"name": %s}'), ("PATCH", f"/api/v1/workspaces/{workspace_id}", '{"timezone": %s}'),
        ("POST", "/api/v1/schedules/preview", '{"config": %s}'),
        ("POST", "/api/v1/credentials", '{"kind": "bearer", "value": "v", "name": %s}'),
        ("PATCH", f"/api/v1/credentials/{credential['id']}", '{"name": %s}'),
        ("POST", "/api/v1/flows/values", '{"node_id": "reply", "document": %s}'),
        ("POST", f"{flows}/duplicate", '{"name": %s}'), ("POST", f"{flows}/restore", '{"x": %s}'),
        ("POST", "/api/v1/flows/import", '{"document": %s}'),
        ("POST", "/v1/chat/completions", '{"model": "body-model", "messages": [{"role": "user", "content": %s}]}'),
    ]
    listed = [hook] + [Endpoint(method, path, template, auth) for method, path, template in api]
    return listed[:-1] + _owner_endpoints(client) + listed[-1:]  # the tests expect the chat endpoint last


def _owner_endpoints(client) -> list[Endpoint]:
    """Members endpoints refuse API keys: sign `client` in as the key's owner (conftest's account) and use CSRF."""
    from tests.conftest import csrf_from

    page = client.get("/login")
    signed_in = client.post("/login", data={"email": "owner@example.com", "password": "correct horse",
                                            "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    session = {"X-CSRFToken": csrf_from(client.get("/flows").get_data(as_text=True))}
    owner_id = client.get("/api/v1/members").json["members"][0]["user_id"]
    return [Endpoint("POST", "/api/v1/invitations", '{"role": "viewer", "email": %s}', session),
            Endpoint("PATCH", f"/api/v1/members/{owner_id}", '{"role": %s}', session)]
