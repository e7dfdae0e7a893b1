"""One side of `bench/compare.py`: runs inside a checkout of some commit and drives that commit's stack.

Usage (by compare.py only): python bench/compare_agent.py TREE BACKEND LABEL, then one JSON request a
line on stdin, one JSON answer a line on the original stdout.

Why a process per side, importing that commit's own `bench/stack.py` and `bench/appdata.py`: each
commit knows how its stack starts (its WSGI server, its worker flags, its module paths) and how its
schema is seeded; this commit's bench code must not assume the other's internals. Only a small API
is relied on, present since the stack benchmark began: Stack(workdir, database_url) with start_redis,
migrate, start_services, wait_workers_listening, stop_services, stop and the web/family/redis
processes; BenchApp(env) with seed, hook_url, pending, window, close. Its app logs go to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

TREE, BACKEND, LABEL = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3]
PROBE = Path(__file__).resolve().parent / "probe"
sys.path[:1] = [str(TREE / "bench"), str(TREE)]  # the other commit's bench/ and app/, not ours


class Side:
    """That commit's stack and seeded data, answering the driver's requests."""

    def __init__(self):
        import stack as tree_stack  # the tree's bench/stack.py

        self.tree_stack = tree_stack
        self.workdir = Path(tempfile.mkdtemp(prefix=f"switchboard-compare-{LABEL}-"))
        self.counts = self.workdir / "counts"
        self.counts.mkdir()
        os.environ.update(PYTHONPATH=str(PROBE), BENCH_COUNT_DIR=str(self.counts))  # Stack copies os.environ
        self.stack = self.data = None
        self.pg = False

    def setup(self) -> dict:
        from appdata import BODY, EXPECTED_TEXT, BenchApp

        if BACKEND == "postgres":  # each side its own database, both kept for all rounds
            self.tree_stack.PG_BENCH_DB = f"switchboard_bench_{LABEL}"
            self.pg, url = True, self.tree_stack.recreate_postgres_database()
        else:
            url = f"sqlite:///{self.workdir / 'switchboard.db'}"
        self.stack = self.tree_stack.Stack(self.workdir, url)
        self.stack.start_redis()
        self.stack.migrate()
        self.data = BenchApp(self.stack.env)
        self.data.seed()
        base = self.stack.base_url
        return {"wait_url": self.data.hook_url(base, "ops-status"), "async_url": self.data.hook_url(base, "ops-async"),
                "token": self.data.token, "body": BODY, "expected_text": EXPECTED_TEXT,
                "redis_port": self.stack.redis_port, "counts": str(self.counts), "logs": str(self.workdir),
                "pg_db": self.tree_stack.PG_BENCH_DB if self.pg else None}

    def start(self) -> dict:
        self.stack.start_services(workers=2)
        return {}

    def listening(self) -> dict:
        self.stack.wait_workers_listening()
        return {"web": self.stack.web.pid, "workers": self.stack.family.pid, "redis": self.stack.redis.pid}

    def stop(self) -> dict:
        self.stack.stop_services()
        return {}

    def pending(self) -> int:
        return self.data.pending()

    def now(self) -> str:
        from app.models.types import utcnow

        return utcnow().isoformat()

    def window(self, since: str) -> dict:
        window = self.data.window(dt.datetime.fromisoformat(since))
        return {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in window.items()}

    def close(self) -> dict:
        for step in (lambda: self.data and self.data.close(), lambda: self.stack and self.stack.stop(),
                     lambda: self.pg and self.tree_stack.recreate_postgres_database(drop_only=True)):
            try:
                step()
            except Exception as exc:  # noqa: BLE001  (clean up the rest regardless)
                print(f"[agent {LABEL}] clean-up step failed: {exc}", file=sys.stderr, flush=True)
        self.data = self.stack = None
        self.pg = False
        shutil.rmtree(self.workdir, ignore_errors=True)
        return {}


def serve() -> None:
    """Answer requests until "close" or the end of stdin; always stop the stack and remove its folder."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything the app prints goes to stderr, never into the answers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver closes us on Ctrl-C
    side = Side()
    try:
        for line in sys.stdin:
            request = json.loads(line)
            try:
                answer = {"ok": getattr(side, request["do"])(*request.get("args", []))}
            except Exception as exc:  # noqa: BLE001  (the driver reports it with the side's name)
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
            if request["do"] == "close":
                return
    finally:
        side.close()


if __name__ == "__main__":
    serve()
