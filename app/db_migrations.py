"""Database migrations (Flask-Migrate over Alembic), loaded only when something migrates.

Why not `Migrate().init_app` in `create_app`: importing Alembic costs ~10 MB in every process,
and only `flask db …` and `make run`'s start-up migrate; web workers, RQ workers and the
scheduler never do. So `create_app` registers a `db` command group that loads Flask-Migrate
when a `flask db` command runs, and `upgrade(app)` does the same for code.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def init_migrate(app: Flask):
    """Bind Flask-Migrate to `app` once (it also puts its own `db` group in place of ours)."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        from app.extensions import db

        Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


def upgrade(app: Flask) -> None:
    """Apply every pending migration to the app's database (`flask db upgrade` from code)."""
    init_migrate(app)
    from flask_migrate import upgrade as alembic_upgrade

    with app.app_context():
        alembic_upgrade()


class _LazyDbGroup(click.Group):
    """`flask db …`: hands every lookup to Flask-Migrate's own group, imported on first use."""

    def __init__(self, app: Flask):
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")
        self._app = app

    def _real(self) -> click.Group:
        init_migrate(self._app)
        from flask_migrate.cli import db as group

        return group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self._real().make_context(info_name, args, parent=parent, **extra)  # its options and callback

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._real().get_command(ctx, name)


def register_db_command(app: Flask) -> None:
    app.cli.add_command(_LazyDbGroup(app))
