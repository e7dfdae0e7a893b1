"""The flows page: each flow's last run and today's traffic (test runs left out), search, the archived view,
and the whole-flow buttons on a flow's page."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.app.manage.manage_helpers import publish
from tests.app.trigger_helpers import bearer, local_path
from tests.conftest import csrf_from


def _copy_run(app, run_id: str, **changes) -> None:
    """Another run row like `run_id` (a failure, a test run, yesterday's), to give the list numbers to count."""
    from app.extensions import db
    from app.models import Run
    from app.models.types import new_id

    with app.app_context():
        run = db.session.get(Run, run_id)
        values = {c.key: getattr(run, c.key) for c in Run.__table__.columns}
        values.update(id=new_id(), job_id=None, idempotency_key=None, **changes)
        db.session.add(Run(**values))
        db.session.commit()


def _row(html: str, flow_id: str) -> str:
    match = re.search(rf'<tr data-flow-id="{flow_id}">(.*?)</tr>', html, re.S)
    assert match, html
    return match.group(1)


def test_each_flow_shows_its_last_run_and_todays_runs_and_failures_without_test_runs(app, client, auth, api_key):
    from app.models import RunStatus
    from app.models.types import utcnow

    busy = publish(client, api_key, greeting_flow(key="busy", name="Busy"))
    idle = publish(client, api_key, schedule_flow(name="Idle"))
    run_id = client.post(local_path(busy["triggers"][0]["url"]), json={"message": "hi"},
                         headers=bearer(busy["secrets"]["api"])).json["run_id"]
    now = utcnow()
    _copy_run(app, run_id, status=RunStatus.FAILED, created_at=now - timedelta(seconds=5))
    _copy_run(app, run_id, status=RunStatus.TIMED_OUT, created_at=now - timedelta(seconds=4))
    _copy_run(app, run_id, status=RunStatus.FAILED, created_at=now - timedelta(days=2))  # not today
    _copy_run(app, run_id, status=RunStatus.FAILED, trigger_type="test", created_at=now + timedelta(seconds=5))
    html = client.get("/flows").get_data(as_text=True)
    busy_row = _row(html, busy["id"])
    assert 'class="badge status-succeeded">succeeded' in busy_row and " UTC</time>" in busy_row
    assert '<td class="runs-today">3</td>' in busy_row
    assert '<span class="badge status-failed">2</span>' in busy_row
    idle_row = _row(html, idle["id"])
    assert "never run" in idle_row and '<td class="runs-today">0</td>' in idle_row


def test_search_answers_htmx_with_the_table_alone_and_the_archived_view_offers_restore(client, auth, api_key):
    orders = publish(client, api_key, greeting_flow(key="o", name="Orders bot"))
    publish(client, api_key, schedule_flow(name="Weather"))
    found = client.get("/flows?q=orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Orders bot" in found and "Weather" not in found and "<html" not in found
    assert "No flow matches “nothing”" in client.get("/flows?q=nothing").get_data(as_text=True)
    page = client.get("/flows").get_data(as_text=True)
    assert 'href="/flows?archived=1"' in page and 'name="q"' in page and 'type="file"' in page
    assert f'action="/flows/{orders["id"]}/duplicate"' in _row(page, orders["id"])

    token = csrf_from(page)
    archived = client.post(f"/flows/{orders['id']}/archive", data={"csrf_token": token}, follow_redirects=True)
    text = archived.get_data(as_text=True)
    assert "was archived" in text and "Orders bot</a>" not in text
    view = client.get("/flows?archived=1").get_data(as_text=True)
    assert "Orders bot" in view and "Weather" not in view and ">Restore</button>" in view
    flow_page = client.get(f"/flows/{orders['id']}").get_data(as_text=True)
    assert "was archived on" in flow_page and 'data-editable' not in flow_page
    assert '"readonly": true' in flow_page  # the canvas opens read-only: nothing to save until restored
    restored = client.post(f"/flows/{orders['id']}/restore", data={"csrf_token": token}, follow_redirects=True)
    assert "was restored" in restored.get_data(as_text=True)
    assert "Orders bot" in client.get("/flows").get_data(as_text=True)


def test_the_flow_page_offers_rename_duplicate_export_and_archive_to_editors(client, auth, api_key):
    flow = publish(client, api_key, greeting_flow(key="desk"))
    page = client.get(f"/flows/{flow['id']}").get_data(as_text=True)
    assert '"readonly": false' in page
    assert 'data-editable' in page and ">Rename</button>" in page and ">Duplicate</button>" in page
    assert f'/api/v1/flows/{flow["id"]}/versions/1/export' in page and ">Archive</button>" in page
    assert "Export v1" in client.get(f"/flows/{flow['id']}/versions/1").get_data(as_text=True)
    copied = client.post(f"/flows/{flow['id']}/duplicate", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    text = copied.get_data(as_text=True)
    assert "was duplicated as “Copy of Greeter”, with new trigger URLs and secrets." in text
    assert "/hooks/" in text and "desk-copy" in text
    assert "sbt_" in text  # the copy's new secret, shown this once


def test_duplicating_a_flow_without_triggers_promises_no_new_urls(client, auth, api_key):
    empty = client.post("/flows/new", data={"csrf_token": csrf_from(client.get("/flows").get_data(as_text=True)),
                                            "name": "Blank"}, follow_redirects=True)
    flow_id = empty.request.path.rsplit("/", 1)[-1]
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    copied = client.post(f"/flows/{flow_id}/duplicate", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    text = copied.get_data(as_text=True)
    assert "was duplicated as “Copy of Blank”." in text and "new trigger URLs" not in text


def test_viewers_see_the_name_as_text_and_no_management_buttons(client, make_account, api_key):
    flow = publish(client, api_key, greeting_flow())
    viewer = make_account(email="viewer@example.com", role="viewer")
    login = client.get("/login")
    client.post("/login", data={"email": viewer.email, "password": viewer.password,
                                "csrf_token": csrf_from(login.get_data(as_text=True))})
    page = client.get(f"/flows/{flow['id']}").get_data(as_text=True)
    assert "data-editable" not in page and ">Rename</button>" not in page and ">Archive</button>" not in page
    assert "Export v1" in page
    token = csrf_from(page)
    for action in ("duplicate", "archive", "restore"):
        assert client.post(f"/flows/{flow['id']}/{action}", data={"csrf_token": token}).status_code == 403
    listing = client.get("/flows").get_data(as_text=True)
    assert 'type="file"' not in listing and "Greeter" in listing
