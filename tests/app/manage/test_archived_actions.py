"""An archived flow's pages offer no action that would be refused (Run now, Replay), its schedule
says it does not fire, and each door refuses those actions in words, changing nothing. Its
secrets can still be rotated: a secret that leaked must be replaceable before a restore."""

from __future__ import annotations

import pytest

from app.services.versions.archived import RUN_MESSAGE, SCHEDULE_MESSAGE
from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.app.manage.manage_helpers import archive, archive_on_page, publish, publish_in_workspace
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


def test_an_archived_flows_pages_offer_no_run_or_replay_and_say_why(app, client, auth, stack):
    flow_id = publish_in_workspace(app, auth, greeting_flow(key="desk"))
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert "Rotate secret</button>" in page and 'class="primary">Run now</button>' in page
    ran = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf_from(page), "input-message": "hi"})
    run_id = ran.location.rsplit("/", 1)[-1]
    assert "Replay on v1" in client.get(f"/runs/{run_id}").get_data(as_text=True)

    archive_on_page(client, flow_id)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    panel = client.get(f"/flows/{flow_id}/triggers/api/panel").get_data(as_text=True)
    for html in (page, panel):
        assert "Rotate secret</button>" in html  # still offered: see the module's docstring
    assert 'class="primary">Run now</button>' not in page and '"can_run": false' in page
    run_page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Replay on" not in run_page and RUN_MESSAGE in run_page


def test_an_archived_flows_secrets_can_still_be_rotated_on_the_page_and_by_api(app, client, auth, api_key):
    """A secret that leaked while the flow was archived is replaced now, not after a restore."""
    flow_id = publish_in_workspace(app, auth, greeting_flow(key="desk"))
    csrf = archive_on_page(client, flow_id)
    before = _secrets(app, flow_id)

    form = client.post(f"/flows/{flow_id}/triggers/api/rotate", data={"csrf_token": csrf["X-CSRFToken"]})
    assert form.status_code in (302, 303) and form.location.endswith(f"/flows/{flow_id}")
    after_page = _secrets(app, flow_id)
    assert after_page[0] != before[0] and after_page[2] == before[2] + 1  # a new secret, logged once

    from app.extensions import db
    from app.models import Trigger
    with app.app_context():
        rest_id = db.session.execute(db.select(Trigger.id).where(Trigger.flow_id == flow_id,
                                                                 Trigger.node_id == "api")).scalar_one()
    answer = client.post(f"/api/v1/triggers/{rest_id}/rotate-secret", headers=bearer(api_key))
    assert answer.status_code == 200 and answer.json["secret"], answer.json
    assert _secrets(app, flow_id)[0] not in (before[0], after_page[0])


def test_run_now_and_replay_of_an_archived_flow_are_refused_in_words_and_start_nothing(app, client, auth, stack):
    flow_id = publish_in_workspace(app, auth, greeting_flow(key="desk"))
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    ran = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf_from(page), "input-message": "hi"})
    run_id = ran.location.rsplit("/", 1)[-1]
    csrf = archive_on_page(client, flow_id)

    run_now = client.post(f"/flows/{flow_id}/triggers/manual/run", data={"csrf_token": csrf["X-CSRFToken"], "input-message": "hi"})
    assert f"Not run: {RUN_MESSAGE}" in client.get(run_now.location).get_data(as_text=True)
    replayed = client.post(f"/runs/{run_id}/replay", data={"csrf_token": csrf["X-CSRFToken"]})
    assert replayed.location.endswith(f"/runs/{run_id}")
    assert f"Not replayed: {RUN_MESSAGE}" in client.get(replayed.location).get_data(as_text=True)
    assert _runs(app, flow_id) == 1


def test_an_archived_flows_schedule_says_it_does_not_fire(app, client, auth):
    flow_id = publish_in_workspace(app, auth, schedule_flow())
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert "Next: <time" in page and SCHEDULE_MESSAGE not in page
    archive_on_page(client, flow_id)
    for html in (client.get(f"/flows/{flow_id}").get_data(as_text=True),
                 client.get(f"/flows/{flow_id}/triggers").get_data(as_text=True)):
        assert SCHEDULE_MESSAGE in html and "Next: <time" not in html
        assert "data-urls-off" not in html  # a schedule has no URL: no sentence about trigger URLs
    assert f'"schedule_off": "{SCHEDULE_MESSAGE}"' in client.get(f"/flows/{flow_id}").get_data(as_text=True)


@pytest.mark.parametrize("node_id", ["x" * 100_000, "%ED%A0%80", "api%00", "..%2F..%2Fapi", "9" * 5000])
def test_hostile_trigger_ids_on_the_rotate_doors_get_a_clear_4xx(app, client, auth, node_id):
    flow_id = publish_in_workspace(app, auth, greeting_flow(key="desk"))
    csrf = archive_on_page(client, flow_id)
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
    archive(client, api_key, flow["id"])
    answer = client.post(f"/api/v1/triggers/{rest_id}/rotate-secret", data=body,
                         headers={**bearer(api_key), "Content-Type": content_type})
    assert 400 <= answer.status_code < 500 and answer.json["error"]["message"], answer.get_data(as_text=True)[:300]
