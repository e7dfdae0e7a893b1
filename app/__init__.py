"""Create the Switchboard web app (Flask application factory).

Nothing here touches the network or the database at import time: `create_app` reads settings,
binds extensions and registers blueprints; connections open on first use.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app import config
from app.body_limit import BodyLimitRequest


def create_app(overrides: dict | None = None, instance_path: str | None = None,
               settings_overrides: dict | None = None) -> Flask:
    """Build the app; `overrides` are Flask config keys, `settings_overrides` fields of `config.Settings`."""
    instance_path = (instance_path or os.environ.get("SWITCHBOARD_INSTANCE_PATH")
                     or str(Path(__file__).resolve().parent.parent / "instance"))
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.request_class = BodyLimitRequest  # an over-limit chunked body is a 413, not a truncated one
    values = config.Settings.from_env(Path(app.instance_path))
    config.init_app(app, dataclasses.replace(values, **(settings_overrides or {})))
    app.config.update(overrides or {})
    _configure_logging()

    from app import auth, digits, errors, models, security_headers, session_cookie  # noqa: F401  (models registers the tables)
    from app.cli import register_cli
    from app.db_migrations import register_db_command
    from app.extensions import csrf, db
    from app.services.triggers import lookup_cache

    errors.init_app(app)  # first: its hooks keep a JSON body before CSRF or anything else reads a form
    digits.init_app(app)  # before any blueprint: its <int:...> rules take the strict converter
    security_headers.init_app(app)
    session_cookie.init_app(app)
    db.init_app(app)
    register_db_command(app)  # Flask-Migrate loads only when a `flask db` command runs
    csrf.init_app(app)
    auth.init_app(app)
    register_cli(app)
    lookup_cache.init_app(app)  # every commit that changes what a trigger request looks up empties the caches

    from app.blueprints import (api, api_draft_tests, api_flows_manage, api_keys_api, api_schedules,  # noqa: F401
                                api_members, api_values, api_versions, auth as auth_views, credentials, health, hooks,
                                join, members, metrics, openai_api, profile, settings_ui, triggers_api, ui, ui_manage,
                                ui_runs)

    for blueprint in (health.bp, auth_views.bp, ui.bp, settings_ui.bp, api.bp, triggers_api.bp, api_keys_api.bp,
                      hooks.bp, metrics.bp, credentials.api_bp, credentials.ui_bp, openai_api.bp, profile.bp, members.bp,
                      join.bp, api_members.bp):
        app.register_blueprint(blueprint)
    from app.blueprints import audit as audit_views

    app.register_blueprint(audit_views.api_bp)
    app.register_blueprint(audit_views.ui_bp)
    # Browsers ask for /favicon.ico whatever the page links; a 404 there was a console error on every page.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))
    return app


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Let the web process and workers share one SQLite file safely (WAL, foreign keys).

    How long a writer waits for the lock is the driver's `timeout` (SQLITE_BUSY_TIMEOUT_MS, set in
    `create_app`): short on the web, so a database locked by another process gets a 503 in seconds
    instead of holding every request thread for 30 s; long in the worker, which nobody waits on.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
