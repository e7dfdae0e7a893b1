"""The pages a person uses: log in, see flows, a flow's triggers/versions/runs, a run's steps."""

from __future__ import annotations

import pytest

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.conftest import csrf_from, wait_for


def _publish(app, account, document=None):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, account.workspace_id), document or greeting_flow(), None)
        db.session.commit()
        return result.flow.id, result.secrets


def test_pages_need_a_login(client):
    response = client.get("/flows")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused_with_a_message(client, make_account):
    account = make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": account.email, "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(client, make_account):
    account = make_account()
    response = client.post("/login", data={"email": account.email, "password": account.password})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/x", "/x%0D%0ASet-Cookie:%20a=b",
                                    "/x%0Ay", "/x%00y", "/x%09y", "/x%20y", "/x%E2%80%A8y", "/x%7Fy"])
def test_login_never_redirects_off_site_or_into_a_broken_header(client, make_account, target):
    account = make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(f"/login?next={target}", data={
        "email": account.email, "password": account.password, "csrf_token": token})
    if "%00" in target:  # refused before anything is read, as every NUL in a request is
        assert response.status_code == 400 and "Set-Cookie" not in response.headers
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/flows"
    assert "a=b" not in response.headers.get("Set-Cookie", "")


def test_login_follows_a_next_page_of_this_site(client, make_account):
    account = make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=/runs%3Fstatus%3Dfailed", data={
        "email": account.email, "password": account.password, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/runs?status=failed"


def test_flow_page_shows_trigger_url_versions_and_runs(client, app, auth):
    flow_id, _ = _publish(app, auth)
    listing = client.get("/flows").get_data(as_text=True)
    assert "Greeter" in listing and f"/flows/{flow_id}" in listing
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert f"/hooks/{auth.workspace_id}/hello" in page
    assert "Copy URL" in page and "Rotate secret" in page and "v1" in page


def test_run_now_starts_a_run_and_its_page_shows_every_step(client, app, auth):
    flow_id, _ = _publish(app, auth)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/triggers/manual/run", data={
        "csrf_token": csrf_from(page), "input-message": "hello from the form", "input-count": "2"})
    assert response.status_code == 302
    run_path = response.headers["Location"]
    html = wait_for(lambda: (h := client.get(run_path).get_data(as_text=True)) and 'data-run-status="succeeded"' in h and h)
    for node in ("manual", "start", "greet", "route", "reply"):
        assert f'data-step-node="{node}"' in html  # each step row, named in words on the page
    assert "Hello friend x2: hello from the form" in html
    assert "hx-trigger" not in html.split('id="run-panel"')[1].split(">")[0]  # finished runs stop polling


def _typed_inputs_flow() -> dict:
    document = greeting_flow()
    start = next(node for node in document["nodes"] if node["id"] == "start")
    start["config"]["inputs"] += [{"name": "score", "type": "number"}, {"name": "tags", "type": "array"},
                                  {"name": "extra", "type": "object"}]
    return document


REFUSED_FIELDS = [
    ("count", "NaN", "a whole number"), ("count", "Infinity", "a whole number"), ("score", "1e999", "a number"),
    ("score", "-Infinity", "a number"), ("count", "9" * 1001, "a whole number"), ("count", "2.5", "whole number"),
    ("score", "twelve", "a number"), ("tags", "[" * 5000 + "]" * 5000, "a list written as JSON"),
    ("tags", "[" * 100 + "]" * 100, "a list written as JSON"),
    ("extra", '{"a": ' * 3000 + "1" + "}" * 3000, "a set of named values"),
    ("extra", '{"text": "\\ud800 alone"}', "a set of named values"), ("extra", '{"a": NaN}', "a set of named values"),
]


def test_run_now_refuses_what_a_typed_field_cannot_hold_and_starts_nothing(client, app, auth):
    from tests.app.trigger_helpers import run_rows

    flow_id, _ = _publish(app, auth, _typed_inputs_flow())
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    for field, value, words in REFUSED_FIELDS:
        response = client.post(f"/flows/{flow_id}/triggers/manual/run", data={
            "csrf_token": csrf_from(page), "input-message": "hi", f"input-{field}": value}, follow_redirects=True)

        assert response.status_code == 200 and response.request.path == f"/flows/{flow_id}", value[:40]
        html = response.get_data(as_text=True)
        assert f"Not run: {field}" in html and words in html and "Traceback" not in html, value[:40]
        assert len(html) < 200_000  # the value is quoted cut short, not whole
    assert run_rows(app) == []


def test_run_now_starts_typed_fields_written_as_json(client, app, auth):
    flow_id, _ = _publish(app, auth, _typed_inputs_flow())
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/triggers/manual/run", data={
        "csrf_token": csrf_from(page), "input-message": "hi", "input-score": "2.5", "input-count": "3",
        "input-tags": '["a", "b"]', "input-extra": '{"k": [1, {"deep": true}]}'})
    from tests.app.trigger_helpers import run_rows

    assert response.status_code == 302 and "/runs/" in response.headers["Location"]
    (run,) = run_rows(app)
    assert run.inputs == {"message": "hi", "person": "friend", "count": 3, "score": 2.5, "tags": ["a", "b"],
                          "extra": {"k": [1, {"deep": True}]}}


def test_the_run_now_page_starts_only_run_now_triggers(client, app, auth):
    """A REST trigger has its own door (its filter, rate limit and secret): the form must not bypass it."""
    from tests.app.trigger_helpers import run_rows

    flow_id, _ = _publish(app, auth)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/triggers/api/run", data={
        "csrf_token": csrf_from(page), "input-message": "hi"}, follow_redirects=True)

    assert response.request.path == f"/flows/{flow_id}"
    assert "Not run: only a Run-now trigger can be started from this page" in response.get_data(as_text=True)
    assert run_rows(app) == []


def test_rotating_a_secret_shows_the_new_one_once(client, app, auth):
    flow_id, secrets = _publish(app, auth)
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/triggers/api/rotate", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "shown only once" in html and "sbt_" in html and secrets["api"] not in html
    assert "sbt_" not in client.get(f"/flows/{flow_id}").get_data(as_text=True).split("Rotate secret")[0]


def test_rollback_from_the_versions_list(client, app, auth):
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    flow_id, _ = _publish(app, auth)
    with app.app_context():
        publishing.save_flow(db.session.get(Flow, flow_id), with_reply_text(greeting_flow(), "changed"), None)
        db.session.commit()
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    response = client.post(f"/flows/{flow_id}/versions/1/rollback", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "republished as version 3" in response.get_data(as_text=True)
    old = client.get(f"/flows/{flow_id}/versions/1").get_data(as_text=True)
    assert "read-only" in old and "<code>greet</code>" in old


def test_another_workspaces_pages_are_404(client, app, auth, make_account):
    other = make_account(email="eve@example.com", workspace="Elsewhere")
    flow_id, _ = _publish(app, other)
    assert client.get(f"/flows/{flow_id}").status_code == 404
    assert "Greeter" not in client.get("/flows").get_data(as_text=True)


def test_the_trigger_panel_generates_a_signing_secret_shown_once_that_verifies(client, app, auth):
    import time

    from app.services.triggers.webhook_signing import sign

    flow_id, _ = _publish(app, auth, greeting_flow(verify_signature=True, authenticate=False))
    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    panel = client.get(f"/flows/{flow_id}/triggers/api/panel").get_data(as_text=True)
    assert "no signing secret yet" in panel and "Generate signing secret" in panel
    response = client.post(f"/flows/{flow_id}/triggers/api/signing-secret",
                           headers={"HX-Request": "true", "X-CSRFToken": csrf_from(page)})
    html = response.get_data(as_text=True)
    secret = html.split("data-signing-secret>")[1].split("<")[0]
    assert secret.startswith("whsec_") and "Rotate signing secret" in html
    assert secret not in client.get(f"/flows/{flow_id}/triggers/api/panel").get_data(as_text=True)
    body, now = b'{"user_message": "signed"}', int(time.time())
    url = f"/hooks/{auth.workspace_id}/hello"
    answer = client.post(url, data=body, headers={"webhook-id": "m1", "webhook-timestamp": str(now),
                                                  "webhook-signature": sign(secret, "m1", now, body),
                                                  "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json["output"]["text"].endswith("signed")
