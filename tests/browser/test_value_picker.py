"""The value picker: a person wires values into templates by choosing them, never typing braces.

Every step is a real mouse or keyboard action; only setup (publishing a flow, the last run the
editor would hold after a test run) and the checks (the published document, how references are
read) go around the mouse. The list of values comes from the real POST /api/v1/flows/values.
"""

from __future__ import annotations

from app.extensions import db
from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import (
    assert_nodes, chips, click_node, connect, drag_from_palette, field, flow_id_of, log_in, new_flow,
    open_canvas, pick_value, picker_button, picker_options, publish, reveal, script_errors, shot,
)


def reply_text(app, flow_id, node_id):
    """The text of a reply in the flow's newest published version."""
    from app.models import FlowVersion

    with app.app_context():
        version = (db.session.query(FlowVersion).filter_by(flow_id=flow_id, draft=False)
                   .order_by(FlowVersion.number.desc()).first())
        return next(n for n in version.document["nodes"] if n["id"] == node_id)["config"]["text"]


def open_reply_text(app, account, live_server, page, key, node_id):
    """Publish the greeting flow, open it and select one of its replies; return the flow id and its text field."""
    flow_id = publish(app, account, greeting_flow(key=key))
    open_canvas(page, live_server, account, flow_id)
    click_node(page, node_id)
    return flow_id, field(page, "config.text")


def test_wire_a_start_input_into_a_reply_with_the_mouse_alone(app, make_account, live_server, page):
    account = make_account()
    errors = script_errors(page)
    log_in(page, live_server, account)
    new_flow(page, live_server, "Picked flow")
    flow_id = flow_id_of(page)
    for node_type, x, y in (("api_trigger", 110, 140), ("start", 370, 140), ("reply", 630, 140)):
        drag_from_palette(page, node_type, x, y)
    assert_nodes(page, ["api_trigger_1", "start_1", "reply_1"])
    connect(page, "api_trigger_1", "out", "start_1")
    connect(page, "start_1", "out", "reply_1")

    click_node(page, "start_1")
    page.click("#side-panel [data-action=add-item]")
    # The only text input becomes the message input by itself, and the form says what that is for.
    assert field(page, "config.message_input").input_value() == "input_1"
    assert "chat caller" in page.inner_text('#side-panel .field[data-path="config.message_input"] .help')

    click_node(page, "reply_1")
    picker_button(page, "config.text").click()
    options = picker_options(page)
    assert "Start › input_1" in options.all_inner_texts()[0]
    shot(page, "picker-open-1440")
    options.filter(has_text="Start › input_1").first.click()
    assert field(page, "config.text").input_value() == "{{ inputs.input_1 }}"
    assert chips(page, "config.text") == ["Start › input_1"]

    page.click("#btn-save")
    page.wait_for_selector("#secret-dialog[open]")
    page.click("#secret-close")
    assert "{{ inputs.input_1 }}" in reply_text(app, flow_id, "reply_1")
    assert errors == []


def test_typing_two_braces_offers_the_values_filtered_by_what_follows(app, make_account, live_server, page):
    errors = script_errors(page)
    flow_id, text = open_reply_text(app, make_account(), live_server, page, "typed", "reply")
    assert chips(page, "config.text") == ["Compose › text"]  # not nodes.greet.text

    text.click()
    text.press("End")
    text.type(" for {{ pers")
    picker_options(page)
    page.keyboard.press("Escape")  # not now: the list stays closed while this reference is typed on
    text.type("o")
    assert page.locator(".value-picker").count() == 0
    page.keyboard.press("Backspace")
    for _ in " {{ pers":
        page.keyboard.press("Backspace")
    text.type(" {{ pers")  # a new reference opens it again
    options = picker_options(page)
    page.wait_for_function("() => document.querySelectorAll('.value-picker [role=option]').length === 1")
    assert "Start › person" in options.first.inner_text()
    assert page.locator(".value-picker .value-filter").count() == 0  # the field itself is the filter
    options.first.click()
    assert text.input_value() == "{{ nodes.greet.text }} for {{ inputs.person }}"
    assert chips(page, "config.text") == ["Compose › text", "Start › person"]
    page.click("#btn-save")
    page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('version 2')", timeout=10000)
    assert reply_text(app, flow_id, "reply") == "{{ nodes.greet.text }} for {{ inputs.person }}"
    assert errors == []


def test_choose_a_value_with_the_keyboard(app, make_account, live_server, page):
    _, text = open_reply_text(app, make_account(), live_server, page, "keys", "status_reply")
    text.click()
    text.press("Control+Home")  # insert at the very start
    page.keyboard.press("Tab")  # from the field to its "Insert value" button
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Insert value"
    page.keyboard.press("Enter")
    picker_options(page)
    assert page.evaluate("document.activeElement.className") == "value-filter"
    page.keyboard.type("count")
    page.keyboard.press("Escape")  # Escape closes without inserting
    assert page.locator(".value-picker").count() == 0
    picker_button(page, "config.text").focus()
    page.keyboard.press("Enter")
    picker_options(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    chosen = page.get_attribute(".value-picker [role=option][aria-selected=true]", "data-expression")
    page.keyboard.press("Enter")
    assert text.input_value().startswith("{{ %s }}All systems operational." % chosen)


def test_a_reference_to_a_deleted_node_shows_as_missing(app, make_account, live_server, page):
    account = make_account()
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="missing")))
    click_node(page, "greet")
    page.click("#btn-delete-node")
    click_node(page, "reply")
    assert chips(page, "config.text") == ["missing: greet › text"]
    assert page.locator("#side-panel .value-chip.is-missing").count() == 1
    field(page, "config.text").fill("")  # the person starts the answer again, from the list
    pick_value(page, "config.text", "Start › message")
    assert field(page, "config.text").input_value() == "{{ inputs.message }}"
    assert chips(page, "config.text") == ["Start › message"]
    assert page.locator("#side-panel .value-chip.is-missing").count() == 0


def test_a_reference_to_a_node_that_runs_later_says_so(app, make_account, live_server, page):
    account = make_account()
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="later")))
    click_node(page, "greet")
    field(page, "config.template").fill("Earlier: {{ nodes.reply.text }} and {{ nodes.gone.text }}")
    assert chips(page, "config.template") == ["runs later: Answer › text", "missing: gone › text"]
    assert page.locator("#side-panel .value-chip.is-missing").count() == 2
    later = page.locator('#side-panel .value-chip[data-expression="nodes.reply.text"]')
    assert later.get_attribute("title") == ("Answer does not run before this step, so its result is not available "
                                            "here: pick another value or connect Answer before this step.")
    # Amber, not the red of a value that is gone: the node is right there, only in the wrong place.
    gone = page.locator('#side-panel .value-chip[data-expression="nodes.gone.text"]')
    assert later.evaluate("c => getComputedStyle(c).color") != gone.evaluate("c => getComputedStyle(c).color")
    page.set_viewport_size({"width": 1024, "height": 768})
    shot(page, "value-runs-later-1024")


def test_the_list_shows_last_values_and_stays_on_screen_at_1024(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, greeting_flow(key="small"))
    open_canvas(page, live_server, account, flow_id)
    # What a finished test run leaves for the editor (shared contract 3 of the editor round).
    page.evaluate("""() => { window.Switchboard.canvas.lastRun = {
        inputs: {message: "where is my order " + "x".repeat(80), person: "Ada", count: 2},
        outputs: {greet: {text: "Hello Ada"}}, statuses: {greet: "succeeded"}}; }""")
    for node_id in ("reply", "status_reply"):
        page.set_viewport_size({"width": 1440, "height": 900})  # where the whole flow is in view
        click_node(page, node_id)
        page.set_viewport_size({"width": 1024, "height": 768})
        for scroll in (0, 10000):  # the field at the top of the panel, then scrolled to its bottom
            page.evaluate("top => { document.querySelector('#side-panel').scrollTop = top; }", scroll)
            picker_button(page, "config.text").click()
            picker_options(page)
            box = page.locator(".value-picker").bounding_box()
            assert box["x"] >= 0 and box["y"] >= 0
            assert box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768
            page.keyboard.press("Escape")
    picker_button(page, "config.text").click()
    lasts = page.locator(".value-picker .value-option").filter(has_text="Compose › text").locator(".value-last")
    assert lasts.inner_text() == "“Hello Ada”"
    long = page.locator(".value-picker .value-option").filter(has_text="Start › message").locator(".value-last")
    assert long.inner_text().endswith("…") and len(long.inner_text()) <= 40
    shot(page, "picker-open-1024")
    assert reveal(page, "reply").count() == 1


def test_when_the_values_cannot_load_the_list_says_so_and_the_form_still_works(app, make_account, live_server, page):
    account = make_account()
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="offline")))
    page.context.clear_cookies()  # the session ran out: every call to the server is refused from now on
    click_node(page, "reply")
    picker_button(page, "config.text").click()
    page.wait_for_selector(".value-picker[data-state=error]")
    assert page.inner_text(".value-picker .value-status") == "Could not load the values"
    assert page.locator(".value-picker").get_by_role("option").count() == 0
    page.keyboard.press("Escape")
    # The chips fall back to the names on the canvas, and typing still edits the node.
    assert page.locator("#side-panel .value-chip").all_inner_texts() == ["Compose › text"]
    field(page, "config.text").fill("Plain answer")
    page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('Unsaved')")
    assert page.evaluate("window.Switchboard.canvas.graph.getCellById('reply').getData().config.text") == "Plain answer"


def test_references_are_read_from_the_template_blocks_only(app, make_account, live_server, page):
    account = make_account()
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="parse")))
    found = page.evaluate("""() => window.Switchboard.values.references(
        "inputs.plain {{ nodes['greet'].text | upper }} {{ item.inputs.x }} {% for i in inputs.list %}{{ i }}"
        + "{% endfor %} {{ trigger.body.items[0] }} {{ nodes.greet.text }}")""")
    assert found == ["nodes.greet.text", "inputs.list", "trigger.body.items[0]"]


def test_the_message_input_follows_the_only_text_input(app, make_account, live_server, page):
    account = make_account()
    log_in(page, live_server, account)
    new_flow(page, live_server, "Message input")
    drag_from_palette(page, "start", 300, 140)
    assert_nodes(page, ["start_1"])
    click_node(page, "start_1")
    message = field(page, "config.message_input")
    assert message.input_value() == ""
    page.click("#side-panel [data-action=add-item]")
    assert message.input_value() == "input_1"
    name = field(page, "config.inputs[0].name")
    name.fill("")
    name.type("order")  # renamed letter by letter: the choice follows, never left on a half-typed name
    assert message.input_value() == "order"
    page.click("#side-panel [data-action=add-item]")  # a second input changes nothing
    assert field(page, "config.message_input").input_value() == "order"
    page.click('#side-panel [aria-label="Remove Input 1"]')  # removing it moves to the one text input left
    assert field(page, "config.message_input").input_value() == "input_2"
    message_config = page.evaluate("window.Switchboard.canvas.graph.getCellById('start_1').getData().config")
    assert message_config["message_input"] == "input_2"
    field(page, "config.message_input").select_option("")  # "(none)" chosen on purpose stays chosen
    page.click("#side-panel [data-action=add-item]")
    assert field(page, "config.message_input").input_value() == ""


def test_trigger_values_read_in_plain_words_and_insert_the_same_template(app, make_account, live_server, page):
    """The trigger's fields are listed by the run page's words with a line saying what each is;
    the chip reads the same label, and the template keeps the name existing flows use."""
    account = make_account()
    flow_id, text = open_reply_text(app, account, live_server, page, "plain-trigger", "reply")
    page.set_viewport_size({"width": 1024, "height": 768})
    text.fill("")
    picker_button(page, "config.text").click()
    options = picker_options(page)
    trigger = page.locator(".value-picker .value-group", has=page.locator(".value-group-head", has_text="Trigger"))
    labels = trigger.locator(".value-label").all_inner_texts()
    assert "REST › Caller's reference" in labels and "Trigger › Request id" in labels and "REST › Retry key" in labels
    assert not [label for label in labels if "_" in label], labels  # no node_id, out_id, request_id…
    reference = options.filter(has_text="REST › Caller's reference").first
    assert reference.locator(".value-hint").inner_text() == "The caller's own id for this event, if sent."
    assert "Conversation › Messages so far" in page.locator(".value-picker .value-label").all_inner_texts()
    reference.scroll_into_view_if_needed()
    box = page.locator(".value-picker").bounding_box()
    assert box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768
    shot(page, "picker-trigger-values-1024")
    reference.click()
    assert text.input_value() == "{{ trigger.out_id }}"  # what flows have always used
    assert chips(page, "config.text") == ["REST › Caller's reference"]


_RECORD_FIELD_MESSAGES = """path => {
  window.fieldMessages = [];
  const note = () => document.querySelectorAll(`#side-panel .field[data-path="${path}"] .field-problem`).forEach(
    (p) => window.fieldMessages.push({text: p.textContent, role: p.getAttribute("role")}));
  new MutationObserver(note).observe(document.getElementById("side-panel"), {childList: true, subtree: true});
}"""


def test_an_unfinished_value_gets_a_calm_hint_not_a_parser_error_while_typing(app, make_account, live_server, page):
    """A reviewer typing a Reply saw "not a valid template" in red the moment they had typed {{."""
    errors = script_errors(page)
    flow_id, text = open_reply_text(app, make_account(), live_server, page, "unfinished", "reply")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.evaluate(_RECORD_FIELD_MESSAGES, "config.text")
    beside = page.locator('#side-panel .field[data-path="config.text"] .field-problem')

    text.click()
    text.press("End")
    text.type(" for {{")
    picker_options(page)
    page.keyboard.press("Escape")  # they type the value themselves
    text.type(" inputs.per", delay=150)  # slow typing: the flow is checked in between
    page.wait_for_function("() => Switchboard.canvas.problems.some(p => p.code === 'template_syntax_error')")
    page.wait_for_selector('#side-panel .field[data-path="config.text"] .field-hint')  # once they pause
    assert beside.count() == 1
    assert beside.inner_text() == "Unfinished value: close it with }} or use Insert value."
    assert beside.get_attribute("role") == "status"
    alarms = [m for m in page.evaluate("window.fieldMessages") if m["role"] == "alert" or "valid template" in m["text"]]
    assert alarms == [], alarms
    shot(page, "unfinished-value-hint-1024")

    page.click("#btn-save")  # publishing still refuses it; the problems list says what to do, in words
    page.wait_for_selector('#problems.after-save li[data-code="template_syntax_error"]')
    listed = page.inner_text('#problems li[data-code="template_syntax_error"]')
    assert 'has an unfinished value: close "{{" with "}}", or use Insert value.' in listed
    assert "not a valid template" not in listed and "end of template" not in listed
    assert reply_text(app, flow_id, "reply") == "{{ nodes.greet.text }}"
    assert beside.inner_text() == "Unfinished value: close it with }} or use Insert value."
    shot(page, "unfinished-value-refused-1024")

    text.fill("{{ inputs.person | shout }}")  # a real mistake still shows in red once they leave the field
    page.locator('#side-panel [data-field="name"]').click()
    page.wait_for_selector('#side-panel .field[data-path="config.text"] .field-problem[role=alert]')
    assert 'is not a valid template (line 1: there is no filter called "shout")' in beside.inner_text()

    text.fill("{{ nodes.greet.text }} for {{ inputs.person }}")
    page.locator('#side-panel [data-field="name"]').click()
    page.click("#btn-save")
    page.wait_for_function("() => document.querySelector('#save-state').innerText.includes('version 2')", timeout=10000)
    assert beside.count() == 0
    assert errors == []
