"""Plain words for the stored values the pages show (statuses, credential kinds).

Values stay as they are in the database and the API; only the pages say them in words, so a
person who never read the API docs is not left to guess what "timed_out" or "api_key" means.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flows.credentials import KIND_TITLES
from flows.nodes.outputs import INPUT_TYPE_TITLES

STATUS_WORDS = {
    "queued": "Queued", "running": "Running", "waiting": "Waiting (delay)", "succeeded": "Succeeded",
    "failed": "Failed", "timed_out": "Timed out", "canceled": "Canceled", "discarded": "Discarded (too late to start)",
    "skipped": "Skipped", "active": "Active", "paused": "Paused", "deleted": "Deleted",
}


# Where a run's request came from (`trigger_request.type`, see app.services.runs.start_request).
REQUEST_SOURCE_WORDS = {
    "api": "REST API call", "invoke": "Test call from the API", "openai": "OpenAI-compatible API",
    "manual": "Run now", "replay": "Replay", "schedule": "Schedule", "test": "Test run",
}


def request_source_words(value: object) -> str:
    """Where a run's request came from, in words ("api" -> "REST API call")."""
    raw = str(value or "")
    return REQUEST_SOURCE_WORDS.get(raw) or raw.replace("_", " ").capitalize()


def status_words(value: object) -> str:
    """A run, step or trigger status in words ("timed_out" -> "Timed out"); enums and strings alike."""
    raw = str(getattr(value, "value", value) or "")
    return STATUS_WORDS.get(raw) or raw.replace("_", " ").capitalize()


def input_type_words(type_name: object) -> str:
    """A start input's type in words ("string" -> "Text"), as the canvas form shows it."""
    return INPUT_TYPE_TITLES.get(type_name, str(type_name)) if isinstance(type_name, str) else str(type_name)


def credential_kind_words(kind: object) -> str:
    """A credential kind in words ("basic" -> "Username and password")."""
    return KIND_TITLES.get(kind, str(kind)) if isinstance(kind, str) else str(kind)


def moment_words(value: object) -> str:
    """A stored moment as the pages show times ("2026-12-01 10:53:16.026 UTC"): aware datetimes
    and the ISO text a trigger request records alike; anything else is shown as it is."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, datetime):
        return "" if value is None else str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
