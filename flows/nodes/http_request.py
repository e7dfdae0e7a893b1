"""Define the HTTP request node: call a system the operator runs and hand its answer to later nodes.

Everything the author writes (URL, headers, query, body) is a template, so a flow can pass the
conversation's data along. The request goes through `flows.net`, which refuses private and
internal addresses (see there for why). Each request carries an `Idempotency-Key` derived from
the run and the node: when a worker dies mid-request and the step is retried, or the node's
retry setting sends it again, the receiving system can recognise the repeat.
"""

from __future__ import annotations

import json
import time

from flows.credentials import node_credential_headers
from flows.net import guarded_stream, read_limited
from flows.redaction import redact
from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.outputs import ANY, NUMBER, OBJECT, TEXT, YES_NO, output_field

_TEMPLATE_MAP = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"},
    "additionalProperties": {"type": "string", "maxLength": 10000, "x-widget": "template-inline"},
}
_SHOWN_HEADERS = ("content-type", "content-length", "location", "retry-after", "etag", "last-modified")


def idempotency_key(run_id: object, node_id: str) -> str:
    """Return the key a request of this node in this run always carries, across retries."""
    return f"{run_id or 'run'}-{node_id}"


class HttpRequestNode(NodeType):
    """Send one HTTP request; output the status, the body, and the body parsed as JSON when it is JSON."""
    required_text = ("url",)
    url_fields = ("url",)

    type = "http_request"
    category = "logic"
    title = "HTTP request"
    description = "Calls a URL (GET, POST, …) and passes the answer on; JSON answers are parsed."
    checkpoint_before_run = True
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
                       "default": "GET", "title": "Method",
                       "x-enum-titles": {"GET": "GET (fetch)", "POST": "POST (send)", "PUT": "PUT (replace)",
                                         "PATCH": "PATCH (change)", "DELETE": "DELETE (remove)",
                                         "HEAD": "HEAD (headers only)"},
                       "description": "What the request does; most services document which one to use."},
            "url": {"type": "string", "maxLength": 4000, "default": "https://", "title": "URL",
                    "x-widget": "template-inline",
                    "description": "Template, e.g. https://status.example.com/api/{{ inputs.service }}."},
            "headers": {**_TEMPLATE_MAP, "title": "Headers", "description": "Header name → template.", "x-advanced": True},
            "query": {**_TEMPLATE_MAP, "title": "Query parameters",
                      "description": "Name → template; added to the URL, encoded."},
            "body_type": {"type": "string", "enum": ["none", "json", "form"], "default": "none",
                          "x-enum-titles": {"none": "No body", "json": "JSON (template below)", "form": "Form fields"},
                          "title": "Body", "description": "What the request sends: nothing, JSON or form fields."},
            "json_body": {"type": "string", "maxLength": 100000, "default": "", "title": "JSON body",
                          "x-widget": "template",
                          "description": "Template that renders JSON, e.g. {\"service\": {{ inputs.service | tojson }}}."},
            "form": {**_TEMPLATE_MAP, "title": "Form fields", "description": "Name → template (form body)."},
            "credential": {"type": "string", "maxLength": 100, "title": "Credential", "x-widget": "credential",
                           "description": "A workspace credential sent with the request (never shown in runs)."},
            "timeout_seconds": {"type": "number", "minimum": 1, "maximum": 300, "default": 30,
                                "title": "Timeout (seconds)", "description": "Wait at most this long for an answer.",
                                "x-advanced": True},
            "max_response_bytes": {"type": "integer", "minimum": 1024, "maximum": 10485760, "default": 1048576,
                                   "title": "Largest answer (bytes)", "x-advanced": True,
                                   "description": "A longer answer fails the step instead of filling memory."},
            "fail_on_error_status": {"type": "boolean", "default": True, "title": "Fail when the answer is an error",
                                     "x-advanced": True,
                                     "description": "Treat an error status (4xx or 5xx) as a failed step, so "
                                                    "retry and the error port apply."},
        },
    }

    def step_input(self, ctx: NodeContext) -> dict:
        """Show the settings with the URL as rendered, so the run view says what was called."""
        shown = dict(ctx.config)
        try:
            shown["url"] = ctx.render(ctx.config["url"], "config.url")
        except Exception:  # noqa: BLE001 - the run itself reports the template error
            pass
        return shown

    def output_fields(self, config: dict) -> list[dict]:
        return [output_field("status", NUMBER, "The answer's HTTP status, e.g. 200."),
                output_field("ok", YES_NO, "Yes when the status is below 400."),
                output_field("headers", OBJECT, "The answer's main headers (content type, length…)."),
                output_field("body", TEXT, "The answer's body as text."),
                output_field("json", ANY, "The body read as JSON, when it is JSON (else empty).", "Body as data"),
                output_field("duration_ms", NUMBER, "How long the request took, in milliseconds.",
                             "Time taken (ms)")]

    def run(self, ctx: NodeContext) -> NodeResult:
        config = ctx.config
        url = ctx.render(config["url"], "config.url").strip()
        headers = {name: ctx.render(source, f"config.headers.{name}")
                   for name, source in (config.get("headers") or {}).items()}
        headers.setdefault("Idempotency-Key", idempotency_key(ctx.run.get("id"), ctx.node_id))
        headers.setdefault("User-Agent", "Switchboard-flow")
        credentials = node_credential_headers(ctx, config.get("credential"))
        query = {name: ctx.render(source, f"config.query.{name}")
                 for name, source in (config.get("query") or {}).items()} or None
        body: dict = {}
        if config["body_type"] == "json":
            body["json"] = _json_body(ctx.render(config["json_body"], "config.json_body"))
        elif config["body_type"] == "form":
            body["data"] = {name: ctx.render(source, f"config.form.{name}")
                            for name, source in (config.get("form") or {}).items()}
        timeout = float(config["timeout_seconds"])
        started = time.monotonic()
        with guarded_stream(config["method"], url, settings=ctx.settings, timeout=timeout, headers=headers,
                            credentials=credentials, params=query, **body) as response:
            raw = read_limited(response, config["max_response_bytes"])
            status, response_headers = response.status_code, response.headers
        output = _output(status, response_headers, raw, time.monotonic() - started)
        if config["fail_on_error_status"] and status >= 400:
            snippet = redact(output["body"], ctx.secrets)[:300]  # before cutting: a cut secret is not found
            raise NodeError(f"{config['method']} {url} answered HTTP {status}" + (f": {snippet}" if snippet else "."))
        return NodeResult(output=output, port="out")


def _json_body(text: str) -> object:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        raise NodeError(f"The JSON body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                        f"use | tojson to insert values.") from None


def _output(status: int, headers, raw: bytes, seconds: float) -> dict:
    text = raw.decode("utf-8", errors="replace")
    output: dict = {
        "status": status,
        "ok": status < 400,
        "headers": {name: headers[name] for name in _SHOWN_HEADERS if name in headers},
        "body": text,
        "json": None,
        "duration_ms": round(seconds * 1000, 1),
    }
    if "json" in headers.get("content-type", "") or text.lstrip().startswith(("{", "[")):
        try:
            output["json"] = json.loads(text, parse_constant=lambda name: None)
        except ValueError:
            pass
    return output
