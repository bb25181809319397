"""GO_LIVE_DECISION.html: the same document as the Markdown, self-contained, with inline SVG plots."""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .content import build_document
from .document import Banner, Block, Bullets, Checklist, Code, Document, Figure, Paragraph, Section, Table
from .plots import figures

if TYPE_CHECKING:
    from harness.gates.verification import Verification

_STATUS_CLASSES = {"PASS": "pass", "FAIL": "fail", "PENDING": "pending", "GO_LIVE_APPROVED": "pass",
                   "CONDITIONAL_APPROVAL": "pending", "REJECTED": "fail", "CURRENT": "pass",
                   "critical": "fail", "high": "fail", "medium": "pending"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.pass{background:#e3f6e3;font-weight:600}td.fail{background:#fbe2e2;font-weight:600}
td.pending{background:#fff4d6;font-weight:600}td.stale{background:#fbe2e2}
pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:13px}
div.banner{border:3px solid #b00020;background:#fde7ea;color:#5c0010;padding:.8em 1em;margin:1em 0;font-size:16px}
div.banner strong{font-size:20px;display:block;margin-bottom:.3em}
ul.checklist{list-style:none;padding-left:0}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:13px;color:#555}
"""


def _cell(text: str) -> str:
    cls = _STATUS_CLASSES.get(text) or ("stale" if text.startswith("STALE") else "")
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Checklist):
        return '<ul class="checklist">' + "".join(
            f'<li>{"&#9745;" if done else "&#9744;"} {escape(text)}</li>' for done, text in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre>{escape(block.text)}</pre>"
    if isinstance(block, Table):
        head = "".join(f"<th>{escape(h)}</th>" for h in block.headers)
        body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Banner):
        return f'<div class="banner" role="alert"><strong>{escape(block.title)}</strong> {escape(block.text)}</div>'
    if isinstance(block, Figure):
        # The SVG is produced by matplotlib (harness.report.charts), which escapes every text it embeds.
        caption = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure><h4>{escape(block.title)}</h4>{block.svg}{caption}</figure>"
    raise TypeError(f"unknown block {block!r}")


def render_document(doc: Document) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(doc.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(doc.title)}</h1>"]
    for section in doc.sections:
        if not (section.blocks and all(isinstance(b, Banner) for b in section.blocks)):   # a banner has its title
            parts.append(f"<h{section.level}>{escape(section.title)}</h{section.level}>")
        parts += [_block(b) for b in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_html(v: Verification) -> str:
    plots = Section("Plots", figures(v))
    return render_document(build_document(v, extra_after_metrics=(plots,)))
