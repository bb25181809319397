"""The report's charts, drawn by matplotlib and embedded in the HTML as inline SVG.

Each chart is built as a matplotlib Figure (tests inspect its axes, ticks and artists), then
serialised by :func:`to_svg`. No pyplot: figures are created directly and rendered by the SVG
backend (the Agg backend is selected for anything that would need a canvas), so nothing
global changes and no display is needed. Output is deterministic (fixed hash salt, no date).
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)   # never a GUI backend, whatever the environment says

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

SIZE_IN = (8.0, 3.4)
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
_RC = {"svg.fonttype": "none", "svg.hashsalt": "prelive-report", "font.size": 10, "axes.titlesize": 11,
       "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}


def _figure() -> tuple[Figure, object]:
    with rc_context(_RC):
        fig = Figure(figsize=SIZE_IN, layout="constrained")
        ax = fig.add_subplot()
    return fig, ax


def time_axis(duration_s: float) -> tuple[float, str]:
    """(divisor, unit) so a session's time axis reads in s, min or h."""
    if duration_s >= 3 * 3600:
        return 3600.0, "h"
    if duration_s >= 600:
        return 60.0, "min"
    return 1.0, "s"


def thousands(value: float, _pos: object = None) -> str:
    """Axis numbers with thousands separators: 1041800 -> "1,041,800"; small ones keep decimals."""
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def latency_histogram(values_ms: Sequence[float], *, title: str, x_label: str, bound_ms: float | None,
                      bound_label: str, bins: int = 20) -> Figure:
    fig, ax = _figure()
    with rc_context(_RC):
        ax.hist(list(values_ms), bins=bins, color=COLORS[0], edgecolor="white", label=f"orders ({len(values_ms)})")
        if bound_ms is not None:
            ax.axvline(bound_ms, color=COLORS[3], linestyle="--", linewidth=1.5, label=bound_label)
        ax.set_title(title)
        ax.set_xlabel(x_label)
        ax.set_ylabel("orders")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="best", frameon=False)
    return fig


def equity_lines(series: Sequence[tuple[str, Sequence[tuple[float, float]]]], *, title: str, y_label: str) -> Figure:
    """One line per (name, [(t_s, value)]); time in s, min or h by the longest series."""
    duration = max((points[-1][0] for _, points in series if points), default=0.0)
    divisor, unit = time_axis(duration)
    fig, ax = _figure()
    with rc_context(_RC):
        for i, (name, points) in enumerate(series):
            ax.plot([t / divisor for t, _ in points], [v for _, v in points], color=COLORS[i % len(COLORS)],
                    linewidth=1.6, label=name)
        ax.set_title(title)
        ax.set_xlabel(f"session time ({unit})")
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.legend(loc="best", frameon=False)
    return fig


def incident_timeline(lanes: Sequence[tuple[str, Sequence[tuple[float, str]]]], *, duration_s: float,
                      title: str) -> Figure:
    """One lane per kind of incident, a tick per event; the x axis spans the whole session."""
    divisor, unit = time_axis(duration_s)
    fig, ax = _figure()
    with rc_context(_RC):
        fig.set_size_inches(SIZE_IN[0], 0.9 + 0.55 * max(len(lanes), 1))
        for row, (label, events) in enumerate(lanes):
            if events:
                ax.eventplot([[t / divisor for t, _ in events]], lineoffsets=row, linelengths=0.6,
                             colors=COLORS[3 - row % 2], linewidths=2)
        ax.set_yticks(range(len(lanes)), [f"{label} ({len(events)})" for label, events in lanes])
        ax.set_ylim(len(lanes) - 0.4, -0.6)   # the first lane on top
        ax.set_xlim(0, max(duration_s, 1e-9) / divisor)
        ax.grid(axis="y", visible=False)
        ax.set_title(title)
        ax.set_xlabel(f"session time ({unit})")
    return fig


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def to_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog), scaled to its container's width."""
    buf = io.StringIO()
    with rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _PROLOG.sub("", buf.getvalue(), count=1)
    return svg.replace("<svg ", "<svg role=\"img\" ", 1)   # sized by the page CSS (max-width: 100%)
