"""Each publish-blocking problem of issue 17, made on the canvas as a non-developer would, is refused by name.

Starting from a published flow that works, the person makes one mistake in the side panel with the
mouse and keyboard and presses Save. Nothing is published; the problems strip names the node by
its display name and the setting by its title; the node is marked; with its panel open the message
sits next to the field. Fixing the field and pressing Save again publishes the next version. A
warning (a branch that ends without a Reply) is listed calmly and does not block.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.app.flowdocs import greeting_flow, schedule_flow
from tests.browser.canvas_actions import (
    click_node, field, fill, latest_version, node, open_canvas, publish, reveal, shot,
)

CREDENTIAL = "billing"


def calling_flow(node_type: str, credential: str | None = None) -> dict:
    """The greeting flow whose Compose step calls another system (an HTTP service or a model)."""
    document = greeting_flow(key=f"calls-{node_type}")
    for item in document["nodes"]:
        if item["id"] == "greet" and node_type == "http_request":
            item.update(type="http_request", name="Look up order", config={"url": "https://orders.example.com/api"})
        elif item["id"] == "greet":
            item.update(type="llm", name="Ask the model", config={
                "base_url": "https://models.example.com/v1", "model": "small"})
        elif item["type"] == "reply" and node_type == "http_request":
            item["config"]["text"] = item["config"]["text"].replace("nodes.greet.text", "nodes.greet.status")
        if item["id"] == "greet" and credential:
            item["config"]["credential"] = credential
    return document


def edit(node_id: str, path: str, value: str) -> Callable:
    """Open a node's panel with the mouse and type `value` into one of its fields."""
    def step(page):
        click_node(page, node_id)
        fill(page, path, value)
    return step


def choose_no_credential(page):
    click_node(page, "greet")
    field(page, "config.credential").select_option(label="(none)")


@dataclass(frozen=True)
class Mistake:
    document: Callable[[], dict]
    node_id: str
    node_name: str  # the node's display name, as the canvas shows it
    path: str
    title: str  # the field's title in the side panel
    code: str
    make: Callable  # page -> None: the mistake, with the mouse and keyboard
    fix: Callable  # page -> None
    credential_deleted: bool = False


MISTAKES = {
    "reply-text-cleared": Mistake(
        greeting_flow, "reply", "Answer", "config.text", "Text", "empty_field",
        edit("reply", "config.text", ""), edit("reply", "config.text", "Thanks, {{ inputs.person }}")),
    "url-left-at-placeholder": Mistake(
        lambda: calling_flow("http_request"), "greet", "Look up order", "config.url", "URL", "invalid_url",
        edit("greet", "config.url", "https://"), edit("greet", "config.url", "https://orders.example.com/v2")),
    "url-not-a-web-address": Mistake(
        lambda: calling_flow("http_request"), "greet", "Look up order", "config.url", "URL", "invalid_url",
        edit("greet", "config.url", "ftp://files.example.com/orders"),
        edit("greet", "config.url", "https://files.example.com/orders")),
    "reference-to-a-missing-node": Mistake(
        greeting_flow, "reply", "Answer", "config.text", "Text", "unknown_node",
        edit("reply", "config.text", "{{ nodes.lookup.text }}"), edit("reply", "config.text", "{{ nodes.greet.text }}")),
    "reference-to-a-later-node": Mistake(
        greeting_flow, "greet", "Compose", "config.template", "Template", "node_not_upstream",
        edit("greet", "config.template", "Hello {{ nodes.reply.text }}"),
        edit("greet", "config.template", "Hello {{ inputs.person }}")),
    "reference-to-an-output-the-node-lacks": Mistake(
        greeting_flow, "reply", "Answer", "config.text", "Text", "unknown_output",
        edit("reply", "config.text", "{{ nodes.greet.colour }}"), edit("reply", "config.text", "{{ nodes.greet.text }}")),
    "reference-to-an-undeclared-input": Mistake(
        greeting_flow, "reply", "Answer", "config.text", "Text", "unknown_input",
        edit("reply", "config.text", "Order {{ inputs.order_number }}"),
        edit("reply", "config.text", "Order {{ inputs.message }}")),
    # The credential drop-down offers only names that exist, so a person cannot pick a missing one.
    # What happens in real life is that someone deletes the credential under Credentials after the
    # flow was published: the test does exactly that (between publishing and opening the canvas),
    # then makes a harmless edit elsewhere and presses Save.
    "http-credential-deleted": Mistake(
        lambda: calling_flow("http_request", CREDENTIAL), "greet", "Look up order", "config.credential", "Credential",
        "unknown_credential", edit("reply", "config.text", "Order status: {{ nodes.greet.status }}"),
        choose_no_credential, credential_deleted=True),
    "llm-credential-deleted": Mistake(
        lambda: calling_flow("llm", CREDENTIAL), "greet", "Ask the model", "config.credential", "Credential",
        "unknown_credential", edit("reply", "config.text", "The model says: {{ nodes.greet.text }}"),
        choose_no_credential, credential_deleted=True),
    "schedule-inputs-undeclared": Mistake(
        schedule_flow, "every", "Schedule", "config.inputs", "Inputs", "invalid_schedule_inputs",
        edit("every", "config.inputs", '{"colour": "red"}'), edit("every", "config.inputs", '{"note": "daily"}')),
    "schedule-inputs-wrong-type": Mistake(
        schedule_flow, "every", "Schedule", "config.inputs", "Inputs", "invalid_schedule_inputs",
        edit("every", "config.inputs", '{"note": 5}'), edit("every", "config.inputs", '{"note": "5"}')),
}


def _credential(app, account, create: bool):
    """Create the "billing" credential, or delete it as the Credentials page's delete button does."""
    from app.extensions import db
    from app.models import Credential
    from app.services.workspaces.credentials import create_credential

    with app.app_context():
        if create:
            create_credential(account.workspace_id, {"name": CREDENTIAL, "kind": "api_key", "value": "sk-refusal-1"})
        else:
            db.session.delete(db.session.execute(db.select(Credential).where(
                Credential.workspace_id == account.workspace_id, Credential.name == CREDENTIAL)).scalar_one())
        db.session.commit()


def save(page):
    page.click("#btn-save")


def wait_published(page, version):
    page.wait_for_function(f"() => document.querySelector('#save-state').innerText.includes('version {version}')",
                           timeout=10000)


def assert_refused_by_name(page, mistake: Mistake):
    page.wait_for_selector("#problems.after-save")
    item = page.locator(f'#problems li[data-node-id="{mistake.node_id}"][data-code="{mistake.code}"]').first
    item.wait_for()
    assert item.get_attribute("data-severity") == "error"
    assert item.locator("button").inner_text() == mistake.node_name  # the display name, not the id
    # Node and field as the canvas shows them, the node named once (its link), then the field's title.
    assert item.text_content().startswith(f'Error{mistake.node_name}: "{mistake.title}" '), item.text_content()
    marked = reveal(page, mistake.node_id)
    assert mistake.code in marked.get_attribute("data-problem").split()
    assert "has-error" in marked.get_attribute("class")
    click_node(page, mistake.node_id)
    beside = page.locator(f'#side-panel .field[data-path="{mistake.path}"] .field-problem')
    assert beside.count() == 1
    assert f'"{mistake.title}"' in beside.inner_text() and beside.is_visible()
    assert "is-warning" not in beside.get_attribute("class")


@pytest.mark.parametrize("case", list(MISTAKES))
def test_each_publish_blocking_mistake_is_refused_naming_node_and_field(app, make_account, live_server, page, case):
    mistake = MISTAKES[case]
    account = make_account()
    document = copy.deepcopy(mistake.document())
    if mistake.credential_deleted:
        _credential(app, account, create=True)
    flow_id = publish(app, account, document)
    if mistake.credential_deleted:
        _credential(app, account, create=False)
    open_canvas(page, live_server, account, flow_id)
    before = latest_version(app, flow_id)

    mistake.make(page)
    save(page)
    assert_refused_by_name(page, mistake)
    assert latest_version(app, flow_id) == before  # nothing was published
    shot(page, f"refused-{case}-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    assert page.locator(f'#problems li[data-node-id="{mistake.node_id}"]').first.is_visible()
    shot(page, f"refused-{case}-1024")

    mistake.fix(page)
    save(page)
    wait_published(page, before + 1)
    assert latest_version(app, flow_id) == before + 1
    page.wait_for_function("id => !document.querySelector(`#problems li[data-node-id='${id}'].is-error`)",
                           arg=mistake.node_id)
    assert "has-error" not in (reveal(page, mistake.node_id).get_attribute("class") or "")


def test_a_branch_without_a_reply_is_a_calm_warning_that_does_not_block(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="warned"))
    open_canvas(page, live_server, account, flow_id)
    click_node(page, "status_reply")  # the Reply on the "asks for status" branch goes: that branch now ends bare
    page.keyboard.press("Delete")
    page.wait_for_selector('#canvas-graph g[data-node-id="status_reply"]', state="detached")

    save(page)
    wait_published(page, 2)
    assert latest_version(app, flow_id) == 2
    warning = page.locator('#problems li[data-code="branch_without_reply"]')
    warning.wait_for(state="attached")
    assert warning.get_attribute("class") == "is-warning" and warning.get_attribute("data-severity") == "warning"
    assert '"Status?"' in warning.inner_text()  # the condition by its display name
    assert not page.locator("#problems").evaluate("box => box.classList.contains('after-save')")
    assert page.locator("#problems li.is-error").count() == 0
    assert "do not block saving" in page.inner_text("#problems h2")
    assert "has-error" not in node(page, "route").get_attribute("class")
    toggle = page.locator("#problems [aria-expanded]")
    if toggle.get_attribute("aria-expanded") == "false":  # after a save that published, the list starts folded
        toggle.click()
    assert warning.is_visible()
    shot(page, "warning-does-not-block-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    assert warning.is_visible()
    shot(page, "warning-does-not-block-1024")


def test_a_list_item_is_named_alike_in_the_form_and_in_the_refusal(app, make_account, live_server, page):
    """The form's "Branch 1", "Condition 2" and the server's "Branch 1 › Condition 2 › Value" come from one annotation."""
    account = make_account()
    document = greeting_flow(key="named-items")
    route = next(item for item in document["nodes"] if item["id"] == "route")
    route["config"]["branches"][0]["conditions"].append({"value": "{{ inputs.person }}", "operator": "is_not_empty"})
    flow_id = publish(app, account, document)
    open_canvas(page, live_server, account, flow_id)
    before = latest_version(app, flow_id)

    edit("route", "config.branches[0].conditions[1].value", "")(page)
    save(page)
    item = page.locator('#problems li[data-node-id="route"][data-code="empty_field"]').first
    item.wait_for()
    click_node(page, "route")
    heading = '#side-panel .list-item[data-path="{}"] > .list-item-head strong'
    branch = page.inner_text(heading.format("config.branches[0]"))
    condition = page.inner_text(heading.format("config.branches[0].conditions[1]"))
    assert (branch, condition) == ("Branch 1", "Condition 2")
    assert f'"{branch} › {condition} › Value" is empty' in item.text_content()
    assert latest_version(app, flow_id) == before


def test_a_long_list_of_problems_leaves_the_canvas_usable_at_1024x768(app, make_account, live_server, page):
    """A reviewer deleted a step in the middle and pressed Save: the problems strip grew over most of the canvas."""
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="many-problems"))
    open_canvas(page, live_server, account, flow_id)
    page.set_viewport_size({"width": 1024, "height": 768})
    click_node(page, "greet")
    page.keyboard.press("Delete")  # every step after it is unreachable, and the replies use its text
    page.wait_for_selector('#canvas-graph g[data-node-id="greet"]', state="detached")
    page.wait_for_selector("#problems:not([aria-busy])", state="attached")  # the check of the change has answered
    save(page)
    page.wait_for_selector("#problems.after-save")
    items = page.locator("#problems li")
    total = items.count()
    assert total >= 5, total

    stage = page.locator("#canvas-stage").bounding_box()
    strip = page.locator("#problems").bounding_box()
    graph = page.locator("#canvas-graph").bounding_box()
    assert strip["height"] <= 0.3 * stage["height"] and graph["height"] >= 0.6 * stage["height"], (strip, graph, stage)
    assert page.locator("#problems li:visible").count() == 2  # the first few, errors first
    more = page.get_by_role("button", name=f"Show all {total} ({total - 2} more)")
    shot(page, "many-problems-1024")

    more.click()
    assert page.locator("#problems li:visible").count() == total
    # Asked for all: the strip grows to show several whole problems (2½ with the third cut mid-line was
    # read), the graph keeps about half the stage and the rest of the list scrolls.
    strip = page.locator("#problems").bounding_box()
    assert strip["height"] <= 0.45 * stage["height"] + 1, (strip, stage)
    assert page.locator("#canvas-graph").bounding_box()["height"] >= 0.45 * stage["height"]
    whole = page.eval_on_selector("#problems ul", """ul => { const box = ul.getBoundingClientRect();
        return Array.from(ul.children).filter(li => { const r = li.getBoundingClientRect();
            return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }).length; }""")
    assert whole >= 4, whole
    assert page.eval_on_selector("#problems ul", "ul => ul.scrollHeight > ul.clientHeight")  # the rest scrolls
    shot(page, "many-problems-all-shown-1024")
    last = items.nth(total - 1)
    last.scroll_into_view_if_needed()
    node_id = last.get_attribute("data-node-id")
    last.locator("button").click()  # a problem far down the list still selects its node
    page.wait_for_selector(f'#side-panel[data-showing="node:{node_id}"]')
    shot(page, "many-problems-all-1024")
    page.get_by_role("button", name="Show only the first 2").click()
    assert page.locator("#problems li:visible").count() == 2
