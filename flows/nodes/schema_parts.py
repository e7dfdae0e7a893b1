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


# The name of one item of a list setting ("Condition" in "Branch 2 › Condition 2"). The canvas's
# forms (static/js/canvas-forms.js, itemTitle) and the server's messages both read it from the
# schema, so the two never name the same item differently.
ITEM_TITLE = "x-item-title"


def item_title(prop: dict, fallback: str = "Item") -> str:
    """The name of one item of the list setting `prop`: its "x-item-title", else its title made singular.

    Why the annotation: English plurals are not a rule ("Entries", "Criteria", "Statuses"), and a
    rule written twice, in Python for messages and in JavaScript for forms, drifts. The fallback
    (the same rule as the canvas's) is only for a list whose schema names no item title.
    """
    named = prop.get(ITEM_TITLE) if isinstance(prop, dict) else None
    if isinstance(named, str) and named:
        return named
    title = prop.get("title") if isinstance(prop, dict) else None
    return _singular(title if isinstance(title, str) and title else fallback)


def _singular(title: str) -> str:
    """"Branches" -> "Branch", "Entries" -> "Entry", "Messages" -> "Message" (canvas-forms.js's `singular`)."""
    if title.endswith(("ches", "shes", "sses", "xes")):
        return title[:-2]
    if title.endswith("ies"):
        return title[:-3] + "y"
    return title[:-1] if len(title) > 1 and title.endswith("s") and not title.endswith("ss") else title


def advanced(prop: dict) -> dict:
    """Mark a setting as advanced: the editor folds it under "Advanced" so the essentials stand out."""
    return {**prop, "x-advanced": True}
