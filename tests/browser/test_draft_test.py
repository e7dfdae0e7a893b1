"""Test a draft from the canvas: change a flow without saving, press Test, fill the inputs, watch it run.

The run is real (the session's worker runs the unsaved document as a hidden draft); nothing is
published; the run appears under the test-run filter; the next test starts from the same inputs;
a delay node shows as waiting with its resume time in UTC; a flow with problems is not tested.
"""

from __future__ import annotations

import re

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import click_node, fill, latest_version, node, open_canvas, publish, reveal, shot

RUN_TIMEOUT_MS = 20000


def _statuses(page, *node_ids):
    return {node_id: reveal(page, node_id).get_attribute("data-status") for node_id in node_ids}


def _test_with(page, message):
    page.click("#btn-test")
    page.wait_for_selector("#test-dialog[open]")
    page.fill('#test-fields [data-input="message"]', message)
    page.click("#test-submit")


def test_edit_without_saving_test_the_draft_and_find_the_test_run(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="drafted"))
    open_canvas(page, live_server, account, flow_id)
    click_node(page, "reply")
    fill(page, "config.text", "Draft answer: {{ nodes.greet.text }}")
    page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('Unsaved')")

    _test_with(page, "hello draft")
    page.wait_for_selector("#run-bar[data-run-status=succeeded][data-test-run]", timeout=RUN_TIMEOUT_MS)
    assert _statuses(page, "api", "start", "greet", "route", "reply", "status_reply") == {
        "api": None, "start": "succeeded", "greet": "succeeded", "route": "succeeded", "reply": "succeeded",
        "status_reply": "skipped"}  # a test enters at the start node: its triggers are left as drawn, not "not reached"
    assert "Draft answer: Hello friend x1: hello draft" in page.inner_text("#run-bar")
    click_node(page, "greet")
    step = page.inner_text("#side-panel .run-step")
    assert "Last test" in step and "Hello friend x1: hello draft" in step
    last = page.evaluate("window.Switchboard.canvas.lastRun")
    assert last["inputs"]["message"] == "hello draft" and last["statuses"]["reply"] == "succeeded"
    assert last["outputs"]["greet"] == {"text": "Hello friend x1: hello draft"}
    shot(page, "draft-tested-1440")
    assert latest_version(app, flow_id) == 1 and "Unsaved" in page.inner_text("#save-state")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-test")  # the last test's inputs are filled in
    page.wait_for_selector("#test-dialog[open]")
    assert page.input_value('#test-fields [data-input="message"]') == "hello draft"
    shot(page, "draft-test-dialog-1024")
    page.click("#test-cancel")

    page.goto(f"{live_server}/runs?trigger_type=test")
    row = page.locator("table.runs tbody tr")
    assert row.count() == 1
    assert "Test run (draft)" in row.inner_text() and "draft" in row.inner_text() and "v-" not in row.inner_text()
    assert page.locator("select[name=trigger_type] option:checked").inner_text() == "Test run (draft)"
    page.screenshot(path="test-artifacts/runs-test-filter-1024.png")
    page.set_viewport_size({"width": 1440, "height": 900})
    row.locator("a").first.click()
    page.wait_for_selector("[data-test-run]")
    assert "Test run (draft)" in page.inner_text("#run-panel") and "v-1" not in page.inner_text("#run-panel")
    page.screenshot(path="test-artifacts/run-page-test-run-1440.png", full_page=True)


def test_a_draft_that_waits_on_a_delay_shows_it_waiting_in_utc(app, make_account, live_server, page):
    account = make_account()
    document = greeting_flow(key="waits")
    document["nodes"].append({"id": "pause", "type": "delay", "name": "Pause", "position": {"x": 600, "y": 260},
                              "config": {"amount": 2, "unit": "hours"}})
    for edge in document["edges"]:
        if edge["id"] == "e6":
            edge["target"] = "pause"
    document["edges"].append({"id": "e7", "source": "pause", "source_port": "out", "target": "reply",
                              "target_port": "in"})
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)
    _test_with(page, "later")
    page.wait_for_selector("#run-bar[data-run-status=waiting]", timeout=RUN_TIMEOUT_MS)
    bar = page.inner_text("#run-bar")
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", bar), bar
    assert reveal(page, "pause").get_attribute("data-status") == "waiting"  # not a green check
    assert reveal(page, "reply").get_attribute("data-status") is None  # not reached yet, nor skipped
    assert re.search(r"until\s\d\d:\d\d\sUTC", reveal(page, "pause").text_content())
    shot(page, "draft-waiting-delay-1440")
    page.goto(f"{live_server}/runs?trigger_type=test")
    page.locator("table.runs tbody tr a").first.click()
    page.wait_for_selector("[data-step-waiting]")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page.inner_text("[data-resume-at]"))
    page.screenshot(path="test-artifacts/run-page-waiting-delay-1440.png", full_page=True)


def test_a_draft_with_problems_is_not_tested_and_the_problems_show(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="broken"))
    open_canvas(page, live_server, account, flow_id)
    click_node(page, "api")
    fill(page, "config.key", "not a key!")  # a trigger key cannot have spaces or "!"
    page.click("#btn-test")
    page.wait_for_selector("#test-dialog[open]")
    page.fill('#test-fields [data-input="message"]', "hi")
    page.click("#test-submit")
    page.wait_for_selector("#problems.after-save:not([hidden])")
    assert not page.is_visible("#test-dialog[open]")
    assert "Not tested" in page.inner_text("#canvas-toast")
    assert node(page, "api").get_attribute("data-problem")
    shot(page, "draft-refused-1440")
