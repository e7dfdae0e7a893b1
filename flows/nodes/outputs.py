"""Describe, in plain words, the values a node leaves for the nodes after it.

The editor's value picker lists what a template may use at a node, and validation refuses a
reference to a field a node never produces. Both need each node type to say what its run()
really outputs, so the declarations live next to each type (`NodeType.output_fields`); this
module holds the shared vocabulary: the plain type words people see (never JSON type names),
the fields every trigger puts in ``trigger.*`` and the fields of ``session.*``.

The trigger and session fields carry a `title`: their names (``out_id``, ``request_id``…) are the
API's, and the picker, its chips and the publish refusals say them in the run page's words
("Caller's reference", "Request id") instead. Templates keep using the names.
"""

from __future__ import annotations

TEXT, NUMBER, YES_NO, LIST, OBJECT, ANY = "Text", "Number", "Yes/No", "List", "Object", "Any"
TYPES = (TEXT, NUMBER, YES_NO, LIST, OBJECT, ANY)

# The declared type of a start-node input, in the words people see.
INPUT_TYPE_WORDS = {"string": TEXT, "number": NUMBER, "integer": NUMBER, "boolean": YES_NO,
                    "object": OBJECT, "array": LIST}
# The start node's type drop-down (x-enum-titles): the same words in the order people pick them,
# whole numbers told apart from other numbers; the stored values stay JSON Schema's.
INPUT_TYPE_TITLES = {"string": TEXT, "number": NUMBER, "integer": "Whole number", "boolean": YES_NO,
                     "array": LIST, "object": OBJECT}


def output_field(name: str, type_word: str, description: str, title: str | None = None, *,
                 moment: bool = False) -> dict:
    """One value a node (or the trigger, or the session) offers to later templates; `title` is how
    people see a name that is not a plain word (the description then serves as its one-line hint).
    `moment`: the value is a time, stored as ISO text; the run page writes it as it writes its times."""
    field = {"name": name, "type": type_word, "description": description}
    if title:
        field["title"] = title
    if moment:
        field["moment"] = True
    return field


# How a time value reads in a picker hint: what the text looks like, not the standard's number.
TIME_TEXT = "in UTC, written like 2026-12-01T10:53:16Z"


# What every run's `trigger.*` holds, whichever door started it (app: run_start._payload).
BASE_TRIGGER_FIELDS = (
    output_field("type", TEXT, "How the run was started (the API, a schedule, Run now…).", "Started by"),
    output_field("key", TEXT, "The trigger's key: the last part of its URL, or the model name.", "Trigger key"),
    output_field("node_id", TEXT, "Which trigger the run came in at, by its id on the canvas.", "Which trigger"),
    output_field("received_at", TEXT, f"When the request arrived, {TIME_TEXT}.", "Received", moment=True),
    output_field("request_id", TEXT, "The id of the request that started the run, for support.", "Request id"),
)

# What a caller may add through a REST request body (app: trigger_request.TriggerRequest.metadata).
REQUEST_TRIGGER_FIELDS = (
    output_field("body", OBJECT, "The request body as sent.", "Request body"),
    output_field("headers", OBJECT, "The request headers (secrets removed).", "Request headers"),
    output_field("contact", ANY, "Who the conversation is with, as the caller named them.", "Contact"),
    output_field("customer", ANY, "The customer the caller named, if any.", "Customer"),
    output_field("context", ANY, "Extra context the caller sent, if any.", "Context"),
    output_field("language", TEXT, "The caller's language, if sent.", "Language"),
    output_field("timezone", TEXT, "The caller's time zone, if sent.", "Time zone"),
    output_field("environment", TEXT, "The caller's environment (e.g. test), if sent.", "Environment"),
    output_field("out_id", TEXT, "The caller's own id for this event, if sent.", "Caller's reference"),
    output_field("uuid", TEXT, "The key that makes a repeated request start no second run, if sent.", "Retry key"),
    output_field("claim_time", TEXT, "When the event happened, as the caller said (UTC), if sent.", "Event time",
                 moment=True),
    output_field("discard_time", TEXT, "The caller's deadline: the run is dropped if not started by then, "
                                       "if sent.", "Discard after", moment=True),
)

SESSION_FIELDS = (
    output_field("id", TEXT, "The conversation's id, as the caller sent it.", "Id"),
    output_field("history", LIST, "The conversation so far: earlier messages and replies, oldest first.",
                 "Messages so far"),
    output_field("contact", ANY, "Who the conversation is with, when the caller said.", "Contact"),
    output_field("turn", NUMBER, "How many messages the conversation has had.", "Message count"),
    output_field("started_at", TEXT, f"When the conversation started, {TIME_TEXT}.", "Started", moment=True),
)

# Kept in every run's `trigger.session` for the engine, not offered to templates: named on the run
# page (a step's Result) like the fields above, never by these names.
SESSION_RECORD_FIELDS = (
    output_field("conversation_id", TEXT, "The conversation's record on this server.", "Conversation record"),
    output_field("history_from_request", YES_NO, "Whether the caller sent the conversation so far.",
                 "Messages sent by the caller"),
)

ERROR_FIELD = output_field("error", OBJECT, "Set when the step failed and the run went on by its error "
                                            "port: error.message says why.")
