"""A person who has never seen the app: build, test, publish, call, compare and roll back a flow.

The whole journey with the mouse (and plain typing of names and words, never a brace): nodes come
from the palette, values are wired with the value picker, the draft is tested before it is saved,
the saved flow's URL is called like another system would, and two versions are compared and the
first one rolled back to. Only the checks read the database or call the URL.
"""

from __future__ import annotations

import json
import urllib.request

from tests.browser.canvas_actions import (
    assert_nodes, chips, click_node, connect, drag_from_palette, field, fill, flow_id_of, latest_version, log_in,
    new_flow, node, pick_value, script_errors, shot, wait_for_canvas,
)

RUN_TIMEOUT_MS = 30000


def _document(app, flow_id, number):
    from app.extensions import db
    from app.models import FlowVersion

    with app.app_context():
        version = db.session.query(FlowVersion).filter_by(flow_id=flow_id, number=number, draft=False).one()
        return version.document


def _call(url, secret, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)


def _draw(page):
    """A REST trigger, a start node with one input, and a reply that says it back."""
    for node_type, x, y in (("api_trigger", 110, 160), ("start", 380, 160), ("reply", 650, 160)):
        drag_from_palette(page, node_type, x, y)
    assert_nodes(page, ["api_trigger_1", "start_1", "reply_1"])
    connect(page, "api_trigger_1", "out", "start_1")
    connect(page, "start_1", "out", "reply_1")
    click_node(page, "api_trigger_1")
    fill(page, "config.key", "orders")
    click_node(page, "start_1")
    page.click("#side-panel [data-action=add-item]")
    fill(page, "config.inputs[0].name", "order")
    click_node(page, "reply_1")
    fill(page, "config.text", "Order ")
    field(page, "config.text").press("End")
    pick_value(page, "config.text", "Start › order")
    assert chips(page, "config.text") == ["Start › order"]


def _test_draft(page, order):
    page.click("#btn-test")
    page.wait_for_selector("#test-dialog[open]")
    page.fill('#test-fields [data-input="order"]', order)
    page.click("#test-submit")
    page.wait_for_selector("#run-bar[data-run-status=succeeded][data-test-run]", timeout=RUN_TIMEOUT_MS)


def _save(page):
    """Press Save; return the secrets the first publish shows (none afterwards)."""
    page.click("#btn-save")
    page.wait_for_function("() => document.querySelector('#secret-dialog').open"
                           " || document.querySelector('#save-state').innerText.includes('Saved')")
    secrets = {}
    if page.locator("#secret-dialog[open]").count():
        secrets["api_trigger_1"] = page.inner_text('#secret-dialog [data-secret="api_trigger_1"]')
        page.click("#secret-close")
    return secrets


def test_a_newcomer_builds_tests_publishes_calls_compares_and_rolls_back(app, make_account, live_server, page):
    account = make_account()
    errors = script_errors(page)
    log_in(page, live_server, account)
    new_flow(page, live_server, "Order answers")
    flow_id = flow_id_of(page)

    _draw(page)
    assert "{{" not in "".join(chips(page, "config.text"))  # the person saw names, not template syntax
    _test_draft(page, "A-17")
    assert "Order A-17" in page.inner_text("#run-bar")
    assert latest_version(app, flow_id) == 0  # a test publishes nothing
    shot(page, "journey-tested-1440")

    secret = _save(page)["api_trigger_1"]
    page.wait_for_selector("#save-state:has-text('Saved · version 1')")
    click_node(page, "api_trigger_1")
    url = page.inner_text('#side-panel [data-trigger-url="api_trigger_1"]').strip()
    status, answer = _call(url, secret, {"order": "B-2"})
    assert status == 200 and answer["output"]["text"] == "Order B-2"

    click_node(page, "reply_1")
    fill(page, "config.text", "Thanks! Your order ")
    field(page, "config.text").press("End")
    pick_value(page, "config.text", "Start › order")
    _save(page)
    page.wait_for_selector("#save-state:has-text('Saved · version 2')")
    assert _call(url, secret, {"order": "C-3"})[1]["output"]["text"] == "Thanks! Your order C-3"

    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-versions")
    page.wait_for_selector('#side-panel[data-showing="versions"] tr[data-version="1"]')
    page.click('#side-panel tr[data-version="1"] button:has-text("Compare with live")')
    page.wait_for_selector("#compare-bar")
    page.wait_for_function("() => document.querySelector('#canvas-graph g[data-node-id=\"reply_1\"]')"
                           "?.getAttribute('data-compare') === 'changed'")
    line = page.inner_text('#side-panel .compare-node[data-compare-node="reply_1"] [data-path="config.text"]')
    assert "Order {{ inputs.order }} → Thanks! Your order {{ inputs.order }}" in line
    shot(page, "journey-compare-1024")
    page.get_by_role("button", name="Close comparison").click()
    page.wait_for_selector("#compare-bar", state="detached")

    page.click("#btn-versions")
    page.click('#side-panel tr[data-version="1"] button:has-text("Roll back to v1")')
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    assert "Order {{ inputs.order }}" in page.inner_text("#rollback-dialog")
    with page.expect_navigation():
        page.get_by_role("button", name="Roll back to v1").last.click()
    wait_for_canvas(page)
    assert latest_version(app, flow_id) == 3 and _document(app, flow_id, 3) == _document(app, flow_id, 1)
    assert _call(url, secret, {"order": "D-4"})[1]["output"]["text"] == "Order D-4"
    assert node(page, "reply_1").count() == 1
    shot(page, "journey-rolled-back-1024")
    assert errors == []
