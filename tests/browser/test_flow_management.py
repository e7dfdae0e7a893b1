"""A person manages whole flows in a real browser: rename and describe in place, duplicate, archive and
restore, export a version and import it, search the list. Screenshots at 1440x900 and 1024x768."""

from __future__ import annotations

import json

from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.browser.canvas_actions import click_node, log_in, node, publish, shot, wait_for_canvas

SMALL = {"width": 1024, "height": 768}


def _flow(app, flow_id):
    from app.extensions import db
    from app.models import Flow

    with app.app_context():
        flow = db.session.get(Flow, flow_id)
        return {"name": flow.name, "description": flow.description, "archived": flow.archived_at is not None}


def _fits(page, width: int = 1024) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_rename_and_describe_the_flow_in_place(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow())
    log_in(page, live_server, account)
    page.goto(f"{live_server}/flows/{flow_id}")

    page.click(".flow-name")
    page.fill("input.inplace-name", "Order desk")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flow-name:has-text('Order desk')")
    assert _flow(app, flow_id)["name"] == "Order desk" and page.title().startswith("Order desk")

    page.click("button:has-text('Rename')")
    page.fill("input.inplace-name", "Not this")
    page.keyboard.press("Escape")  # cancels: nothing saved
    assert page.inner_text(".flow-name") == "Order desk" and _flow(app, flow_id)["name"] == "Order desk"

    page.click(".flow-name")
    page.fill("input.inplace-name", "   ")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flow-title-error:not([hidden])")
    assert "name must not be empty" in page.inner_text(".flow-title-error")
    shot(page, "rename-refused-1440")
    page.keyboard.press("Escape")
    assert page.is_hidden(".flow-title-error")

    page.click("button:has-text('Edit description')")
    page.fill("textarea.inplace-description", "Answers customers about their orders.")
    page.click("h2:has-text('Triggers')")  # leaving the field saves it
    page.wait_for_selector(".flow-description:has-text('Answers customers')")
    assert _flow(app, flow_id)["description"] == "Answers customers about their orders."
    page.set_viewport_size(SMALL)
    page.click(".flow-name")
    shot(page, "rename-in-place-1024")
    page.keyboard.press("Escape")


def test_viewers_read_the_name_without_editing_it(app, make_account, live_server, page):
    make_account()
    viewer = make_account(email="viewer@example.com", role="viewer")
    flow_id = publish(app, viewer, greeting_flow())
    log_in(page, live_server, viewer)
    page.goto(f"{live_server}/flows/{flow_id}")
    page.click(".flow-name")
    assert page.query_selector("input.inplace-name") is None
    assert page.query_selector("button:has-text('Rename')") is None


def test_duplicate_opens_the_copy_with_its_new_url_and_secret(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="desk"))
    log_in(page, live_server, account)
    page.goto(f"{live_server}/flows/{flow_id}")
    page.click("button:has-text('Duplicate')")
    page.wait_for_selector("text=was duplicated as")
    assert not page.url.endswith(flow_id)
    assert page.inner_text(".flow-name") == "Copy of Greeter"
    assert "/desk-copy" in page.inner_text("#triggers-section")
    shot(page, "duplicate-1440")
    page.set_viewport_size(SMALL)
    page.wait_for_function("() => { const bar = document.querySelector('#canvas-app .canvas-statusbar');"
                           " return bar && bar.getBoundingClientRect().bottom <= window.innerHeight; }")
    shot(page, "duplicate-1024")  # the notice above the canvas does not push its status bar out of view


def _archive_from_its_page(app, account, live_server, page, document: dict | None = None,
                           logged_in: bool = False, flow_id: str | None = None) -> str:
    """Publish a flow (unless given), then archive it with the button on its page (accepting the confirmation)."""
    flow_id = flow_id or publish(app, account, document or greeting_flow(key="desk"))
    if not logged_in:
        log_in(page, live_server, account)
    page.goto(f"{live_server}/flows/{flow_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Archive')")
    page.wait_for_selector("text=was archived")
    return flow_id


def test_archive_then_restore_from_the_archived_flows(app, make_account, live_server, page):
    account = make_account()
    flow_id = _archive_from_its_page(app, account, live_server, page)
    assert _flow(app, flow_id)["archived"] and page.query_selector(f"tr[data-flow-id='{flow_id}']") is None

    # Its canvas is frozen, and says why, instead of offering to "open the current version" to edit it.
    for path in (f"/flows/{flow_id}", f"/flows/{flow_id}/versions/1"):
        page.goto(live_server + path)
        wait_for_canvas(page)
        assert page.inner_text("#canvas-banner") == ("This flow is archived, so its canvas cannot be changed or run. "
                                                     "Restore it to edit or run it again.")
        assert not page.is_visible("#palette") and not page.is_visible("#btn-save")
        assert "archived: nothing on its canvas can be changed" in page.inner_text("#side-panel")
    page.set_viewport_size(SMALL)
    shot(page, "archived-canvas-1024")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server}/flows")
    page.click("a:has-text('Archived flows')")
    page.wait_for_selector(f"tr[data-flow-id='{flow_id}']")
    shot(page, "archived-flows-1440")
    page.set_viewport_size(SMALL)
    _fits(page)
    shot(page, "archived-flows-1024")
    page.click(f"tr[data-flow-id='{flow_id}'] button:has-text('Restore')")
    page.wait_for_selector("text=was restored")
    assert not _flow(app, flow_id)["archived"]


URLS_OFF = "This flow is archived, so calls to its trigger URLs do not start runs until it is restored."


def _drawn(text) -> str:
    """The words an SVG text shows on a node, without its tooltip."""
    return text.evaluate("el => Array.from(el.childNodes).filter(n => n.nodeName !== 'title')"
                         ".map(n => n.textContent).join('')").replace("\xa0", " ")


def _pills(node_box) -> list[str]:
    """The buttons drawn on a node (Copy URL, Examples…, Run, Details…)."""
    return [_drawn(pill.locator("text")) for pill in node_box.locator(".sb-pill").all() if pill.is_visible()]


def test_an_archived_flow_shows_its_trigger_urls_as_off_instead_of_offering_to_copy_them(
        app, make_account, live_server, page):
    """A reviewer copied the URL of an archived flow's trigger from its page; calling it answered "not found"."""
    account = make_account()
    flow_id = _archive_from_its_page(app, account, live_server, page)
    page.set_viewport_size(SMALL)

    for path in (f"/flows/{flow_id}", f"/flows/{flow_id}/versions/1"):  # the live canvas and an old version's
        page.goto(live_server + path)
        wait_for_canvas(page)
        rest = node(page, "api")
        assert _drawn(rest.locator(".sb-url")) == "Off: the flow is archived"
        assert _pills(rest) == ["Details…"]  # no "Copy URL"
        assert _pills(node(page, "manual")) == ["Details…"]  # no "Run": it would be refused

    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    click_node(page, "api")
    side = page.locator("#side-panel")
    assert side.locator("[data-urls-off]").inner_text() == URLS_OFF
    assert "/desk" in side.locator("[data-trigger-url]").inner_text()  # still readable, not offered
    assert side.get_by_role("button", name="Copy URL").count() == 0
    shot(page, "archived-trigger-node-1024")
    side.get_by_role("button", name="Details…").click()
    page.wait_for_selector("#side-panel .trigger-panel")
    assert side.locator("[data-urls-off]").inner_text() == URLS_OFF
    assert side.locator("button[data-copy]").count() == 0 and side.locator("[data-snippet]").count() == 0
    shot(page, "archived-trigger-panel-1024")

    triggers = page.locator("#triggers-section")
    assert triggers.locator("[data-urls-off]").inner_text() == URLS_OFF
    assert triggers.get_by_role("button", name="Copy URL").count() == 0
    assert triggers.locator(".badge").all_inner_texts() == ["off while archived"] * 2
    assert triggers.get_by_role("button", name="Run now").count() == 0  # it would be refused too
    triggers.scroll_into_view_if_needed()
    shot(page, "archived-trigger-list-1024")

    page.goto(f"{live_server}/flows?archived=1")
    page.click(f"tr[data-flow-id='{flow_id}'] button:has-text('Restore')")
    page.wait_for_selector("text=was restored")
    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    assert page.locator("#triggers-section").get_by_role("button", name="Copy URL").count() == 1
    assert page.locator("#triggers-section").get_by_role("button", name="Run now").count() == 1
    assert _pills(node(page, "api")) == ["Copy URL", "Examples…"]


def test_an_archived_flow_offers_no_run_or_replay_and_says_why_at_1024(app, make_account, live_server, page):
    """A reviewer could still press "Replay" on an archived flow, which would be refused. Rotating a
    secret stays: a leaked secret must be replaceable while the flow is archived."""
    from app.services.versions.archived import RUN_MESSAGE

    account = make_account()
    document = greeting_flow(key="desk")
    next(n for n in document["nodes"] if n["id"] == "api")["name"] = "Order webhook"
    flow_id = publish(app, account, document)
    log_in(page, live_server, account)
    page.set_viewport_size(SMALL)
    page.goto(f"{live_server}/flows/{flow_id}")
    page.fill("#triggers-section input[name=input-message]", "hi")
    page.locator("#triggers-section button", has_text="Run now").click()
    page.wait_for_selector("#replay-run")
    run_url = page.url
    _archive_from_its_page(app, account, live_server, page, logged_in=True, flow_id=flow_id)

    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    assert not page.is_visible("#btn-run") and not page.is_visible("#btn-test")
    triggers = page.locator("#triggers-section")
    assert triggers.get_by_role("button", name="Rotate secret").count() == 1
    click_node(page, "api")
    side = page.locator("#side-panel")
    side.get_by_role("button", name="Details…").click()
    page.wait_for_selector("#side-panel .trigger-panel")
    assert side.get_by_role("button", name="Rotate secret").count() == 1
    # The panel's title keeps its words whole ("Order webho / ok" was read): one line, its tools beside or below.
    title = side.locator(".side-head h2")
    assert title.inner_text() == "Order webhook"
    assert title.evaluate("h => h.getClientRects().length === 1 && h.getBoundingClientRect().height < 1.6 * "
                          "parseFloat(getComputedStyle(h).lineHeight || 22) && h.scrollWidth <= h.clientWidth")
    _fits(page)
    shot(page, "archived-trigger-details-1024")
    click_node(page, "manual")
    side.get_by_role("button", name="Details…").click()
    page.wait_for_selector("#side-panel .trigger-panel [data-run-off]")
    run_details = side.locator(".trigger-panel").inner_text()
    assert "From code" not in run_details and "POST" not in run_details  # it would be refused
    assert "Once the flow is restored" in run_details
    shot(page, "archived-run-now-details-1024")

    page.goto(run_url)
    page.wait_for_selector("[data-replay-off]")
    assert page.locator("#replay-run").count() == 0
    assert page.inner_text("[data-replay-off]") == RUN_MESSAGE
    _fits(page)
    shot(page, "archived-run-no-replay-1024")


def test_an_archived_flows_schedule_says_it_does_not_fire_at_1024(app, make_account, live_server, page):
    """The schedule node of an archived flow still listed its next fires; archiving disarmed it."""
    from app.services.versions.archived import SCHEDULE_MESSAGE

    account = make_account()
    flow_id = _archive_from_its_page(app, account, live_server, page, document=schedule_flow())
    page.set_viewport_size(SMALL)
    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    schedule = node(page, "every")
    assert _drawn(schedule.locator(".sb-url")) == "Off: the flow is archived"
    click_node(page, "every")
    side = page.locator("#side-panel")
    assert side.locator("[data-schedule-off]").inner_text() == SCHEDULE_MESSAGE
    assert side.locator("[data-schedule-next]").count() == 0 and "Next fires" not in side.inner_text()
    assert "arms the schedule" not in side.inner_text()  # nothing arms it until the flow is restored
    assert page.locator("#triggers-section [data-schedule-off]").inner_text() == SCHEDULE_MESSAGE
    _fits(page)
    shot(page, "archived-schedule-1024")


def test_export_a_version_and_import_the_file_as_a_new_flow(app, make_account, live_server, page, tmp_path):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="desk"))
    log_in(page, live_server, account)
    page.goto(f"{live_server}/flows/{flow_id}")
    with page.expect_download() as download:
        page.click("a:has-text('Export v1')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "greeter-v1.json" and json.loads(saved.read_text())["document"]["nodes"]

    bad = tmp_path / "notes.json"
    bad.write_text("these are my notes")
    page.goto(f"{live_server}/flows")
    page.set_input_files("#import-flow input[type=file]", str(bad))
    page.click("#import-flow button:has-text('Import')")
    page.wait_for_selector(".flash-error:has-text('not valid JSON')")
    shot(page, "import-refused-1440")

    page.set_input_files("#import-flow input[type=file]", str(saved))
    page.click("#import-flow button:has-text('Import')")
    page.wait_for_selector("text=as a new flow")
    assert not page.url.endswith(flow_id) and "/desk-copy" in page.inner_text("#triggers-section")
    page.goto(f"{live_server}/flows")
    page.set_viewport_size(SMALL)
    _fits(page)
    shot(page, "import-1024")


def test_search_the_flows_list_as_you_type(app, make_account, live_server, page):
    account = make_account()
    publish(app, account, greeting_flow(key="o", name="Orders bot"))
    publish(app, account, schedule_flow(name="Weather report"))
    log_in(page, live_server, account)
    page.goto(f"{live_server}/flows")
    assert page.locator("table.flows-table tbody tr").count() == 2
    page.fill("input[name=q]", "weath")
    page.wait_for_function("() => document.querySelectorAll('table.flows-table tbody tr').length === 1")
    assert "Weather report" in page.inner_text("#flows-table") and "q=weath" in page.url
    shot(page, "search-1440")
    page.fill("input[name=q]", "nothing like it")
    page.wait_for_selector("text=No flow matches")
    page.set_viewport_size(SMALL)
    page.fill("input[name=q]", "")
    page.wait_for_function("() => document.querySelectorAll('table.flows-table tbody tr').length === 2")
    _fits(page)
    shot(page, "search-1024")
