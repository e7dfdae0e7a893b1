"""Role limits as a person meets them in the browser: a viewer cannot publish, an editor cannot manage keys.

Each refusal is tried twice: through the page (the button is not there) and by a forged request
from the page itself (its own fetch with the page's CSRF token), which the server refuses with 403
and nothing stored.
"""

from __future__ import annotations

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import latest_version, log_in, open_canvas, publish, shot, wait_for_canvas

SMALL = {"width": 1024, "height": 768}
VIEWER_BANNER = "You can view this flow. Ask an owner to make you an editor to change it."
# The page's own fetch, as a script in the page would send it: session cookie and CSRF token included.
FORGED = """async ([method, url, body]) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const answer = await fetch(url, {method, headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                                   body: body === null ? undefined : JSON.stringify(body)});
  return {status: answer.status, body: await answer.json()};
}"""


def _api_key_count(app, workspace_id: str) -> int:
    from app.extensions import db
    from app.models import ApiKey

    with app.app_context():
        return len(db.session.execute(db.select(ApiKey).where(ApiKey.workspace_id == workspace_id)).scalars().all())


def test_a_viewer_sees_the_flow_read_only_and_cannot_publish(app, make_account, live_server, page):
    owner = make_account()
    flow_id = publish(app, owner, greeting_flow(key="looked-at"))
    viewer = make_account(email="viewer@example.com", role="viewer")
    open_canvas(page, live_server, viewer, flow_id)
    page.set_viewport_size(SMALL)

    assert page.inner_text("#canvas-banner") == VIEWER_BANNER
    for button in ("Save", "▶ Test", "▶ Run now", "Archive", "Duplicate", "Rotate secret"):
        assert not page.get_by_role("button", name=button, exact=True).is_visible(), button
    assert page.locator('text="▶ Run" >> visible=true').count() == 0  # the manual trigger node's button
    shot(page, "viewer-read-only-1024")

    document = greeting_flow(key="looked-at")
    document["nodes"][3]["config"]["template"] = "Changed by a viewer"
    answer = page.evaluate(FORGED, ["PUT", f"/api/v1/flows/{flow_id}", {"document": document}])
    assert answer["status"] == 403
    assert answer["body"]["error"]["message"].startswith("Your role in this workspace can view but not change flows.")
    assert latest_version(app, flow_id) == 1

    page.goto(f"{live_server}/flows")
    assert page.locator("form#import-flow").count() == 0
    assert page.get_by_role("button", name="Create flow").count() == 0
    page.goto(f"{live_server}/credentials")
    assert page.get_by_role("button", name="Save credential").count() == 0


def test_an_editor_is_refused_the_api_keys_page_and_api(app, make_account, live_server, page):
    owner = make_account()
    flow_id = publish(app, owner, greeting_flow(key="edited"))
    editor = make_account(email="editor@example.com", role="editor")
    log_in(page, live_server, editor)
    page.set_viewport_size(SMALL)
    page.goto(f"{live_server}/flows/{flow_id}")
    wait_for_canvas(page)
    assert page.get_by_role("button", name="Save", exact=True).is_visible()  # editors edit and run flows
    assert page.locator('text="▶ Run" >> visible=true').count() == 1
    assert page.locator("header nav").get_by_role("link", name="API keys").count() == 0

    refused = page.goto(f"{live_server}/settings/api-keys")
    assert refused.status == 403
    assert "Only the workspace's owners manage API keys." in page.inner_text("main")
    shot(page, "editor-refused-api-keys-1024")

    keys_before = _api_key_count(app, owner.workspace_id)
    made = page.evaluate(FORGED, ["POST", "/api/v1/api-keys", {"name": "editor's key"}])
    listed = page.evaluate(FORGED, ["GET", "/api/v1/api-keys", None])
    assert (made["status"], listed["status"]) == (403, 403)
    assert made["body"]["error"]["details"] == {"required_permission": "manage_api_keys"}
    assert _api_key_count(app, owner.workspace_id) == keys_before


def test_the_owner_sees_the_api_keys_link(app, make_account, live_server, page):
    owner = make_account()
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/flows")
    page.locator("header nav").get_by_role("link", name="API keys").click()
    page.wait_for_url("**/settings/api-keys")
    assert page.get_by_role("heading", level=1).inner_text().startswith("API keys")
