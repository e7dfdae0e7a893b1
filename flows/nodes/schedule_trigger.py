"""Define the schedule trigger: start the flow on a cron expression or a fixed interval.

The config says *when* (in the schedule's time zone) and what to do when fires were missed or
the previous run is still going; `flows.schedule` computes the fire times, and the web app's
clock fires them. check() parses the schedule the same way the clock will, so a save with a bad
expression or an unknown time zone is refused with the field to fix, instead of never firing.
"""

from __future__ import annotations

from flows import schedule
from flows.nodes.outputs import TEXT, TIME_TEXT, output_field
from flows.nodes.triggers import _Trigger
from flows.problems import Problem

DAY = 24 * 3600


class ScheduleTrigger(_Trigger):
    """Start the flow at planned times."""

    type = "schedule_trigger"
    delivers_reply = False
    extra_trigger_fields = (
        output_field("planned_at", TEXT, f"When this fire was planned, {TIME_TEXT}.", "Planned", moment=True),
        output_field("fired_at", TEXT, f"When the schedule actually fired, {TIME_TEXT}.", "Fired", moment=True),
    )
    title = "Schedule"
    # Whether saving arms it is said by the panel's schedule summary, which knows the flow's state
    # (an archived flow's schedule is not armed by anything until the flow is restored).
    description = ("Start the flow at planned times: a cron expression (e.g. daily at 09:00) or a fixed "
                   "interval, in a time zone of your choice.")
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {
                "enum": ["cron", "interval"],
                "x-enum-titles": {"cron": "At calendar times", "interval": "Every fixed period"},
                "default": "cron",
                "title": "Repeat",
                "description": "Calendar times (every day at 09:00, Mondays, the 1st of the month) or a "
                               "fixed period (every 15 seconds, every 2 hours).",
            },
            "cron": {
                "type": "string",
                "default": "0 9 * * *",
                "maxLength": 200,
                "title": "When (cron expression)",
                "x-widget": "cron",
                "description": "Five fields: minute hour day-of-month month day-of-week, in the "
                               "schedule's time zone. '0 9 * * 1-5' is weekdays at 09:00.",
            },
            "interval_seconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": schedule.MAX_INTERVAL_SECONDS,
                "default": 3600,
                "title": "Interval (seconds)",
                "description": "Used when Repeat is 'Every fixed period': 60 is every minute, 86400 every day. "
                               "Counted from the start date, or from midnight UTC.",
            },
            "timezone": {
                "type": "string",
                "default": "",
                "maxLength": 64,
                "title": "Time zone",
                "description": "An IANA name such as 'Europe/Berlin' or 'America/New_York'. Empty: "
                               "the workspace's time zone.",
            },
            "start_date": {
                "type": "string",
                "x-advanced": True,
                "maxLength": 19,
                "title": "Start date",
                "description": "Optional, YYYY-MM-DD or YYYY-MM-DDTHH:MM in the schedule's time zone: "
                               "no fire before it.",
            },
            "end_date": {
                "type": "string",
                "x-advanced": True,
                "maxLength": 19,
                "title": "End date",
                "description": "Optional, YYYY-MM-DD (through the end of that day) or YYYY-MM-DDTHH:MM: "
                               "no fire after it.",
            },
            "enabled": {
                "type": "boolean",
                "default": True,
                "title": "Enabled",
                "description": "Turn off to pause the schedule without deleting it.",
            },
            "missed_policy": {
                "enum": ["skip", "run_once"],
                "x-enum-titles": {"skip": "Skip them", "run_once": "Run once for all of them"},
                "x-advanced": True,
                "default": "skip",
                "title": "Missed runs",
                "description": "When planned times were missed (the scheduler was down): skip them, or run "
                               "once for all of them if the latest was within the window below.",
            },
            "missed_window_seconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": 30 * DAY,
                "default": 3600,
                "title": "Missed-run window (seconds)",
                "x-advanced": True,
                "description": "With 'Run once for all of them': only times missed within this long before the "
                               "scheduler came back count.",
            },
            "overlap_policy": {
                "enum": ["skip", "allow"],
                "x-enum-titles": {"skip": "Skip this time", "allow": "Start another run anyway"},
                "x-advanced": True,
                "default": "skip",
                "title": "If still running",
                "description": "When the previous scheduled run has not ended yet: skip this time, or let "
                               "runs overlap.",
            },
            "inputs": {
                "type": "object",
                "default": {},
                "title": "Inputs",
                "description": "The start node's inputs sent with every scheduled run, as JSON, "
                               "e.g. {\"user_message\": \"daily report\"}.",
            },
            "description": {
                "type": "string",
                "title": "Notes",
                "description": "What this schedule is for; shown to your team only.",
            },
        },
    }

    def fixed_inputs(self, config: dict) -> dict | None:
        """The inputs of every fire; None while disabled (it fires nothing, and enabling it is a save, checked then)."""
        if config.get("enabled") is False:
            return None
        inputs = config.get("inputs")
        return inputs if isinstance(inputs, dict) else {}

    def check(self, node: dict) -> list[Problem]:
        try:
            schedule.parse(self.effective_config(node.get("config")))
        except schedule.ScheduleError as exc:
            return [self.problem(node, "invalid_schedule", str(exc), exc.path)]
        return []
