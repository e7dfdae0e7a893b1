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
