"""Trend charts as SVG text, drawn at build time (no script, no outside reference). Pure.

Axes and labels use `currentColor`, so the chart takes the page's text colour in
the light and the dark scheme alike; series colours are mid-tones that keep a
contrast of at least 3:1 on both white and the dark scheme's slate background.
The same input gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..text import html_text
from .trend import Point, percent

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
PALETTE = ("#3b82c4", "#d9480f", "#2f9e44", "#ae3ec9", "#e03131", "#1098ad", "#f08c00", "#5c7cfa")


def _epoch(as_of: str) -> float:
    return datetime.strptime(as_of, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def chart(title: str, series: list[tuple[str, list[Point]]]) -> str:
    """A line chart of "holds for" over time, one line per (label, points); empty series are skipped."""
    series = [(label, [p for p in pts if p.holds is not None]) for label, pts in series]
    series = [(label, pts) for label, pts in series if pts]
    label = html_text(title)
    if not series:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="40" '
                f'viewBox="0 0 {WIDTH} 40" aria-label="{label}: no data"><title>{label}: no data</title>'
                f'<text x="0" y="24" fill="currentColor" font-size="13">No checked runs yet.</text></svg>')
    times = sorted({_epoch(p.as_of) for _, pts in series for p in pts})
    t0, t1 = times[0], times[-1]
    low = min(p.holds for _, pts in series for p in pts)  # type: ignore[type-var]
    y0 = max(0.0, min(0.95, int(low * 20) / 20))  # round down to a 5% step, at most 95%
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (plot_w / 2 if t1 == t0 else (t - t0) / (t1 - t0) * plot_w)

    def y(v: float) -> float:
        return TOP + (1 - (v - y0) / (1 - y0)) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{label}" font-family="sans-serif" font-size="11">',
           f"<title>{label}</title>"]
    out.append(f'<g stroke="currentColor" stroke-opacity="0.35" fill="none">'
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>'
               f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/></g>')
    steps = 4
    for i in range(steps + 1):
        v = y0 + (1 - y0) * i / steps
        out.append(f'<line x1="{LEFT}" y1="{_num(y(v))}" x2="{LEFT + plot_w}" y2="{_num(y(v))}" '
                   f'stroke="currentColor" stroke-opacity="0.12"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_num(y(v) + 4)}" text-anchor="end" fill="currentColor">'
                   f"{_num(100 * v)}%</text>")
    days = sorted({p.as_of[:10] for _, pts in series for p in pts})
    shown = days if len(days) <= 6 else [days[round(i * (len(days) - 1) / 5)] for i in range(6)]
    labels = list(dict.fromkeys(shown))
    for i, d in enumerate(labels):
        t = _epoch(f"{d}T00:00:00Z")
        t = min(max(t, t0), t1)
        # The outer labels hang inwards, so none is cut at the chart's edge.
        anchor = "middle" if len(labels) == 1 or 0 < i < len(labels) - 1 else ("start" if i == 0 else "end")
        out.append(f'<text x="{_num(x(t))}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" '
                   f'fill="currentColor">{d}</text>')
    for i, (name, pts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{_num(x(_epoch(p.as_of)))},{_num(y(p.holds))}" for p in pts)  # type: ignore[arg-type]
        out.append(f'<g><title>{html_text(name)}</title>')
        if len(pts) > 1:
            out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in pts:
            out.append(f'<circle cx="{_num(x(_epoch(p.as_of)))}" cy="{_num(y(p.holds))}" r="3" fill="{colour}">'
                       f'<title>{html_text(name)} {p.as_of[:10]}: {percent(p.holds)} ({p.status})</title></circle>')
        out.append("</g>")
    if len(series) > 1:
        for i, (name, _) in enumerate(series[:8]):
            lx = LEFT + (i % 4) * (plot_w // 4)
            ly = HEIGHT - 8 if i < 4 else HEIGHT - 8  # one legend row; longer lists are in the table below
            if i >= 4:
                break
            out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="3" fill="{PALETTE[i]}"/>'
                       f'<text x="{lx + 14}" y="{ly - 4}" fill="currentColor">{html_text(name[:38])}</text>')
    out.append("</svg>")
    return "".join(out)
