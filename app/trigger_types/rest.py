"""The REST API trigger: an HTTP POST to /hooks/<workspace>/<key> starts the flow."""

from __future__ import annotations

import flows
from app.services.triggers.trigger_examples import examples
from app.trigger_types.base import HOOK, TriggerAdapter, problem, required_inputs
from app.urls import public_url


class RestTrigger(TriggerAdapter):
    """Answer for `api_trigger` nodes: a keyed URL, a secret, conversations by sessionId or contact."""

    type = "api_trigger"
    label = "REST API"
    title = "REST API"
    panel_title = "REST API trigger"
    entry_point = HOOK
    keyed = has_secret = keeps_sessions = True
    authentication = ("The trigger's secret (or a workspace API key) as a bearer token, a Standard Webhooks "
                      "signature, or nothing when 'Require a secret' is off.")
    panel_template = "trigger_types/rest_panel.html"
    row_template = "trigger_types/rest_row.html"
    save_hint = "Save the flow to get this trigger's URL and secret."
    details_label = "Examples and secret…"

    def url(self, trigger) -> str | None:
        if not trigger.key:
            return None
        return public_url("hooks.invoke", workspace_id=trigger.workspace_id, key=trigger.key)

    def describe(self, trigger) -> dict:
        config = trigger.config
        return {"method": "POST", "authenticate": config.get("authenticate", True),
                "wait_for_response": config.get("wait_for_response", True),
                "timeout_seconds": config.get("timeout_seconds", 30),
                "secret_hint": f"…{trigger.secret_hint}" if trigger.secret_hint else None,
                "signing_secret_set": bool(trigger.signing_secret)}

    def examples(self, trigger, document: dict | None, secret: str | None = None) -> dict[str, str] | None:
        url = self.url(trigger)
        if url is None:
            return None
        return examples(url, document, authenticate=trigger.config.get("authenticate", True), secret=secret)

    def setup_problems(self, trigger, start_config: dict) -> list[dict]:
        config, found = trigger.config, []
        if config.get("default_text") and flows.message_input(start_config) is None:
            found.append(problem("default_text_unused", "The trigger has a default text but the start node declares "
                                 "no message input, so the text is never used.", trigger, path="config.default_text"))
        if config.get("verify_signature") and not trigger.signing_secret:
            found.append(problem("no_signing_secret", "Signature verification is on but no signing secret exists "
                                 "yet: generate one, or every request is refused with 401.", trigger))
        if not config.get("authenticate", True) and not config.get("verify_signature"):
            found.append(problem("unauthenticated", "Anyone who knows the URL can start this flow (no secret, "
                                 "no signature).", trigger, severity="warning"))
        required = required_inputs(start_config)
        if required:
            found.append(problem("required_inputs", f"Callers must send: {', '.join(required)}.", severity="info"))
        return found
