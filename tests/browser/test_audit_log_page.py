"""An owner publishes a flow on the canvas, opens "Audit log" from the nav, and finds the entry:
who, what, on which flow (a link back to it) and which version, legible at 1024×768."""

from __future__ import annotations

from pathlib import Path

from tests.app.audit.test_audit_read import _events
from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import click_node, fill, open_canvas, publish, script_errors
from tests.browser.conftest import ARTIFACTS


def test_an_owner_sees_the_publish_from_the_canvas_in_the_audit_log(app, make_account, live_server, page):
    account = make_account()
    _events(app, account.workspace_id, 1, "A-flow-name-with-no-spaces-" * 12)  # must wrap, not widen the page
    flow_id = publish(app, account, greeting_flow(key="audited", name="Support bot"))
    errors = script_errors(page)
    open_canvas(page, live_server, account, flow_id)
    click_node(page, "reply")
    fill(page, "config.text", "Changed on the canvas")
    page.click("#btn-save")
    page.wait_for_selector("#save-state:has-text('Saved · version 2')")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("header nav a:has-text('Audit log')")
    page.wait_for_selector("#audit-log")
    newest = page.locator("#audit-log tr[data-audit-event]").first
    cells = newest.locator("td").all_inner_texts()
    assert cells[1:] == [account.email, "Published a flow", "Support bot", "Version 2 is live."], cells
    assert cells[0].endswith(" UTC")
    older = page.locator("#audit-log tr[data-audit-event]").nth(1).locator("td").all_inner_texts()
    assert older[1:4] == ["The server's command line", "Published a flow", "Support bot"]  # the setup's publish

    # Legible at 1024×768: the table fits the width, the nav stays on one line.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    nav = page.locator("header nav").bounding_box()
    assert nav["height"] < 60, nav
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / "audit-log-1024x768.png"))

    page.select_option("select[name=action]", "flow.archived")  # the filter switches on change
    page.wait_for_url("**/settings/audit?action=flow.archived")
    assert page.locator("#audit-log tr[data-audit-event]").count() == 1  # only the archived one
    page.select_option("select[name=action]", "flow.rolled_back")
    page.wait_for_selector("#audit-log td:has-text('No “Rolled back a flow” changes.')")
    page.select_option("select[name=action]", "")
    page.wait_for_selector("#audit-log tr[data-audit-event]")
    newest = page.locator("#audit-log tr[data-audit-event]").first
    newest.locator("a:has-text('Support bot')").click()
    page.wait_for_url(f"**/flows/{flow_id}")
    assert errors == []
