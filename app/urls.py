"""Build the absolute URLs we show to users (trigger URLs, status URLs).

Behind a proxy the host a request arrived on is not the one users should paste into other
systems, so `PUBLIC_BASE_URL` wins when set; outside a request (the CLI) we fall back to the
local address `make run` listens on.
"""

from __future__ import annotations

import os

from flask import current_app, has_request_context, url_for

from app.config import settings


def public_url(endpoint: str, **values) -> str:
    base = settings().public_base_url
    if base:
        if has_request_context():
            return base + url_for(endpoint, **values)
        with current_app.test_request_context("/"):
            return base + url_for(endpoint, **values)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    port = os.environ.get("PORT") or "5000"
    with current_app.test_request_context("/", base_url=f"http://127.0.0.1:{port}"):
        return url_for(endpoint, _external=True, **values)
