"""Compare two versions on the canvas and roll back only after a dialog says what will change.

The versions are published through the services (setup); everything after is what a user does:
open the version history, compare, read the before → after lines, close, roll back (cancel first).
"""

from __future__ import annotations

from tests.app.flowdocs import compared_flow, greeting_flow
from tests.browser.canvas_actions import (click_node, field, fill, latest_version, log_in, node, open_canvas, publish, reveal, shot,
                                          wait_for_canvas)


def _publish_two_versions(app, account) -> str:
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    flow_id = publish(app, account, greeting_flow(key="compare-me"))
    with app.app_context():
        publishing.save_flow(db.session.get(Flow, flow_id), compared_flow(greeting_flow(key="compare-me")), None)
        db.session.commit()
    return flow_id


def _document(app, flow_id, number):
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    with app.app_context():
        return publishing.get_version(db.session.get(Flow, flow_id), number).document


def _marks(page):
    return page.evaluate("() => Object.fromEntries(Array.from(document.querySelectorAll("
                         "'#canvas-graph g[data-node-id][data-compare]'), e => [e.dataset.nodeId, e.dataset.compare]))")


def _click_in_version_history(page, base, app, make_account, button: str) -> str:
    """Publish v1 and v2, open the live canvas's version history and press `button` on v1's row."""
    account = make_account()
    flow_id = _publish_two_versions(app, account)
    open_canvas(page, base, account, flow_id)
    page.click("#btn-versions")
    page.wait_for_selector('#side-panel[data-showing="versions"] tr[data-version="1"]')
    page.click(f'#side-panel tr[data-version="1"] button:has-text("{button}")')
    return flow_id



def _ask_to_roll_back_to_v1_at_1024(page, live_server, account, flow_id: str) -> None:
    """Open the flow's canvas at 1024×768, then Versions, then "Roll back to v1" (the dialog opens)."""
    open_canvas(page, live_server, account, flow_id)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-versions")
    page.wait_for_selector('#side-panel[data-showing="versions"] tr[data-version="1"]')
    page.click('#side-panel tr[data-version="1"] button:has-text("Roll back to v1")')

def test_compare_colours_the_nodes_and_lists_each_field_before_and_after(app, make_account, live_server, page):
    _click_in_version_history(page, live_server, app, make_account, "Compare with live")
    page.wait_for_selector("#compare-bar")
    page.wait_for_function("() => document.querySelectorAll('#canvas-graph g[data-compare]').length >= 4")
    assert _marks(page) == {"note": "added", "manual": "removed", "reply": "changed", "start": "moved"}
    assert "added" in node(page, "note").text_content() and "removed" in node(page, "manual").text_content()
    assert not page.is_visible("#palette") and not page.is_visible("#btn-save")  # nothing to edit while comparing

    side = page.inner_text("#side-panel")
    assert "Version 1 → version 2" in side and "1 node added, 1 node removed, 1 node changed" in side
    line = page.inner_text('#side-panel .compare-node[data-compare-node="reply"] [data-path="config.text"]')
    assert "{{ nodes.greet.text }} → Bye {{ inputs.person }}" in line
    assert "Farewell" in side and "Run now" in side and "Moved only (not counted as changes): Start" in side
    node(page, "reply").locator(".sb-title").click()  # points at its changes in the list
    page.wait_for_selector('#side-panel .compare-node.is-current[data-compare-node="reply"]')
    shot(page, "compare-1440")

    page.get_by_role("button", name="Close comparison").click()
    page.wait_for_selector("#compare-bar", state="detached")
    assert _marks(page) == {}
    assert page.is_visible("#palette") and page.is_visible("#btn-save")
    assert node(page, "manual").count() == 0 and node(page, "note").count() == 1  # the live version, as before
    assert "Saved · version 2" in page.inner_text("#save-state")


def test_every_rollback_asks_first_and_says_what_will_change(app, make_account, live_server, page):
    flow_id = _click_in_version_history(page, live_server, app, make_account, "Roll back to v1")
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    text = page.inner_text("#rollback-dialog")
    assert "Roll back to version 1?" in text and "published again as version 3" in text
    assert "1 node comes back: Run now" in text and "1 node will be removed: Farewell" in text
    assert "Answer changes: Text: Bye {{ inputs.person }} → {{ nodes.greet.text }}" in text
    shot(page, "rollback-dialog-1440")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#rollback-dialog", state="hidden")
    assert latest_version(app, flow_id) == 2  # Cancel does nothing

    page.click('#side-panel tr[data-version="1"] button:has-text("Roll back to v1")')
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    with page.expect_navigation():
        page.get_by_role("button", name="Roll back to v1").last.click()
    wait_for_canvas(page)
    assert latest_version(app, flow_id) == 3
    assert _document(app, flow_id, 3) == _document(app, flow_id, 1)


def test_rolling_back_to_a_version_the_same_as_the_live_one_offers_only_close_at_1024(app, make_account,
                                                                                    live_server, page):
    """v3 restored v1, so rolling back to v1 again would publish nothing: the dialog says so and cannot roll back."""
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    account = make_account()
    flow_id = _publish_two_versions(app, account)
    with app.app_context():
        publishing.rollback(db.session.get(Flow, flow_id), 1, None)
        db.session.commit()
    _ask_to_roll_back_to_v1_at_1024(page, live_server, account, flow_id)
    page.wait_for_function("() => document.querySelector('#rollback-confirm').hidden")
    text = page.inner_text("#rollback-dialog")
    assert "Version 1 is the same as the current version (v3), so rolling back to it would publish nothing." in text
    assert "published again" not in text
    close = page.get_by_role("button", name="Close", exact=True)
    box = close.bounding_box()
    assert box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768
    shot(page, "rollback-same-1024")
    close.click()
    page.wait_for_selector("#rollback-dialog", state="hidden")
    assert latest_version(app, flow_id) == 3

    page.click('#side-panel tr[data-version="2"] button:has-text("Roll back to v2")')  # a version that differs
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    assert "Roll back to version 2?" in page.inner_text("#rollback-dialog")
    with page.expect_navigation():
        page.get_by_role("button", name="Roll back to v2").last.click()
    wait_for_canvas(page)
    assert latest_version(app, flow_id) == 4


def test_an_old_version_is_a_read_only_view_that_compares_and_rolls_back_at_1024(app, make_account, live_server,
                                                                               page):
    account = make_account()
    flow_id = _publish_two_versions(app, account)
    log_in(page, live_server, account)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/flows/{flow_id}/versions/1")
    wait_for_canvas(page)
    side = page.inner_text("#side-panel")
    assert "This is a read-only view of version 1." in side and "until you press" not in side
    page.get_by_role("button", name="Compare with current").click()
    page.wait_for_selector("#compare-bar")
    page.wait_for_function("() => document.querySelectorAll('#canvas-graph g[data-compare]').length >= 4")
    assert _marks(page)["reply"] == "changed"
    close = page.get_by_role("button", name="Close comparison").bounding_box()
    assert close["x"] + close["width"] <= 1024  # the way out is on screen
    shot(page, "compare-old-version-1024")
    page.get_by_role("button", name="Close comparison").click()
    page.wait_for_selector("#compare-bar", state="detached")
    assert node(page, "manual").count() == 1 and node(page, "note").count() == 0  # version 1 again

    page.get_by_role("button", name="Roll back…").click()
    page.wait_for_selector("#rollback-dialog[open] .rollback-list")
    assert "1 node comes back: Run now" in page.inner_text("#rollback-dialog")
    shot(page, "rollback-dialog-1024")
    page.get_by_role("button", name="Cancel").click()
    assert latest_version(app, flow_id) == 2


def test_closing_a_comparison_keeps_unsaved_edits(app, make_account, live_server, page):
    account = make_account()
    flow_id = _publish_two_versions(app, account)
    open_canvas(page, live_server, account, flow_id)
    click_node(page, "reply")
    fill(page, "config.text", "Not saved yet")
    page.wait_for_selector("#save-state:has-text('Unsaved changes')")
    page.click("#btn-versions")
    page.locator("#side-panel").get_by_role("button", name="Compare on canvas").click()  # defaults: the version before the live one, and live
    page.wait_for_selector("#compare-bar:has-text('Comparing version 1 with version 2')")
    reveal(page, "reply")
    page.wait_for_selector('#canvas-graph g[data-node-id="reply"][data-compare="changed"]')
    page.keyboard.press("Escape")  # the keyboard way out
    page.wait_for_selector("#compare-bar", state="detached")
    assert "Unsaved changes" in page.inner_text("#save-state")
    click_node(page, "reply")
    assert field(page, "config.text").input_value() == "Not saved yet"
    page.click("#btn-undo")  # the edit is still one undoable step
    page.wait_for_selector("#save-state:has-text('Saved · version 2')")
    assert latest_version(app, flow_id) == 2


def test_a_version_that_differs_only_in_how_it_is_stored_says_rolling_back_still_publishes_at_1024(
        app, make_account, live_server, page):
    """v2 only reorders the steps and renames the document: nothing on the canvas changes, yet rolling
    back publishes v3. The dialog said "The flow is the same as the current version" beside the button."""
    from app.extensions import db
    from app.models import Flow
    from app.services.versions import publishing

    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="stored-only"))
    reordered = greeting_flow(key="stored-only", name="Greeter (tidied)")
    reordered["nodes"].reverse()
    with app.app_context():
        assert publishing.save_flow(db.session.get(Flow, flow_id), reordered, None).published
        db.session.commit()
    _ask_to_roll_back_to_v1_at_1024(page, live_server, account, flow_id)
    page.wait_for_selector("#rollback-dialog[open] .rollback-unseen")
    text = page.inner_text("#rollback-dialog")
    assert ("Nothing on the canvas changes; only how the flow is stored differs (its name and the order of its "
            "steps or connections). Rolling back publishes that as version 3.") in text
    assert "same as the current version" not in text
    confirm = page.locator("#rollback-dialog").get_by_role("button", name="Roll back to v1", exact=True)
    assert confirm.is_visible()
    box = confirm.bounding_box()
    assert box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768
    shot(page, "rollback-stored-only-1024")
    with page.expect_navigation():
        confirm.click()
    wait_for_canvas(page)
    assert latest_version(app, flow_id) == 3
    assert _document(app, flow_id, 3) == greeting_flow(key="stored-only")

    # Comparing v2 with the live v3 (v1's document again) says the same as the dialog did, not "the same".
    page.click("#btn-versions")
    page.locator('#side-panel tr[data-version="2"]').get_by_role("button", name="Compare with live").click()
    page.wait_for_selector("#side-panel .compare-summary")
    assert page.inner_text("#side-panel .compare-summary") == (
        "Nothing on the canvas differs; only how the flow is stored (its name and the order of its steps or "
        "connections).")
