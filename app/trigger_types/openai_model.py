"""The OpenAI API trigger: the flow is a model that OpenAI clients call under /v1."""

from __future__ import annotations

import flows
from app.services.triggers.trigger_examples import openai_examples
from app.trigger_types.base import OPENAI, TriggerAdapter, problem, required_inputs
from app.urls import public_url


def openai_base_url() -> str:
    """The base URL OpenAI clients are configured with (they add /chat/completions, /models)."""
    return public_url("openai.list_models").rsplit("/models", 1)[0]


class OpenAIModelTrigger(TriggerAdapter):
    """Answer for `openai_trigger` nodes: the key is the model name; clients use workspace API keys."""

    type = "openai_trigger"
    label = "OpenAI API"
    title = "OpenAI-compatible API"
    panel_title = "OpenAI API trigger"
    entry_point = OPENAI
    keyed = keeps_sessions = True  # the same `user` (or X-Session-Id) continues a conversation
    authentication = "A workspace API key with the runs:trigger scope, sent as the OpenAI client's API key."
    panel_template = "trigger_types/openai_panel.html"
    row_template = "trigger_types/openai_row.html"
    save_hint = "Save the flow to get the base URL and model name for OpenAI clients."
    details_label = "SDK examples…"
    copy_label = "Copy base URL"

    def url(self, trigger) -> str | None:
        return openai_base_url()

    def describe(self, trigger) -> dict:
        return {"base_url": self.url(trigger), "model": trigger.key,
                "timeout_seconds": trigger.config.get("timeout_seconds", 120)}

    def examples(self, trigger, document: dict | None, secret: str | None = None) -> dict[str, str] | None:
        return openai_examples(self.url(trigger), trigger.key)

    def setup_problems(self, trigger, start_config: dict) -> list[dict]:
        found = []
        if flows.message_input(start_config) is None:
            found.append(problem("no_message_input", "OpenAI clients send a chat message, but the start node "
                                 "declares no message input to receive it; set one on the start node.", trigger))
        required = required_inputs(start_config)
        if required:
            found.append(problem("required_inputs", "Clients must send these in the request's metadata: "
                                 f"{', '.join(required)}.", severity="info"))
        return found
