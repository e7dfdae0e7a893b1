"""Define the trigger nodes: the "switches" that start a run of a flow.

A trigger does no work of its own while running; it records how the run was started (the
trigger metadata the app passes in) so later nodes can use it as ``trigger.*`` and the run view
shows who or what started the run. Its settings matter to the web app instead: the API
trigger's key becomes the URL people paste into other systems.
"""

from __future__ import annotations

from flows.nodes.base import NodeContext, NodeResult, NodeType
from flows.patterns import TRIGGER_KEY


class _Trigger(NodeType):
    """Share run() between trigger types: pass the trigger metadata on."""

    category = "trigger"
    is_trigger = True

    def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(output=dict(ctx.trigger), port="out")


class ApiTrigger(_Trigger):
    """Start the flow with an HTTP request to the trigger's URL."""

    type = "api_trigger"
    title = "REST API"
    description = ("Start the flow with an HTTP POST to this trigger's URL. The URL appears on the "
                   "node after you save the flow.")
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["key"],
        "properties": {
            "key": {
                "type": "string",
                "pattern": TRIGGER_KEY,
                "title": "Key",
                "description": "The last part of the trigger URL. Letters, digits, '-' and '_'; "
                               "unique in the workspace, ignoring case.",
            },
            "authenticate": {
                "type": "boolean",
                "default": True,
                "title": "Require a secret",
                "description": "Callers must send the trigger's secret. Turn off only for "
                               "public, harmless flows.",
            },
            "wait_for_response": {
                "type": "boolean",
                "default": True,
                "title": "Wait for the answer",
                "description": "Answer the request with the flow's reply (200). When off, "
                               "the request is accepted at once (202) and the flow runs in the "
                               "background.",
            },
            "timeout_seconds": {
                "type": "number",
                "minimum": 1,
                "maximum": 300,
                "default": 30,
                "title": "Timeout (seconds)",
                "description": "How long a waiting request may wait for the answer before it "
                               "gets a 408; the run itself continues.",
            },
            "enabled": {
                "type": "boolean",
                "default": True,
                "title": "Enabled",
                "description": "A disabled trigger refuses requests (404) without deleting its "
                               "URL or secret.",
            },
            "description": {
                "type": "string",
                "title": "Notes",
                "description": "What calls this trigger and why; shown to your team only.",
            },
        },
    }


class ManualTrigger(_Trigger):
    """Start the flow from a "Run now" button in the app."""

    type = "manual_trigger"
    title = "Manual"
    description = "Start the flow by hand from the app, e.g. to try it out."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "label": {
                "type": "string",
                "default": "Run now",
                "maxLength": 100,
                "title": "Button label",
                "description": "Text of the button that starts the flow.",
            },
        },
    }
