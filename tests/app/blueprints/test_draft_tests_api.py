"""Testing a draft through the API: an unsaved document runs on a real worker as a test run.

The answer is a waiting REST trigger's (200 with output and steps, or 202 with status_url); a
refused document or refused inputs leave nothing behind (no hidden version, no pinned inputs, no
run); test runs have their own filter and never count as the published flow's traffic.
"""

from __future__ import annotations

import pytest

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.app.runsetup import Flows
from tests.app.trigger_helpers import bearer
from tests.conftest import wait_for


@pytest.fixture
def flow(client, api_key):
    return Flows(client, api_key).publish()


def _test(client, api_key, flow_id, body, **kwargs):
    return client.post(f"/api/v1/flows/{flow_id}/test", json=body, headers=bearer(api_key), **kwargs)


def _written(app, flow_id):
    """What a test may write: hidden draft versions, runs and the pinned inputs of the flow."""
    from app.extensions import db
    from app.models import Flow, FlowVersion, Run

    with app.app_context():
        drafts = db.session.execute(db.select(FlowVersion.number).where(
            FlowVersion.flow_id == flow_id, FlowVersion.draft.is_(True)).order_by(FlowVersion.number)).scalars().all()
        runs = db.session.execute(db.select(Run.id).where(Run.flow_id == flow_id)).scalars().all()
        return {"drafts": drafts, "runs": len(runs), "pinned": db.session.get(Flow, flow_id).test_inputs}


def test_an_unsaved_document_runs_on_a_worker_and_answers_like_a_waiting_trigger(app, client, api_key, flow):
    draft = with_reply_text(greeting_flow(), "Draft says {{ nodes.greet.text }}")
    answer = _test(client, api_key, flow["id"], {"document": draft, "inputs": {"message": "hi", "person": "Ann"}})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["status"] == "succeeded" and body["test"] is True
    assert body["output"]["text"] == "Draft says Hello Ann x1: hi"
    assert [s["node_id"] for s in body["steps"]] == ["start", "greet", "route", "reply"]
    assert body["steps"][1]["output"] == {"text": "Hello Ann x1: hi"} and body["steps"][2]["port"] == "else"
    run = client.get(body["status_url"].replace("http://localhost", ""), headers=bearer(api_key)).json
    assert run["trigger_type"] == "test" and run["draft"] is True and run["version"] is None
    assert run["trigger_node_id"] == "start" and run["inputs"]["person"] == "Ann"
    # Nothing was published: the flow is still at version 1, which still answers the old way.
    current = client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json
    assert current["version"] == 1
    assert [v["number"] for v in client.get(f"/api/v1/flows/{flow['id']}/versions",
                                              headers=bearer(api_key)).json["versions"]] == [1]
    assert _written(app, flow["id"]) == {"drafts": [-1], "runs": 1, "pinned": {"message": "hi", "person": "Ann"}}


def test_the_same_draft_reuses_its_hidden_version_and_a_changed_one_gets_the_next(app, client, api_key, flow):
    draft = with_reply_text(greeting_flow(), "one")
    for inputs in ({"message": "a"}, {"message": "b"}):
        assert _test(client, api_key, flow["id"], {"document": draft, "inputs": inputs}).status_code == 200
    assert _test(client, api_key, flow["id"], {"document": with_reply_text(draft, "two"),
                                               "inputs": {"message": "c"}}).json["output"] == {"text": "two"}
    assert _written(app, flow["id"]) == {"drafts": [-2, -1], "runs": 3, "pinned": {"message": "c"}}


def test_no_wait_answers_202_with_the_status_url_and_the_run_finishes(client, api_key, flow):
    answer = _test(client, api_key, flow["id"], {"document": greeting_flow(), "inputs": {"message": "x"},
                                                 "wait_seconds": 0})
    assert answer.status_code == 202, answer.json
    assert answer.json["status_url"].endswith(f"/api/v1/runs/{answer.json['run_id']}")
    assert answer.headers["Location"] == answer.json["status_url"]
    path = f"/api/v1/runs/{answer.json['run_id']}"
    wait_for(lambda: client.get(path, headers=bearer(api_key)).json["status"] == "succeeded")


def test_a_flow_never_published_can_be_tested(app, client, api_key):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        workspace = db.session.execute(db.select(Workspace)).scalars().first()
        flow_id = publishing.create_empty_flow(workspace, "Empty").id
        db.session.commit()
    answer = _test(client, api_key, flow_id, {"document": greeting_flow(), "inputs": {"message": "first"}})
    assert answer.status_code == 200 and answer.json["output"]["text"].endswith("first"), answer.json
    assert client.get(f"/api/v1/flows/{flow_id}", headers=bearer(api_key)).json["version"] == 0


def test_an_invalid_document_is_refused_like_a_save_and_nothing_is_written(app, client, api_key, flow):
    broken = greeting_flow()
    broken["edges"].append({"id": "bad", "source": "greet", "source_port": "out", "target": "ghost", "target_port": "in"})
    answer = _test(client, api_key, flow["id"], {"document": broken, "inputs": {"message": "hi"}})
    saved = client.put(f"/api/v1/flows/{flow['id']}", json={"document": broken}, headers=bearer(api_key))
    assert answer.status_code == saved.status_code == 400
    assert answer.json["error"]["code"] == "invalid_flow"
    assert answer.json["error"]["details"] == saved.json["error"]["details"]
    assert _written(app, flow["id"]) == {"drafts": [], "runs": 0, "pinned": None}


def test_inputs_are_checked_against_the_drafts_start_node(app, client, api_key, flow):
    cases = [({"person": "no message"}, "message"), ({"message": "hi", "count": "many"}, "count"),
             ({"message": "hi", "unknown": 1}, "unknown")]
    for inputs, field in cases:
        answer = _test(client, api_key, flow["id"], {"document": greeting_flow(), "inputs": inputs})
        assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_inputs", answer.json
        assert field in [d["field"] for d in answer.json["error"]["details"]], answer.json
    assert _written(app, flow["id"]) == {"drafts": [], "runs": 0, "pinned": None}


HOSTILE_BODIES = [
    (b'{"inputs": {"message": "hi"}}', "application/json", "missing_field"),
    (b'{"document": {}, "inputs": [1, 2]}', "application/json", None),
    (b'{"document": {}, "inputs": "hi"}', "application/json", None),
    (b'{"document": %s, "inputs": {"message": 1' + b"0" * 2000 + b"}}", "application/json", "invalid_number"),
    (b'{"document": %s, "inputs": {"message": "\\ud800"}}', "application/json", "invalid_text"),
    (b'{"document": %s, "inputs": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}", "application/json", "invalid_json"),
    (b'{"document": %s, "inputs": {' + b", ".join(b'"f%d": %d' % (i, i) for i in range(20000)) + b"}}",
     "application/json", "invalid_inputs"),
    (b"document=x&inputs=y", "application/x-www-form-urlencoded", "invalid_json"),
    (b'{"document": %s, "inputs": {"message": "hi"}, "wait_seconds": 1e6}', "application/json", "invalid_wait_seconds"),
    (b'{"document": %s, "inputs": {"message": "hi"}, "extra": 1}', "application/json", "unknown_field"),
]


@pytest.mark.parametrize("raw, content_type, code", HOSTILE_BODIES)
def test_hostile_bodies_get_a_clear_4xx_and_nothing_is_written(app, client, api_key, flow, raw, content_type, code):
    import json

    document = json.dumps(greeting_flow()).encode()
    body = raw.replace(b"%s", document) if b"%s" in raw else raw
    answer = client.post(f"/api/v1/flows/{flow['id']}/test", data=body,
                         headers={**bearer(api_key), "Content-Type": content_type})
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)[:300]
    error = answer.json["error"]
    assert error["message"] and (code is None or error["code"] == code), error
    assert len(answer.get_data()) < 20_000
    assert _written(app, flow["id"]) == {"drafts": [], "runs": 0, "pinned": None}


def test_only_editors_may_test_and_only_their_workspaces_flows(app, client, api_key, flow, make_account):
    from app.extensions import db
    from app.models import Scope, Workspace
    from app.services.workspaces.api_keys import create_api_key

    with app.app_context():
        workspace = db.session.execute(db.select(Workspace)).scalars().first()
        _, read_only = create_api_key(workspace, "reader", scopes=[Scope.READ_FLOWS.value, Scope.READ_RUNS.value])
        db.session.commit()
    body = {"document": greeting_flow(), "inputs": {"message": "hi"}}
    assert _test(client, read_only, flow["id"], body).status_code == 403
    stranger = Flows(client, _stranger_key(app, make_account))
    assert _test(client, stranger.api_key, flow["id"], body).status_code == 404
    assert _written(app, flow["id"]) == {"drafts": [], "runs": 0, "pinned": None}


def _stranger_key(app, make_account) -> str:
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    account = make_account(email="eve@example.com", workspace="Elsewhere")
    with app.app_context():
        _, key = create_api_key(db.session.get(Workspace, account.workspace_id), "eve")
        db.session.commit()
    return key


def test_drafts_tested_at_the_same_moment_each_get_their_own_hidden_version(app, client, api_key, flow):
    from concurrent.futures import ThreadPoolExecutor

    def test_one(text):
        answer = app.test_client().post(f"/api/v1/flows/{flow['id']}/test", headers=bearer(api_key),
                                        json={"document": with_reply_text(greeting_flow(), text),
                                              "inputs": {"message": text}})
        return answer.status_code, (answer.json.get("output") or {}).get("text")

    texts = [f"draft {i}" for i in range(4)] * 2  # four drafts, each tested twice
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(test_one, texts))
    assert answers == [(200, text) for text in texts]
    assert _written(app, flow["id"])["drafts"] == [-4, -3, -2, -1]


def test_huge_numbers_that_json_can_keep_run_and_one_that_breaks_a_step_fails_that_step(client, api_key, flow):
    big = 10 ** 900  # 901 digits: under the body parser's 1000-character limit
    answer = _test(client, api_key, flow["id"], {"document": greeting_flow(), "inputs": {"message": "x", "count": big}})
    assert answer.status_code == 200 and answer.json["output"]["text"] == f"Hello friend x{big}: x", answer.json
    huge = greeting_flow()
    next(n for n in huge["nodes"] if n["id"] == "greet")["config"]["template"] = "{{ inputs.count * 10 ** 5000 }}"
    failed = _test(client, api_key, flow["id"], {"document": huge, "inputs": {"message": "x", "count": big}})
    assert failed.status_code == 200 and failed.json["status"] == "failed", failed.json
    assert failed.json["error"]["node_id"] == "greet" and failed.json["steps"][-1]["status"] == "failed"
