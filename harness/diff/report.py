"""Write a fidelity diff: FIDELITY_DIFF.json, FIDELITY_DIFF.md (grouped by kind), and a terminal table."""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .answers import FidelityReport

#: Differences listed per category in the Markdown page (the JSON keeps all of them).
MAX_LISTED = 20
CATEGORY_TITLES = {
    "missing_message": "Messages the mock did not send", "extra_message": "Messages only the mock sent",
    "order_status": "Order-status sequences", "error": "Error codes and texts", "field": "Field values",
    "missing_request": "Requests the replay never reached",
}


def table_lines(report: FidelityReport) -> list[str]:
    """The terminal table: per request name, how many were answered alike, then the fidelity figure."""
    rows = sorted(report.by_request.items())
    width = max([len("request")] + [len(n) for n, _ in rows])
    lines = [f"{'request':<{width}}  {'alike':>7}  {'total':>7}  differences"]
    cats: dict[str, Counter] = defaultdict(Counter)
    for d in report.differences:
        cats[d.request][d.category] += 1
    for name, row in rows:
        summary = ", ".join(f"{c} x{n}" for c, n in sorted(cats[name].items())) or "-"
        lines.append(f"{name:<{width}}  {row['alike']:>7}  {row['total']:>7}  {summary}")
    lines.append(f"fidelity: {report.alike}/{report.requests} requests answered alike ({report.fidelity:.1%})")
    return lines


def markdown(report: FidelityReport, meta: dict[str, Any]) -> str:
    out = ["# Fidelity diff: the mock against a recorded session", "",
           f"**Fidelity: {report.fidelity:.1%}** ({report.alike} of {report.requests} requests answered alike).", ""]
    out += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    grouped: dict[str, list] = defaultdict(list)
    for d in report.differences:
        grouped[d.category].append(d)
    if not grouped:
        out.append("No differences.")
    for category, diffs in grouped.items():
        out += [f"## {CATEGORY_TITLES.get(category, category)} ({len(diffs)})", ""]
        for detail, n in Counter((d.request, d.detail) for d in diffs).most_common(MAX_LISTED):
            out.append(f"- `{detail[0]}`: {detail[1]}" + (f" (x{n})" if n > 1 else ""))
        out.append("")
    return "\n".join(out) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_report(report: FidelityReport, out_dir: str | os.PathLike[str], meta: dict[str, Any]) -> tuple[Path, Path]:
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "FIDELITY_DIFF.json", folder / "FIDELITY_DIFF.md"
    _atomic_write(json_path, json.dumps({**meta, **report.as_dict()}, indent=2, default=str) + "\n")
    _atomic_write(md_path, markdown(report, meta))
    return json_path, md_path
