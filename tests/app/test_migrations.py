"""Migrations: one head, and upgrading an empty database yields exactly the models' schema."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_single_alembic_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "x", "PATH": "/usr/bin:/bin",
           "SWITCHBOARD_INSTANCE_PATH": str(tmp_path)}
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "check"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
