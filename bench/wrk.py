"""Drive wrk against a REST trigger and read back its throughput and latency percentiles.

Why wrk and not a Python client: a Python load generator on this 2-core machine would compete
with gunicorn and the workers for the GIL-bound CPU and measure itself; wrk is a small C event
loop. It needs a Lua script to send a POST with headers and a body, written next to the stack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
WARMUP_SECONDS = 2


def ensure_wrk() -> str:
    """Return wrk's path, installing Debian's package when we are root; exit with a message otherwise."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is not installed and this is not root: run `sudo apt-get install -y wrk`, then `make bench`.")
    print("[bench] installing wrk (apt-get install -y wrk)", flush=True)
    def apt(*args: str) -> int:
        return subprocess.run(["apt-get", *args], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False,
                              env=dict(os.environ, DEBIAN_FRONTEND="noninteractive")).returncode

    if apt("install", "-y", "-qq", "wrk") != 0:
        apt("update", "-qq")  # a fresh machine may have no package lists yet
        apt("install", "-y", "-qq", "wrk")
    path = shutil.which("wrk")
    if not path:
        sys.exit("could not install wrk with apt-get; install it by hand and run `make bench` again.")
    return path


def write_post_script(folder: Path, name: str, token: str, body: dict) -> Path:
    """Write a wrk Lua script that POSTs `body` as JSON with a bearer token."""
    payload = json.dumps(body)
    for text in (payload, token):
        if "]==]" in text:
            raise ValueError("body or token would end the Lua long string")
    path = folder / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{payload}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = [==[Bearer {token}]==]\n'
    )
    return path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    output: str


def _ms(value: str, unit: str) -> float:
    return float(value) * UNIT_MS[unit]


def parse(output: str) -> WrkResult:
    """Read wrk --latency's summary: the request count, Requests/sec and the 50%/99% lines."""
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
        return match

    count = find(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
    p50 = find(r"^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    p99 = find(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests=int(count.group(1)), seconds=_ms(count.group(2), count.group(3)) / 1000,
        rps=float(find(r"^Requests/sec:\s*([\d.]+)").group(1)),
        p50_ms=_ms(*p50.groups()), p99_ms=_ms(*p99.groups()),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        output=output,
    )


def run(wrk: str, url: str, script: Path, threads: int, connections: int, seconds: float) -> WrkResult:
    """One wrk run with --latency; the timeout leaves room for wrk's own 2 s socket timeout."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)
