"""Replies that never come: a startup ``positionEnd`` or ``execDetailsEnd`` lost (ib_async #84)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..protocol.ids import REPLY_IDS
from .base import SessionView
from .common import NamedFault


def _known_replies(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in REPLY_IDS]
    if unknown:
        raise ValueError(f"unknown reply name(s) {', '.join(unknown)}; use the clients' names, "
                         "e.g. positionEnd, execDetailsEnd, openOrderEnd, accountDownloadEnd")
    return names


@dataclass(kw_only=True)
class SuppressReply(NamedFault):
    """Never send replies named in ``replies`` while active; only the first ``times`` of them when set
    (then a reconnect or a retry gets its answer)."""

    type: Literal["suppress_reply"] = "suppress_reply"
    replies: Annotated[list[str], Field(min_length=1), AfterValidator(_known_replies)]
    times: Annotated[int, Field(ge=1)] | None = None

    _suppressed: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        _known_replies(self.replies)
        super().__post_init__()

    def suppress_reply(self, session: SessionView, name: str, now: float) -> bool:
        if name not in self.replies or not self.active(now):
            return False
        if self.times is not None and self._suppressed >= self.times:
            return False
        self._suppressed += 1
        return True
