"""Check and apply a flow's own settings: name, description, run time limit (not its graph).

Why strict: the name shows in lists, page titles and download names, so it is one line of real
text; every refusal names the field and says what to send instead.
"""

from __future__ import annotations

import unicodedata

from app.models import Flow
from app.models.types import utcnow

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_RUN_TIMEOUT_SECONDS = 24 * 3600


class SettingsError(ValueError):
    """A setting the caller must fix: `field` names it, `message` says how."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def check_name(value) -> str:
    """The name to store (trimmed); SettingsError when it is not one line of 1 to 200 characters."""
    if not isinstance(value, str):
        raise SettingsError("name", f"name must be text, not {_kind(value)}.")
    name = value.strip()
    if not name:
        raise SettingsError("name", "name must not be empty; give the flow a name.")
    if len(name) > MAX_NAME:
        raise SettingsError("name", f"name is {len(name)} characters long; at most {MAX_NAME} are allowed.")
    if _has_control(name):
        raise SettingsError("name", "name must be one line of text, without line breaks or control characters.")
    return name


def check_description(value) -> str:
    if not isinstance(value, str):
        raise SettingsError("description", f"description must be text, not {_kind(value)}.")
    if len(value) > MAX_DESCRIPTION:
        raise SettingsError("description", f"description is {len(value)} characters long; "
                            f"at most {MAX_DESCRIPTION} are allowed.")
    if _has_control(value, allowed="\n\r\t"):
        raise SettingsError("description", "description must not contain control characters.")
    return value.strip()


def check_run_timeout(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RUN_TIMEOUT_SECONDS:
        raise SettingsError("run_timeout_seconds", "run_timeout_seconds must be a whole number from 1 to "
                            f"{MAX_RUN_TIMEOUT_SECONDS}.")
    return value


def _kind(value) -> str:
    return {bool: "yes/no", type(None): "null", list: "a list", dict: "an object",
            int: "a number", float: "a number"}.get(type(value), "this value")


def apply_flow_settings(flow: Flow, data: dict) -> None:
    """Check every given setting first, then apply them all (a refused request changes nothing)."""
    checks = {"name": check_name, "description": check_description, "run_timeout_seconds": check_run_timeout}
    values = {field: check(data[field]) for field, check in checks.items() if field in data}
    for field, value in values.items():
        setattr(flow, field, value)
    flow.updated_at = utcnow()
