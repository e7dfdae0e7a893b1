"""A non-developer reads the editor and the run pages: words instead of JSON types and raw names,
the essentials first with the rest under "Advanced", and no page wider than the window (issue 17).

Each check runs at 1440x900 and 1024x768 and leaves a screenshot of what it saw in test-artifacts/.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import (
    click_node, connect, field, fill, log_in, node_ids, publish, wait_for_canvas,
)
from tests.browser.conftest import ARTIFACTS

SIZES = [(1440, 900), (1024, 768)]
JSON_TYPE_WORDS = ("string", "boolean", "array", "integer")


@pytest.fixture(params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def size(request):
    return request.param


def _open(page, base, account, size, path):
    log_in(page, base, account)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{base}{path}")


def _shot(page, name, size):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"plain-words-{name}-{size[0]}x{size[1]}.png"))


def _no_horizontal_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _options(page, selector):
    return page.eval_on_selector(selector, "s => Array.from(s.options, o => o.text)")


# ---- the canvas forms ---------------------------------------------------------------------


@pytest.fixture
def greeter_canvas(app, make_account, live_server, page, size):
    """The canvas of a published greeting flow, open at `size`; returns the account."""
    account = make_account()
    flow_id = publish(app, account, greeting_flow())
    _open(page, live_server, account, size, f"/flows/{flow_id}")
    wait_for_canvas(page)
    return account


def test_start_node_input_types_read_as_words(greeter_canvas, page, size):
    click_node(page, "start")
    type_field = '#side-panel [data-field="config.inputs[0].type"]'
    assert _options(page, type_field) == ["Text", "Number", "Whole number", "Yes/No", "List", "Object"]
    assert page.eval_on_selector(type_field, "s => s.options[s.selectedIndex].text") == "Text"
    assert page.eval_on_selector(type_field, "s => s.value") == "string"  # the document keeps its value
    inputs_text = page.inner_text('#side-panel [data-path="config.inputs"]')
    for word in JSON_TYPE_WORDS:
        assert word not in inputs_text.lower().replace(".", " ").split(), word
    assert "Input 1" in inputs_text and "+ Add input" in inputs_text  # one of the Inputs, in whole words
    _shot(page, "start-types", size)

    click_node(page, "route")
    route_text = page.inner_text("#side-panel")
    assert "Branch 1" in route_text and "+ Add branch" in route_text and "+ Add condition" in route_text
    operator = '#side-panel [data-field="config.branches[0].conditions[0].operator"]'
    assert page.eval_on_selector(operator, "s => s.options[s.selectedIndex].text") == "contains"
    assert "is not empty" in _options(page, operator) and "not_contains" not in _options(page, operator)
    assert page.locator("#side-panel details.advanced").evaluate("d => d.open") is False  # retry, on error
    page.click("#side-panel details.advanced summary")
    assert _options(page, '#side-panel [data-field="config.on_error"]')[1:] == ["Stop the run",
                                                                               "Continue from the error port"]


def test_rest_trigger_shows_its_essentials_and_folds_the_rest(greeter_canvas, page, size):
    account = greeter_canvas
    click_node(page, "api")
    for path in ("config.key", "config.authenticate", "config.wait_for_response"):
        assert field(page, path).is_visible(), path
    advanced = page.locator("#side-panel details.advanced")
    assert advanced.count() == 1 and advanced.evaluate("d => d.open") is False
    assert "Advanced" in advanced.locator("summary").inner_text()
    assert not field(page, "config.filter").is_visible() and not field(page, "config.verify_signature").is_visible()
    form_text = page.inner_text("#side-panel form")
    assert "JSON Schema filter" not in form_text and "Filter (JSON Schema)" not in form_text

    # The whole URL is readable in the side panel (it wraps), not cut off.
    url = page.locator('#side-panel [data-trigger-url="api"]')
    assert url.inner_text().endswith(f"/hooks/{account.workspace_id}/hello")
    assert url.evaluate("e => e.scrollWidth <= e.clientWidth")
    panel_box, url_box = page.locator("#side-panel").bounding_box(), url.bounding_box()
    assert url_box["x"] + url_box["width"] <= panel_box["x"] + panel_box["width"]
    _shot(page, "rest-trigger-form", size)

    advanced.locator("summary").click()
    assert field(page, "config.filter").is_visible()
    assert "Only accept requests that match" in advanced.inner_text()

    # A problem in a folded setting opens the group: it is never hidden from the person fixing it.
    fill(page, "config.timeout_seconds", "0")
    advanced.locator("summary").click()  # fold it (the editor may already have marked the problem and kept it open)
    page.click("#btn-save")
    page.wait_for_selector('#side-panel [data-path="config.timeout_seconds"].has-problem')
    assert advanced.evaluate("d => d.open") is True and field(page, "config.timeout_seconds").is_visible()
    fill(page, "config.timeout_seconds", "30")

    # The trigger's own panel: secret and "wait for answer" first, the rest under Advanced.
    page.click('#side-panel [data-action="trigger-panel"]')
    page.wait_for_selector("#side-panel [data-essentials]")
    essentials = page.inner_text("#side-panel [data-essentials]")
    assert "Secret" in essentials and "Wait for answer" in essentials
    folded = page.locator("#side-panel details[data-advanced]")
    assert folded.evaluate("d => d.open") is False and not page.locator("#side-panel [data-signing]").is_visible()
    assert page.locator("#side-panel [data-trigger-url]").evaluate("e => e.scrollWidth <= e.clientWidth")
    _shot(page, "rest-trigger-panel", size)
    assert _no_horizontal_overflow(page)


def test_the_secret_dialog_wraps_a_long_url(app, make_account, live_server, page, size):
    account = make_account()
    flow_id = publish(app, account, greeting_flow())
    log_in(page, live_server, account)  # draw at 1440x900, read the dialog at each size
    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    page.click('#palette [data-type="api_trigger"]')  # a click adds it where there is room
    added = next(n for n in node_ids(page) if n.startswith("api_trigger"))
    connect(page, added, "out", "start")
    page.wait_for_function("id => window.Switchboard.canvas.graph.getEdges().some(e => e.getSourceCellId() === id"
                           " && e.getTargetCellId() === 'start')", arg=added)
    click_node(page, added)
    fill(page, "config.key", "orders-from-the-web-shop-with-a-rather-long-name-for-its-trigger")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.click("#btn-save")
    page.wait_for_selector("#secret-dialog[open]")

    dialog = page.locator("#secret-dialog")
    assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
    url = dialog.locator(".url")
    assert "orders-from-the-web-shop" in url.inner_text()
    dialog_box, url_box = dialog.bounding_box(), url.bounding_box()
    assert url_box["x"] + url_box["width"] <= dialog_box["x"] + dialog_box["width"]
    _shot(page, "secret-dialog", size)
    page.click("#secret-close")


# ---- the pages around the canvas -----------------------------------------------------------


@pytest.fixture
def published(app, client, make_account, api_key):
    """The workspace owner (for the browser) and a published greeting flow with its trigger secret."""
    from tests.app.runsetup import Flows

    account = make_account()
    flows_api = Flows(client, api_key)
    return account, flows_api, flows_api.publish()


def _call(live_server, flow, message, **fields):
    request = urllib.request.Request(f"{live_server}{flow['hook_path']}", method="POST",
                                     data=json.dumps({"user_message": message, **fields}).encode(),
                                     headers={"Authorization": f"Bearer {flow['secret']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_runs_filters_and_credential_kinds_read_as_words(published, live_server, page, size):
    account, _, flow = published
    _call(live_server, flow, "hello", outId="crm-1002")
    _open(page, live_server, account, size, "/runs")
    page.wait_for_selector("tr[data-run-id]")

    started_by = _options(page, "select[name=trigger_type]")
    assert {"REST API", "OpenAI-compatible API", "Schedule", "Run now", "Test run (draft)"} <= set(started_by)
    assert "Timed out" in _options(page, "select[name=status]")
    filters = page.inner_text("#run-filters")
    assert "Caller's reference" in filters and "outId" not in filters.split()
    table = page.inner_text("#runs-results")
    assert "REST API" in table and "api_trigger" not in table and "Succeeded" in table
    for cell in ("#runs-results .badge", "#runs-results tbody td:nth-child(3)"):  # words are never split
        assert page.locator(cell).first.evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length <= 2 "
            "&& r.getBoundingClientRect().height < 30; }"), cell
    assert _no_horizontal_overflow(page)
    _shot(page, "runs", size)

    page.select_option("select[name=trigger_type]", label="REST API")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url("**trigger_type=api_trigger**")  # the value in the link stays the API's
    assert page.locator("tr[data-run-id]").count() == 1

    page.goto(f"{live_server}/credentials")
    assert _options(page, "select[name=kind]") == ["API key", "Bearer token", "Username and password", "Custom header"]
    page.fill("input[name=name]", "crm-login")
    page.select_option("select[name=kind]", label="Username and password")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "correct horse")
    page.click("button:has-text('Save credential')")
    assert "Username and password" in page.inner_text("table.grid")
    assert "basic" not in page.inner_text("table.grid").split()
    assert _no_horizontal_overflow(page)
    _shot(page, "credentials", size)


def test_a_long_step_output_never_widens_the_run_page(published, live_server, page, size):
    account, _, flow = published
    answer = _call(live_server, flow, "x" * 5000)
    _open(page, live_server, account, size, f"/runs/{answer['run_id']}")
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")
    for summary in page.locator("table.steps summary").all():
        summary.click()  # open every box: settings, results and their "Show as JSON"
    assert _no_horizontal_overflow(page)
    for boxes in ("table.steps pre.json", "table.steps dl.readable"):
        box = page.locator(boxes).last.bounding_box()
        assert box["x"] + box["width"] <= size[0]
    _shot(page, "long-output", size)


def test_api_key_radio_buttons_sit_next_to_their_labels(published, live_server, page, size):
    account, _, _ = published
    _open(page, live_server, account, size, "/settings/api-keys")
    gaps = page.eval_on_selector_all("#new-key input[type=radio]", """radios => radios.map(radio => {
        const label = radio.closest('label');
        const text = Array.from(label.childNodes).find(n => n.nodeType === 3 && n.textContent.trim());
        const range = document.createRange(); range.selectNodeContents(text);
        const r = radio.getBoundingClientRect(), t = range.getBoundingClientRect();
        return {gap: t.left - r.right, dy: Math.abs((r.top + r.bottom) / 2 - (t.top + t.bottom) / 2), height: t.height};
    })""")
    assert len(gaps) == 2
    for gap in gaps:
        assert 0 <= gap["gap"] <= 24, gap  # right after the button, on the same line
        assert gap["dy"] < gap["height"] / 2, gap
    assert _no_horizontal_overflow(page)
    _shot(page, "api-keys", size)
