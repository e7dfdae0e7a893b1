"""Every page, and the canvas at work, in a real browser under the Content-Security-Policy: nothing refused.

A refused inline style or script is silent to the user (a bar without its width, a button
that does nothing), so the browser's `securitypolicyviolation` events and console errors are
collected on every page and must stay empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.runsetup import Flows, conversation_of
from tests.browser.canvas_actions import click_node, connect, latest_version, log_in, node_ids, wait_for_canvas
from tests.browser.conftest import ARTIFACTS

# (what, path with {placeholders} from the `world` fixture, signed in?). Adding a page is one line here.
PAGES = [
    ("login", "/login", False),
    ("error page", "/flows/no-such-flow", True),
    ("flows list", "/flows", True),
    ("flow canvas", "/flows/{flow_id}", True),
    ("version page", "/flows/{flow_id}/versions/1", True),
    ("flow runs", "/flows/{flow_id}/runs", True),
    ("runs list", "/runs", True),
    ("run detail", "/runs/{run_id}", True),
    ("conversations", "/conversations", True),
    ("conversation", "/conversations/{session_id}", True),
    ("credentials", "/credentials", True),
    ("API keys", "/settings/api-keys", True),
    ("audit log", "/settings/audit", True),
    ("profile", "/settings/profile", True),
    ("members", "/settings/members", True),
    ("API answer", "/api/v1/flows", True),
    ("OpenAI models", "/v1/models", True),
]
EXPECTED_STATUS = {"error page": 404, "OpenAI models": 401}  # the models list wants an API key, not a session

WATCH = """
document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


class Watch:
    """What the browser refused or complained about, across navigations."""

    def __init__(self, page):
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.expose_function("reportViolation", lambda text: self.violations.append(f"{page.url}: {text}"))
        page.add_init_script(WATCH)
        page.on("console", lambda msg: self.errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def assert_clean(self, allowed_errors=()):
        errors = [e for e in self.errors if not any(allowed in e for allowed in allowed_errors)]
        assert self.violations == [] and errors == []


@pytest.fixture
def world(app, client, make_account, api_key):
    """A published flow with a finished run in a conversation; the owner's account."""
    account = make_account()
    flows = Flows(client, api_key)
    flow = flows.publish()
    run_id = flows.call(flow, "status please", sessionId="chat-1")["run_id"]
    client.post("/api/v1/credentials", json={"name": "openai", "kind": "api_key", "value": "sk-x"},
                headers={"Authorization": f"Bearer {api_key}"})
    return {"account": account, "flow_id": flow["id"], "run_id": run_id, "session_id": conversation_of(app, run_id)}


def _settle(page):
    page.wait_for_load_state("networkidle", timeout=30000)  # htmx sections load after the page


def test_every_page_renders_under_the_policy_with_nothing_refused(app, world, live_server, page):
    watch = Watch(page)
    signed_in = False
    for what, path, needs_login in sorted(PAGES, key=lambda p: p[2]):
        if needs_login and not signed_in:
            log_in(page, live_server, world["account"])
            page.wait_for_url(f"{live_server}/flows")
            signed_in = True
        response = page.goto(live_server + path.format(**world))
        assert response.status == EXPECTED_STATUS.get(what, 200), what
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy, what
        assert response.headers.get("x-content-type-options") == "nosniff", what
        if what == "flow canvas":
            wait_for_canvas(page)
        _settle(page)
    # The browser logs a document's own 404 / 401 status as a console error; those are the point of those pages.
    watch.assert_clean(allowed_errors=("status of 404", "status of 401"))


def test_the_canvas_opens_adds_a_node_saves_and_runs_under_the_policy(app, world, live_server, page):
    watch = Watch(page)
    log_in(page, live_server, world["account"])
    page.goto(f"{live_server}/flows/{world['flow_id']}")
    wait_for_canvas(page)
    click_node(page, "greet")
    page.wait_for_selector("#side-panel .node-form")
    page.click('#palette [data-type="manual_trigger"]')  # a click adds it where there is room
    added = next(n for n in node_ids(page) if n.startswith("manual_trigger_"))
    connect(page, added, "out", "start")
    page.wait_for_function("id => Switchboard.canvas.graph.getEdges().some(e => e.getSourceCellId() === id)", arg=added)
    page.click("#btn-save")
    page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('version 2')", timeout=30000)
    assert latest_version(app, world["flow_id"]) == 2

    page.click("#btn-run")
    page.fill('#run-fields [data-input="message"]', "hello canvas")
    page.click("#run-submit")
    page.wait_for_selector("#run-bar[data-run-status=succeeded]", timeout=30000)
    _settle(page)
    watch.assert_clean()


def test_a_run_timeline_keeps_its_geometry_after_htmx_swaps(app, world, live_server, page):
    """The bars' left and width come from data attributes (a style="" would be refused): check they land."""
    watch = Watch(page)
    log_in(page, live_server, world["account"])
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/flows/{world['flow_id']}")
    page.fill("input[name=input-message]", "status of the timeline")
    page.click("#trigger-manual button[type=submit]")  # the run panel arrives by an htmx swap, then polls
    page.wait_for_selector("#run-panel [data-run-status=succeeded]", timeout=30000)
    _assert_bars_drawn(page)

    page.goto(f"{live_server}/runs/{world['run_id']}")
    _assert_bars_drawn(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / "csp-run-timeline-1024.png"), full_page=True)
    # Styled, not bare HTML: the stylesheet's grid lays the rows out, the run bar has its colour.
    assert page.eval_on_selector(".tl-row", "e => getComputedStyle(e).display") == "grid"
    assert page.eval_on_selector(".tl-runbar", "e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    watch.assert_clean()


def _assert_bars_drawn(page):
    page.wait_for_function("() => [...document.querySelectorAll('#run-panel .tl-bar')].length > 0"
                           " && [...document.querySelectorAll('#run-panel .tl-bar')]"
                           ".every(b => b.getBoundingClientRect().width > 0)", timeout=15000)
    track = page.locator("#run-panel .tl-track").first.bounding_box()
    lefts = [page.locator("#run-panel .tl-bar").nth(i).bounding_box()["x"]
             for i in range(page.locator("#run-panel .tl-bar").count())]
    assert lefts == sorted(lefts) and lefts[-1] > track["x"] + 1  # later steps sit further right
