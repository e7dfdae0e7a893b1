"""Build the JSON Schema pieces that node configurations share.

Every node config is a closed object (an unknown key is a typo the editor should report), and
most fields are a titled, described string; spelling these out in each node made the schemas
long and let them drift apart.
"""

from __future__ import annotations


def closed_object(properties: dict, required: list[str] | None = None) -> dict:
    """Return an object schema that allows only `properties` and requires `required`."""
    schema: dict = {"type": "object", "additionalProperties": False}
    if required:
        schema["required"] = required
    schema["properties"] = properties
    return schema


def text_field(title: str, description: str, **extra: object) -> dict:
    """Return a string field with its editor title and help text (`extra`: pattern, x-widget, …)."""
    return {"type": "string", "title": title, "description": description, **extra}


def choice(titles: dict[str, str], **extra: object) -> dict:
    """Return an enum field whose options the editor shows by title, not by stored value.

    The values (the keys of `titles`) are what documents store and must never change; the
    titles are plain words for the people choosing ("Stop the run" rather than "fail").
    """
    return {"enum": list(titles), "x-enum-titles": dict(titles), **extra}


def advanced(prop: dict) -> dict:
    """Mark a setting as advanced: the editor folds it under "Advanced" so the essentials stand out."""
    return {**prop, "x-advanced": True}
