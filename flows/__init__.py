"""Switchboard's flow engine: flow documents, node types, validation, templating and the runner.

Pure Python on purpose: the web app, the RQ workers and the tests all use the same engine, so
nothing here may import Flask, RQ, Redis or SQLAlchemy. It depends on five libraries: jinja2
(templates, in its sandbox), jsonschema (flow documents, node settings and trigger filters),
regex (partial matches for redaction, and filter patterns searched with a time limit), httpx (the
HTTP request and LLM nodes, through the guard in `flows.net`) and croniter (schedules, with the
standard library's zoneinfo for time zones). Storage, queues and the clock are handed in by the
caller (`run_graph`'s journal and services). The names below are the engine's public API;
everything else is an implementation detail.
"""

from __future__ import annotations

from flows.available import node_display_name
from flows.bounded_schema import SchemaTooSlow, SchemaUnusable, first_schema_error
from flows.document import canonical_json
from flows.graph import Graph
from flows.inputs import (MessageAliasError, apply_message_alias, declared_inputs, input_schema, message_input,
                          validate_inputs)
from flows.nodes import NodeContext, NodeError, NodeRegistry, NodeResult, NodeType, registry
from flows.problems import Problem, errors
from flows.environment import RunEnvironment, Stop
from flows.journal import Journal, StepRecord
from flows.runner import RunOutcome, run_graph
from flows.status import OutcomeStatus, StepStatus
from flows.templating import TemplateError, render_template
from flows.validation import PROBLEM_CODES, validate

__all__ = [
    "Graph",
    "Journal",
    "NodeContext",
    "NodeError",
    "NodeRegistry",
    "NodeResult",
    "NodeType",
    "OutcomeStatus",
    "PROBLEM_CODES",
    "Problem",
    "RunEnvironment",
    "RunOutcome",
    "SchemaTooSlow",
    "SchemaUnusable",
    "StepRecord",
    "StepStatus",
    "Stop",
    "TemplateError",
    "canonical_json",
    "input_schema",
    "message_input",
    "node_display_name",
    "MessageAliasError",
    "apply_message_alias",
    "declared_inputs",
    "errors",
    "first_schema_error",
    "registry",
    "render_template",
    "run_graph",
    "validate",
    "validate_inputs",
]
