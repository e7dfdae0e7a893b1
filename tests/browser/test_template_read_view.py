"""A template field that is not being edited reads as words, with its values as chips inside it.

A person sees "Hi [Start › person]" where the field holds `Hi {{ inputs.person }}`; clicking
the field (or tabbing into it) shows the text to edit, and leaving it shows the words again.
Every step is a real mouse or keyboard action; the field is filled with Playwright's `fill`,
as the other canvas tests do, which the read view must not get in the way of.
"""

from __future__ import annotations

from tests.app.flowdocs import greeting_flow
from tests.browser.canvas_actions import click_node, field, open_canvas, publish, script_errors, shot

TEXT = "Hi {{ inputs.person }} — {{ nodes.greet.text | upper }} {{ nodes.gone.text }}\n<b>x</b>"


def read_view(page, path):
    return page.locator(f'#side-panel .field[data-path="{path}"] .template-read')


def settled(page, path):
    """The read view of a field once it shows the field's current text with the values named by the server."""
    view = read_view(page, path)
    page.wait_for_function(
        "view => view.dataset.state === 'resolved' && view.dataset.text === view.closest('.template-box')"
        ".querySelector('[data-field]').value", arg=view.element_handle(), timeout=15000)
    return view


def chip_words(view):
    return view.locator(".read-chip").all_inner_texts()


def is_focused(page, path):
    return page.evaluate("path => document.activeElement === document.querySelector(`#side-panel [data-field=\"${path}\"]`)",
                         path)


def test_a_reply_reads_as_words_until_it_is_clicked(app, make_account, live_server, page):
    account = make_account()
    errors = script_errors(page)
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="reading")))
    click_node(page, "reply")  # at 1440x900, where the whole flow is in view (a resize may move the view)
    page.set_viewport_size({"width": 1024, "height": 768})
    text = field(page, "config.text")
    text.fill(TEXT)
    text.press("Tab")  # leave the field

    view = settled(page, "config.text")
    assert view.is_visible() and view.get_attribute("aria-hidden") == "true"
    assert chip_words(view) == ["Start › person", "{{ nodes.greet.text | upper }}", "missing: gone › text"]
    assert view.locator(".read-chip.is-code").inner_text() == "{{ nodes.greet.text | upper }}"
    assert view.locator(".read-chip.is-missing").inner_text() == "missing: gone › text"
    assert view.locator(".read-chip").first.evaluate("c => !c.classList.contains('is-missing')")
    words = view.inner_text()
    assert words.startswith("Hi Start › person — ") and words.endswith("\n<b>x</b>")  # the HTML is text, the line break kept
    assert view.locator("b").count() == 0
    # The raw text is not shown under the words, and the view sits exactly on the field.
    assert text.evaluate("t => getComputedStyle(t).color") == "rgba(0, 0, 0, 0)"
    box, over = text.bounding_box(), view.bounding_box()
    assert abs(over["x"] - box["x"] - 1) < 1.5 and abs(over["width"] - box["width"] + 2) < 1.5
    assert abs(over["height"] - box["height"] + 2) < 1.5
    shot(page, "template-read-view-1024")

    # A click on the words lands in the field: the raw text shows, ready to type into.
    page.mouse.click(over["x"] + over["width"] - 20, over["y"] + over["height"] - 12)
    page.wait_for_function("() => !document.querySelector('#side-panel .field[data-path=\"config.text\"] .template-read')"
                           ".checkVisibility()")
    assert is_focused(page, "config.text")
    assert text.evaluate("t => getComputedStyle(t).color") != "rgba(0, 0, 0, 0)"
    shot(page, "template-read-view-editing-1024")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Bye {{ inputs.message }}")
    page.keyboard.press("Escape")  # the list of values that typing {{ opened
    assert text.input_value() == TEXT + " Bye {{ inputs.message }}"
    assert page.evaluate("Switchboard.canvas.graph.getCellById('reply').getData().config.text") == text.input_value()

    # Leaving the field shows the words again, with the new value.
    page.keyboard.press("Tab")
    view = settled(page, "config.text")
    assert view.is_visible()
    assert chip_words(view)[-1] == "Start › message"
    assert view.inner_text().endswith("<b>x</b> Bye Start › message")

    # Back into it from the keyboard: the field itself takes the focus, and shows its text.
    page.keyboard.press("Shift+Tab")
    assert is_focused(page, "config.text") and not view.is_visible()

    # Text without values needs no read view.
    text.fill("Plain answer, no values")
    text.press("Tab")
    assert not read_view(page, "config.text").is_visible()
    assert text.evaluate("t => getComputedStyle(t).color") != "rgba(0, 0, 0, 0)"
    assert errors == []


def test_one_line_fields_and_values_that_run_later_read_as_words_too(app, make_account, live_server, page):
    account = make_account()
    open_canvas(page, live_server, account, publish(app, account, greeting_flow(key="inline")))
    click_node(page, "route")
    page.set_viewport_size({"width": 1024, "height": 768})
    path = "config.branches[0].conditions[0].value"
    view = settled(page, path)
    assert view.is_visible() and chip_words(view) == ["Start › message"]
    assert field(page, path).evaluate("i => i.tagName") == "INPUT"
    field(page, path).scroll_into_view_if_needed()
    shot(page, "template-read-view-inline-1024")
    field(page, path).click()
    assert is_focused(page, path) and not view.is_visible()

    page.set_viewport_size({"width": 1440, "height": 900})
    click_node(page, "greet")
    template = field(page, "config.template")
    template.fill("Earlier: {{ nodes.reply.text }}")
    template.press("Tab")
    view = settled(page, "config.template")
    later = view.locator(".read-chip.is-later")
    assert later.inner_text() == "runs later: Answer › text"
    # Amber like the chip under the field, not the red of a value that is gone.
    chip = page.locator('#side-panel .field[data-path="config.template"] .value-chip.is-later')
    assert later.evaluate("c => getComputedStyle(c).color") == chip.evaluate("c => getComputedStyle(c).color")
    assert later.evaluate("c => getComputedStyle(c).color") != "rgb(214, 69, 69)"
