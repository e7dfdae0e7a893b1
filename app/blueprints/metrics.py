"""`GET /metrics`: Prometheus text format, for the operator's monitoring.

Who may read it: with `METRICS_TOKEN` set, callers that send `Authorization: Bearer <token>`;
without it, only requests from the machine itself (loopback). The numbers say how busy each
workspace's flows are, so they are not public. Behind a reverse proxy on the same machine every
request looks local: set METRICS_TOKEN there.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from app.config import settings
from app.services.runs import metrics
from app.services.workspaces.tokens import bearer_token

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


@bp.get("/metrics")
def scrape():
    token = settings().metrics_token
    if token:
        sent = bearer_token(request.headers.get("Authorization")) or ""
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return _refuse(401, "Send 'Authorization: Bearer <METRICS_TOKEN>'.", {"WWW-Authenticate": "Bearer"})
    elif request.remote_addr not in LOOPBACK:
        return _refuse(403, "Metrics are served to this machine only; set METRICS_TOKEN to scrape from elsewhere.")
    return Response(metrics.render(), mimetype=None, content_type=CONTENT_TYPE)


def _refuse(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8", headers=headers or {})
