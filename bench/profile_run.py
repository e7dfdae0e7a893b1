"""Profile the web and worker process trees under c=16 sync load with py-spy; print self time by library.

Usage: .venv/bin/python bench/profile_run.py [--commit 6ab82bb] [--seconds 20] [--backend sqlite]
           [--py-spy PATH] [--rate 100] [--top 10] [--all-active]

Why py-spy from outside and per library: issue 19 asks where a run's CPU goes before anything is
changed, and neither commit's code may be touched to find out. py-spy samples the running gunicorn
master and the worker.py family (with their forked children) without stopping them (--nonblocking)
and by default keeps only the samples of the thread holding the GIL (--gil): that is the Python CPU,
where this workload spends most of its time (issue 19: 90 % user time). Without it (--all-active)
py-spy's own idle filter decides, and on this loaded machine it let sleeping and waiting threads in
(a thread in time.sleep took 5 % of the samples). Waits in system calls and the DB's C code release
the GIL, so --gil leaves them out; the CPU per run printed above the table counts them. Each sample
is charged to the innermost frame that is not the standard library (socket code under redis-py
counts as redis-py, the sqlite3 module under SQLAlchemy as SQLAlchemy).
Without --commit the stack is this checkout's; with it, that commit from git archive (as compare
mode does, bench/compare.py). py-spy is not a dependency: install it anywhere, e.g. into a throwaway
venv (`python3 -m venv /somewhere/pyspy && /somewhere/pyspy/bin/pip install py-spy`), and pass --py-spy.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import compare
import wrk
from compare_measures import Window
from stack import first_answer, say, wait_drained

ROOT = Path(__file__).resolve().parent.parent
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")
STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
# A path part -> the library it belongs to (the first match wins); the rest of site-packages by its folder.
SQLALCHEMY = "SQLAlchemy (+ DB driver)"
LIBRARIES = (
    ("/sqlalchemy/", SQLALCHEMY), ("/flask_sqlalchemy/", SQLALCHEMY),
    ("/psycopg", "psycopg (PostgreSQL driver)"), ("/gunicorn/", "gunicorn"),
    ("/flask/", "Flask/Werkzeug/Jinja"), ("/werkzeug/", "Flask/Werkzeug/Jinja"), ("/jinja2/", "Flask/Werkzeug/Jinja"),
    ("/flask_login/", "Flask/Werkzeug/Jinja"), ("/itsdangerous/", "Flask/Werkzeug/Jinja"),
    ("/markupsafe/", "Flask/Werkzeug/Jinja"), ("/blinker/", "Flask/Werkzeug/Jinja"),
    ("/redis/", "redis-py"), ("/hiredis/", "redis-py"), ("/rq/", "RQ"), ("/rq_scheduler/", "RQ"),
    ("/jsonschema", "jsonschema"), ("/referencing/", "jsonschema"), ("/rpds/", "jsonschema"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", help="profile this commit's stack instead of this checkout's")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of c=16 load profiled (default 20)")
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--py-spy", dest="py_spy", default=shutil.which("py-spy"), help="the py-spy program")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second (default 100)")
    parser.add_argument("--keep-raw", dest="keep_raw", type=Path,
                        help="copy py-spy's raw stacks (web.raw, workers.raw) into this folder, e.g. for a flame graph")
    parser.add_argument("--top", type=int, default=10, help="functions listed per role (default 10)")
    parser.add_argument("--all-active", dest="gil", action="store_false",
                        help="sample every thread py-spy deems active instead of the one holding the GIL")
    args = parser.parse_args(argv)
    if not args.py_spy:
        parser.error("py-spy not found: install it (pip install py-spy, e.g. into a throwaway venv) and pass --py-spy")
    return args


def library(path: str, tree: Path) -> str:
    """Which library (or our code, or the standard library) a frame's file belongs to."""
    if "/bench/probe/" in path:
        return "the bench's counting probe (bench/probe)"
    if path.startswith(str(tree) + "/") and "site-packages/" not in path:  # the .venv may live in the tree
        relative = path[len(str(tree)) + 1:]
        return "our code: flows (engine)" if relative.startswith("flows/") else "our code: app, worker.py"
    for part, name in LIBRARIES:
        if part in path:
            return name
    if "site-packages/" in path:
        return "other library: " + path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path.startswith(STDLIB) or path.startswith("<"):
        return "stdlib"
    return "other: " + path


def charge(raw: str, tree: Path) -> tuple[Counter, Counter]:
    """Samples per library and per innermost function, from py-spy's raw (collapsed stack) output."""
    libraries, functions = Counter(), Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [match for frame in stack.split(";") if (match := FRAME.match(frame))]
        charged = "stdlib (not under any library frame)"
        for frame in reversed(frames):
            name = library(frame["path"], tree)
            if name != "stdlib":
                charged = name
                break
        libraries[charged] += int(count)
        if frames:
            leaf = frames[-1]
            functions[f"{leaf['function']} ({Path(leaf['path']).name}; {charged})"] += int(count)
    return libraries, functions


def record(py_spy: str, pid: int, args, out: Path) -> subprocess.Popen:
    """py-spy on the process and its children for --seconds, raw collapsed stacks into `out`."""
    command = [py_spy, "record", "-p", str(pid), "-s", "-d", f"{args.seconds:g}", "-r", str(args.rate), "-f", "raw",
               "--full-filenames", "--nolineno", "--nonblocking", *(["--gil"] if args.gil else []), "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def profile(side: compare.Side, args, folder: Path) -> tuple[dict, dict]:
    """Start the side's services, warm up, then profile web and workers over --seconds of c=16 load."""
    info = side.info
    side.call("start")
    first_answer(info["wait_url"], info["token"], info["expected_text"])
    pids = side.call("listening")
    script = wrk.write_post_script(folder, "wait", info["token"], info["body"])
    wrk_path = wrk.ensure_wrk()
    wrk.run(wrk_path, info["wait_url"], script, 2, 16, wrk.WARMUP_SECONDS)
    wait_drained(side, timeout=120)
    since, window = side.call("now"), Window(pids, info["redis_port"], Path(info["counts"]), info.get("pg_db"))
    spies = {role: record(args.py_spy, pids[role], args, folder / f"{role}.raw")
             for role in ("web", "workers")}
    time.sleep(0.5)  # py-spy attached before the load begins
    result = wrk.run(wrk_path, info["wait_url"], script, 2, 16, args.seconds)
    wait_drained(side, timeout=120)
    costs = window.finish(side.call("window", since)["total"])
    profiles = {}
    for role, spy in spies.items():
        _, errors = spy.communicate(timeout=args.seconds + 60)
        out = folder / f"{role}.raw"
        if spy.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy on {role} failed ({spy.returncode}): {errors.strip()[-500:]}")
        profiles[role] = charge(out.read_text(), Path(side.info["tree"]))
        if args.keep_raw:
            args.keep_raw.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, args.keep_raw / out.name)
    costs.update(rps=result.rps, p50=result.p50_ms)
    return profiles, costs


def show(profiles: dict, costs: dict, label: str, args) -> str:
    roles = list(profiles)
    totals = {role: sum(profiles[role][0].values()) or 1 for role in roles}
    names = sorted({name for role in roles for name in profiles[role][0]},
                   key=lambda name: -sum(profiles[role][0][name] / totals[role] for role in roles))
    lines = [f"Profile of {label} under c=16 sync load: {costs['rps']:.0f} runs/s, p50 {costs['p50']:.1f} ms, "
             f"CPU per run {costs['cpu_ms']:.1f} ms (web {costs['cpu_web_ms']:.1f}, workers "
             f"{costs['cpu_workers_ms']:.1f}, redis {costs['cpu_redis_ms']:.1f}; while sampled); per run: "
             f"{costs['redis_cmds']:.1f} Redis commands, round trips web {costs['roundtrips_web']:.1f} / workers "
             f"{costs['roundtrips_workers']:.1f}, SQL statements web {costs['sql_web']:.1f} / workers "
             f"{costs['sql_workers']:.1f}.", "",
             f"py-spy {'samples of the thread holding the GIL' if args.gil else 'samples of active threads'}, "
             f"{args.rate}/s for {args.seconds:g} s; each charged to its innermost non-stdlib frame.", "",
             "| self time charged to | " + " | ".join(f"{role} (% of {totals[role]} samples)" for role in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{100 * profiles[role][0][name] / totals[role]:.0f} %"
                                                  for role in roles) + " |")
    for role in roles:
        lines += ["", f"Top innermost functions, {role}:"]
        lines += [f"- {100 * n / totals[role]:.1f} % {name}" for name, n in profiles[role][1].most_common(args.top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    label = f"commit {compare.git('rev-parse', '--short', args.commit)}" if args.commit else \
        f"this checkout ({compare.git('rev-parse', '--short', 'HEAD')})"
    folder = Path(tempfile.mkdtemp(prefix="switchboard-profile-"))
    try:
        with compare.checkout(args.commit) if args.commit else nullcontext(ROOT) as tree:
            say(f"profiling {label} on {args.backend} for {args.seconds:g} s")
            side = compare.Side("profiled " + label, tree, args.backend)
            try:
                side.info["tree"] = str(Path(tree).resolve())
                profiles, costs = profile(side, args, folder)
            finally:
                side.close()
        print("\n" + show(profiles, costs, label, args), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
