"""Measure how long the canvas takes to open a 200-node flow and become interactive.

Usage: .venv/bin/python bench/canvas_load.py [--nodes 200] [--rounds 5]
Starts its own web server (gunicorn, SQLite, embedded Redis) in a temporary folder, publishes a
flow of N nodes, then loads /flows/<id> in Debian's Chromium several times and prints a table:
time to the page's load event, to every node drawn, and to a click answered by the side panel.
"""

from __future__ import annotations

import argparse
import os
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SWITCHBOARD_INSTANCE_PATH=tmp, SECRET_KEY="bench")
        env.pop("DATABASE_URL", None)
        os.environ.update(env)
        from app import create_app
        from app.extensions import db
        from app.redis_conn import embedded_server
        from app.services import publishing
        from app.services.accounts import create_or_update_user, get_or_create_workspace

        redis_server = embedded_server(tmp)
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        app = create_app()
        with app.app_context():
            create_or_update_user("bench@example.com", "bench-password", "Bench")
            flow = publishing.create_flow(get_or_create_workspace("Bench"), big_flow(args.nodes), None).flow
            db.session.commit()
            flow_id = flow.id
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
            loaded, drawn, clicked = [], [], []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{base}/login")
                page.fill("input[name=email]", "bench@example.com")
                page.fill("input[name=password]", "bench-password")
                page.click("button[type=submit]")
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    page.goto(f"{base}/flows/{flow_id}", wait_until="load")
                    loaded.append(time.perf_counter() - start)
                    page.wait_for_function(f"document.querySelectorAll('[data-node-id]').length >= {args.nodes}",
                                           timeout=60000)
                    drawn.append(time.perf_counter() - start)
                    page.locator('[data-node-id="start"]').first.click()
                    page.wait_for_function("document.querySelector('#side-panel') && "
                                           "document.querySelector('#side-panel').innerText.includes('Start')")
                    clicked.append(time.perf_counter() - start)
                browser.close()
        finally:
            web.terminate()
            web.wait()
            redis_server._cleanup()  # stop the embedded Redis before its folder is removed

    def row(name, values):
        ms = [v * 1000 for v in values]
        return f"| {name} | {statistics.median(ms):.0f} ms | {min(ms):.0f}–{max(ms):.0f} ms |"

    print(f"Canvas with {args.nodes} nodes, {args.rounds} loads (median, spread):")
    print("| measure | median | spread |\n|---|---|---|")
    print(row("page load event", loaded))
    print(row(f"all {args.nodes} nodes drawn", drawn))
    print(row("click a node, side panel shows it", clicked))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
