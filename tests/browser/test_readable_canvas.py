"""A canvas a newcomer can read: legible zoom, flows without positions laid out, a minimap that
can be hidden, palette clicks that add nodes, quick add, shortcut help, problems docked beside the
graph (never over nodes) and a toolbar on one line at 1024x768. Where added nodes land, and their
names and settings: test_palette_placement.py.
"""

from __future__ import annotations

import json
import urllib.request

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import (
    assert_nodes, click_node, log_in, new_flow, node, open_canvas, publish, shot, wait_for_canvas,
)

MIN_LEGIBLE = 0.75  # canvas-view.js: node titles are 15 px, so at least 11 px on screen


def scale(page):
    return page.evaluate("Switchboard.canvas.graph.transform.getScale().sx")


def chain_without_positions(count: int) -> dict:
    """A REST trigger, a start node and a chain of template nodes: no node has a position."""
    nodes = [{"id": "api", "type": "api_trigger", "name": "Orders", "config": {"key": "fifty-nodes"}},
             {"id": "start", "type": "start", "name": "Start",
              "config": {"inputs": [{"name": "order_number", "type": "string"}]}}]
    edges = [{"id": "e0", "source": "api", "source_port": "out", "target": "start", "target_port": "in"}]
    previous = "start"
    for n in range(count - 3):
        nodes.append({"id": f"t{n}", "type": "template", "name": f"Step {n}",
                      "config": {"template": f"step {n} for {{{{ inputs.order_number }}}}"}})
        edges.append({"id": f"e{n + 1}", "source": previous, "source_port": "out", "target": f"t{n}",
                      "target_port": "in"})
        previous = f"t{n}"
    nodes.append({"id": "answer", "type": "reply", "name": "Answer", "config": {"text": "Hi {{ inputs.order_number }}"}})
    edges.append({"id": "e_last", "source": previous, "source_port": "out", "target": "answer", "target_port": "in"})
    return {"schema_version": 1, "name": f"{count} nodes", "nodes": nodes, "edges": edges}


def small_flow() -> dict:
    document = greeting_flow(key="small-one")
    keep = {"api", "start", "reply"}
    document["nodes"] = [n for n in document["nodes"] if n["id"] in keep]
    document["nodes"][2]["config"]["text"] = "Hi {{ inputs.message }}"
    document["edges"] = [{"id": "e1", "source": "api", "source_port": "out", "target": "start", "target_port": "in"},
                         {"id": "e2", "source": "start", "source_port": "out", "target": "reply", "target_port": "in"}]
    return document


def subtitle(page, node_id):
    """The subtitle as drawn (its tooltip, a <title> child, left out)."""
    return node(page, node_id).locator(".sb-subtitle").evaluate(
        "t => Array.from(t.childNodes).filter(c => c.nodeName !== 'title').map(c => c.textContent).join('').replace(/\u00a0/g, ' ')")


def boxes_overlap(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_a_small_flow_opens_at_full_size_and_centred_with_readable_subtitles(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, small_flow())
    open_canvas(page, live_server, account, flow_id)
    page.wait_for_function("() => Switchboard.canvas.graph.transform.getScale().sx === 1")
    assert page.inner_text("#zoom-level") == "100%"
    stage = page.locator("#canvas-graph").bounding_box()
    boxes = [node(page, n).bounding_box() for n in ("api", "start", "reply")]
    left = min(b["x"] for b in boxes) - stage["x"]
    right = stage["x"] + stage["width"] - max(b["x"] + b["width"] for b in boxes)
    assert abs(left - right) < 30, (left, right)  # centred
    # Subtitles say what the node does, not its id.
    assert subtitle(page, "reply") == "Replies: Hi {message}"
    assert subtitle(page, "start").startswith("Inputs: message, person")
    assert page.evaluate("Switchboard.canvas.displayName('reply')") == "Answer"
    shot(page, "readable-small-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-fit")
    assert scale(page) >= MIN_LEGIBLE
    shot(page, "readable-small-1024")


def test_nodes_stacked_on_one_point_are_laid_out_left_to_right(app, make_account, live_server, page):
    account = make_account()
    document = greeting_flow(key="stacked")
    for n in document["nodes"]:
        n["position"] = {"x": 0, "y": 0}
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)
    where = page.evaluate("Object.fromEntries(Switchboard.canvas.graph.getNodes().map(n => [n.id, n.getPosition()]))")
    columns = [where[i]["x"] for i in ("api", "start", "greet", "route", "reply")]
    assert columns == sorted(columns) and len(set(columns)) == 5
    assert where["api"]["x"] == where["manual"]["x"] and where["api"]["y"] != where["manual"]["y"]
    assert scale(page) >= MIN_LEGIBLE


def api_flow(app, account, base, document) -> str:
    """Create a flow through the JSON API with a workspace key, as an outside tool would."""
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    with app.app_context():
        _, token = create_api_key(db.session.get(Workspace, account.workspace_id), "import")
        db.session.commit()
    request = urllib.request.Request(f"{base}/api/v1/flows", method="POST", data=json.dumps({"document": document}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["id"]


def test_a_50_node_flow_made_through_the_api_opens_in_columns_at_a_legible_zoom(app, make_account, live_server, page):
    account = make_account()
    flow_id = api_flow(app, account, live_server, chain_without_positions(50))
    open_canvas(page, live_server, account, flow_id)
    positions = page.evaluate("Object.fromEntries(Switchboard.canvas.graph.getNodes()"
                              ".map(n => [n.id, n.getPosition()]))")
    # Left to right by depth: each step one column further right, the trigger first.
    xs = [positions[i]["x"] for i in ["api", "start"] + [f"t{n}" for n in range(47)] + ["answer"]]
    assert xs == sorted(xs) and len(set(xs)) == 50
    page.wait_for_function(f"() => Switchboard.canvas.graph.transform.getScale().sx >= {MIN_LEGIBLE}")
    # The start of the flow is in view.
    stage = page.locator("#canvas-graph").bounding_box()
    trigger = node(page, "api").bounding_box()
    assert trigger and stage["x"] <= trigger["x"] < stage["x"] + stage["width"] / 2
    page.click("#btn-fit")
    assert scale(page) >= MIN_LEGIBLE
    shot(page, "readable-fifty-1440")


def test_the_minimap_can_be_hidden_and_stays_hidden_after_a_reload(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, small_flow())
    open_canvas(page, live_server, account, flow_id)
    assert page.is_visible("#minimap")
    # See-through for clicks: a node under it still gets them (pointer events pass).
    assert page.eval_on_selector("#minimap", "m => getComputedStyle(m).pointerEvents") == "none"
    page.click("#btn-minimap")
    assert page.is_hidden("#minimap")
    assert page.get_attribute("#btn-minimap", "aria-pressed") == "false"
    page.reload()
    wait_for_canvas(page)
    assert page.is_hidden("#minimap")
    page.click("#btn-minimap")
    assert page.is_visible("#minimap")

    # A narrow window starts without it until the user asks for it; shown, it maps the flow.
    page.evaluate("localStorage.clear()")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.reload()
    wait_for_canvas(page)
    assert page.is_hidden("#minimap")
    page.click("#btn-minimap")
    assert page.is_visible("#minimap .x6-widget-minimap-viewport")
    assert page.locator("#minimap .x6-node").count() == 3
    shot(page, "readable-minimap-1024")


def test_click_quick_add_and_shortcut_help_add_nodes_without_dragging(make_account, live_server, page):
    account = make_account()
    log_in(page, live_server, account)
    new_flow(page, live_server, "Clicked flow")
    page.click('#palette [data-type="start"]')
    assert_nodes(page, ["start_1"])
    # With a node selected, the next click puts the new node to its right.
    page.click('#palette [data-type="reply"]')
    assert_nodes(page, ["reply_1", "start_1"])
    where = page.evaluate("Object.fromEntries(Switchboard.canvas.graph.getNodes().map(n => [n.id, n.getPosition()]))")
    assert where["reply_1"]["x"] > where["start_1"]["x"] + 200
    assert abs(where["reply_1"]["y"] - where["start_1"]["y"]) < 5

    # "/" opens quick add; typing filters the types; Enter adds the first match.
    page.locator("#canvas-graph").click(position={"x": 15, "y": 15})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "palette-search"
    page.keyboard.type("templ")
    visible = page.eval_on_selector_all("#palette-list .palette-item:not([hidden])", "els => els.map(e => e.dataset.type)")
    assert "template" in visible and "reply" not in visible
    page.keyboard.press("Enter")
    assert_nodes(page, ["reply_1", "start_1", "template_1"])
    assert page.input_value("#palette-search") == ""

    # "?" lists the shortcuts; Escape closes the list.
    page.locator("#canvas-graph").click(position={"x": 15, "y": 15})
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    assert "Undo" in page.inner_text("#help-dialog")
    shot(page, "readable-help")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog", state="hidden")


def visible_nodes(page):
    """Bounding boxes of the nodes, clipped to the graph area (what a user can see of them)."""
    area = page.locator("#canvas-graph").bounding_box()
    boxes = []
    for box in page.eval_on_selector_all("#canvas-graph g[data-node-id]", "els => els.map(e => {"
                                         " const r = e.getBoundingClientRect();"
                                         " return {x: r.x, y: r.y, width: r.width, height: r.height}; })"):
        x0, y0 = max(box["x"], area["x"]), max(box["y"], area["y"])
        x1 = min(box["x"] + box["width"], area["x"] + area["width"])
        y1 = min(box["y"] + box["height"], area["y"] + area["height"])
        if x1 > x0 and y1 > y0:
            boxes.append({"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0})
    return boxes


def test_problems_and_toasts_never_cover_nodes_and_warnings_do_not_block(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, small_flow())
    open_canvas(page, live_server, account, flow_id)
    page.click('#palette [data-type="template"]')  # not connected: unreachable, so the save is refused
    click_node(page, "reply")
    page.locator('#side-panel [data-field="config.text"]').fill("")  # a required field left empty
    page.locator('#side-panel [data-field="config.text"]').press("Tab")
    page.click("#btn-save")
    page.wait_for_selector("#problems.after-save")
    page.wait_for_selector("#canvas-toast:not([hidden])")
    items = page.eval_on_selector_all("#problems li", "els => els.map(e => e.textContent)")
    assert len(items) == len(set(items))  # never listed twice
    assert "has-error" in node(page, "template_1").get_attribute("class")
    for selector in ("#problems", "#canvas-toast"):
        cover = page.locator(selector).bounding_box()
        for box in visible_nodes(page):
            assert not boxes_overlap(cover, box), (selector, cover, box)
    shot(page, "readable-problems-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    for box in visible_nodes(page):
        assert not boxes_overlap(page.locator("#problems").bounding_box(), box)
    shot(page, "readable-problems-1024")


def test_warnings_are_listed_calmly_and_do_not_count_as_errors(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, small_flow())
    open_canvas(page, live_server, account, flow_id)
    problems = [{"node_id": "reply", "code": "no_reply", "message": "This branch ends without a reply.",
                 "severity": "warning"}] * 2 + [{"node_id": "start", "code": "x", "message": "Broken.", "severity": "error"}]
    page.evaluate("p => Switchboard.save.setProblems(p, false)", problems)
    assert page.eval_on_selector_all("#problems li", "els => els.map(e => e.dataset.severity)") == ["error", "warning"]
    assert "do not block saving" in page.inner_text("#problems h2")
    assert "has-error" not in node(page, "reply").get_attribute("class")
    assert "has-problem" in node(page, "reply").get_attribute("class")
    assert "has-error" in node(page, "start").get_attribute("class")


def test_the_toolbar_stays_on_one_line_at_1024x768(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="narrow"))
    open_canvas(page, live_server, account, flow_id)
    for width, height in ((1440, 900), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        toolbar = page.locator(".canvas-toolbar").bounding_box()
        assert toolbar["height"] < 52, (width, toolbar)  # one row of buttons
        assert toolbar["x"] + toolbar["width"] <= width
        for button in page.locator(".canvas-toolbar button:visible").all():
            box = button.bounding_box()
            assert box["y"] < toolbar["y"] + 12 and box["x"] + box["width"] <= toolbar["x"] + toolbar["width"] + 1
        page.click("#btn-fit")
        assert scale(page) >= MIN_LEGIBLE
        shot(page, f"readable-toolbar-{width}")
    stage = page.locator("#canvas-graph").bounding_box()
    assert stage["width"] >= 560  # most of a 1024 px window is canvas
