"""Keep the app's trigger adapters, keyed by the engine node type they adapt.

Shaped like the engine's `flows.nodes.registry`: registering checks the adapter at import time
(an adapter for a type the engine does not know, or a door nobody serves, fails when the
process starts, not when someone opens a page).
"""

from __future__ import annotations

import flows
from app.trigger_types.base import CLOCK, HOOK, MANUAL, OPENAI, RUN_LABELS, TriggerAdapter

ENTRY_POINTS = (HOOK, OPENAI, MANUAL, CLOCK)


class TriggerTypes:
    """Look up a trigger's adapter by type; list the types that use one door."""

    def __init__(self) -> None:
        self._adapters: dict[str, TriggerAdapter] = {}

    def register(self, adapter: TriggerAdapter) -> TriggerAdapter:
        """Add `adapter`; refuse duplicates and adapters of unknown engine types or doors."""
        node_type = flows.registry.get(adapter.type)
        if node_type is None or not node_type.is_trigger:
            raise ValueError(f"{adapter!r}: {adapter.type!r} is not a trigger node type of the engine")
        if adapter.type in self._adapters:
            raise ValueError(f"trigger type {adapter.type!r} already has an adapter")
        if adapter.entry_point not in ENTRY_POINTS:
            raise ValueError(f"trigger type {adapter.type!r}: unknown entry point {adapter.entry_point!r}")
        self._adapters[adapter.type] = adapter
        return adapter

    def get(self, type_name: object) -> TriggerAdapter | None:
        """Return the adapter of `type_name`, or None."""
        return self._adapters.get(type_name) if isinstance(type_name, str) else None

    def of(self, trigger) -> TriggerAdapter:
        """Return the adapter of a trigger row; an unknown type (no longer shipped) gets a mute one."""
        return self._adapters.get(trigger.type) or _Unknown(trigger.type)

    def adapters(self) -> list[TriggerAdapter]:
        """Every adapter, in registration order."""
        return list(self._adapters.values())

    def types(self) -> list[str]:
        """Every trigger type the app manages, in registration order."""
        return list(self._adapters)

    def run_sources(self) -> list[tuple[str, str]]:
        """Every value a run's `trigger_type` can hold, with its title: the filter of the Runs pages."""
        return [(name, adapter.title) for name, adapter in self._adapters.items()] + list(RUN_LABELS.items())

    def source_title(self, trigger_type: object) -> str:
        """How a run with this `trigger_type` was started, in words (an unknown one: its name, readable)."""
        titles = dict(self.run_sources())
        return titles.get(trigger_type) or str(trigger_type or "").replace("_", " ").capitalize()

    def started_by(self, entry_point: str) -> list[str]:
        """The types whose runs start through `entry_point` (for queries: `Trigger.type.in_(…)`)."""
        return [name for name, adapter in self._adapters.items() if adapter.entry_point == entry_point]

    def palette(self, entries: list[dict]) -> list[dict]:
        """Add each trigger entry's `trigger` hints to the engine's palette for the canvas script."""
        return [dict(entry, trigger=self._adapters[entry["type"]].canvas_hints())
                if entry["type"] in self._adapters else entry for entry in entries]


class _Unknown(TriggerAdapter):
    """Stand in for a type without an adapter: no URL, no door, only its name as the label."""

    def __init__(self, type_name: str) -> None:
        self.type = self.label = self.title = self.panel_title = type_name
