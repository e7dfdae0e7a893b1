"""The manual trigger: a person starts the flow with Run now (or the API's run endpoint)."""

from __future__ import annotations

from app.trigger_types.base import MANUAL, TriggerAdapter, problem, required_inputs
from app.urls import public_url


class ManualTrigger(TriggerAdapter):
    """Answer for `manual_trigger` nodes: no secret, no sessions, never paused."""

    type = "manual_trigger"
    label = "Run now"
    title = "Run now (manual trigger)"
    panel_title = "Run now"
    entry_point = MANUAL
    pausable = False  # it only runs when someone clicks
    authentication = "A signed-in member who may edit the flow, or a workspace API key with runs:trigger."
    panel_template = "trigger_types/manual_panel.html"
    row_template = "trigger_types/manual_row.html"

    def url(self, trigger) -> str | None:
        return public_url("api.run_trigger", flow_id=trigger.flow_id, node_id=trigger.node_id)

    def setup_problems(self, trigger, start_config: dict) -> list[dict]:
        required = required_inputs(start_config)
        if not required:
            return []
        return [problem("required_inputs", f"Run now needs: {', '.join(required)}.", severity="info")]
