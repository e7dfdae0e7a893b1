"""An archived flow's pages offer no action that would be refused (Rotate secret, Run now, Replay),
its schedule says it does not fire, and each door refuses those actions in words, changing nothing."""

from __future__ import annotations

import pytest

from app.services.versions.archived import RUN_MESSAGE, SCHEDULE_MESSAGE, SECRET_MESSAGE
from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.app.manage.manage_helpers import publish
from tests.app.manage.test_flow_archive import _archive, _ui_publish
from tests.app.trigger_helpers import bearer
from tests.conftest import csrf_from


def _secrets(app, flow_id: str) -> tuple:
    """The REST trigger's secret, signing secret and the count of logged rotations: all that a rotation changes."""
    from app.extensions import db
    from app.models import Trigger
    from app.models.audit import AuditEvent

    with app.app_context():
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id, Trigger.node_id == "api")).scalar_one()
        rotations = db.session.execute(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "trigger.secret_rotated")).scalar_one()
        return trigger.secret_hash, trigger.signing_secret, rotations


def _runs(app, flow_id: str) -> int:
    from app.extensions import db
    from app.models import Run

    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Run).where(Run.flow_id == flow_id)).scalar_one()


def _archive_on_page(client, flow_id: str) -> dict:
    csrf = {"X-CSRFToken": csrf_from(client.get(f"/flows/{flow_id}").get_data(as_text=True))}
    assert client.post(f"/flows/{flow_id}/archive", headers=csrf).status_code == 302
    return csrf


def test_an_archived_flows_pages_offer_no_rotate_run_or_replay_and_say_why(app, client, auth, stack):
    flow_id = _ui_publish(app, auth, greeting_flow(key="desk"))
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert "Rotate secret</button>" in page and 'class="primary">Run now</button>' in page
    ran = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf_from(page), "input-message": "hi"})
    run_id = ran.location.rsplit("/", 1)[-1]
    assert "Replay on v1" in client.get(f"/runs/{run_id}").get_data(as_text=True)

    _archive_on_page(client, flow_id)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    panel = client.get(f"/flows/{flow_id}/triggers/api/panel").get_data(as_text=True)
    for html in (page, panel):
        assert "Rotate secret</button>" not in html and "signing secret</button>" not in html
        assert SECRET_MESSAGE in html
    assert 'class="primary">Run now</button>' not in page and '"can_run": false' in page
    run_page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Replay on" not in run_page and RUN_MESSAGE in run_page


def test_rotating_an_archived_flows_secret_is_refused_in_words_and_changes_nothing(app, client, auth):
    flow_id = _ui_publish(app, auth, greeting_flow(key="desk"))
    csrf = _archive_on_page(client, flow_id)
    before = _secrets(app, flow_id)

    form = client.post(f"/flows/{flow_id}/triggers/api/rotate", data={"csrf_token": csrf["X-CSRFToken"]})
    assert form.status_code == 303 and form.location.endswith(f"/flows/{flow_id}")
    assert f"Not changed: {SECRET_MESSAGE}" in client.get(form.location).get_data(as_text=True)
    for path in ("rotate", "signing-secret"):  # the side panel's buttons (htmx), from a page left open
        answer = client.post(f"/flows/{flow_id}/triggers/api/{path}", headers={**csrf, "HX-Request": "true"})
        assert answer.status_code == 409 and answer.headers["HX-Redirect"].endswith(f"/flows/{flow_id}")
        assert SECRET_MESSAGE in client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert _secrets(app, flow_id) == before



def test_the_api_refuses_to_rotate_an_archived_flows_secrets_with_409(app, client, api_key):
    flow = publish(client, api_key, greeting_flow(key="desk"))
    rest_id = next(t["id"] for t in flow["triggers"] if t["node_id"] == "api")
    _archive(client, api_key, flow["id"])
    before = _secrets(app, flow["id"])
    for path in (f"/api/v1/triggers/{rest_id}/rotate-secret", f"/api/v1/triggers/{rest_id}/signing-secret",
                 f"/api/v1/flows/{flow['id']}/triggers/api/rotate-secret"):
        answer = client.post(path, headers=bearer(api_key))
        assert answer.status_code == 409, answer.json
        assert answer.json["error"] == {**answer.json["error"], "code": "flow_archived", "message": SECRET_MESSAGE}
    assert _secrets(app, flow["id"]) == before
    restored = client.post(f"/api/v1/flows/{flow['id']}/restore", headers=bearer(api_key))
    assert restored.status_code == 200
    assert client.post(f"/api/v1/triggers/{rest_id}/rotate-secret", headers=bearer(api_key)).json["secret"]


def test_run_now_and_replay_of_an_archived_flow_are_refused_in_words_and_start_nothing(app, client, auth, stack):
    flow_id = _ui_publish(app, auth, greeting_flow(key="desk"))
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    ran = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf_from(page), "input-message": "hi"})
    run_id = ran.location.rsplit("/", 1)[-1]
    csrf = _archive_on_page(client, flow_id)

    run_now = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf["X-CSRFToken"], "input-message": "hi"})
    assert f"Not run: {RUN_MESSAGE}" in client.get(run_now.location).get_data(as_text=True)
    replayed = client.post(f"/runs/{run_id}/replay", data={"csrf_token": csrf["X-CSRFToken"]})
    assert replayed.location.endswith(f"/runs/{run_id}")
    assert f"Not replayed: {RUN_MESSAGE}" in client.get(replayed.location).get_data(as_text=True)
    assert _runs(app, flow_id) == 1


def test_an_archived_flows_schedule_says_it_does_not_fire(app, client, auth):
    flow_id = _ui_publish(app, auth, schedule_flow())
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert "Next: <time" in page and SCHEDULE_MESSAGE not in page
    _archive_on_page(client, flow_id)
    for html in (client.get(f"/flows/{flow_id}").get_data(as_text=True),
                 client.get(f"/flows/{flow_id}/triggers").get_data(as_text=True)):
        assert SCHEDULE_MESSAGE in html and "Next: <time" not in html
    assert f'"schedule_off": "{SCHEDULE_MESSAGE}"' in client.get(f"/flows/{flow_id}").get_data(as_text=True)


@pytest.mark.parametrize("node_id", ["x" * 100_000, "%ED%A0%80", "api%00", "..%2F..%2Fapi", "9" * 5000])
def test_hostile_trigger_ids_on_the_rotate_doors_get_a_clear_4xx(app, client, auth, node_id):
    flow_id = _ui_publish(app, auth, greeting_flow(key="desk"))
    csrf = _archive_on_page(client, flow_id)
    for path in ("rotate", "signing-secret"):
        answer = client.post(f"/flows/{flow_id}/triggers/{node_id}/{path}", headers=csrf)
        assert 400 <= answer.status_code < 500, answer.status_code


@pytest.mark.parametrize(("body", "content_type"), [
    (b"[" * 100_000 + b"]" * 100_000, "application/json"), (b'{"a": "\\ud800"}', "application/json"),
    (b"<xml/>", "application/xml"), (b'{"' + b'k": 1, "'.join(str(i).encode() for i in range(20_000)) + b'": 1}',
                                     "application/json"), (b'{"n": 1e999999}', "application/json")])
def test_hostile_bodies_on_the_archived_rotate_api_get_a_clear_4xx(app, client, api_key, body, content_type):
    flow = publish(client, api_key, greeting_flow(key="desk"))
    rest_id = next(t["id"] for t in flow["triggers"] if t["node_id"] == "api")
    _archive(client, api_key, flow["id"])
    answer = client.post(f"/api/v1/triggers/{rest_id}/rotate-secret", data=body,
                         headers={**bearer(api_key), "Content-Type": content_type})
    assert 400 <= answer.status_code < 500 and answer.json["error"]["message"], answer.get_data(as_text=True)[:300]
