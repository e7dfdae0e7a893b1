"""The schedule node in the browser: policies on the node, the next fires and the previous fire in the panel.

The next fire times come from the server while the user edits (the browser holds no scheduling
rule); the previous fire links to its run. The fire itself is set up through the schedule
service with an injected clock, as the clock process would do it.
"""

from __future__ import annotations

from datetime import timedelta

from tests.app.flowdocs import schedule_flow
from tests.browser.canvas_actions import click_node, field, latest_version, node, open_canvas, publish, shot


def _fire_once(app, flow_id):
    from app.extensions import db
    from app.models import ScheduleState, Trigger
    from app.services.scheduling import schedules

    with app.app_context():
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id)).scalar_one()
        planned = db.session.get(ScheduleState, trigger.id).next_fire_at
        assert schedules.process_due(trigger.id, now=planned + timedelta(seconds=1)) == ["started"]
        return db.session.get(ScheduleState, trigger.id).last_run_id, trigger.id


def test_schedule_node_shows_policies_next_fires_and_the_previous_run(app, make_account, live_server, page):
    account = make_account()
    flow_id = publish(app, account, schedule_flow(
        mode="cron", cron="30 2 * * *", timezone="America/New_York", missed_policy="run_once",
        overlap_policy="allow"))
    run_id, trigger_id = _fire_once(app, flow_id)
    open_canvas(page, live_server, account, flow_id)

    on_node = node(page, "every").text_content().replace("\xa0", " ")  # SVG text keeps its spaces as nbsp
    assert "missed: once" in on_node and "overlap: ok" in on_node and "30 2 * * *" in on_node

    click_node(page, "every")
    page.wait_for_selector('#side-panel [data-schedule-next] li[data-at]')
    fires = page.eval_on_selector_all('#side-panel [data-schedule-next] li', "els => els.map(e => e.dataset.local)")
    assert len(fires) == 5
    assert all(("T02:30:00" in f or "T03:00:00" in f) and f.endswith(("-04:00", "-05:00")) for f in fires)
    assert "America/New_York" in page.inner_text("#side-panel [data-schedule-zone]")
    assert page.inner_text("#side-panel [data-schedule-next] li").endswith(("02:30 EST", "02:30 EDT", "03:00 EDT"))
    assert "run once" in page.inner_text("#side-panel [data-schedule-policies]")
    previous = page.locator(f'#side-panel [data-schedule-run="{run_id}"]')
    assert previous.get_attribute("href") == f"/runs/{run_id}"
    shot(page, "schedule-panel")

    # The picker writes the expression; the server recomputes the next fires.
    assert page.input_value('#side-panel [data-cron-kind]') == "daily"
    page.select_option('#side-panel [data-cron-kind]', "weekly")
    assert field(page, "config.cron").input_value() == "30 2 * * 1"
    page.fill('#side-panel [data-cron-time]', "09:00")
    assert field(page, "config.cron").input_value() == "0 9 * * 1"
    page.wait_for_function("() => Array.from(document.querySelectorAll('#side-panel [data-schedule-next] li'))"
                           ".every(li => li.dataset.local && li.dataset.local.includes('T09:00:00'))")
    assert all(label.startswith("Mon ") for label in page.eval_on_selector_all(
        '#side-panel [data-schedule-next] li', "els => els.map(e => e.textContent)"))
    # A broken expression says what is wrong instead of showing times.
    field(page, "config.cron").fill("0 9 * *")
    page.wait_for_selector("#side-panel [data-schedule-next] li.field-error")
    assert "5 fields" in page.inner_text("#side-panel [data-schedule-next]")
    field(page, "config.cron").fill("15 7 * * *")
    field(page, "config.cron").press("Tab")
    assert page.input_value('#side-panel [data-cron-kind]') == "daily"  # typing moves the picker along
    page.wait_for_function("() => document.querySelector('#side-panel [data-schedule-next] li[data-at]')"
                           " && document.querySelector('#side-panel [data-schedule-next] li').dataset.local.includes('T07:15:00')")

    page.click("#btn-save")
    page.wait_for_selector("#save-state:has-text('Saved · version 2')")
    assert latest_version(app, flow_id) == 2
    from app.extensions import db
    from app.models import ScheduleState
    from flows.schedule import zone

    with app.app_context():  # saving re-armed the schedule with the new expression
        armed = db.session.get(ScheduleState, trigger_id).next_fire_at.astimezone(zone("America/New_York"))
        assert (armed.hour, armed.minute) == (7, 15)
