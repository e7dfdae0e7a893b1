"""Archiving a flow turns every door off (404 flow_archived), stops its schedules, freezes its graph,
and keeps its runs readable; restoring turns it all back on."""

from __future__ import annotations

from datetime import timedelta

from tests.app.flowdocs import greeting_flow, schedule_flow, with_reply_text
from tests.app.manage.manage_helpers import archive, archive_on_page, publish, publish_in_workspace
from tests.app.trigger_helpers import bearer, local_path


def _is_archived_answer(answer) -> None:
    assert answer.status_code == 404, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert error["code"] == "flow_archived" and "archived" in error["message"], error


def _openai_flow(key: str) -> dict:
    document = greeting_flow(key=key)
    document["nodes"][0] = {"id": "api", "type": "openai_trigger", "config": {"key": key}, "position": {"x": 0, "y": 0}}
    return document


def test_every_door_of_an_archived_flow_answers_404_flow_archived_and_restore_opens_them(client, api_key):
    flow = publish(client, api_key, greeting_flow(key="desk"))
    rest = next(t for t in flow["triggers"] if t["node_id"] == "api")
    secret = flow["secrets"]["api"]
    before = client.post(local_path(rest["url"]), json={"message": "before"}, headers=bearer(secret))
    assert before.status_code == 200
    archive(client, api_key, flow["id"])

    _is_archived_answer(client.post(local_path(rest["url"]), json={"message": "hi"}, headers=bearer(secret)))
    _is_archived_answer(client.post(local_path(rest["url"]), data=b"not json", headers=bearer(secret)))
    _is_archived_answer(client.post(f"/api/v1/triggers/{rest['id']}/invoke", json={"body": {"message": "hi"}},
                                    headers=bearer(api_key)))
    _is_archived_answer(client.post(f"/api/v1/flows/{flow['id']}/triggers/manual/run", json={"message": "hi"},
                                    headers=bearer(api_key)))
    _is_archived_answer(client.post(f"/api/v1/flows/{flow['id']}/run", json={"message": "hi"}, headers=bearer(api_key)))
    _is_archived_answer(client.post(f"/api/v1/runs/{before.json['run_id']}/replay", headers=bearer(api_key)))
    _is_archived_answer(client.post(f"/api/v1/flows/{flow['id']}/test", headers=bearer(api_key),
                                    json={"document": greeting_flow(key="desk"), "inputs": {"message": "hi"}}))

    # Its runs stay readable, through the API and on the pages.
    assert client.get(f"/api/v1/runs/{before.json['run_id']}", headers=bearer(api_key)).json["status"] == "succeeded"
    assert len(client.get(f"/api/v1/flows/{flow['id']}/runs", headers=bearer(api_key)).json["runs"]) == 1
    assert client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json["archived_at"]

    restored = client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key))
    assert restored.status_code == 200 and restored.json["archived_at"] is None
    after = client.post(local_path(rest["url"]), json={"message": "after"}, headers=bearer(secret))
    assert after.status_code == 200 and after.json["status"] == "succeeded"


def test_an_archived_flow_cannot_be_saved_rolled_back_or_have_its_triggers_changed(client, api_key):
    flow = publish(client, api_key, greeting_flow())
    url = f"/api/v1/flows/{flow['id']}"
    client.put(url, json={"document": with_reply_text(greeting_flow(), "v2")}, headers=bearer(api_key))
    archive(client, api_key, flow["id"])
    rest_id = next(t["id"] for t in flow["triggers"] if t["node_id"] == "api")
    refused = [
        client.put(url, json={"document": with_reply_text(greeting_flow(), "v3")}, headers=bearer(api_key)),
        client.post(f"{url}/rollback", json={"version": 1}, headers=bearer(api_key)),
        client.patch(f"/api/v1/triggers/{rest_id}", json={"config": {"rate_limit_per_minute": 5}},
                     headers=bearer(api_key)),
        client.post("/api/v1/triggers", json={"flow_id": flow["id"]}, headers=bearer(api_key)),
    ]
    for answer in refused:
        assert answer.status_code == 409, answer.json
        assert answer.json["error"]["code"] == "flow_archived" and "restore it" in answer.json["error"]["message"]
    assert client.get(url, headers=bearer(api_key)).json["version"] == 2
    # Renaming (a setting, not the graph) and duplicating still work: people tidy up archived flows.
    assert client.patch(url, json={"name": "Old greeter"}, headers=bearer(api_key)).status_code == 200
    copy = client.post(f"{url}/duplicate", headers=bearer(api_key))
    assert copy.status_code == 201 and copy.json["archived_at"] is None


def test_archiving_twice_or_restoring_a_live_flow_is_harmless(client, api_key):
    flow = publish(client, api_key, greeting_flow())
    first = archive(client, api_key, flow["id"])
    assert archive(client, api_key, flow["id"])["archived_at"] == first["archived_at"]
    for _ in range(2):
        answer = client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key))
        assert answer.status_code == 200 and answer.json["archived_at"] is None


def test_an_archived_flows_model_leaves_the_model_list_and_answers_flow_archived(client, api_key):
    publish(client, api_key, _openai_flow("helper"))
    flow = publish(client, api_key, _openai_flow("archived-helper"))
    models = lambda: [m["id"] for m in client.get("/v1/models", headers=bearer(api_key)).json["data"]]
    assert models() == ["archived-helper", "helper"]
    archive(client, api_key, flow["id"])
    assert models() == ["helper"]
    fetched = client.get("/v1/models/archived-helper", headers=bearer(api_key))
    chat = client.post("/v1/chat/completions", headers=bearer(api_key), json={
        "model": "archived-helper", "messages": [{"role": "user", "content": "hi"}]})
    for answer in (fetched, chat):
        assert answer.status_code == 404, answer.json
        error = answer.json["error"]  # OpenAI's shape, so the SDKs raise NotFoundError with the code
        assert error["code"] == "flow_archived" and "archived" in error["message"] and error["param"] == "model"
    client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key))
    assert models() == ["archived-helper", "helper"]


def _schedule(app, flow_id):
    from app.extensions import db
    from app.models import ScheduleState, Trigger

    with app.app_context():
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id)).scalar_one()
        state = db.session.get(ScheduleState, trigger.id)
        return trigger.id, state.next_fire_at


def _process(app, trigger_id, now):
    from app.services.scheduling import schedules

    with app.app_context():
        return schedules.process_due(trigger_id, now=now)


def _set_next_fire(app, trigger_id, when):
    from app.extensions import db
    from app.models import ScheduleState

    with app.app_context():
        db.session.get(ScheduleState, trigger_id).next_fire_at = when
        db.session.commit()


def test_an_archived_flows_schedule_does_not_fire_and_restore_resumes_it(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(interval_seconds=60))
    trigger_id, planned = _schedule(app, flow["id"])
    assert planned is not None
    archive(client, api_key, flow["id"])
    assert _schedule(app, flow["id"])[1] is None  # disarmed
    assert client.get(f"/api/v1/triggers/{trigger_id}", headers=bearer(api_key)).json["schedule"]["armed"] is False

    # A timer armed before the archive still goes off: it must start nothing, and disarm.
    _set_next_fire(app, trigger_id, planned)
    assert _process(app, trigger_id, planned + timedelta(seconds=1)) == []
    assert _schedule(app, flow["id"])[1] is None
    assert client.get(f"/api/v1/flows/{flow['id']}/runs", headers=bearer(api_key)).json["runs"] == []

    client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key))
    _, resumed = _schedule(app, flow["id"])
    assert resumed is not None and resumed > planned - timedelta(seconds=1)
    assert _process(app, trigger_id, resumed + timedelta(seconds=1)) == ["started"]
    runs = client.get(f"/api/v1/flows/{flow['id']}/runs", headers=bearer(api_key)).json["runs"]
    assert len(runs) == 1 and runs[0]["trigger_type"] == "schedule_trigger"


def test_an_archived_flows_pages_show_its_trigger_urls_as_off_and_offer_none_to_copy(app, client, auth):
    """Its URLs answer 404 flow_archived, so no page offers "Copy URL" (or ready-made calls) as if they worked."""
    rest_id = publish_in_workspace(app, auth, greeting_flow(key="desk"))
    openai_id = publish_in_workspace(app, auth, _openai_flow("helper"))
    off = "This flow is archived, so calls to its trigger URLs do not start runs until it is restored."
    pages = lambda flow_id, node_id: [client.get(f"/flows/{flow_id}").get_data(as_text=True),
                                      client.get(f"/flows/{flow_id}/triggers").get_data(as_text=True),
                                      client.get(f"/flows/{flow_id}/triggers/{node_id}/panel").get_data(as_text=True)]
    for flow_id, node_id in ((rest_id, "api"), (openai_id, "api")):
        assert all(off not in html and "data-copy=\"http" in html for html in pages(flow_id, node_id))
        csrf = archive_on_page(client, flow_id)
        page, section, panel = pages(flow_id, node_id)
        for html in (page, section, panel):
            assert off in html and "data-copy=\"http" not in html and ">Copy URL<" not in html, [line for line in html.splitlines() if "data-copy" in line]
            assert "off while archived" in html and ("/hooks/" in html or "/v1" in html)  # the URL stays readable
        assert "data-snippet" not in panel and "Copy model" not in panel
        assert f'"urls_off": "{off}"' in page  # the canvas says it too, instead of its Copy URL buttons
        assert client.post(f"/flows/{flow_id}/restore", headers=csrf).status_code == 302
        assert all(off not in html and "data-copy=\"http" in html for html in pages(flow_id, node_id))
