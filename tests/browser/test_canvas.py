"""A person with a mouse on the canvas editor: draw a flow, save it, call it, run it, undo, roll back.

Every editing step is a real mouse or keyboard action (palette drag, port-to-port drag, clicks,
shortcuts); only the setup (publishing a flow, "someone else" saving) and the assertions use the
services, the database or the published trigger URL directly.
"""

from __future__ import annotations

import json
import urllib.request

from tests.app.flowdocs import greeting_flow, with_reply_text
from tests.browser.canvas_actions import (
    assert_nodes, click_node, connect, drag_from_palette, field, fill, flow_id_of, latest_version, log_in,
    new_flow, node, open_canvas, pick_value, port, publish, shot, wait_for_canvas,
)

# ---- scenarios --------------------------------------------------------------------------


def draw_ops_flow(page):
    """Drag six nodes from the palette, wire them port to port and fill their forms."""
    for node_type, x, y in (("api_trigger", 110, 110), ("start", 370, 140), ("template", 110, 360),
                            ("condition", 370, 360), ("reply", 630, 300), ("reply", 630, 470)):
        drag_from_palette(page, node_type, x, y)
    assert_nodes(page, ["api_trigger_1", "start_1", "template_1", "condition_1", "reply_1", "reply_2"])

    connect(page, "api_trigger_1", "out", "start_1")
    connect(page, "start_1", "out", "template_1")
    connect(page, "template_1", "out", "condition_1")
    connect(page, "condition_1", "yes", "reply_1")
    connect(page, "condition_1", "else", "reply_2")

    click_node(page, "api_trigger_1")
    fill(page, "config.key", "drawn-ops")
    click_node(page, "start_1")
    page.click("#side-panel [data-action=add-item]")
    fill(page, "config.inputs[0].name", "message")
    field(page, "config.inputs[0].required").check()
    field(page, "config.message_input").select_option("message")
    click_node(page, "template_1")
    fill(page, "config.template", "Service {{ inputs.message | lower }}")
    click_node(page, "condition_1")
    fill(page, "config.branches[0].port", "status")  # renaming the branch renames the port; its edge stays
    fill(page, "config.branches[0].conditions[0].value", "{{ inputs.message | lower }}")
    field(page, "config.branches[0].conditions[0].operator").select_option("contains")
    fill(page, "config.branches[0].conditions[0].compare_to", "status")
    assert port(page, "condition_1", "status", "out").count() == 1
    click_node(page, "reply_1")
    fill(page, "config.text", "Status: {{ nodes.template_1.text }}")
    click_node(page, "reply_2")
    fill(page, "config.text", "Ask me about the status.")


def test_draw_save_call_and_run_a_flow_with_the_mouse(app, make_account, live_server, page):
    account = make_account()
    elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else elsewhere.append(r.url))
    log_in(page, live_server, account)
    new_flow(page, live_server, "Drawn ops flow")
    flow_id = flow_id_of(page)

    draw_ops_flow(page)
    shot(page, "drawn")

    page.click("#btn-save")
    page.wait_for_selector("#secret-dialog[open]")
    secret = page.inner_text('#secret-dialog [data-secret="api_trigger_1"]')
    shot(page, "secret")
    page.click("#secret-close")
    assert latest_version(app, flow_id) == 1
    assert "Saved · version 1" in page.inner_text("#save-state")
    assert page.inner_text("#version-badge") == "v1"  # the page around the canvas follows the save
    page.wait_for_function("() => document.querySelector('#triggers-section').innerText.includes('/hooks/')")

    click_node(page, "api_trigger_1")
    url = page.inner_text('#side-panel [data-trigger-url="api_trigger_1"]')
    assert url.endswith(f"/hooks/{account.workspace_id}/drawn-ops")
    request = urllib.request.Request(url, data=json.dumps({"user_message": "What is the STATUS?"}).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {secret}",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert json.load(response)["output"]["text"] == "Status: Service what is the status?"

    page.click("#btn-run")
    page.fill('#run-fields [data-input="message"]', "hello canvas")
    page.click("#run-submit")
    page.wait_for_selector("#run-bar[data-run-status=succeeded]", timeout=20000)
    for node_id in ("start_1", "template_1", "condition_1", "reply_2"):
        assert node(page, node_id).get_attribute("data-status") == "succeeded"
    assert node(page, "reply_1").get_attribute("data-status") == "skipped"
    assert node(page, "api_trigger_1").get_attribute("data-status") is None  # Run now did not enter through it
    assert "Ask me about the status." in page.inner_text("#run-bar")
    assert page.inner_text("#run-bar strong") == "Run: Succeeded"
    run_page = page.get_attribute("#run-bar a", "href")
    assert run_page.startswith("/runs/") and page.inner_text("#run-bar a") == "open the run's page"
    click_node(page, "template_1")
    assert "Service hello canvas" in page.inner_text("#side-panel .run-step")
    assert "Last run: Succeeded" in page.inner_text("#side-panel .run-step h3")
    shot(page, "ran")
    assert elsewhere == []


def test_an_invalid_flow_is_not_published_and_the_problems_point_at_the_nodes(app, make_account, live_server, page):
    account = make_account()
    log_in(page, live_server, account)
    new_flow(page, live_server, "Broken flow")
    flow_id = flow_id_of(page)
    drag_from_palette(page, "api_trigger", 110, 110)
    drag_from_palette(page, "start", 370, 110)
    drag_from_palette(page, "template", 370, 330)  # never connected: unreachable
    connect(page, "api_trigger_1", "out", "start_1")
    click_node(page, "start_1")
    page.click("#side-panel [data-action=add-item]")
    fill(page, "config.inputs[0].name", "1st")  # not a valid input name

    page.click("#btn-save")
    page.wait_for_selector("#problems.after-save")
    codes = page.eval_on_selector_all("#problems li", "els => els.map(e => [e.dataset.nodeId, e.dataset.code])")
    assert ["template_1", "unreachable_node"] in codes
    assert ["start_1", "invalid_config"] in codes
    assert "has-problem" in node(page, "template_1").get_attribute("class")
    assert "unreachable_node" in node(page, "template_1").get_attribute("data-problem")
    # The side panel shows the input-name problem next to that field.
    click_node(page, "start_1")
    assert page.locator('#side-panel [data-path="config.inputs[0].name"] .field-problem').count() == 1
    shot(page, "problems")

    assert latest_version(app, flow_id) == 0  # nothing published
    assert_nodes(page, ["api_trigger_1", "start_1", "template_1"])  # nothing lost
    # Clicking a problem selects its node.
    page.locator('#problems li[data-node-id="template_1"] button').first.click()  # unreachable, and empty
    page.wait_for_selector('#side-panel[data-showing="node:template_1"]')


def test_undo_and_redo_adding_and_deleting_a_node(make_account, live_server, page):
    account = make_account()
    log_in(page, live_server, account)
    new_flow(page, live_server, "Undo flow")
    assert page.is_disabled("#btn-undo")

    drag_from_palette(page, "template", 300, 200)
    assert_nodes(page, ["template_1"])
    page.click("#btn-undo")
    assert_nodes(page, [])
    page.click("#btn-redo")
    assert_nodes(page, ["template_1"])

    click_node(page, "template_1")
    page.click("#btn-delete")
    assert_nodes(page, [])
    page.locator("#canvas-graph").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+z")
    assert_nodes(page, ["template_1"])
    page.keyboard.press("Control+Shift+z")
    assert_nodes(page, [])
    page.keyboard.press("Control+z")

    # Tidy up moves nodes; undo puts them back.
    from playwright.sync_api import expect

    drag_from_palette(page, "reply", 120, 420)
    where = node(page, "reply_1").get_attribute("transform")
    page.click("#btn-tidy")
    expect(node(page, "reply_1")).not_to_have_attribute("transform", where)
    page.click("#btn-undo")
    expect(node(page, "reply_1")).to_have_attribute("transform", where)
    page.click("#btn-undo")  # the reply itself
    assert_nodes(page, ["template_1"])

    # Copy / paste gives new ids; the config comes along.
    click_node(page, "template_1")
    fill(page, "config.template", "copied text")
    page.click("#btn-copy")
    page.click("#btn-paste")
    assert_nodes(page, ["template_1", "template_2"])
    click_node(page, "template_2")
    assert field(page, "config.template").input_value() == "copied text"
    # Undoing the edit of the template restores the previous text in the form.
    page.click("#btn-undo")  # the paste
    page.click("#btn-undo")  # the edit
    assert_nodes(page, ["template_1"])
    click_node(page, "template_1")
    assert field(page, "config.template").input_value() == ""
    assert "Unsaved changes" in page.inner_text("#save-state")


def test_roll_back_from_the_versions_panel_and_view_an_old_version(app, make_account, live_server, page):
    account = make_account()
    document = greeting_flow(key="rollback-me")
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)

    click_node(page, "reply")
    fill(page, "config.text", "Changed on the canvas")
    page.click("#btn-save")
    page.wait_for_selector("#save-state:has-text('Saved · version 2')")
    assert latest_version(app, flow_id) == 2
    exported = page.locator("a[data-export-latest]")  # the header's export follows the save
    assert exported.inner_text() == "Export v2" and exported.get_attribute("href").endswith("/versions/2/export")

    page.click("#btn-versions")
    page.wait_for_selector('#side-panel[data-showing="versions"] tr[data-version="1"]')
    shot(page, "versions")
    page.click('#side-panel tr[data-version="1"] button:has-text("Roll back")')  # asks first
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    with page.expect_navigation():
        page.click("#rollback-confirm")
    wait_for_canvas(page)
    assert page.eval_on_selector("#canvas-data", "e => JSON.parse(e.textContent).latest_version") == 3
    assert latest_version(app, flow_id) == 3
    click_node(page, "reply")
    assert field(page, "config.text").input_value() == "{{ nodes.greet.text }}"

    # An old version opens read-only: a banner, no palette, no save.
    page.goto(f"{live_server}/flows/{flow_id}/versions/2")
    wait_for_canvas(page)
    assert "Viewing version 2 (read-only)" in page.inner_text("#canvas-banner")
    assert not page.is_visible("#palette")
    assert not page.is_visible("#btn-save")
    click_node(page, "reply")
    assert field(page, "config.text").is_disabled()
    assert field(page, "config.text").input_value() == "Changed on the canvas"


def test_a_second_save_over_a_newer_version_gets_a_conflict_not_an_overwrite(app, make_account, live_server, page):
    account = make_account()
    document = greeting_flow(key="conflict-me")
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)

    # Someone else publishes version 2 meanwhile.
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    with app.app_context():
        publishing.save_flow(db.session.get(Flow, flow_id), with_reply_text(document, "Theirs"), None)
        db.session.commit()

    click_node(page, "reply")
    fill(page, "config.text", "Mine")
    page.click("#btn-save")
    page.wait_for_selector("#conflict-dialog[open]")
    assert "Version 2 is now live" in page.inner_text("#conflict-dialog")
    assert latest_version(app, flow_id) == 2
    page.click("#conflict-keep")
    assert "Unsaved changes" in page.inner_text("#save-state")
    assert field(page, "config.text").input_value() == "Mine"


def test_run_from_a_manual_trigger_node_shows_the_failing_step(app, make_account, live_server, page):
    account = make_account()
    document = greeting_flow(key="fails")
    next(n for n in document["nodes"] if n["id"] == "greet")["config"]["template"] = "{{ inputs.message.nope }}"
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)

    node(page, "manual").locator('[event="node:pill-a"]').click()  # the "▶ Run" button on the node
    page.wait_for_selector("#run-dialog[open]")
    assert page.is_visible('#run-fields [data-input="person"]')  # every declared input has a field
    page.click("#run-submit")  # message is required: the server names the field
    page.wait_for_selector('#run-fields [data-error-for="message"]:not([hidden])')
    page.fill('#run-fields [data-input="message"]', "hi")
    page.click("#run-submit")
    page.wait_for_selector("#run-bar[data-run-status=failed]", timeout=20000)
    assert node(page, "manual").get_attribute("data-status") == "succeeded"
    assert node(page, "api").get_attribute("data-status") is None  # the other trigger did not start this run
    assert node(page, "greet").get_attribute("data-status") == "failed"
    assert node(page, "reply").get_attribute("data-status") == "skipped"
    click_node(page, "greet")
    assert "nope" in page.inner_text("#side-panel .run-step .step-error")
    shot(page, "failed-run")


def test_a_second_connection_starts_from_an_output_that_already_has_one(app, make_account, live_server, page):
    """The output dot of Start already leads to Compose; grabbing the dot's middle draws another connection."""
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="fan-out"))
    open_canvas(page, live_server, account, flow_id)
    from_start = "Switchboard.canvas.graph.getEdges().filter(e => e.getSourceCellId() === 'start').length"
    assert page.evaluate(f"() => {from_start}") == 1

    connect(page, "start", "out", "status_reply")

    page.wait_for_function(f"() => {from_start} === 2", timeout=5000)
    targets = page.evaluate("() => Switchboard.canvas.graph.getEdges().filter(e => e.getSourceCellId() === 'start')"
                            ".map(e => e.getTargetCellId()).sort()")
    assert targets == ["greet", "status_reply"]
    shot(page, "fan-out")


def test_a_viewer_sees_the_canvas_read_only(app, make_account, live_server, page):
    owner = make_account()
    flow_id = publish(app, owner, greeting_flow(key="viewed"))
    viewer = make_account(email="viewer@example.com", role="viewer")
    open_canvas(page, live_server, viewer, flow_id)

    assert page.inner_text("#canvas-banner") == ("You can view this flow. "
                                                 "Ask an owner to make you an editor to change it.")
    for hidden in ("#palette", "#btn-save", "#btn-run", "#btn-delete"):
        assert not page.is_visible(hidden)
    click_node(page, "greet")
    assert field(page, "config.template").is_disabled()
    assert page.locator("#btn-delete-node").count() == 0
    page.keyboard.press("Delete")
    assert_nodes(page, ["api", "manual", "start", "greet", "route", "status_reply", "reply"])


def _add_credential(app, account, fields: dict) -> None:
    """Store a credential in the account's workspace, as the Credentials page would."""
    from app.extensions import db
    from app.services.workspaces.credentials import create_credential

    with app.app_context():
        create_credential(account.workspace_id, fields)
        db.session.commit()


def test_build_a_model_and_http_flow_with_credentials_and_an_error_port(app, make_account, live_server, page):
    """The issue's promise: from the canvas, a flow that asks a model (with a credential chosen by
    name), calls an HTTP service, and survives its failure through the error port."""
    from tests.stubs import provider, service

    account = make_account()
    _add_credential(app, account, {"name": "openai", "kind": "api_key", "value": "sk-browser-secret-1"})
    with provider() as llm, service() as svc:
        log_in(page, live_server, account)
        new_flow(page, live_server, "Model and HTTP")
        for node_type, x, y in (("start", 110, 140), ("llm", 370, 140), ("http_request", 110, 420),
                                ("reply", 370, 380), ("reply", 630, 470)):
            drag_from_palette(page, node_type, x, y)
        assert_nodes(page, ["start_1", "llm_1", "http_request_1", "reply_1", "reply_2"])

        click_node(page, "start_1")
        page.click("#side-panel [data-action=add-item]")
        fill(page, "config.inputs[0].name", "message")
        field(page, "config.message_input").select_option("message")
        click_node(page, "llm_1")
        fill(page, "config.base_url", llm.url + "/v1")
        fill(page, "config.model", "echo")
        options = field(page, "config.credential").locator("option").all_inner_texts()
        assert options == ["(none)", "openai"]  # names only; the secret never reaches the page
        field(page, "config.credential").select_option("openai")
        # Added before the start node had inputs, its message waits for the person to pick one.
        assert field(page, "config.messages[0].content").input_value() == ""
        pick_value(page, "config.messages[0].content", "Start › message")
        click_node(page, "http_request_1")
        fill(page, "config.url", svc.url + "/fail/503")
        assert port(page, "http_request_1", "error", "out").count() == 0
        page.click("#side-panel details.advanced summary")  # "When it fails" is an advanced setting
        field(page, "config.on_error").select_option("port")
        page.wait_for_function("() => document.querySelector('#canvas-graph g[data-node-id=\"http_request_1\"] "
                               "[data-port=\"error\"][data-direction=\"out\"]') !== null")
        click_node(page, "reply_1")
        fill(page, "config.text", "{{ nodes.llm_1.text }}")
        click_node(page, "reply_2")
        fill(page, "config.text", "Model said: {{ nodes.llm_1.text | trim }}; service failed: {{ nodes.http_request_1.error.message[:30] }}")
        connect(page, "start_1", "out", "llm_1")
        connect(page, "llm_1", "out", "http_request_1")
        connect(page, "http_request_1", "out", "reply_1")
        connect(page, "http_request_1", "error", "reply_2")
        assert "sk-browser-secret-1" not in page.content()

        page.click("#btn-save")
        page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('version 1')", timeout=10000)
        page.click("#btn-run")
        page.fill('#run-fields [data-input="message"]', "hello model")
        page.click("#run-submit")
        page.wait_for_selector("#run-bar[data-run-status=succeeded]", timeout=30000)
        shot(page, "model-http-error-port")

        assert "Model said: echo: hello model (1 messages); service failed: GET" in page.inner_text("#run-bar")
        assert node(page, "http_request_1").get_attribute("data-status") == "failed"
        assert node(page, "reply_1").get_attribute("data-status") == "skipped"
        assert llm.requests[-1]["headers"]["Authorization"] == "Bearer sk-browser-secret-1"
