"""GO_LIVE_DECISION.md: the document model as GitHub-flavoured Markdown (figures are HTML-only)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .content import build_document
from .document import Banner, Block, Bullets, Checklist, Code, Document, Figure, Paragraph, Table

if TYPE_CHECKING:
    from harness.gates.verification import Verification


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Checklist):
        return "\n".join(f"- [{'x' if done else ' '}] {text}" for done, text in block.items)
    if isinstance(block, Code):
        return f"```\n{block.text}\n```"
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_cell(h) for h in block.headers) + " |",
                 "|" + "|".join("---" for _ in block.headers) + "|"]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, Banner):
        return f"> **{block.title}**: {block.text}"
    if isinstance(block, Figure):
        return f"_{block.title}: see GO_LIVE_DECISION.html_"
    raise TypeError(f"unknown block {block!r}")


def render_document(doc: Document) -> str:
    parts = [f"# {doc.title}"]
    for section in doc.sections:
        if not (section.blocks and all(isinstance(b, Banner) for b in section.blocks)):   # a banner has its title
            parts.append(f"{'#' * section.level} {section.title}")
        parts += [_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


def render_markdown(v: Verification) -> str:
    return render_document(build_document(v))
