"""Describe what the web app does with one trigger type; one adapter class per engine trigger node.

Why adapters: the engine knows how a trigger node runs (`flows.nodes`); the app must also know
which door starts its runs, its URL, whether it has a secret, keeps conversations, how callers
authenticate, what `setup` checks and what its panel shows. Asking the trigger's adapter for
each keeps all of that in one file per type instead of string branches across views, services,
templates and scripts; adding a trigger type is one adapter module (plus its engine node type).
"""

from __future__ import annotations

from typing import ClassVar

import flows

# Which door starts a trigger's runs (`entry_point`); views ask the registry which types use theirs.
HOOK = "hook"  # POST /hooks/<workspace>/<key>
OPENAI = "openai"  # the OpenAI-compatible API under /v1, the key being the model name
MANUAL = "manual"  # Run now, in the app or through the API
CLOCK = "clock"  # the schedule clock

# `runs.trigger_type` of runs no trigger node started: Run now from the start node, and a draft
# tested in the editor. A test run is never the published flow's traffic: stats leave it out.
TEST = "test"
RUN_LABELS = {MANUAL: "Run now", TEST: "Test run (draft)"}


def run_label(trigger_type: str | None) -> str | None:
    """The words for a run started without a trigger node (None: a trigger type's own run)."""
    return RUN_LABELS.get(trigger_type) if isinstance(trigger_type, str) else None


class TriggerAdapter:
    """Answer the app's questions about one trigger type; subclasses set the class attributes."""

    type: ClassVar[str] = ""  # the engine node type adapted (flows.registry)
    label: ClassVar[str] = ""  # short name in lists: "REST API"
    title: ClassVar[str] = ""  # how runs it started are named in run lists and filters, in words
    panel_title: ClassVar[str] = ""  # heading of the side panel
    entry_point: ClassVar[str] = ""
    keyed: ClassVar[bool] = False  # config.key is unique in the workspace (a URL part or a model name)
    has_secret: ClassVar[bool] = False  # a trigger secret is made when it is created and can be rotated
    keeps_sessions: ClassVar[bool] = False  # a request can continue a conversation (session)
    pausable: ClassVar[bool] = True
    authentication: ClassVar[str] = ""  # one sentence for people: how callers prove who they are
    panel_template: ClassVar[str | None] = None  # renders this type's own fields in the side panel
    row_template: ClassVar[str | None] = None  # ... and on the flow page's trigger list
    # What the canvas script needs to know, so it holds no type names (see `canvas_hints`).
    save_hint: ClassVar[str] = "Save the flow to run it from this trigger."
    details_label: ClassVar[str] = "Details…"
    copy_label: ClassVar[str] = "Copy URL"

    def url(self, trigger) -> str | None:
        """The address people paste into other systems, once the trigger is saved (None: none)."""
        return None

    def describe(self, trigger) -> dict:
        """This type's own fields in API answers about a trigger."""
        return {}

    def examples(self, trigger, document: dict | None, secret: str | None = None) -> dict[str, str] | None:
        """Ready-to-paste calls ({"curl": …, "python": …}) for the panel, or None."""
        return None

    def invoke_body(self, trigger, body: dict) -> dict:
        """The body a test invoke sends when the caller gave none or some (the type may fill it)."""
        return body

    def setup_problems(self, trigger, start_config: dict) -> list[dict]:
        """What stops a run of this type from starting, or will surprise its callers ([] = none)."""
        return []

    def canvas_hints(self) -> dict:
        """Flags and texts the canvas script reads from the palette instead of comparing type names."""
        return {"entry_point": self.entry_point, "scheduled": self.entry_point == CLOCK,
                "runs_here": self.entry_point == MANUAL, "shows_model": self.entry_point == OPENAI,
                "new_key": self.keyed and self.entry_point == HOOK, "save_hint": self.save_hint,
                "details_label": self.details_label, "copy_label": self.copy_label}


def required_inputs(start_config: dict) -> list[str]:
    """The start node's inputs a caller must send: required, without a default, not the message."""
    message = flows.message_input(start_config)
    return [item["name"] for item in flows.declared_inputs(start_config)
            if item.get("required") and "default" not in item and item["name"] != message]


def problem(code: str, message: str, trigger=None, severity: str = "error", path: str | None = None) -> dict:
    """One setup problem as the API reports it."""
    found = {"code": code, "severity": severity, "message": message}
    if trigger is not None:
        found["node_id"] = trigger.node_id
    if path:
        found["path"] = path
    return found
