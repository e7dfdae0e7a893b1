"""Measure how long the canvas takes to open a 200-node flow and become interactive.

Usage: .venv/bin/python bench/canvas_load.py [--nodes 200] [--rounds 5]
Starts its own web server (gunicorn, SQLite, embedded Redis) in a temporary folder, publishes a
flow of N nodes, then loads /flows/<id> in Chromium several times and prints a table: time to
the page's load event, to every node in view drawn, and to a click answered by the side panel.

Chromium is Debian's (`chromium` on PATH, as the browser tests use) or, failing that, the one
`playwright install chromium` downloads. Why importable functions: `stack_bench` adds the same
rows to its table against the stack its other rows ran on, with `unavailable`, `seed` and
`measure`; the playwright package comes with requirements-dev.txt only, so it asks first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
USER, PASSWORD = "bench@example.com", "bench-password"
NO_PLAYWRIGHT = ("the playwright package is not installed (`make bench` installs requirements.txt only): run "
                 "`make test` once, which installs requirements-dev.txt, then this again")
NO_CHROMIUM = ("no Chromium (neither `chromium` on PATH nor playwright's own): `apt-get install chromium`, as the "
               "browser tests use, or `.venv/bin/playwright install chromium`")


# The canvas draws only the nodes in view (X6 virtual rendering) and the rest as they are panned
# into view: "drawn" = the canvas is ready and every node the stage shows has its element.
VIEW_DRAWN = """() => {
  const app = document.getElementById('canvas-app'), S = window.Switchboard && window.Switchboard.canvas;
  if (!app || app.dataset.ready !== 'true' || !S || !S.graph) return false;
  const area = S.graph.getGraphArea();
  const shown = S.graph.getNodes().filter((n) => area.isIntersectWithRect(n.getBBox()));
  return shown.length > 0 && shown.every((n) => document.querySelector(`#canvas-graph [data-node-id="${n.id}"]`));
}"""


def big_flow(count: int) -> dict:
    """A manual trigger, a start node and a chain of template nodes, laid out in a grid."""
    nodes = [
        {"id": "manual", "type": "manual_trigger", "name": "Run now", "config": {}, "position": {"x": 0, "y": 0}},
        {"id": "start", "type": "start", "name": "Start", "position": {"x": 220, "y": 0},
         "config": {"inputs": [{"name": "message", "type": "string"}]}},
    ]
    edges = [{"id": "e0", "source": "manual", "source_port": "out", "target": "start", "target_port": "in"}]
    previous = "start"
    for n in range(count - 2):
        node_id = f"t{n}"
        nodes.append({"id": node_id, "type": "template", "name": f"Step {n}",
                      "position": {"x": 440 + (n % 10) * 220, "y": (n // 10) * 140},
                      "config": {"template": f"step {n}: {{{{ inputs.message }}}}"}})
        edges.append({"id": f"e{n + 1}", "source": previous, "source_port": "out", "target": node_id,
                      "target_port": "in"})
        previous = node_id
    return {"schema_version": 1, "name": f"{count} nodes", "nodes": nodes, "edges": edges}


def _bundled_chromium(playwright) -> str | None:
    path = playwright.chromium.executable_path
    return path if path and Path(path).exists() else None


def unavailable() -> str | None:
    """None when playwright and a Chromium are here, else why not and how to get them."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return NO_PLAYWRIGHT
    if shutil.which("chromium"):
        return None
    with sync_playwright() as playwright:
        if _bundled_chromium(playwright):
            return None
    return NO_CHROMIUM


def launch(playwright):
    """Debian's Chromium when on PATH, else playwright's bundled one."""
    executable = shutil.which("chromium") or _bundled_chromium(playwright)
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)


def seed(app, nodes: int) -> str:
    """A user owning workspace "Bench", and a published flow of `nodes` nodes there; returns its id."""
    from app.extensions import db
    from app.services.versions import publishing
    from app.services.workspaces.accounts import create_or_update_user, get_or_create_workspace

    with app.app_context():
        create_or_update_user(USER, PASSWORD, "Bench")
        flow = publishing.create_flow(get_or_create_workspace("Bench"), big_flow(nodes), None).flow
        db.session.commit()
        return flow.id


def measure(base: str, flow_id: str, nodes: int, rounds: int) -> dict[str, list[float]]:
    """Log in, then open the flow `rounds` times; seconds from navigation to load, all drawn, click answered."""
    from playwright.sync_api import sync_playwright

    loaded, drawn, clicked = [], [], []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=email]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            for _ in range(rounds):
                start = time.perf_counter()
                page.goto(f"{base}/flows/{flow_id}", wait_until="load")
                loaded.append(time.perf_counter() - start)
                page.wait_for_function(VIEW_DRAWN, timeout=60000, polling="raf")
                drawn.append(time.perf_counter() - start)
                page.locator('[data-node-id="start"]').first.click()
                page.wait_for_function("document.querySelector('#side-panel') && "
                                       "document.querySelector('#side-panel').innerText.includes('Start')")
                clicked.append(time.perf_counter() - start)
        finally:
            browser.close()
    return {"loaded": loaded, "drawn": drawn, "clicked": clicked}


@contextlib.contextmanager
def served_flow(nodes: int):
    """A gunicorn web server on SQLite and an embedded Redis in a temporary folder, serving one
    published flow of `nodes` nodes; yields (base URL, flow id). Shared with canvas_bench.py."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SWITCHBOARD_INSTANCE_PATH=tmp, SECRET_KEY="bench")
        env.pop("DATABASE_URL", None)
        os.environ.update(env)
        from app import create_app
        from app.queueing.connection import embedded_server

        redis_server = embedded_server(tmp)
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        flow_id = seed(create_app(), nodes)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4",
                                "-k", "gthread", "--no-control-socket", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            yield base, flow_id
        finally:
            web.terminate()
            web.wait()
            redis_server._cleanup()  # stop the embedded Redis before its folder is removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200, help="nodes in the flow")
    parser.add_argument("--rounds", type=int, default=5, help="page loads (median reported)")
    args = parser.parse_args(argv)
    if why := unavailable():
        sys.exit(f"canvas benchmark not possible: {why}")

    with served_flow(args.nodes) as (base, flow_id):
        times = measure(base, flow_id, args.nodes, args.rounds)

    def row(name, values):
        ms = [v * 1000 for v in values]
        return f"| {name} | {statistics.median(ms):.0f} ms | {min(ms):.0f}–{max(ms):.0f} ms |"

    print(f"Canvas with {args.nodes} nodes, {args.rounds} loads (median, spread):")
    print("| measure | median | spread |\n|---|---|---|")
    print(row("page load event", times["loaded"]))
    print(row("every node in view drawn", times["drawn"]))
    print(row("click a node, side panel shows it", times["clicked"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
