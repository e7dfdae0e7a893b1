"""A person in a real browser: log in, open the example-like flow, run it now, watch it finish."""

from __future__ import annotations

from tests.app.flowdocs import greeting_flow


def _publish(app, account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, account.workspace_id), greeting_flow(), None)
        db.session.commit()
        return result.flow.id


def test_log_in_open_a_flow_run_it_now_and_see_every_step(app, make_account, live_server, page):
    account = make_account()
    flow_id = _publish(app, account)
    requests_elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else requests_elsewhere.append(r.url))

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.click("text=Greeter")
    assert page.url.endswith(f"/flows/{flow_id}")
    assert f"/hooks/{account.workspace_id}/hello" in page.inner_text("#trigger-api")

    page.fill("input[name=input-message]", "hello browser")
    page.click("#trigger-manual button[type=submit]")
    page.wait_for_selector("[data-run-status=succeeded]", timeout=15000)  # the panel polls itself via htmx
    rows = page.locator("table.steps tbody tr[data-step]")  # each step; its details row follows it
    named = [rows.nth(i).locator("td").nth(1).inner_text().strip() for i in range(rows.count())]
    assert named == ["Run now", "Start", "Compose", "Status?", "Answer"]  # as on the canvas, not by internal ids
    assert [rows.nth(i).get_attribute("data-step-node") for i in range(rows.count())] == [
        "manual", "start", "greet", "route", "reply"]
    assert "Hello friend x1: hello browser" in page.inner_text("#run-panel")
    assert requests_elsewhere == []


def test_wrong_password_shows_the_reason_next_to_the_field(make_account, live_server, page):
    account = make_account()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", "not it")
    page.click("button[type=submit]")
    assert "Wrong email or password." in page.inner_text(".field-error")
