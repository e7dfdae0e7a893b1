"""Liveness and readiness probes for load balancers and `make run`.

`/healthz` touches nothing, so it answers at once even while the database is locked or down;
`/readyz` answers within about a second whatever the database does, naming what is not ready.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
from app.queueing.connection import get_redis

bp = Blueprint("health", __name__)
PROBE_SECONDS = 1.0


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process serves requests; checks nothing else on purpose."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Answer 200 only when the database and Redis both answer, and say which one does not."""
    checks = {"database": _database_check(), "redis": _redis_check()}
    ready = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), 200 if ready else 503


def _database_check() -> str:
    url = db.engine.url
    try:
        if url.get_backend_name() == "sqlite" and url.database and not url.database.startswith("file:") \
                and url.database != ":memory:":
            _sqlite_writable(url.database)
        else:
            db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is what the operator needs
        db.session.rollback()
        return f"unavailable: {type(exc).__name__}: {str(exc)[:200]}"


def _sqlite_writable(path: str) -> None:
    """Take SQLite's write lock and let it go at once, waiting at most PROBE_SECONDS.

    Why a write: in WAL mode reads go on while another process holds the write lock, so
    `SELECT 1` said "ready" while every trigger request was failing. A connection of its own
    keeps the pool's connections (and their busy timeout) untouched.
    """
    connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=PROBE_SECONDS, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _redis_check() -> str:
    try:
        get_redis().ping()
        return "ok"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
