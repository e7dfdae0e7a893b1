"""The app side of trigger types: one adapter per type, registered by the type it adapts.

`adapter_for(trigger)` answers everything type-specific (URL, examples, secret, sessions,
authentication, setup checks, panel); nothing else in the app compares trigger type names.
Adding a trigger type: an engine node type in `flows/nodes/`, one adapter module here, its
templates under `templates/trigger_types/`, and its tests.
"""

from __future__ import annotations

from app.trigger_types.base import CLOCK, HOOK, MANUAL, OPENAI, TEST, TriggerAdapter, run_label
from app.trigger_types.manual import ManualTrigger
from app.trigger_types.openai_model import OpenAIModelTrigger, openai_base_url
from app.trigger_types.registry import TriggerTypes
from app.trigger_types.rest import RestTrigger
from app.trigger_types.schedule import ScheduleTrigger

registry = TriggerTypes()
for _adapter in (RestTrigger(), OpenAIModelTrigger(), ScheduleTrigger(), ManualTrigger()):
    registry.register(_adapter)
del _adapter
DEFAULT_TYPE = RestTrigger.type  # what POST /api/v1/triggers creates when no type is given
adapter_for = registry.of
started_by = registry.started_by



def no_secret_message() -> str:
    """Say which trigger types have a secret, when refusing to rotate one of another type."""
    labels = [adapter.label for adapter in registry.adapters() if adapter.has_secret]
    return f"Only {' and '.join(labels)} triggers have a secret or verify signatures."


__all__ = ["CLOCK", "DEFAULT_TYPE", "no_secret_message", "HOOK", "MANUAL", "OPENAI", "TEST", "TriggerAdapter",
           "adapter_for", "openai_base_url", "registry", "run_label", "started_by"]
