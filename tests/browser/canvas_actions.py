"""What a user does on the canvas editor, as Playwright steps the browser tests share.

Every editing step is a real mouse or keyboard action (palette drag, port-to-port drag, clicks,
shortcuts); only setup (publishing a flow) and assertions read the services or the database.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import ARTIFACTS


def log_in(page, base, account):
    page.set_viewport_size({"width": 1440, "height": 900})  # room to draw beside palette and side panel
    page.goto(f"{base}/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")


def new_flow(page, base, name):
    """Create an empty flow from the flows list and wait for its canvas."""
    page.goto(f"{base}/flows")
    page.fill("input[name=name]", name)
    page.click("button:has-text('Create flow')")
    wait_for_canvas(page)


def open_canvas(page, base, account, flow_id):
    """Log in as `account` and open the canvas of `flow_id`, ready for the mouse."""
    log_in(page, base, account)
    page.goto(f"{base}/flows/{flow_id}")
    wait_for_canvas(page)


def wait_for_canvas(page):
    """Wait until the canvas is drawn and the check of the flow it asks for on opening has answered.

    That check's answer replaces the problem list (and the nodes' problem marks), so a test that
    reads or sets problems before it arrives could see them replaced under load.
    """
    page.wait_for_selector("#canvas-app[data-ready=true]")
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")


def node(page, node_id):
    return page.locator(f'#canvas-graph g[data-node-id="{node_id}"]')


def node_ids(page):
    return sorted(page.eval_on_selector_all("#canvas-graph g[data-node-id]", "els => els.map(e => e.dataset.nodeId)"))


def assert_nodes(page, expected):
    """The canvas draws asynchronously: wait (briefly) until exactly these nodes are on it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # imported here: without it the fixtures skip

    expected = sorted(expected)
    script = ("expected => JSON.stringify(Array.from(document.querySelectorAll('#canvas-graph g[data-node-id]'),"
              " e => e.dataset.nodeId).sort()) === JSON.stringify(expected)")
    try:
        page.wait_for_function(script, arg=expected, timeout=5000)
    except PlaywrightTimeout:
        pass
    assert node_ids(page) == expected


def center(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_from_palette(page, node_type, x, y):
    """Drag a palette item onto the canvas; (x, y) is relative to the canvas' top-left corner."""
    item = page.locator(f'#palette [data-type="{node_type}"]')
    item.scroll_into_view_if_needed()
    page.mouse.move(*center(item.bounding_box()))
    page.mouse.down()
    stage = page.locator("#canvas-graph").bounding_box()
    page.mouse.move(stage["x"] + x, stage["y"] + y, steps=10)
    page.mouse.up()


def port(page, node_id, name, direction):
    return node(page, node_id).locator(f'[data-port="{name}"][data-direction="{direction}"]')


def connect(page, source, source_port, target, target_port="in"):
    """Drag from an output port to an input port, as a user draws an edge.

    First the canvas settles: a check of the flow that is due (after adding a node) may open the
    problem list above the canvas and move every node down in the middle of the drag.
    """
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")
    page.mouse.move(*center(port(page, source, source_port, "out").bounding_box()))
    page.mouse.down()
    page.mouse.move(*center(port(page, target, target_port, "in").bounding_box()), steps=12)
    page.mouse.up()


_REVEAL = """id => {
  const S = window.Switchboard.canvas, cell = S.graph.getCellById(id);
  if (!cell) return;
  const stage = document.getElementById("canvas-graph").getBoundingClientRect();
  const box = S.graph.localToClient(cell.getBBox());
  const inside = box.x >= stage.left && box.y >= stage.top && box.x + box.width <= stage.right
    && box.y + box.height <= stage.bottom;
  if (!inside) S.graph.centerCell(cell);
}"""


def reveal(page, node_id):
    """Pan a node into view when it is off screen, as a person would by dragging the background.

    The canvas draws only the nodes in view (X6 virtual rendering), so a node outside it has no
    element to click or read until the view moves there.
    """
    page.evaluate(_REVEAL, node_id)
    page.wait_for_selector(f'#canvas-graph g[data-node-id="{node_id}"]')
    return node(page, node_id)


def click_node(page, node_id):
    reveal(page, node_id).locator(".sb-title").click()
    page.wait_for_selector(f'#side-panel[data-showing="node:{node_id}"]')


def field(page, path):
    return page.locator(f'#side-panel [data-field="{path}"]')


def fill(page, path, value):
    """Type into a generated form field and leave it, which records one undoable change."""
    field(page, path).fill(value)
    field(page, path).press("Tab")


def latest_version(app, flow_id):
    from app.extensions import db
    from app.models import Flow

    with app.app_context():
        return db.session.get(Flow, flow_id).latest_version


def flow_id_of(page):
    return page.url.rstrip("/").split("/")[-1]


def publish(app, account, document):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, account.workspace_id), document, None)
        db.session.commit()
        return result.flow.id


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"canvas-{name}.png"))


# ---- the value picker (static/js/canvas-picker.js) ------------------------------------------


def picker_button(page, path):
    """The "Insert value" button of the template field at `path` ("config.text")."""
    return page.locator(f'#side-panel .field[data-path="{path}"]').get_by_role("button", name="Insert value")


def picker_options(page):
    """The options of the open value list, once it has loaded."""
    page.wait_for_selector(".value-picker[data-state]")
    return page.locator(".value-picker").get_by_role("option")


def pick_value(page, path, label):
    """Open the value list of a field with the mouse and click the value called `label`."""
    picker_button(page, path).click()
    picker_options(page).filter(has_text=label).first.click()
    page.wait_for_selector(".value-picker", state="detached")


def chips(page, path):
    """The readable names of the values a field uses, once the server has named them."""
    box = page.locator(f'#side-panel .field[data-path="{path}"] .value-chips').first
    page.wait_for_function("box => box.dataset.state === 'resolved' && box.dataset.text === box.closest('.field')"
                           ".querySelector('[data-field]').value", arg=box.element_handle())
    return box.locator(".value-chip").all_inner_texts()


def script_errors(page):
    """Collect the page's uncaught script errors from now on (the list fills as they happen)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
