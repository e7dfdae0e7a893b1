"""Settings: read once into a typed object, bad values refused at start, secret files shared safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, Settings, replace_settings, settings
from tests.conftest import ROOT

FERNET_KEY = "vB5rEDCD9TFCiwY36pZ5Z2zyI1T5XpLwACGJE2EYZH0="


def test_defaults_need_nothing_set_and_keep_generated_secrets(tmp_path):
    first = Settings.from_env(tmp_path, env={})
    again = Settings.from_env(tmp_path, env={})

    assert first.database_url == f"sqlite:///{tmp_path / 'switchboard.db'}"
    assert (first.redis_url, first.queue_name, first.max_steps, first.http_allowed_networks) == (None, "runs", 1000, ())
    assert len(first.secret_key) > 40 and len(first.credentials_key) == 44
    assert (again.secret_key, again.credentials_key) == (first.secret_key, first.credentials_key)
    assert first.secret_key not in repr(first) and first.credentials_key not in repr(first)


def test_values_are_parsed_to_their_types():
    env = {"DATABASE_URL": "postgres://u:p@db/x", "SECRET_KEY": "s", "CREDENTIALS_KEY": FERNET_KEY,
           "MAX_STEPS": "7", "PUBLIC_BASE_URL": "https://example.com/", "HTTP_NODE_ALLOWED_NETWORKS": "10.0.0.0/8, ::1"}

    values = Settings.from_env(Path("/nonexistent"), env=env)  # nothing is generated: no folder needed

    assert values.database_url == "postgresql+psycopg://u:p@db/x"
    assert (values.max_steps, values.public_base_url) == (7, "https://example.com")
    assert values.http_allowed_networks == ("10.0.0.0/8", "::1/128")
    assert "u:p@" not in repr(values)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("MAX_STEPS", "many", "MAX_STEPS must be an integer, got 'many'"),
    ("MAX_STEPS", "0", "MAX_STEPS must be at least 1, got 0"),
    ("RUN_LEASE_SECONDS", "1", "RUN_LEASE_SECONDS must be at least 2"),
    ("IDEMPOTENCY_TTL_HOURS", "1.5", "IDEMPOTENCY_TTL_HOURS must be an integer"),
    ("PUBLIC_BASE_URL", "example.com", "PUBLIC_BASE_URL must start with http:// or https://"),
    ("CREDENTIALS_KEY", "short", "CREDENTIALS_KEY must be a Fernet key"),
    ("HTTP_NODE_ALLOWED_NETWORKS", "10.0.0.0/8,nonsense", "HTTP_NODE_ALLOWED_NETWORKS: "),
])
def test_a_bad_value_fails_at_start_naming_the_variable(tmp_path, name, value, says):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(tmp_path, env={"SECRET_KEY": "s", name: value})
    assert says in str(error.value)


def test_an_empty_secret_file_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "credentials_key").write_text("")

    with pytest.raises(ConfigError) as error:
        Settings.from_env(tmp_path, env={"SECRET_KEY": "s"})

    assert "CREDENTIALS_KEY is not set" in str(error.value) and "delete it" in str(error.value)


def test_the_app_carries_one_typed_settings_object(app):
    with app.app_context():
        assert settings() is settings(app)
        assert isinstance(settings().lease_seconds, int)
        assert "QUEUE_NAME" not in app.config  # read through settings(), not the Flask config
    replaced = replace_settings(app, max_steps=5)
    assert settings(app) is replaced and replaced.max_steps == 5
    with pytest.raises(AttributeError):
        replaced.max_steps = 6  # frozen: a change goes through replace_settings


def test_worker_refuses_a_bad_setting_with_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SWITCHBOARD_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s",
           "JOB_TIMEOUT": "soon"}

    done = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 2
    assert done.stderr.strip() == "worker.py: JOB_TIMEOUT must be an integer, got 'soon'"


RACER = """
import sys, time
from pathlib import Path
from app.config import Settings
print("ready", flush=True)
go = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
values = Settings.from_env(Path(sys.argv[1]), env={})
print(values.secret_key, values.credentials_key, flush=True)
"""


@pytest.mark.parametrize("round_", range(3))
def test_processes_starting_together_on_a_fresh_instance_share_one_key(tmp_path, round_):
    instance, go = tmp_path / "instance", tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(instance), str(go)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    for racer in racers:  # every process has imported the app and waits at the line
        assert racer.stdout.readline().strip() == "ready"
    go.touch()

    answers = [racer.communicate(timeout=60) for racer in racers]

    assert [racer.returncode for racer in racers] == [0] * len(racers), [err for _, err in answers]
    keys = {out.strip() for out, _ in answers}
    assert len(keys) == 1, keys
    assert keys.pop() == f"{(instance / 'secret_key').read_text()} {(instance / 'credentials_key').read_text()}"
    assert sorted(path.name for path in instance.iterdir()) == ["credentials_key", "secret_key"]  # no temp files
