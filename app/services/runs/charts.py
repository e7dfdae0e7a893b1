"""Draw the overview's small charts as inline SVG, on the server.

Why SVG strings and not a chart library: two small charts do not justify a JavaScript
dependency, SVG renders without scripts, and every bar carries a <title> so hovering (or a
screen reader) gives the exact numbers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from app.services.runs.run_stats import CHART_STATUSES, Overview

WIDTH, HEIGHT, PAD = 480, 110, 18
COLORS = {"succeeded": "#1f9d55", "failed": "#d64545", "timed_out": "#a83232", "canceled": "#c77d00",
          "discarded": "#9aa1b1", "running": "#2f6df6", "queued": "#8fb0fb"}


def runs_per_hour(overview: Overview) -> Markup:
    """Stacked bars: one per hour, one colour per status."""
    peak = max((b.total for b in overview.hours), default=0) or 1
    slot = (WIDTH - PAD) / len(overview.hours)
    parts = [_frame("Runs per hour by status, last 24 h", f"{peak}")]
    for i, bucket in enumerate(overview.hours):
        y = HEIGHT - PAD
        x = PAD + i * slot + 1
        for status in CHART_STATUSES:
            count = bucket.counts.get(status.value, 0)
            if not count:
                continue
            h = (HEIGHT - 2 * PAD) * count / peak
            y -= h
            label = f"{bucket.start:%H}:00 UTC: {count} {status.value}"
            parts.append(f'<rect class="bar" data-status="{status.value}" x="{x:.1f}" y="{y:.1f}" '
                         f'width="{max(slot - 2, 1):.1f}" height="{h:.1f}" fill="{COLORS[status.value]}">'
                         f'<title>{escape(label)}</title></rect>')
    parts.append(_hour_axis(overview))
    parts.append("</svg>")
    return Markup("".join(parts))


def durations(overview: Overview) -> Markup:
    """Two lines per hour: median and p95 run duration (hours without finished runs are gaps)."""
    values = [v for b in overview.hours for v in (b.median_ms, b.p95_ms) if v is not None]
    peak = max(values, default=0) or 1
    slot = (WIDTH - PAD) / len(overview.hours)
    parts = [_frame("Median and p95 duration per hour, last 24 h", _ms(peak))]
    for name, color, pick in (("median", "#2f6df6", lambda b: b.median_ms), ("p95", "#d64545", lambda b: b.p95_ms)):
        segments: list[list[tuple[float, float]]] = [[]]
        for i, bucket in enumerate(overview.hours):
            value = pick(bucket)
            if value is None:
                segments.append([])  # no finished run that hour: leave a gap, do not draw through it
                continue
            x = PAD + i * slot + slot / 2
            y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / peak
            segments[-1].append((x, y))
            parts.append(f'<circle class="point" data-series="{name}" cx="{x:.1f}" cy="{y:.1f}" r="2.5" '
                         f'fill="{color}"><title>{bucket.start:%H}:00 UTC {name} {_ms(value)}</title></circle>')
        for points in segments:
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    parts.append(_hour_axis(overview))
    parts.append("</svg>")
    return Markup("".join(parts))


def _frame(title: str, peak_label: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH}" y2="{HEIGHT - PAD}" stroke="#c9ceda"/>'
            f'<text x="0" y="{PAD - 6}" font-size="10" fill="#6b7385">{escape(peak_label)}</text>')


def _hour_axis(overview: Overview) -> str:
    slot = (WIDTH - PAD) / len(overview.hours)
    labels = []
    for i, bucket in enumerate(overview.hours):
        if i % 6 == 0 or i == len(overview.hours) - 1:
            labels.append(f'<text x="{PAD + i * slot:.1f}" y="{HEIGHT - 4}" font-size="10" '
                          f'fill="#6b7385">{bucket.start:%H}h</text>')
    return "".join(labels)


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
