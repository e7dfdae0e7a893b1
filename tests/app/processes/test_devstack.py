"""`make run`'s supervisor: it comes up, prints how to log in and a working curl, and Ctrl-C stops all.

Runs the real `python -m app.processes.devstack` (embedded Redis, migrations, gunicorn, worker, scheduler)
in a temporary instance folder on a free port.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """Collect a process's output on a thread, so waiting for a line is bounded in time."""

    def __init__(self, process):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(process,), daemon=True)
        self._thread.start()

    def _pump(self, process):
        for line in process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = regex.search(line)
                if match:
                    return match
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not printed within {timeout} s; output was:\n{''.join(self.lines)}")


def _descendants(pid: int) -> set[int]:
    result = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in result.stdout.splitlines():
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def test_make_run_stack_answers_curl_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update({"PORT": str(port), "SWITCHBOARD_INSTANCE_PATH": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen([sys.executable, "-m", "app.processes.devstack"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    output = Output(process)
    children: set[int] = set()
    try:
        output.wait_for(r"Log in at .* as \S+ with password \S+", 120)
        url = output.wait_for(r"REST trigger (http://\S+)", 10).group(1)
        secret = output.wait_for(r"secret \(shown only this once\): (sbt_\S+)", 10).group(1)
        assert url.startswith(f"http://127.0.0.1:{port}/hooks/")

        request = urllib.request.Request(url, method="POST", data=json.dumps(
            {"user_message": "What is the status of db?"}).encode(), headers={
            "Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        elapsed = time.monotonic() - started
        assert response.status == 200 and body["status"] == "succeeded", body
        assert body["output"]["text"]
        assert elapsed < 5, f"first answer took {elapsed:.2f} s"

        base, model = output.wait_for(r"OpenAI-compatible API: base URL (\S+), model\(s\) ([\w-]+)", 10).groups()
        key = output.wait_for(r"API key for it \(shown only this once\): (sbk_\S+)", 10).group(1)
        chat = urllib.request.Request(f"{base}/chat/completions", method="POST", data=json.dumps(
            {"model": model, "messages": [{"role": "user", "content": "hello"}]}).encode(), headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(chat, timeout=30) as response:
            completion = json.load(response)
        assert completion["object"] == "chat.completion" and completion["choices"][0]["message"]["content"]
        children = _descendants(process.pid)
        assert len(children) >= 3
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    output.wait_for(r"\] stopped", 5)
    alive = [pid for pid in children if _alive(pid)]
    assert alive == [], f"orphans left: {alive}"


def test_killing_make_itself_stops_the_stack_too(tmp_path):
    """`kill <pid of make>` (not its process group, as Ctrl-C is) leaves no orphaned stack behind."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update({"PORT": str(port), "SWITCHBOARD_INSTANCE_PATH": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    # A stand-in for make: a parent that starts the supervisor and is then killed outright.
    make = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                             "subprocess.Popen([sys.executable, '-m', 'app.processes.devstack']); time.sleep(600)"],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    output = Output(make)
    stack: set[int] = set()
    try:
        output.wait_for(r"Switchboard is up at", 120)
        stack = _descendants(make.pid)
        assert len(stack) >= 4, stack  # the supervisor, Redis, web and worker families
    finally:
        make.kill()
        make.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in stack) and time.monotonic() < deadline:
        time.sleep(0.2)
    outlived = [pid for pid in stack if _alive(pid)]
    for pid in outlived:  # a failing run must not leave a stack holding the machine's ports
        os.kill(pid, signal.SIGKILL)
    assert outlived == [], "the stack outlived make"
    output.wait_for(r"\] stopped", 5)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web port still answers"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
