"""Describe schedules for people: the next fires of a config, and what a saved schedule did last.

Why apart from `app.services.scheduling.schedules`: firing is about exactly-once; this is presentation (the
canvas preview, the trigger's `schedule` in API answers and pages), computed by the server so the
browser holds no scheduling rule.
"""

from __future__ import annotations

from datetime import datetime

import flows
from flows import schedule as fire_times
from flows.schema_errors import describe_errors
from app.extensions import db
from app.models import ScheduleState, Trigger, TriggerStatus
from app.models.types import iso, utcnow
from app.services.scheduling.schedules import TYPE, schedule_of, workspace_timezone

# Fire outcomes that left a run to link to (a failed fire records a failed run saying why).
RUN_OUTCOMES = ("started", "catch_up", "failed")


def preview(config: dict, default_timezone: str, now: datetime | None = None, count: int = 5) -> dict:
    """Describe the next `count` fires of an unsaved config (the canvas asks; the server computes)."""
    node_type = flows.registry.get(TYPE)
    merged = node_type.effective_config(config)
    problems = describe_errors(node_type.config_validator.iter_errors(merged))
    if problems:  # jsonschema's own message lists every unknown field: 20,000 of them made a 3 MB answer
        more = f" ({len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise fire_times.ScheduleError("config", f"The schedule settings are invalid: {problems[0][1]}{more}")
    schedule = fire_times.parse(merged, default_timezone)
    fires = schedule.upcoming(now or utcnow(), count)
    return {
        "timezone": schedule.timezone_name,
        "next": [{"at": iso(f), "local": fire_times.local_iso(f, schedule.tz),
                 "label": fire_times.local_label(f, schedule.tz)} for f in fires],
        "summary": summary(merged, schedule.timezone_name),
    }


def summary(config: dict, timezone_name: str) -> str:
    """One line saying what the schedule does, shown on the node."""
    when = (f"every {config.get('interval_seconds')} s" if config.get("mode") == "interval"
            else f"cron '{config.get('cron')}'")
    missed = ("missed fires: run once within "
              f"{config.get('missed_window_seconds')} s" if config.get("missed_policy") == "run_once"
              else "missed fires: skip")
    overlap = "overlap: skip if still running" if config.get("overlap_policy", "skip") == "skip" else "overlap: allow"
    return f"{when} ({timezone_name}); {missed}; {overlap}"


def describe(trigger: Trigger) -> dict:
    """What the node shows: time zone, policies, the next 5 fires and the previous fire with its run."""
    from app.urls import public_url

    config = flows.registry.get(TYPE).effective_config(trigger.config)
    state = db.session.get(ScheduleState, trigger.id)
    data: dict = {"timezone": config.get("timezone") or workspace_timezone(trigger.workspace_id),
                  "mode": config["mode"], "missed_policy": config["missed_policy"],
                  "missed_window_seconds": config["missed_window_seconds"],
                  "overlap_policy": config["overlap_policy"], "armed": bool(state and state.next_fire_at),
                  "next_fire_at": iso(state.next_fire_at) if state else None, "next": [], "last_fire": None}
    try:
        schedule = schedule_of(trigger, data["timezone"])
    except fire_times.ScheduleError as exc:
        data["error"] = str(exc)
        return data
    data["summary"] = summary(config, schedule.timezone_name)
    if state and state.next_fire_at and trigger.status == TriggerStatus.ACTIVE:
        fires = [state.next_fire_at] + schedule.upcoming(state.next_fire_at, 4)
        data["next"] = [{"at": iso(f), "local": fire_times.local_iso(f, schedule.tz),
                 "label": fire_times.local_label(f, schedule.tz)} for f in fires]
    if state and state.last_planned_at:
        data["last_fire"] = {
            "planned_at": iso(state.last_planned_at),
            "planned_local": fire_times.local_iso(state.last_planned_at, schedule.tz),
            "planned_label": fire_times.local_label(state.last_planned_at, schedule.tz),
            "fired_at": iso(state.last_fired_at), "outcome": state.last_outcome,
            "run_id": state.last_run_id if state.last_outcome in RUN_OUTCOMES else None,
            "run_url": (public_url("api.get_run", run_id=state.last_run_id)
                        if state.last_outcome in RUN_OUTCOMES else None),
        }
    return data
