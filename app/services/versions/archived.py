"""The one rule every door checks about archived flows: their triggers are off, their graph is frozen.

Why a module of its own with no imports beyond the models: the start path, publishing, the hook
and OpenAI views and the schedule clock all need it, and anything richer here (the archive service
re-plans schedules) would make an import cycle with them.
"""

from __future__ import annotations

from app.models import Flow

TRIGGER_MESSAGE = "This flow is archived, so its triggers are off; restore the flow to use them again."
SAVE_MESSAGE = "This flow is archived, so it cannot be saved or published; restore it first."
# Shown wherever a trigger URL is, instead of a Copy button: the URL answers TRIGGER_MESSAGE (404).
URLS_MESSAGE = "This flow is archived, so calls to its trigger URLs do not start runs until it is restored."
# Shown instead of "Replay" on a run of an archived flow, and said when one is refused.
RUN_MESSAGE = "This flow is archived, so it cannot be run or replayed until it is restored."
# Shown on a schedule trigger instead of its next fires: archiving disarmed it.
SCHEDULE_MESSAGE = "This flow is archived, so its schedule does not fire until the flow is restored."


class FlowArchived(Exception):
    """The flow is archived: a trigger answers 404 `flow_archived`, a save 409 `flow_archived`."""

    def __init__(self, flow_id: str):
        super().__init__(TRIGGER_MESSAGE)
        self.flow_id = flow_id


def is_archived(flow: Flow | None) -> bool:
    return flow is not None and flow.archived_at is not None


def refuse_if_archived(flow: Flow | None) -> None:
    """Raise FlowArchived for an archived flow; the caller's error mapping picks the status."""
    if is_archived(flow):
        raise FlowArchived(flow.id)
