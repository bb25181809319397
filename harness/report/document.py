"""A tiny document model, so the Markdown and the HTML report say exactly the same things."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Checklist:
    items: tuple[tuple[bool, str], ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Figure:
    """An inline SVG (HTML only); ``svg`` empty means the data was not there, ``caption`` says why."""

    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class Banner:
    """A warning the reader must not miss (shown before anything else)."""

    title: str
    text: str


Block = Union[Paragraph, Bullets, Table, Checklist, Code, Figure, Banner]


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    level: int = 2


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
