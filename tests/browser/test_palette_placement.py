"""Adding nodes from the palette at 1024x768: each new node takes a free spot in view (the view pans
the least needed only when it is full), gets a name no other node shows, and starts with settings
that fit the flow (a new LLM node asks about the flow's own message input).
"""

from __future__ import annotations

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import (
    click_node, field, log_in, new_flow, node, open_canvas, publish, shot, wait_for_canvas,
)
from tests.browser.test_readable_canvas import boxes_overlap


def test_nodes_added_one_after_another_from_the_palette_neither_overlap_nor_leave_the_view(
        app, make_account, live_server, page):
    """A reviewer at 1024x768 clicked Reply three times: the second landed on the first, the third off screen."""
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="three-clicks"))
    open_canvas(page, live_server, account, flow_id)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-fit")
    before = set(page.evaluate("Switchboard.canvas.graph.getNodes().map(n => n.id)"))
    for count in (1, 2, 3):
        page.click('#palette [data-type="reply"]')
        page.wait_for_function("n => Switchboard.canvas.graph.getNodes().length === n", arg=len(before) + count)
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")  # the strip the check opens has settled
    added = sorted(set(page.evaluate("Switchboard.canvas.graph.getNodes().map(n => n.id)")) - before)
    assert len(added) == 3
    stage = page.locator("#canvas-graph").bounding_box()
    boxes = {node_id: node(page, node_id).locator(".sb-body").bounding_box() for node_id in added}
    for node_id, box in boxes.items():
        assert box is not None, f"{node_id} is not drawn: it is out of view"
        assert (stage["x"] <= box["x"] and stage["y"] <= box["y"] and box["x"] + box["width"] <= stage["x"] + stage["width"]
                and box["y"] + box["height"] <= stage["y"] + stage["height"]), (node_id, box, stage)
    every = page.eval_on_selector_all("#canvas-graph g[data-node-id] .sb-body", "els => els.map(e => {"
                                      " const r = e.getBoundingClientRect(); return {id: e.closest('g[data-node-id]')"
                                      ".dataset.nodeId, x: r.x, y: r.y, width: r.width, height: r.height}; })")
    for new in added:
        for other in every:
            if other["id"] != new:
                assert not boxes_overlap(boxes[new], other), (new, other["id"])
    shot(page, "readable-three-added-1024")



_SCREEN = """() => {
  const S = Switchboard.canvas, r = document.getElementById("canvas-graph").getBoundingClientRect();
  const boxes = Object.fromEntries(S.graph.getNodes().map(n => {
    const b = S.graph.localToClient(n.getBBox());
    return [n.id, {x: b.x, y: b.y, width: b.width, height: b.height}];
  }));
  return {stage: {x: r.x, y: r.y, width: r.width, height: r.height}, boxes, pan: S.graph.transform.getTranslation()};
}"""


def on_screen(page):
    """The stage and every node on the page, in pixels (X6 draws only nodes in view, so read from the graph)."""
    return page.evaluate(_SCREEN)


def inside(box, stage):
    return (stage["x"] <= box["x"] + 0.5 and stage["y"] <= box["y"] + 0.5
            and box["x"] + box["width"] <= stage["x"] + stage["width"] + 0.5
            and box["y"] + box["height"] <= stage["y"] + stage["height"] + 0.5)


def add_from_palette(page, node_type):
    """Click a palette item and wait until its node is added and the problem list it may open has settled.

    Returns (the new node's id, the screen before, the screen after)."""
    before = on_screen(page)
    page.click(f'#palette [data-type="{node_type}"]')
    page.wait_for_function("n => Switchboard.canvas.graph.getNodes().length === n", arg=len(before["boxes"]) + 1)
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")
    after = on_screen(page)
    [new] = set(after["boxes"]) - set(before["boxes"])
    assert inside(after["boxes"][new], after["stage"]), (node_type, "the new node is out of view")
    for other, box in after["boxes"].items():
        assert other == new or not boxes_overlap(after["boxes"][new], box), (new, "covers", other)
    return new, before, after


def left_the_view(before, after):
    return sorted(i for i, box in before["boxes"].items()
                  if inside(box, before["stage"]) and not inside(after["boxes"][i], after["stage"]))


def test_clicking_palette_items_in_a_row_keeps_every_node_in_view_at_1024x768(app, make_account, live_server, page):
    """The audit: on the example flow at 1024x768, Reply x3, Template x2, HTTP request, then Condition. The seventh
    click centred the view on the new node: three new nodes went above the view and both triggers left of it,
    while the lower part of the view was still empty."""
    from tests.flows.conftest import load_example

    account = make_account()
    document = load_example("ops_status_check")
    document["nodes"][0]["config"]["key"] = "ops-status-in-a-row"
    flow_id = publish(app, account, document)
    log_in(page, live_server, account)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    for node_type in ["reply", "reply", "reply", "template", "template", "http_request", "condition"]:
        new, before, after = add_from_palette(page, node_type)
        assert after["pan"] == before["pan"], (new, "the view moved though it had room")
        assert not left_the_view(before, after), new
    shot(page, "readable-seven-added-1024")
    # Once the view is full, a new node goes just outside it and the view moves only as far as
    # needed to show it (no more than the node's own size), not to centre it.
    pans = 0
    for _ in range(6):
        new, before, after = add_from_palette(page, "template")
        moved = (abs(after["pan"]["tx"] - before["pan"]["tx"]), abs(after["pan"]["ty"] - before["pan"]["ty"]))
        if moved == (0, 0):
            assert not left_the_view(before, after), new
            continue
        pans += 1
        size = after["boxes"][new]
        assert moved[0] <= size["width"] + 30 and moved[1] <= size["height"] + 30, (new, moved)
    assert pans, "six more templates fitted in the view: nothing tested the full view"
    shot(page, "readable-view-full-1024")


def titles(page, node_ids):
    return [node(page, n).locator(".sb-title").evaluate(
        "t => Array.from(t.childNodes).filter(c => c.nodeName !== 'title').map(c => c.textContent).join('')"
        ".replace(/\u00a0/g, ' ')")
        for n in node_ids]


def problem_names(page, node_ids):
    """The names the problem list gives the nodes' lines (each line starts with its node's name)."""
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")
    if page.locator("#problems .problems-head button[aria-expanded=false]").count():
        page.click("#problems .problems-head button[aria-expanded=false]")
    return {n: sorted(set(page.locator(f'#problems li[data-node-id="{n}"] button').all_inner_texts())) for n in node_ids}


def test_new_and_pasted_nodes_get_names_of_their_own(app, make_account, live_server, page):
    """Three replies added from the palette were all called "Reply": the problem list showed three identical lines."""
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="named-apart"))
    open_canvas(page, live_server, account, flow_id)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-minimap")  # hidden, as it is for who opens the canvas at this size
    page.click("#btn-fit")
    for count in (1, 2, 3):
        page.click('#palette [data-type="reply"]')
        page.wait_for_selector(f'#canvas-graph g[data-node-id="reply_{count}"]')
    # The flow's own replies are "Status" and "Answer": the first new one may be just "Reply".
    assert titles(page, ["reply_1", "reply_2", "reply_3"]) == ["Reply", "Reply 2", "Reply 3"]
    assert field(page, "name").input_value() == "Reply 3"  # the side panel shows the new node's name
    assert problem_names(page, ["reply_1", "reply_2", "reply_3"]) == {
        "reply_1": ["Reply"], "reply_2": ["Reply 2"], "reply_3": ["Reply 3"]}
    shot(page, "readable-names-apart-1024")
    # A copy gets a name of its own too: the next free number, or a number after a person's name.
    click_node(page, "reply_2")
    page.click("#btn-copy")
    page.click("#btn-paste")
    page.wait_for_selector('#canvas-graph g[data-node-id="reply_4"]')
    click_node(page, "reply")
    page.click("#btn-copy")
    page.click("#btn-paste")
    page.wait_for_selector('#canvas-graph g[data-node-id="reply_5"]')
    assert titles(page, ["reply_4", "reply_5"]) == ["Reply 4", "Answer 2"]
    # Saved with the flow, as the names a person would have typed.
    names = page.evaluate("Object.fromEntries(Switchboard.canvas.toDocument().nodes.map(n => [n.id, n.name || null]))")
    assert [names[f"reply_{n}"] for n in range(1, 6)] == [None, "Reply 2", "Reply 3", "Reply 4", "Answer 2"]


def test_a_new_llm_node_asks_about_the_flows_own_message_input(app, make_account, live_server, page):
    """An LLM node from the palette referred at once to `inputs.message`, an input the example flow does not
    have: it was a problem from the moment it was added."""
    from tests.flows.conftest import load_example

    account = make_account()
    document = load_example("ops_status_check")  # its message input is user_message
    document["nodes"][0]["config"]["key"] = "ops-status-llm"
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-minimap")
    page.click("#btn-fit")
    page.click('#palette [data-type="llm"]')
    page.wait_for_selector('#side-panel[data-showing="node:llm_1"]')
    assert field(page, "config.messages[0].content").input_value() == "{{ inputs.user_message }}"
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")
    codes = node(page, "llm_1").get_attribute("data-problem") or ""
    assert "unknown_input" not in codes, codes  # only that nothing leads to it yet
    shot(page, "readable-llm-message-1024")

    # A flow without a text input: the message is left for the person to pick, not a guess.
    new_flow(page, live_server, "No inputs yet")
    page.click('#palette [data-type="llm"]')
    page.wait_for_selector('#side-panel[data-showing="node:llm_1"]')
    assert field(page, "config.messages[0].content").input_value() == ""
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")
    codes = node(page, "llm_1").get_attribute("data-problem") or ""
    assert "unknown_input" not in codes and "empty_field" in codes, codes
    shot(page, "readable-llm-no-input-1024")
