"""Hand-written inline SVG charts: a histogram, a line chart and an event timeline. No dependencies."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 40
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _frame(body: list[str], title: str, x_label: str, y_label: str) -> str:
    inner_h = HEIGHT - TOP - BOTTOM
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>',
        *body,
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12">'
        f'{escape(x_label)}</text>',
        f'<text x="14" y="{TOP + inner_h / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {TOP + inner_h / 2})">{escape(y_label)}</text>',
        "</svg>"])


def tick_label(value: float) -> str:
    """Short axis labels: 1,041,800 -> "1.042M", 12,500 -> "12.5k"."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.4g}"


def _ticks(lo: float, hi: float, x: bool) -> list[str]:
    out = []
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        if x:
            px = LEFT + (WIDTH - LEFT - RIGHT) * i / 4
            out.append(f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="10">'
                       f'{tick_label(value)}</text>')
        else:
            py = HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * i / 4
            out.append(f'<text x="{LEFT - 4}" y="{py + 3:.1f}" text-anchor="end" font-size="10">{tick_label(value)}</text>')
    return out


def histogram(values: Sequence[float], *, title: str, x_label: str, bins: int = 20,
              marker: float | None = None, marker_label: str = "") -> str:
    """Counts of ``values`` in ``bins`` equal-width bins; ``marker`` draws a vertical threshold line."""
    lo, hi = min(values), max(values)
    if marker is not None:
        hi = max(hi, marker)
    if hi == lo:
        hi = lo + 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - lo) / (hi - lo) * bins), bins - 1)] += 1
    top = max(counts)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / bins
    body = []
    for i, count in enumerate(counts):
        h = plot_h * count / top
        body.append(f'<rect x="{LEFT + i * bar_w + 1:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar_w - 2:.1f}" '
                    f'height="{h:.1f}" fill="{COLORS[0]}"><title>{count}</title></rect>')
    if marker is not None:
        mx = LEFT + plot_w * (marker - lo) / (hi - lo)
        body.append(f'<line class="marker" x1="{mx:.1f}" y1="{TOP}" x2="{mx:.1f}" y2="{HEIGHT - BOTTOM}" '
                    f'stroke="#d62728" stroke-dasharray="4 3"/>')
        body.append(f'<text x="{mx - 4:.1f}" y="{TOP + 10}" text-anchor="end" font-size="10" fill="#d62728">'
                    f'{escape(marker_label)}</text>')
    body += _ticks(lo, hi, x=True) + _ticks(0, top, x=False)
    return _frame(body, title, x_label, "count")


def line_chart(series: Sequence[tuple[str, Sequence[tuple[float, float]]]], *, title: str, x_label: str,
               y_label: str) -> str:
    """One polyline per named series, on shared axes, with a legend."""
    points = [p for _, pts in series for p in pts]
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    x_hi = x_hi if x_hi > x_lo else x_lo + 1.0
    y_hi = y_hi if y_hi > y_lo else y_lo + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = []
    for i, (name, pts) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        coords = " ".join(f"{LEFT + plot_w * (x - x_lo) / (x_hi - x_lo):.1f},"
                          f"{HEIGHT - BOTTOM - plot_h * (y - y_lo) / (y_hi - y_lo):.1f}" for x, y in pts)
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}">'
                    f'<title>{escape(name)}</title></polyline>')
        body.append(f'<text x="{LEFT + 10}" y="{TOP + 12 + 14 * i}" font-size="11" fill="{color}">'
                    f'{escape(name)}</text>')
    body += _ticks(x_lo, x_hi, x=True) + _ticks(y_lo, y_hi, x=False)
    return _frame(body, title, x_label, y_label)


def event_timeline(rows: Sequence[tuple[str, Sequence[tuple[float, str]]]], *, duration_s: float, title: str,
                   x_label: str) -> str:
    """One lane per kind of event; each event a tick at its time, its detail as a tooltip."""
    duration_s = duration_s if duration_s > 0 else max((t for _, ev in rows for t, _ in ev), default=1.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    lane_h = plot_h / max(len(rows), 1)
    body = []
    for i, (name, events) in enumerate(rows):
        color = COLORS[(i + 3) % len(COLORS)]
        y0 = TOP + lane_h * i
        body.append(f'<text x="{LEFT + 4}" y="{y0 + 12:.1f}" font-size="11">{escape(name)} ({len(events)})</text>')
        for t, detail in events:
            x = LEFT + plot_w * min(t / duration_s, 1.0)
            body.append(f'<line class="event" x1="{x:.1f}" y1="{y0 + 16:.1f}" x2="{x:.1f}" y2="{y0 + lane_h - 4:.1f}" '
                        f'stroke="{color}" stroke-width="2"><title>{escape(f"{t:.1f} s: {detail}")}</title></line>')
    body += _ticks(0.0, duration_s, x=True)
    return _frame(body, title, x_label, "")
