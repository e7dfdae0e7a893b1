"""Compare the stack of another commit with this checkout's, interleaved round by round, as ratios.

Usage: make bench BENCH_ARGS='--compare 6ab82bb [--rounds 2] [--duration 4] [--backends sqlite]'
       (or `make bench COMPARE=6ab82bb`, or .venv/bin/python bench/stack_bench.py --compare 6ab82bb ...)

Why interleaved: on a shared machine the noise of the minute is larger than many of the differences
we claim; measuring the two commits in turns (ABBA: other, this, this, other, ...) on the same
settings lets the noise hit both alike, so the ratio is what to trust, not the absolute figures.

The other commit is extracted with `git archive` into a temporary folder (removed afterwards, also on
Ctrl-C or failure) and run with this checkout's Python and packages; each side runs its own
bench/stack.py and bench/appdata.py in its own process (bench/compare_agent.py), with its own Redis
and database kept for all rounds and its web server and workers restarted each round. One round of
one side measures: the start to the first correct answer; the REST trigger at c=1 (p50) and c=16
(runs/s, with the CPU time of the web, worker and Redis process trees over the measured window and
the drain after it, divided by the runs; Redis commands, round trips and SQL statements per run, see
bench/compare_measures.py); and the async trigger at c=16 without a warm-up (accepted/s, then every
run drained: finished/s from the first accepted to the last finished, which must keep up with the
accepted/s or the backlog grows). Prints the table of issue 19's goals and writes
bench/results/compare.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import compare_report
import wrk
from compare_measures import Window
from stack import die_with_parent, first_answer, machine_busy, postgres_available, say, wait_drained

ROOT = Path(__file__).resolve().parent.parent
AGENT = Path(__file__).resolve().parent / "compare_agent.py"
IDLE_SECONDS = 2  # the idle stack's own CPU (polling, heartbeats) is measured this long before the load


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stack_bench.py --compare", description=__doc__.splitlines()[0])
    parser.add_argument("--compare", required=True, metavar="COMMIT", help="the commit to measure against")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per side, interleaved (default 2)")
    parser.add_argument("--duration", type=float, default=4, help="seconds per measured wrk run (default 4)")
    parser.add_argument("--backends", default="sqlite", help="sqlite and/or postgres, comma-separated (default sqlite)")
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if set(args.backends) - {"sqlite", "postgres"} or not args.backends:
        parser.error("--backends takes sqlite and/or postgres")
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds and --duration must be positive")
    return args


def git(*args: str) -> str:
    done = subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@contextmanager
def checkout(commit: str):
    """The commit's files in a temporary folder (git archive: no worktree left registered), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-compare-tree-"))
    try:
        archive = subprocess.Popen(["git", "archive", "--format=tar", commit], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {commit} failed")
        missing = [name for name in ("bench/stack.py", "bench/appdata.py") if not (folder / name).exists()]
        if missing:
            raise SystemExit(f"{commit} has no {', '.join(missing)}: compare mode runs each commit's own stack bench")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def missing_packages(tree: Path) -> list[str]:
    """Requirements of the tree's requirements.txt that this Python's packages do not satisfy."""
    from importlib import metadata

    from packaging.requirements import Requirement

    missing = []
    for line in (tree / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{line} (not installed)")
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{line} (installed {version})")
    return missing


class Side:
    """One commit's stack, driven through its agent process; `values` gathers its rounds."""

    def __init__(self, label: str, tree: Path, backend: str):
        self.label, self.values = label, {}
        self.process = subprocess.Popen([sys.executable, str(AGENT), str(tree), backend, label.split()[0]],
                                        cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        start_new_session=True, preexec_fn=die_with_parent)  # noqa: PLW1509
        self.info = self.call("setup")

    def call(self, do: str, *args):
        self.process.stdin.write(json.dumps({"do": do, "args": list(args)}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label}: its bench process exited (see the lines above)")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.label}: {do} failed: {answer['error']}")
        return answer["ok"]

    def pending(self) -> int:  # what wait_drained asks
        return self.call("pending")

    def add(self, **values) -> None:
        for key, value in values.items():
            self.values.setdefault(key, []).append(value)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.call("close")
            except (RuntimeError, OSError, ValueError) as exc:
                say(f"{self.label}: closing: {exc}")
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                self.process.wait()


def measure_round(side: Side, args, wrk_path: str) -> None:
    """One round of one side: start, c=1, c=16 with its costs, async with its drain; then stop."""
    info = side.info
    began = time.monotonic()
    side.call("start")
    first_answer(info["wait_url"], info["token"], info["expected_text"])
    side.add(start=time.monotonic() - began)
    pids = side.call("listening")
    time.sleep(1)
    idle = Window(pids, info["redis_port"], Path(info["counts"]))
    time.sleep(IDLE_SECONDS)
    side.add(idle_cpu=idle.cpu_percent())
    folder = Path(tempfile.mkdtemp(prefix="switchboard-compare-wrk-"))
    try:
        wait_script = wrk.write_post_script(folder, "wait", info["token"], info["body"])
        async_script = wrk.write_post_script(folder, "async", info["token"], info["body"])
        for connections in (1, 16):
            wrk.run(wrk_path, info["wait_url"], wait_script, min(connections, 2), connections, wrk.WARMUP_SECONDS)
            wait_drained(side, timeout=120)
            since, window = side.call("now"), Window(pids, info["redis_port"], Path(info["counts"]), info.get("pg_db"))
            result = wrk.run(wrk_path, info["wait_url"], wait_script, min(connections, 2), connections, args.duration)
            wait_drained(side, timeout=120)  # requests cut off when wrk stopped still finish
            runs = check(side, f"c={connections}", result, side.call("window", since))
            side.add(**{f"c{connections}_rps": result.rps, f"c{connections}_p50": result.p50_ms,
                        f"c{connections}_p99": result.p99_ms})
            if connections == 16:  # the window's costs: the c=1 run is a latency measure only
                side.add(**window.finish(runs))
        since, window = side.call("now"), Window(pids, info["redis_port"], Path(info["counts"]), info.get("pg_db"))
        result = wrk.run(wrk_path, info["async_url"], async_script, 2, 16, args.duration)
        wait_drained(side, timeout=900)
        runs_window = side.call("window", since)
        runs = check(side, "async", result, runs_window)
        async_costs = window.finish(runs)
        finish_rate = runs / compare_report.seconds_between(runs_window["first_created"], runs_window["last_finished"])
        side.add(async_rps=result.rps, async_p99=result.p99_ms, async_done_rps=finish_rate,
                 async_drained=finish_rate >= result.rps and set(runs_window["statuses"]) == {"succeeded"}
                 and runs >= result.requests - result.non_2xx, async_cpu_ms=async_costs["cpu_ms"])  # every 202 has its run
        say(f"{side.label}: start {side.values['start'][-1]:.2f} s, c=1 p50 {side.values['c1_p50'][-1]:.2f} ms, "
            f"c=16 {side.values['c16_rps'][-1]:.0f}/s at {side.values['cpu_ms'][-1]:.1f} ms CPU/run, "
            f"async {result.rps:.0f}/s accepted, {finish_rate:.0f}/s finished")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        side.call("stop")


def check(side: Side, label: str, result: wrk.WrkResult, window: dict) -> int:
    """The runs of the window; anything but 2xx answers and succeeded runs is noted on the side."""
    bad = result.non_2xx + result.socket_errors
    if bad:
        side.values.setdefault("notes", []).append(f"{label}: {bad} non-2xx answers or socket errors")
    if set(window["statuses"]) - {"succeeded"}:
        side.values.setdefault("notes", []).append(f"{label}: runs ended {window['statuses']}")
    return window["total"]


def run_backend(backend: str, trees: dict[str, Path], args, wrk_path: str) -> dict[str, Side]:
    """Both sides of one backend, set up once, then measured in ABBA order round by round."""
    sides: dict[str, Side] = {}
    try:
        for label, tree in trees.items():
            say(f"{backend}: setting up {label}")
            sides[label] = Side(label, tree, backend)
        order = list(sides.values())
        for round_no in range(args.rounds):
            for side in order if round_no % 2 == 0 else order[::-1]:
                say(f"{backend}: round {round_no + 1} of {args.rounds}: {side.label}")
                measure_round(side, args, wrk_path)
    finally:
        for side in sides.values():
            side.close()
    return sides


def measure(args, other: str, this_label: str, notes: list[str], wrk_path: str) -> dict:
    """Every backend's two sides, with the other commit's files present only meanwhile."""
    results = {}
    with checkout(other) as tree:
        for label, path in ((f"other {other}", tree), (this_label, ROOT)):
            if missing := missing_packages(path):
                raise SystemExit(f"{label} needs packages this Python lacks: {'; '.join(missing)}. "
                                 f"Install them (pip install -r requirements.txt of that commit) and run again.")
        for backend in args.backends:
            if backend == "postgres" and (why := postgres_available()):
                notes.append(f"PostgreSQL skipped: unavailable ({why})")
                continue
            results[backend] = run_backend(backend, {f"other {other}": tree, this_label: ROOT}, args, wrk_path)
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    wrk_path = wrk.ensure_wrk()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop agents, remove trees
    other = git("rev-parse", "--verify", "--short", f"{args.compare}^{{commit}}")
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "app", "flows", "worker.py", "wsgi.py", "bench") != ""
    this_label = f"this {head}{'+' if dirty else ''}"
    busy, began, notes = machine_busy(), time.monotonic(), []
    try:
        results = measure(args, other, this_label, notes, wrk_path)
    except KeyboardInterrupt:
        say("interrupted: both stacks stopped, the other commit's files removed")
        return 130
    header = compare_report.header(args, argv, other, this_label, busy, (time.monotonic() - began) / 60)
    text = compare_report.write(ROOT / "bench" / "results", header, results, notes)
    print("\n" + text, flush=True)
    return 0
