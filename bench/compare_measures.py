"""What one load window costs the whole stack per run: CPU of each process tree, Redis commands, SQL.

Why these three and measured this way: issue 19 judges a run's cost as the CPU time of the whole
stack (web, workers, Redis) divided by the runs, and asks where it goes. CPU time comes from the
kernel's per-process accounting (psutil: user + system of every live process of a tree, plus what
its reaped children used), so it does not depend on how busy the shared machine is, unlike wall time.
Redis commands come from the server's own `INFO commandstats` (exact, nothing hooked). SQL
statements, commits and Redis round trips per process role come from bench/probe/sitecustomize.py,
which hooks SQLAlchemy and redis-py in the started processes only (see there). On PostgreSQL the
CPU of the server's backends serving the bench database is measured too, apart from the total.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

ROLES = ("web", "workers", "redis")
COUNTED = ("sql", "commits", "roundtrips")  # the probe's three totals, in its files' order
PROBE_SETTLE = 0.3  # > the probe's flush period: every count up to now is in its file


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds per live process of the tree rooted at `pid` (with its reaped children's)."""
    import psutil

    seconds = {}
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return seconds
    for member in members:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[member.pid] = times.user + times.system + times.children_user + times.children_system
    return seconds


def redis_calls(port: int) -> Counter:
    """Calls per command since the server started, leaving out INFO (ours)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return Counter({name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()
                    if name != "cmdstat_info"})


def postgres_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds per PostgreSQL backend process serving `database` now (none without one)."""
    if not database:
        return {}
    import psycopg

    from stack import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    seconds = {}
    for pid in pids:
        seconds.update(tree_cpu(pid))
    return seconds


class Window:
    """Snapshots at the start of a load window; `finish(runs)` gives the per-run costs since then."""

    def __init__(self, pids: dict[str, int], redis_port: int, counts: Path, pg_db: str | None = None):
        self.pids, self.redis_port, self.counts, self.pg_db = pids, redis_port, counts, pg_db
        time.sleep(PROBE_SETTLE)
        self.counted = self._counted()
        self.cpu = {role: tree_cpu(pid) for role, pid in pids.items()}
        self.pg_cpu = postgres_cpu(pg_db)
        self.began = time.monotonic()
        self.calls = redis_calls(redis_port)

    def _cpu_delta(self, role: str) -> float:
        before = self.cpu[role]
        return sum(now - before.get(pid, 0.0) for pid, now in tree_cpu(self.pids[role]).items())

    def _counted(self) -> dict[str, Counter]:
        """The probe's totals per role, summed over that role's processes (each has its own file)."""
        counted: dict[str, Counter] = {}
        for path in self.counts.glob("*.count"):
            numbers = path.read_text().split()
            if len(numbers) == len(COUNTED):
                counted.setdefault(path.name.split(".")[0], Counter()).update(dict(zip(COUNTED, map(int, numbers))))
        return counted

    def cpu_percent(self) -> float:
        """CPU of web, workers and Redis together since the start, in % of one core (for an idle window)."""
        return sum(self._cpu_delta(role) for role in ROLES) * 100 / (time.monotonic() - self.began)

    def finish(self, runs: int) -> dict[str, float]:
        """Per-run values: cpu_ms (and per role), redis_cmds, and sql/commits/roundtrips per role."""
        runs = max(runs, 1)
        values = {f"cpu_{role}_ms": self._cpu_delta(role) * 1000 / runs for role in ROLES}
        values["cpu_ms"] = sum(values[f"cpu_{role}_ms"] for role in ROLES)
        if self.pg_db:  # not in cpu_ms (issue 19's measure is web + workers + Redis), shown beside it
            values["cpu_postgres_ms"] = sum(now - self.pg_cpu.get(pid, 0.0)
                                            for pid, now in postgres_cpu(self.pg_db).items()) * 1000 / runs
        calls = redis_calls(self.redis_port) - self.calls
        values["redis_cmds"] = sum(calls.values()) / runs
        values["redis_top"] = ", ".join(f"{name} {n / runs:.1f}" for name, n in calls.most_common(8))
        time.sleep(PROBE_SETTLE)
        counted = self._counted()
        for role in ("web", "workers"):
            delta = counted.get(role, Counter())
            delta.subtract(self.counted.get(role, Counter()))
            for name in COUNTED:
                values[f"{name}_{role}"] = delta[name] / runs
        return values
