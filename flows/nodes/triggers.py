"""Define the trigger nodes: the "switches" that start a run of a flow.

A trigger does no work of its own while running; it records how the run was started (the
trigger metadata the app passes in) so later nodes can use it as ``trigger.*`` and the run view
shows who or what started the run. Its settings matter to the web app instead: the API
trigger's key becomes the URL people paste into other systems.
"""

from __future__ import annotations

from flows.filter_checks import filter_problem
from flows.nodes.base import NodeContext, NodeResult, NodeType
from flows.nodes.schema_parts import advanced, closed_object, text_field
from flows.patterns import TRIGGER_KEY
from flows.problems import Problem
from flows.nodes.outputs import BASE_TRIGGER_FIELDS, OBJECT, REQUEST_TRIGGER_FIELDS, output_field


def _session_duration(description: str) -> dict:
    """The session-duration setting, shared by the triggers that hold conversations."""
    return {"type": "integer", "minimum": 1, "maximum": 31_536_000, "default": 3600, "x-advanced": True,
            "title": "Conversation timeout (seconds)", "description": description}


def _rate_limit() -> dict:
    """The per-trigger rate limit setting (counted in Redis across web processes)."""
    return {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0, "x-advanced": True,
            "title": "Most requests per minute",
            "description": "Further requests in the same minute are refused and told when to retry (429); "
                           "0 means no limit."}


class _Trigger(NodeType):
    """Share run() between trigger types: pass the trigger metadata on."""

    category = "trigger"
    is_trigger = True
    extra_trigger_fields: tuple = ()
    # Whether runs it starts can belong to a conversation (so `session.*` means something).
    holds_conversations: bool = False
    # Whether someone may wait for the flow's reply (a schedule's runs answer nobody).
    delivers_reply: bool = True

    def output_fields(self, config: dict) -> list[dict]:
        """A trigger outputs the run's `trigger.*`: what every run has, plus what this door adds."""
        return list(BASE_TRIGGER_FIELDS) + list(self.extra_trigger_fields)

    def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(output=dict(ctx.trigger), port="out")


class ApiTrigger(_Trigger):
    """Start the flow with an HTTP request to the trigger's URL."""

    type = "api_trigger"
    extra_trigger_fields = REQUEST_TRIGGER_FIELDS
    holds_conversations = True
    title = "REST API"
    description = ("Start the flow with an HTTP POST to this trigger's URL. The URL appears on the "
                   "node after you save the flow.")
    config_schema = closed_object(required=["key"], properties={
            "key": text_field("Key", "The last part of the trigger URL. Letters, digits, '-' and '_'; "
                                     "unique in the workspace, ignoring case.", pattern=TRIGGER_KEY),
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
                "description": "Answer the request with the flow's reply. When off, the request "
                               "is accepted at once and the flow runs in the background.",
            },
            "timeout_seconds": advanced({
                "type": "number",
                "minimum": 1,
                "maximum": 300,
                "default": 30,
                "title": "Longest wait for the answer (seconds)",
                "description": "After this long a waiting caller is told the run is still going "
                               "(408); the run itself continues.",
            }),
            "enabled": {
                "type": "boolean",
                "default": True,
                "title": "Enabled",
                "description": "A disabled trigger refuses requests (404) without deleting its "
                               "URL or secret.",
            },
            "default_text": advanced({
                "type": "string",
                "maxLength": 20000,
                "title": "Fixed message",
                "x-widget": "template",
                "description": "When set, this text is the message of every request and the "
                               "message the caller sends is ignored: the trigger then works as a "
                               "fixed prompt.",
            }),
            "session_duration_seconds": _session_duration(
                "Requests with the same session id (sessionId or contact) continue one conversation "
                "while it has been active within this time; after that a new conversation starts."),
            "ignore_duplicate_bodies": advanced({
                "type": "boolean",
                "default": False,
                "title": "Ignore repeated requests",
                "description": "Refuse a request whose body is exactly the same as an earlier one "
                               "(409, naming the earlier run) instead of running the flow again.",
            }),
            "filter": advanced({
                "type": "object",
                "title": "Only accept requests that match",
                "description": "Rules the request body must follow, written as a JSON Schema; other "
                               "requests are refused (400) with the reason. "
                               "{\"required\": [\"order_id\"]} accepts only requests with an order_id.",
            }),
            "rate_limit_per_minute": _rate_limit(),
            "verify_signature": advanced({
                "type": "boolean",
                "default": False,
                "title": "Accept only signed requests (Standard Webhooks)",
                "description": "For senders that sign each request instead of sending the secret: "
                               "require their webhook-id, webhook-timestamp and webhook-signature "
                               "headers, signed with this trigger's signing secret (generate it on "
                               "the trigger panel). Turn 'Require a secret' off for them.",
            }),
            "signature_tolerance_seconds": advanced({
                "type": "integer",
                "minimum": 1,
                "maximum": 3600,
                "default": 300,
                "title": "Largest clock difference for signatures (seconds)",
                "description": "How far a signed request's time (webhook-timestamp) may be from ours.",
            }),
            "description": {
                "type": "string",
                "title": "Notes",
                "description": "What calls this trigger and why; shown to your team only.",
            },
    })

    def check(self, node: dict) -> list[Problem]:
        """Refuse a filter no request could be checked against (`flows.filter_checks` says why)."""
        schema = (node.get("config") or {}).get("filter")
        problem = filter_problem(schema) if schema is not None else None
        return [self.problem(node, "invalid_filter", problem, "config.filter")] if problem else []


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


class OpenAITrigger(_Trigger):
    """Make the flow a model that any OpenAI-compatible client can chat with."""

    type = "openai_trigger"
    holds_conversations = True
    extra_trigger_fields = (
        output_field("openai", OBJECT, "The chat request's model, system prompt and options.", "Chat request"),
    )
    description = ("Call the flow as a chat model with any OpenAI client (the official SDKs, curl, "
                   "chat apps): the base URL and the model name appear on the node after you save.")
    title = "OpenAI API"
    config_schema = closed_object(required=["key"], properties={
            "key": text_field("Model name", "What clients pass as `model`. Letters, digits, '-' and '_'; "
                                            "unique among the workspace's trigger keys, ignoring case.",
                              pattern=TRIGGER_KEY),
            "timeout_seconds": {
                "type": "number",
                "minimum": 1,
                "maximum": 600,
                "default": 120,
                "title": "Longest wait for the answer (seconds)",
                "x-advanced": True,
                "description": "How long a chat request waits for the flow's answer before it gets "
                               "a timeout error; the run itself continues.",
            },
            "session_duration_seconds": _session_duration(
                "Requests with the same `user` (or X-Session-Id header) belong to one conversation "
                "while it was active within this time."),
            "rate_limit_per_minute": _rate_limit(),
            "enabled": {
                "type": "boolean",
                "default": True,
                "title": "Enabled",
                "description": "A disabled model is not listed and answers model_not_found.",
            },
            "description": {
                "type": "string",
                "title": "Notes",
                "description": "What this model is for; shown to your team only.",
            },
    })
