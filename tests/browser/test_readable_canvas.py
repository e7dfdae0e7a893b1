"""A canvas a newcomer can read: legible zoom, flows without positions laid out, a minimap that
can be hidden, palette clicks that add nodes, quick add, shortcut help, problems docked beside the
graph (never over nodes) and a toolbar on one line at 1024x768.
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
    page.wait_for_function("Switchboard.canvas.graph.transform.getScale().sx === 1")
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
    page.wait_for_function(f"Switchboard.canvas.graph.transform.getScale().sx >= {MIN_LEGIBLE}")
    # The start of the flow is in view.
    stage = page.locator("#canvas-graph").bounding_box()
    trigger = node(page, "api").bounding_box()
    assert trigger and stage["x"] <= trigger["x"] < stage["x"] + stage["width"] / 2
    page.click("#btn-fit")
    assert scale(page) >= MIN_LEGIBLE
    shot(page, "readable-fifty-1440")
