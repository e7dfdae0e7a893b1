"""Canvas responsiveness with a 200-node flow: time to draw it, and frames per second while a node is dragged.

Usage: .venv/bin/python bench/canvas_bench.py [--nodes 200] [--rounds 5] [--moves 60]
Starts its own web server (gunicorn, SQLite, embedded Redis; see canvas_load.served_flow), publishes
a flow of N nodes, opens it in Chromium (`/usr/bin/chromium`, the browser tests' flags) and prints
a table of medians over the rounds:

- draw: from navigation to the canvas ready for input (`#canvas-app[data-ready]`, the view fitted)
  with every node the stage shows drawn (its `data-node-id` element); X6 draws the others as they
  are panned into view. For reference, navigation to the page's last byte (the server's part);
- drag: a node dragged across the canvas by `--moves` mouse moves (press, moves, release, as a
  user does); frames are counted with requestAnimationFrame in the page while the drag runs.
  A move Chromium cannot draw in time shows up as fewer frames per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import canvas_load  # noqa: E402  (the bench folder is not a package)

COUNT_FRAMES = """() => {
  window.__frames = 0; window.__counting = true;
  const tick = () => { if (!window.__counting) return; window.__frames += 1; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.__t0 = performance.now();
}"""
# The page's last byte: what the server took. (Not DOMContentLoaded: the deferred canvas scripts,
# and so most of the drawing, run before it.)
RECEIVED = "() => performance.getEntriesByType('navigation')[0].responseEnd"
STOP_FRAMES = "() => { window.__counting = false; return [window.__frames, performance.now() - window.__t0]; }"


def log_in(page, base):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", canvas_load.USER)
    page.fill("input[name=password]", canvas_load.PASSWORD)
    page.click("button[type=submit]")


def drag_fps(page, node_id: str, moves: int) -> float:
    """Drag `node_id` across the stage and back with `moves` mouse moves; frames per second."""
    stage = page.locator("#canvas-graph").bounding_box()
    title = page.locator(f'#canvas-graph g[data-node-id="{node_id}"] .sb-title').bounding_box()
    x, y = title["x"] + 10, title["y"] + title["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate(COUNT_FRAMES)
    span = stage["width"] * 0.6
    for step in range(1, moves + 1):
        phase = step / moves
        dx = span * (2 * phase if phase <= 0.5 else 2 - 2 * phase)  # out and back
        page.mouse.move(x + dx, y + 40 * phase)
    frames, elapsed_ms = page.evaluate(STOP_FRAMES)
    page.mouse.up()
    return frames / (elapsed_ms / 1000)


def measure(base: str, flow_id: str, rounds: int, moves: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    drawn, received, fps = [], [], []
    with sync_playwright() as playwright:
        browser = canvas_load.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            log_in(page, base)
            for _ in range(2):  # warm up both gunicorn workers: their first page is not the canvas' cost
                page.goto(f"{base}/flows/{flow_id}")
                page.wait_for_function(canvas_load.VIEW_DRAWN, timeout=60000)
            for _ in range(rounds):
                start = time.perf_counter()
                page.goto(f"{base}/flows/{flow_id}", wait_until="commit")
                page.wait_for_function(canvas_load.VIEW_DRAWN, timeout=60000, polling="raf")
                drawn.append(time.perf_counter() - start)
                received.append(page.evaluate(RECEIVED) / 1000)
                page.wait_for_timeout(300)  # let the first validation answer land before dragging
                fps.append(drag_fps(page, "start", moves))
        finally:
            browser.close()
    return {"drawn": drawn, "received": received, "fps": fps}


OPTIONS = (("--nodes", 200, "nodes in the flow"), ("--rounds", 5, "page loads and drags (median reported)"),
           ("--moves", 60, "mouse moves per drag"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option, default, text in OPTIONS:
        parser.add_argument(option, type=int, default=default, help=text)
    args = parser.parse_args(argv)
    if why := canvas_load.unavailable():
        sys.exit(f"canvas benchmark not possible: {why}")
    with canvas_load.served_flow(args.nodes) as (base, flow_id):
        results = measure(base, flow_id, args.rounds, args.moves)

    def row(name, values, unit, scale=1.0):
        shown = [v * scale for v in values]
        return (f"| {name} | {statistics.median(shown):.0f} {unit} | "
                f"{min(shown):.0f}–{max(shown):.0f} {unit} |")

    print(f"Canvas with {args.nodes} nodes, {args.rounds} rounds (median, spread):")
    print("| measure | median | spread |\n|---|---|---|")
    print(row("navigation → page received (the server's part)", results["received"], "ms", 1000))
    print(row("navigation → canvas ready, every node in view drawn", results["drawn"], "ms", 1000))
    print(row("of which the browser's part (page received → drawn)",
              [d - p for d, p in zip(results["drawn"], results["received"])], "ms", 1000))
    print(row(f"dragging a node ({args.moves} mouse moves)", results["fps"], "fps"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
