"""An operator in a real browser: find a request by outId, watch a run go live, read its
timeline, and follow a conversation turn by turn."""

from __future__ import annotations

import re

import pytest

from tests.app.flowdocs import greeting_flow
from tests.browser.conftest import ARTIFACTS
from tests.app.runsetup import Flows


@pytest.fixture
def operator(app, client, make_account, api_key, live_server, page):
    """Log the workspace owner in; return a helper that publishes flows and calls their triggers."""
    account = make_account()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/flows")
    return Flows(client, api_key)


def test_filter_the_runs_list_by_out_id_and_status(app, operator, live_server, page):
    flow = operator.publish()
    wanted = operator.call(flow, "where is order 1002?", outId="crm-1002")["run_id"]
    other = operator.call(flow, "hello")["run_id"]

    page.click("header >> text=Runs")
    page.wait_for_selector(f'tr[data-run-id="{other}"]')
    assert page.locator("tr[data-run-id]").count() == 2

    page.fill("input[name=out_id]", "crm-1002")
    page.click("#run-filters button[type=submit]")
    page.wait_for_selector(f'tr[data-run-id="{other}"]', state="detached")
    assert page.locator("tr[data-run-id]").count() == 1
    assert "out_id=crm-1002" in page.url  # the filtered list is a link to share

    page.select_option("select[name=status]", "failed")
    page.click("#run-filters button[type=submit]")
    page.wait_for_selector("text=No runs match these filters.")

    page.click("text=Clear")
    page.wait_for_selector(f'tr[data-run-id="{other}"]')
    page.fill("input[name=since]", "2999-01-01T00:00:00")
    page.click("#run-filters button[type=submit]")
    page.wait_for_selector("text=No runs match these filters.")

    page.click("text=Clear")
    page.click(f'tr[data-run-id="{wanted}"] a')
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")
    assert "crm-1002" in page.inner_text("#run-panel")


def test_a_running_run_turns_succeeded_on_the_open_pages_without_a_reload(app, operator, live_server, page, browser, stack):
    flow = operator.publish(greeting_flow(wait_for_response=False))
    stack.stop_worker()  # no worker: the run stays queued until one starts
    try:
        run_id = operator.call(flow, "take your time")["run_id"]
        page.goto(f"{live_server}/runs")
        page.wait_for_selector(f'tr[data-run-id="{run_id}"] [data-run-status=queued]')
        detail = page.context.new_page()
        detail.goto(f"{live_server}/runs/{run_id}")
        detail.wait_for_selector("#run-panel [data-run-status=queued]")
        assert "Waiting for a worker" in detail.inner_text("#run-panel")
        # A fold the person opens stays open while the panel replaces itself every second.
        detail.locator("#run-inputs summary", has_text="Show as JSON").click()
        closed_body = detail.locator("#trigger-body > summary")
        closed_body.click()
        detail.wait_for_function("!document.querySelector('#trigger-body').open")
    finally:
        stack.start_worker()
    page.wait_for_selector(f'tr[data-run-id="{run_id}"] [data-run-status=succeeded]', timeout=20000)
    detail.wait_for_selector("#run-panel [data-run-status=succeeded]", timeout=20000)
    assert detail.locator("#run-inputs pre.json").is_visible()
    assert detail.evaluate("document.querySelector('#trigger-body').open") is False  # and a closed one closed
    assert detail.locator(".tl-bar").count() == 5
    # Nothing on the page can change any more, so it stops polling.
    assert page.get_attribute("#runs-results", "hx-trigger") is None
    assert detail.get_attribute("#run-panel", "hx-trigger") is None


def test_the_timeline_draws_each_step_to_scale_and_shows_what_it_did(app, operator, live_server, page):
    flow = operator.publish()
    run_id = operator.call(flow, "status of db?")["run_id"]
    page.goto(f"{live_server}/runs/{run_id}")
    page.wait_for_selector(".timeline")

    bars = page.locator(".tl-bar")
    assert [bars.nth(i).get_attribute("data-node") for i in range(bars.count())] == [
        "api", "start", "greet", "route", "status_reply"]
    track = page.locator(".tl-track").first.bounding_box()
    boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
    for box in boxes:
        assert box["width"] > 0
        assert track["x"] - 1 <= box["x"] and box["x"] + box["width"] <= track["x"] + track["width"] + 1
    assert [b["x"] for b in boxes] == sorted(b["x"] for b in boxes)  # steps run one after another

    route_row = page.locator('table.steps tr[data-step]').nth(3)
    port = route_row.locator("td").nth(4)
    assert port.inner_text() == "asks for status"  # the branch taken, by its label on the form
    assert port.get_attribute("data-port") == "status"
    route_details = page.locator("table.steps tr.step-details").nth(3)  # the full-width row under the step
    assert route_details.get_attribute("data-details-of") == route_row.get_attribute("data-step")
    route_details.locator("summary", has_text="Result").click()
    assert "status" in route_details.inner_text()
    request = page.inner_text("#trigger-request")
    assert "REST API call" in request and "req_" in request


def test_a_conversation_reads_as_messages_with_the_runs_behind_each_turn(app, operator, live_server, page):
    flow = operator.publish()
    turns = [operator.call(flow, text, sessionId="chat-7", contact={"name": "Grace"})["run_id"]
             for text in ("hi there", "any status news?")]

    page.click("header >> text=Conversations")
    page.click("text=chat-7")
    page.wait_for_selector("#conversation .msg-user")
    messages = page.locator("#conversation .msg")
    # Each message's text without its "user"/"flow" label, read from the DOM: inner_text() depends on
    # the stylesheet (the label is a block only once it applies), and a CI run read it before that.
    texts = [messages.nth(i).evaluate("e => [...e.childNodes].filter(n => !(n.classList && "
                                      "n.classList.contains('who'))).map(n => n.textContent).join('').trim()")
             for i in range(messages.count())]
    assert texts == ["hi there", "Hello friend x1: hi there", "any status news?",
                     "All systems operational. (Hello friend x1: any status news?)"]
    assert page.inner_text("[data-session-state]") == "active"
    assert "Grace" in page.inner_text("#conversation")

    page.locator(".turn").nth(1).locator("a", has_text="run").click()
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")
    assert turns[1][:8] in page.inner_text("#run-panel h1")


def test_a_session_id_shared_by_two_triggers_asks_which_conversation_at_1024(app, operator, live_server, page):
    """The caller's session id in the address finds the conversation; used by two triggers, the
    page asks which one, naming flows and triggers as people named them (no internal ids)."""
    one = operator.publish()
    other = operator.publish(greeting_flow(key="other", name="Billing bot"))
    operator.call(one, "first question", sessionId="chat-42")
    operator.call(other, "second question", sessionId="chat-42")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/conversations/chat-42")
    page.wait_for_selector("[data-choose-conversation]")
    text = page.inner_text("[data-choose-conversation]")
    assert "Billing bot · REST" in text and "Pick one" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # nothing runs off the screen
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "conversation-choose-1024.png"))
    page.click("text=Billing bot · REST")
    page.wait_for_selector("text=second question")


def order_flow() -> dict:
    """api → start(text) → "Shape order" (a template read as JSON: nested) → reply with data fields."""
    shaped = '{"order": {"id": 1002, "items": ["tea", "cake"], "paid": true}, "note": ""}'
    return {
        "schema_version": 1, "name": "Orders",
        "nodes": [
            {"id": "api", "type": "api_trigger", "name": "REST", "config": {"key": "orders"}, "position": {"x": 0, "y": 0}},
            {"id": "start", "type": "start", "name": "Start", "position": {"x": 200, "y": 0}, "config": {
                "message_input": "text", "inputs": [{"name": "text", "type": "string", "required": True}]}},
            {"id": "shape_1", "type": "template", "name": "Shape order", "position": {"x": 400, "y": 0},
             "config": {"template": shaped, "parse_json": True}},
            {"id": "reply_1", "type": "reply", "name": "Answer", "position": {"x": 600, "y": 0}, "config": {
                "text": "You said {{ inputs.text }}",
                "data": {"order_id": "{{ nodes.shape_1.data.order.id }}", "status": "<b>shipped</b>"}}},
        ],
        "edges": [
            {"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
            {"id": "e2", "source": "start", "source_port": "out", "target": "shape_1", "target_port": "in"},
            {"id": "e3", "source": "shape_1", "source_port": "out", "target": "reply_1", "target_port": "in"},
        ],
    }


def _pairs(page, selector):
    """The name → value pairs of the first readable list under `selector`, as a person reads them."""
    return page.eval_on_selector(selector, """box => {
        const dl = box.matches('dl.readable') ? box : box.querySelector('dl.readable');
        return Array.from(dl.children).filter(e => e.tagName === 'DT').map(dt => [dt.innerText, dt.nextElementSibling.innerText]);
    }""")


def test_the_run_page_reads_values_as_names_and_values_with_the_json_one_click_away(app, operator, live_server, page):
    flow = operator.publish(order_flow())
    run_id = operator.call(flow, "hi")["run_id"]
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/runs/{run_id}")
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")

    assert _pairs(page, "#run-inputs") == [["text", "hi"]]
    inputs = page.inner_text("#run-inputs")
    assert '{"text"' not in inputs and '"hi"' not in inputs  # no code to read
    json_box = page.locator("#run-inputs pre.json")
    assert not json_box.is_visible()  # the JSON waits behind "Show as JSON"
    page.locator("#run-inputs summary", has_text="Show as JSON").click()
    assert json_box.is_visible() and '"text": "hi"' in json_box.inner_text()

    answer = dict(_pairs(page, "#run-answer"))
    assert answer["text"] == "You said hi"
    assert _pairs(page, "#run-answer dl.readable > dd > .readable") == [["order_id", "1002"], ["status", "<b>shipped</b>"]]
    assert page.locator("#run-answer b").count() == 0  # text from a run is shown, never made into markup

    rows = page.locator("table.steps tr[data-step]")
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())] == [
        "REST", "Start", "Shape order", "Answer"]  # the names on the canvas, not "shape_1"
    assert "shape_1" not in page.inner_text("table.steps") and "reply_1" not in page.inner_text("#run-panel")
    assert page.locator(".tl-bar").nth(2).get_attribute("title").startswith("Shape order: Succeeded")

    start_row, shape_row = page.locator('tr[data-step-node="start"]'), page.locator('tr[data-step-node="shape_1"]')
    start_row.locator("summary", has_text="What the caller sent").click()
    assert "hi" in start_row.locator(".step-input").inner_text()
    shape_row.locator("summary", has_text="Settings used").click()
    settings = dict(_pairs(page, 'tr[data-step-node="shape_1"] .step-input'))
    assert settings["Parse as JSON"] == "yes" and settings["Template"].startswith('{"order"')
    assert settings["When it fails"] == "Stop the run"  # as the form says it, not "fail"
    shape_row.locator("summary", has_text="Result").click()
    result = shape_row.locator(".step-output").inner_text()
    assert "tea" in result and "cake" in result and "(empty)" in result and "yes" in result
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#run-answer").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "run-page-readable-values-1024.png"))
    shape_row.last.scroll_into_view_if_needed()  # its details row
    page.screenshot(path=str(ARTIFACTS / "run-page-step-values-1024.png"))


def test_the_run_page_names_ports_and_nested_settings_as_the_canvas_does_at_1024(app, operator, live_server, page):
    """A reviewer read "else", "case_1" and "operator: contains" on the run page; the canvas says it in words."""
    document = greeting_flow()
    next(n for n in document["nodes"] if n["id"] == "greet")["config"]["retry"] = {"attempts": 2, "backoff_seconds": 0}
    flow = operator.publish(document)
    run_id = operator.call(flow, "status of db?")["run_id"]
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/runs/{run_id}")
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")

    ports = page.locator("table.steps tr[data-step] td.step-port")
    assert [ports.nth(i).inner_text() for i in range(ports.count())] == ["", "", "", "asks for status", ""]
    # The plain way on shows nothing; the stored port name stays for tools and tests.
    assert [ports.nth(i).get_attribute("data-port") for i in range(ports.count())] == ["out", "out", "out", "status", "out"]

    route = page.locator('tr[data-step-node="route"]')
    route.locator("summary", has_text="Settings used").click()
    settings = route.locator(".step-input .readable-value").first
    shown = settings.inner_text()
    for words in ("Branches", "Branch 1", "Label", "Match", "Any one condition", "Conditions", "Condition 1",
                  "Test", "contains", "Compare to", "When it fails", "Stop the run"):
        assert words in shown, words
    for raw in ("operator", "compare_to", "branches", "conditions", "on_error", "any\n"):
        assert raw not in shown, raw
    greet = page.locator('tr[data-step-node="greet"]')
    greet.locator("summary", has_text="Settings used").click()
    retry = greet.locator(".step-input .readable-value").first.inner_text()
    assert "Retry\nAttempts\n2\nWait between attempts (seconds)\n0" in retry, retry
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    route.last.scroll_into_view_if_needed()  # its details row
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run-page-ports-and-nested-settings-1024.png"))


LONG_KEY = "delivery_instructions_for_the_courier_when_nobody_answers_the_door"


def nested_order_flow() -> dict:
    """api → start(text, order: an object) → reply whose Data has fields of the author's own names."""
    document = order_flow()
    start = next(n for n in document["nodes"] if n["id"] == "start")
    start["config"]["inputs"].append({"name": "order", "type": "object"})
    document["nodes"] = [n for n in document["nodes"] if n["id"] != "shape_1"]
    document["edges"] = [{"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
                         {"id": "e2", "source": "start", "source_port": "out", "target": "reply_1", "target_port": "in"}]
    reply = next(n for n in document["nodes"] if n["id"] == "reply_1")
    reply["config"]["data"] = {"order_id": "{{ inputs.order.id }}", "status": "packed"}
    return document


def _narrow_values(page, selector):
    """The values under `selector` (each name's value box, each list item) narrower than 120 px: a
    value squeezed to a few letters per line, as a person sees it."""
    return page.eval_on_selector(selector, """box => Array.from(box.querySelectorAll('.readable > dd, .readable-list > li'))
        .filter(e => e.checkVisibility() && e.getBoundingClientRect().width < 120)
        .map(e => [e.innerText.slice(0, 40), Math.round(e.getBoundingClientRect().width)])""")


def test_nested_step_values_stay_legible_and_name_their_fields_at_1024(app, operator, live_server, page):
    """An audit at 1024×768 read "<i / mg / src…" one or two letters per line in the Steps table, the
    Reply's data fields all called "Data field template" and a trigger's result as `request_id`."""
    flow = operator.publish(nested_order_flow())
    order = {"id": 1002, "customer": {"name": "Ada Lovelace", "tags": ["vip", "north"]},
             "items": [{"sku": "<img src=x onerror=alert(1)>", "qty": 2, "options": {"gift_wrap": True, "note": "a" * 90}},
                       {"sku": "TEA-01", "qty": 1, "options": {}}],
             LONG_KEY: "Leave it with the neighbour at number 12, not in the bin."}
    run_id = operator.call(flow, "hi", order=order, sessionId="chat-9")["run_id"]
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/runs/{run_id}")
    page.wait_for_selector("#run-panel [data-run-status=succeeded]")

    start = page.locator('tr.step-details[data-step-node="start"]')
    start.locator("summary", has_text="What the caller sent").click()
    start.locator("summary", has_text="Result").click()
    sent = start.locator(".step-input .readable-value").first
    text = sent.inner_text()
    for words in ("Ada Lovelace", "vip", "north", "<img src=x onerror=alert(1)>", "TEA-01", LONG_KEY,
                  "Leave it with the neighbour at number 12, not in the bin.", "gift_wrap"):
        assert words in text, words
    assert _narrow_values(page, 'tr.step-details[data-step-node="start"]') == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # nothing scrolls sideways
    sku = sent.locator("dd", has_text="<img src=x").last.bounding_box()
    assert sku["height"] < 40  # one line, not a letter or two per line
    ARTIFACTS.mkdir(exist_ok=True)
    start.locator(".step-input").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "run-page-nested-step-values-1024.png"))

    reply = page.locator('tr.step-details[data-step-node="reply_1"]')
    reply.locator("summary", has_text="Settings used").click()
    settings = reply.locator(".step-input .readable-value").first
    data_fields = settings.locator("dt", has_text="Data").locator("xpath=following-sibling::dd[1]")
    assert _pairs(page, 'tr.step-details[data-step-node="reply_1"] .step-input dl.readable > dd > .readable') == [
        ["order_id", "{{ inputs.order.id }}"], ["status", "packed"]]  # each field by its own name
    assert "Data field template" not in settings.inner_text() and data_fields.count() == 1

    api = page.locator('tr.step-details[data-step-node="api"]')
    api.locator("summary", has_text="Result").click()
    result = dict(_pairs(page, 'tr.step-details[data-step-node="api"] .step-output'))
    assert result["Request id"].startswith("req_") and result["Started by"] == "REST API call"
    assert result["Which trigger"] == "REST"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", result["Received"]), result["Received"]
    shown = api.locator(".step-output .readable-value").first.inner_text()
    for raw in ("request_id", "received_at", "node_id", "conversation_id", "started_at"):
        assert raw not in shown, raw
    assert "Conversation" in shown and "Conversation record" in shown and "Message count" in shown
    assert _narrow_values(page, "table.steps") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    api.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "run-page-trigger-result-1024.png"))
