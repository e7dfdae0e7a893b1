"""The schedule trigger: the app's clock starts the flow at planned times with fixed inputs."""

from __future__ import annotations

from app.services.scheduling import schedule_info
from app.services.triggers.trigger_body import inputs_from_body
from app.json_body import BodyError
from app.trigger_types.base import CLOCK, TriggerAdapter, problem


class ScheduleTrigger(TriggerAdapter):
    """Answer for `schedule_trigger` nodes: no URL, no secret; its inputs must fit the start node."""

    type = "schedule_trigger"
    label = "Schedule"
    title = "Schedule"
    panel_title = "Schedule"
    entry_point = CLOCK
    authentication = "None: only the app's clock starts it."
    row_template = "trigger_types/schedule_row.html"

    def describe(self, trigger) -> dict:
        return {"schedule": schedule_info.describe(trigger)}

    def invoke_body(self, trigger, body: dict) -> dict:
        """A test invoke without a body sends what the schedule itself would send."""
        return body or dict(trigger.config.get("inputs") or {})

    def setup_problems(self, trigger, start_config: dict) -> list[dict]:
        found = []
        try:
            inputs_from_body(dict(trigger.config.get("inputs") or {}), start_config)
        except BodyError as exc:
            found.append(problem("schedule_inputs", f"Every fire would fail: the schedule's inputs do not fit the "
                                 f"start node. {exc.message}", trigger, path="config.inputs"))
        info = schedule_info.describe(trigger)
        if info.get("error"):
            found.append(problem("schedule_invalid", f"The schedule cannot fire: {info['error']}", trigger))
        elif not info.get("armed"):
            found.append(problem("schedule_not_armed", "The schedule has no next fire (paused, or its end date "
                                 "has passed); it will not start runs.", trigger, severity="warning"))
        return found
