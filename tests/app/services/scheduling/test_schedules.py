"""Scheduled triggers through the API, the database claims and the real worker, with an injected clock.

Time is passed to `process_due(now=...)` (a parameter of our code, not a mock): "the scheduler
was down for ten minutes" is a `now` ten minutes after the planned fire.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from tests.app.flowdocs import schedule_flow, without_node
from tests.conftest import wait_for
from tests.app.trigger_helpers import bearer

UTC = timezone.utc



def publish(client, token, document) -> dict:
    response = client.post("/api/v1/flows", json={"document": document}, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def trigger_row(app, flow_id, node_id="every"):
    from app.extensions import db
    from app.models import ScheduleState, Trigger

    with app.app_context():
        trigger = db.session.execute(db.select(Trigger).where(Trigger.flow_id == flow_id,
                                                              Trigger.node_id == node_id)).scalar_one()
        state = db.session.get(ScheduleState, trigger.id)
        return trigger.id, (state.next_fire_at if state else None)


def process(app, trigger_id, now):
    from app.services.scheduling import schedules

    with app.app_context():
        return schedules.process_due(trigger_id, now=now)


def runs_of(client, token, flow_id) -> list[dict]:
    return client.get(f"/api/v1/flows/{flow_id}/runs", headers=bearer(token)).json["runs"]


def test_saving_a_schedule_arms_it_and_the_node_shows_the_next_five_fires_in_its_time_zone(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(mode="cron", cron="0 9 * * *", timezone="America/New_York"))
    schedule = flow["triggers"][0]["schedule"]
    assert schedule["timezone"] == "America/New_York" and schedule["armed"] is True
    assert len(schedule["next"]) == 5
    assert all(item["local"].endswith(("09:00:00-05:00", "09:00:00-04:00")) for item in schedule["next"])
    assert schedule["missed_policy"] == "skip" and schedule["overlap_policy"] == "skip"
    assert "skip if still running" in schedule["summary"]

    trigger_id, next_fire = trigger_row(app, flow["id"])
    assert next_fire.isoformat().replace("+00:00", "Z").startswith(schedule["next"][0]["at"][:19])
    from app.services.scheduling import schedules

    with app.app_context():  # the rq-scheduler timer for that fire exists in Redis
        assert schedules.timer_id(trigger_id, next_fire) in schedules.scheduler()


def test_a_fire_starts_exactly_one_run_however_often_it_is_processed(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(overlap_policy="allow"))
    trigger_id, planned = trigger_row(app, flow["id"])
    # Two timers, two schedulers and the reconciler all see the same due fire.
    outcomes = [process(app, trigger_id, planned + timedelta(seconds=1)) for _ in range(3)]
    assert outcomes == [["started"], [], []]

    runs = runs_of(client, api_key, flow["id"])
    assert len(runs) == 1
    run = wait_for(lambda: (r := client.get(f"/api/v1/runs/{runs[0]['id']}", headers=bearer(api_key)).json)
                   ["status"] == "succeeded" and r)
    assert run["trigger_type"] == "schedule_trigger"
    assert run["planned_at"] == planned.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert run["started_at"] is not None
    assert run["output"]["text"] == f"tick planned {planned.isoformat()}"

    from app.extensions import db
    from app.models import ScheduleClaim

    with app.app_context():
        claims = db.session.execute(db.select(ScheduleClaim)).scalars().all()
        assert [(c.planned_at, c.outcome, c.run_id) for c in claims] == [(planned, "started", run["id"])]
    _, following = trigger_row(app, flow["id"])
    assert following == planned + timedelta(seconds=60)


def test_missed_fires_are_skipped_when_the_policy_says_skip(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(missed_policy="skip"))
    trigger_id, planned = trigger_row(app, flow["id"])
    now = planned + timedelta(minutes=10, seconds=30)  # the schedulers were down for ten minutes

    # Fires older than the grace (60 s) were missed; the one within the grace still fires on time.
    assert process(app, trigger_id, now) == ["missed", "started"]
    runs = runs_of(client, api_key, flow["id"])
    assert [r["planned_at"][:19] for r in runs] == [(planned + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")]

    from app.extensions import db
    from app.models import ScheduleClaim

    with app.app_context():
        missed = db.session.execute(db.select(ScheduleClaim).where(ScheduleClaim.outcome == "missed")).scalar_one()
        assert missed.missed_count == 10 and missed.run_id is None  # recorded, never silent
    _, following = trigger_row(app, flow["id"])
    assert following == planned + timedelta(minutes=11)


def test_a_slow_missed_decision_does_not_turn_the_next_fire_into_a_second_one(app, client, api_key):
    """One outage, one decision: the fire within the grace when the scheduler looked still starts.

    The clock handed to `process_due` says 31 s passed while the "missed" decision was written
    (a slow database): by then the fire planned 10 minutes in is 61 s late, past the 60 s grace,
    but it was 30 s late when the scheduler first looked, so it starts.
    """
    flow = publish(client, api_key, schedule_flow(missed_policy="skip", overlap_policy="allow"))
    trigger_id, planned = trigger_row(app, flow["id"])
    readings = iter([planned + timedelta(minutes=10, seconds=30)])
    later = planned + timedelta(minutes=11, seconds=1)

    from app.services.scheduling import schedules

    with app.app_context():
        outcomes = schedules.process_due(trigger_id, clock=lambda: next(readings, later))
    assert outcomes == ["missed", "started", "started"]
    runs = sorted(r["planned_at"][:19] for r in runs_of(client, api_key, flow["id"]))
    assert runs == [(planned + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S") for m in (10, 11)]


def test_missed_fires_within_the_window_run_once(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(missed_policy="run_once", missed_window_seconds=300,
                                                  overlap_policy="allow"))
    trigger_id, planned = trigger_row(app, flow["id"])
    now = planned + timedelta(minutes=10, seconds=30)

    assert process(app, trigger_id, now) == ["catch_up", "started"]
    runs = sorted(runs_of(client, api_key, flow["id"]), key=lambda r: r["planned_at"])
    assert len(runs) == 2
    catch_up = client.get(f"/api/v1/runs/{runs[0]['id']}", headers=bearer(api_key)).json
    # Within the 5-minute window: the fires planned 5..9 minutes after the first one.
    assert catch_up["planned_at"].startswith((planned + timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert catch_up["inputs"] == {"note": "tick"}
    wait_for(lambda: client.get(f"/api/v1/runs/{runs[0]['id']}", headers=bearer(api_key)).json["status"] == "succeeded")


def test_run_once_outside_the_window_behaves_like_skip(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(missed_policy="run_once", missed_window_seconds=60,
                                                  interval_seconds=3600))
    trigger_id, planned = trigger_row(app, flow["id"])
    assert process(app, trigger_id, planned + timedelta(hours=2, minutes=30)) == ["missed"]
    assert runs_of(client, api_key, flow["id"]) == []


def test_overlap_skip_skips_a_fire_while_the_previous_run_is_still_queued(app, client, api_key):
    import uuid

    from app.config import replace_settings

    replace_settings(app, queue_name=f"nobody-listens-{uuid.uuid4().hex[:8]}")  # runs stay queued: "still going"
    flow = publish(client, api_key, schedule_flow(overlap_policy="skip", interval_seconds=30))
    trigger_id, planned = trigger_row(app, flow["id"])
    assert process(app, trigger_id, planned + timedelta(seconds=31)) == ["started", "skipped_overlap"]
    assert len(runs_of(client, api_key, flow["id"])) == 1
    described = client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json["triggers"][0]["schedule"]
    assert described["last_fire"]["outcome"] == "skipped_overlap"
    with app.app_context():  # leave nothing behind in a Redis that may be shared
        from app.queueing.jobs import get_queue

        get_queue().delete(delete_jobs=True)


def test_pausing_or_removing_the_node_disarms_and_a_new_expression_takes_effect(app, client, api_key):
    document = schedule_flow(mode="cron", cron="*/5 * * * *")
    flow = publish(client, api_key, document)
    trigger_id, old_next = trigger_row(app, flow["id"])
    assert old_next.minute % 5 == 0

    document["nodes"][0]["config"]["cron"] = "7 3 1 1 *"  # yearly: always after the old next fire
    saved = client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=bearer(api_key))
    assert saved.status_code == 200, saved.json
    _, new_next = trigger_row(app, flow["id"])
    assert (new_next.month, new_next.day, new_next.hour, new_next.minute) == (1, 1, 3, 7) and new_next > old_next
    assert process(app, trigger_id, old_next + timedelta(seconds=1)) == []  # the old timer fires nothing
    assert runs_of(client, api_key, flow["id"]) == []

    document["nodes"][0]["config"]["enabled"] = False
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=bearer(api_key))
    assert trigger_row(app, flow["id"])[1] is None
    assert process(app, trigger_id, new_next + timedelta(seconds=1)) == []

    document["nodes"][0]["config"]["enabled"] = True
    client.put(f"/api/v1/flows/{flow['id']}", json={"document": document}, headers=bearer(api_key))
    assert trigger_row(app, flow["id"])[1] is not None
    manual = dict(document["nodes"][0], id="manual", type="manual_trigger", config={})
    removed = without_node(document, "every")
    removed["nodes"].append(manual)
    removed["edges"].append({"id": "m", "source": "manual", "source_port": "out", "target": "start", "target_port": "in"})
    assert client.put(f"/api/v1/flows/{flow['id']}", json={"document": removed}, headers=bearer(api_key)).status_code == 200
    assert trigger_row(app, flow["id"])[1] is None


def test_save_refuses_a_bad_cron_expression_or_time_zone_with_the_field_to_fix(client, api_key):
    response = client.post("/api/v1/flows", json={"document": schedule_flow(mode="cron", cron="0 25 * * *",
                                                                            timezone="Europe/Nowhere")},
                           headers=bearer(api_key))
    assert response.status_code == 400
    problems = response.json["error"]["details"]
    assert {(p["code"], p["node_id"], p["path"]) for p in problems} == {("invalid_schedule", "every", "config.cron")} \
        or {(p["code"], p["path"]) for p in problems} == {("invalid_schedule", "config.timezone")}
    assert client.get("/api/v1/flows", headers=bearer(api_key)).json["flows"] == []


def test_preview_computes_the_next_fires_on_the_server(client, api_key):
    response = client.post("/api/v1/schedules/preview", headers=bearer(api_key), json={
        "config": {"mode": "cron", "cron": "30 2 * * *", "timezone": "America/New_York"}})
    assert response.status_code == 200, response.json
    assert response.json["timezone"] == "America/New_York" and len(response.json["next"]) == 5

    bad = client.post("/api/v1/schedules/preview", headers=bearer(api_key), json={"config": {"cron": "every day"}})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_schedule"
    assert bad.json["error"]["details"] == [{"field": "config.cron", "reason": bad.json["error"]["message"]}]
    wrong = client.post("/api/v1/schedules/preview", headers=bearer(api_key), json={"config": {"mode": "weekly"}})
    assert wrong.status_code == 400
    assert client.post("/api/v1/schedules/preview", headers=bearer(api_key), json={"config": []}).status_code == 400


def test_the_workspace_time_zone_is_the_default_and_changing_it_replans(app, client, api_key):
    workspaces = client.get("/api/v1/workspaces", headers=bearer(api_key)).json["workspaces"]
    workspace = workspaces[0]
    assert workspace["timezone"] == "UTC"
    flow = publish(client, api_key, schedule_flow(mode="cron", cron="0 9 * * *"))
    assert flow["triggers"][0]["schedule"]["next"][0]["local"].endswith("09:00:00+00:00")

    bad = client.patch(f"/api/v1/workspaces/{workspace['id']}", json={"timezone": "Moon/Base"}, headers=bearer(api_key))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_timezone"
    changed = client.patch(f"/api/v1/workspaces/{workspace['id']}", json={"timezone": "Asia/Tokyo"},
                           headers=bearer(api_key))
    assert changed.status_code == 200 and changed.json["timezone"] == "Asia/Tokyo"
    schedule = client.get(f"/api/v1/flows/{flow['id']}", headers=bearer(api_key)).json["triggers"][0]["schedule"]
    assert schedule["timezone"] == "Asia/Tokyo"
    assert all(item["local"].endswith("09:00:00+09:00") for item in schedule["next"])
    assert client.patch("/api/v1/workspaces/nope", json={"timezone": "UTC"}, headers=bearer(api_key)).status_code == 404


def test_the_reconciler_rearms_timers_that_redis_lost(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(interval_seconds=3600))
    trigger_id, next_fire = trigger_row(app, flow["id"])
    from app.clock.schedule_reconciler import reconcile
    from app.services.scheduling import schedules

    with app.app_context():
        timers = schedules.scheduler()
        timers.cancel(schedules.timer_id(trigger_id, next_fire))  # as if Redis had lost it (only ours: Redis may be shared)
        assert schedules.timer_id(trigger_id, next_fire) not in timers
        report = reconcile()
        assert report.armed >= 1
        assert schedules.timer_id(trigger_id, next_fire) in timers


def test_the_flow_page_shows_the_schedule_and_runs_show_their_planned_time(app, client, auth):
    from app.extensions import db
    from app.models import Workspace
    from app.services.versions import publishing
    from tests.conftest import csrf_from

    with app.app_context():
        result = publishing.create_flow(db.session.get(Workspace, auth.workspace_id),
                                        schedule_flow(mode="cron", cron="0 6 * * 1", overlap_policy="allow"), None)
        db.session.commit()
        flow_id = result.flow.id
    trigger_id, planned = trigger_row(app, flow_id)
    assert process(app, trigger_id, planned + timedelta(seconds=2)) == ["started"]

    page = client.get(f"/flows/{flow_id}").get_data(as_text=True)
    assert "cron &#39;0 6 * * 1&#39; (UTC)" in page and "overlap: allow" in page
    assert "Previous fire:" in page and planned.strftime("%Y-%m-%d %H:%M:%S") in page  # the run's planned time

    flows_page = client.get("/flows").get_data(as_text=True)
    assert 'name="timezone" value="UTC"' in flows_page
    refused = client.post("/workspace/timezone", data={"timezone": "Nowhere/Land", "csrf_token": csrf_from(flows_page)},
                          follow_redirects=True)
    assert "Unknown time zone" in refused.get_data(as_text=True)
    done = client.post("/workspace/timezone", data={"timezone": "Europe/Berlin", "csrf_token": csrf_from(flows_page)},
                       follow_redirects=True)
    assert 'name="timezone" value="Europe/Berlin"' in done.get_data(as_text=True)
    assert "(Europe/Berlin)" in client.get(f"/flows/{flow_id}").get_data(as_text=True)


def test_deleting_the_flow_stops_its_schedule(app, client, api_key):
    flow = publish(client, api_key, schedule_flow())
    trigger_id, planned = trigger_row(app, flow["id"])
    from app.extensions import db
    from app.models import Flow, ScheduleState
    from app.clock.schedule_reconciler import reconcile

    with app.app_context():
        db.session.delete(db.session.get(Flow, flow["id"]))
        db.session.commit()
        assert db.session.get(ScheduleState, trigger_id) is None  # the state went with the trigger
    # Its timer still fires in Redis, and the reconciler still runs: neither starts anything.
    assert process(app, trigger_id, planned + timedelta(seconds=1)) == []
    with app.app_context():
        assert reconcile().due == 0


def test_a_fire_already_claimed_is_passed_over_even_if_next_fire_at_points_back_at_it(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(overlap_policy="allow"))
    trigger_id, planned = trigger_row(app, flow["id"])
    assert process(app, trigger_id, planned + timedelta(seconds=1)) == ["started"]
    from app.extensions import db
    from app.models import ScheduleState

    with app.app_context():  # a concurrent save wrote back the old next fire (a lost update)
        db.session.get(ScheduleState, trigger_id).next_fire_at = planned
        db.session.commit()
    assert process(app, trigger_id, planned + timedelta(seconds=2)) == []
    assert len(runs_of(client, api_key, flow["id"])) == 1
    assert trigger_row(app, flow["id"])[1] == planned + timedelta(seconds=60)


def test_an_every_15_seconds_schedule_fires_each_planned_time_on_time(app, client, api_key):
    flow = publish(client, api_key, schedule_flow(interval_seconds=15, overlap_policy="allow"))
    trigger_id, first = trigger_row(app, flow["id"])
    assert first.second % 15 == 0 and first.microsecond == 0
    for n in range(4):  # the clock reaches each planned time half a second late
        assert process(app, trigger_id, first + timedelta(seconds=15 * n, milliseconds=500)) == ["started"]
    planned = sorted(r["planned_at"] for r in runs_of(client, api_key, flow["id"]))
    expected = [(first + timedelta(seconds=15 * n)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                for n in range(4)]
    assert planned == expected
