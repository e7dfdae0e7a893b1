"""Replay a run's inputs on the flow's current version, and show what a trigger request carried.

Why replay goes through `run_start.start` like every other start: the replayed inputs are
validated against the *current* start node exactly like a fresh request, so a replay after the
inputs changed fails with the same 400 a caller would get, instead of running a version with
inputs it does not declare.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Run, Trigger, TriggerStatus
from app.services.runs.run_start import start
from app.services.runs.start_request import for_inputs

# Headers that prove who the caller is; never stored, never shown.
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token",
                  "x-csrftoken", "x-csrf-token"}
SECRET_WORDS = ("secret", "token", "password", "signature", "api-key", "apikey")
KEPT_HEADERS = 40
MAX_HEADER_VALUE = 500


def safe_headers(headers) -> dict:
    """The request's headers minus anything that authenticates it (kept for the run's record)."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SECRET_HEADERS or any(word in lower for word in SECRET_WORDS):
            kept[name] = "[redacted]"
        else:
            kept[name] = value.replace("\x00", "")[:MAX_HEADER_VALUE]  # PostgreSQL's JSON refuses NUL
        if len(kept) >= KEPT_HEADERS:
            break
    return kept


def replay(run: Run, request_id: str) -> Run:
    """Start a new run of the flow's latest version with `run`'s inputs, from the same trigger if it still exists.

    Raises `NotPublished`, `BodyError` (the inputs no longer fit) and `QueueUnavailable`.
    """
    trigger = db.session.get(Trigger, run.trigger_id) if run.trigger_id else None
    if trigger is not None and (trigger.status is TriggerStatus.DELETED or trigger.flow_id != run.flow_id):
        trigger = None
    request = for_inputs(run.flow, trigger, dict(run.inputs or {}), source="replay", request_id=request_id,
                         payload={"replay_of": run.id, "replayed_version": run.version_number})
    return start(request).run


def trigger_request(run: Run) -> dict:
    """What started the run, for the run page: the payload with any secret header masked."""
    payload = dict(run.trigger_payload or {})
    if isinstance(payload.get("headers"), dict):
        payload["headers"] = safe_headers(payload["headers"])
    return payload


__all__ = ["replay", "safe_headers", "trigger_request"]
