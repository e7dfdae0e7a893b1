"""An owner brings a teammate in from the browser alone; an editor is refused the members page; first start."""

from __future__ import annotations

from pathlib import Path

from tests.app.flowdocs import greeting_flow
from tests.browser.conftest import ARTIFACTS

SMALL = {"width": 1024, "height": 768}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"{name}.png"))


def _publish(app, account) -> None:
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing

    with app.app_context():
        publishing.create_flow(db.session.get(Workspace, account.workspace_id), greeting_flow(), None)
        db.session.commit()


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/flows*")


def test_an_owner_invites_a_teammate_who_joins_from_the_copied_link(app, make_account, live_server, browser):
    account = make_account(email="olga@example.com")
    _publish(app, account)
    owner_context = browser.new_context(viewport=SMALL, permissions=["clipboard-read", "clipboard-write"])
    owner = owner_context.new_page()
    _log_in(owner, live_server, account.email, account.password)
    owner.click("nav >> text=Members")
    owner.fill("#invite input[name=email]", "tea@example.com")
    owner.select_option("#invite select[name=role]", "editor")
    owner.click("#invite button[type=submit]")
    owner.wait_for_selector("#new-link")
    owner.click("#new-link button[data-copy]")
    owner.wait_for_function("() => document.querySelector('#new-link button[data-copy]').textContent === 'Copied'")
    link = owner.evaluate("navigator.clipboard.readText()")
    assert link == owner.inner_text("#new-link [data-link]") and "/invite/sbi_" in link
    assert "tea@example.com" in owner.inner_text("#pending")
    boxes = [owner.locator(f"nav >> {item}").bounding_box() for item in ("a >> nth=0", "text=Members", "text=Log out")]
    assert len({round(box["y"]) for box in boxes}) == 1 and all(box["height"] < 30 for box in boxes), boxes
    _shot(owner, "members-page-1024")

    teammate_context = browser.new_context(viewport=SMALL)
    teammate = teammate_context.new_page()
    teammate.goto(link)
    assert "olga@example.com invites tea@example.com" in " ".join(teammate.inner_text("#accept").split())
    _shot(teammate, "accept-invitation-1024")
    teammate.fill("input[name=name]", "Tea Person")
    teammate.fill("input[name=password]", "tea's long password")
    teammate.fill("input[name=password2]", "tea's long password")
    teammate.click("#accept button[type=submit]")
    teammate.wait_for_url(f"{live_server}/flows*")
    assert "Greeter" in teammate.inner_text("main") and "Welcome to Acme" in teammate.inner_text("main")
    assert "Members" not in teammate.inner_text("nav"), "an editor has no members link"

    owner.goto(f"{live_server}/settings/members")
    assert "Tea Person" in owner.inner_text("#members") and "No pending invitations." in owner.inner_text("#pending")
    owner_context.close()
    teammate_context.close()


def test_an_editor_opening_the_members_page_is_refused_plainly(make_account, live_server, page):
    make_account(email="olga@example.com")
    editor = make_account(email="ed@example.com", password="ed password 1", role="editor")
    _log_in(page, live_server, editor.email, editor.password)
    answer = page.goto(f"{live_server}/settings/members")
    assert answer.status == 403
    assert "Only the workspace's owners manage members." in page.inner_text("main")


def test_first_start_creates_the_owner_in_the_browser(app, live_server, browser):
    context = browser.new_context(viewport=SMALL)
    page = context.new_page()
    page.goto(f"{live_server}/")
    page.wait_for_url(f"{live_server}/setup")
    _shot(page, "first-start-setup-1024")
    page.fill("input[name=name]", "Olga")
    page.fill("input[name=email]", "olga@example.com")
    page.fill("input[name=password]", "a long password")
    page.fill("input[name=password2]", "a long password")
    page.fill("input[name=workspace]", "Our team")
    page.click("#setup button[type=submit]")
    page.wait_for_url(f"{live_server}/flows*")
    assert "Members" in page.inner_text("nav") and "Our team" in page.inner_text("main")
    assert page.goto(f"{live_server}/setup").status == 404
    context.close()
