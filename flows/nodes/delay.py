"""Define the delay node: wait seconds to days before the next node, without holding a worker.

A worker sleeping through a delay could serve no other run for that long, and a restart would
lose the wait. Instead the node records when to continue and the runner parks the run
("waiting"); the app schedules a job for that time, and the resumed run replays its completed
steps (never executing them again) and continues after the delay. While one branch waits,
the whole run waits: other branches continue when the delay is over.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flows.nodes.base import NodeContext, NodeResult, NodeType
from flows.nodes.outputs import NUMBER, TEXT, TIME_TEXT, output_field

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
MAX_DELAY_SECONDS = 30 * 86400


class DelayNode(NodeType):
    """Park the run for `amount` `unit`; output when it resumes."""

    type = "delay"
    category = "logic"
    title = "Delay"
    description = "Waits before continuing (seconds to 30 days); the run is parked, not a worker."
    waits = True
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "amount": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_SECONDS, "default": 10, "title": "Wait",
                       "description": "How long to wait, in the unit below."},
            "unit": {"type": "string", "enum": list(UNITS), "default": "seconds", "title": "Unit",
                     "x-enum-titles": {"seconds": "Seconds", "minutes": "Minutes", "hours": "Hours", "days": "Days"},
                     "description": "Seconds, minutes, hours or days."},
        },
    }

    def check(self, node: dict) -> list:
        config = self.effective_config(node["config"])
        if config["amount"] * UNITS[config["unit"]] > MAX_DELAY_SECONDS:
            return [self.problem(node, "invalid_config", "A delay can be at most 30 days.", "config.amount")]
        return []

    def output_fields(self, config: dict) -> list[dict]:
        return [output_field("seconds", NUMBER, "How long the run waited, in seconds."),
                output_field("resume_at", TEXT, f"When the run went on, {TIME_TEXT}.", "Went on at", moment=True),
                output_field("resume_at_epoch", NUMBER, "The same moment in seconds since 1970.",
                             "Went on at (seconds since 1970)")]

    def run(self, ctx: NodeContext) -> NodeResult:
        seconds = float(ctx.config["amount"]) * UNITS[ctx.config["unit"]]
        resume_at = ctx.clock() + seconds
        output = {"seconds": seconds, "resume_at_epoch": resume_at,
                  "resume_at": datetime.fromtimestamp(resume_at, timezone.utc).isoformat(timespec="seconds")}
        return NodeResult(output=output, port="out", resume_at=resume_at)
