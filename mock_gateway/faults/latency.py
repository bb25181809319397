"""Latency: replies of some kinds wait a drawn delay before they are written."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from .base import GatewayControl, ReplyKind
from .common import NamedFault
from .distributions import Distribution

ALL_KINDS: tuple[ReplyKind, ...] = tuple(ReplyKind)


@dataclass(kw_only=True)
class Latency(NamedFault):
    """Delay replies of ``kinds`` by a sample of ``distribution`` (ms) while the schedule is active.

    A spike is a second latency fault with a window schedule: delays of stacked faults add up.
    Each kind draws from its own stream, so the number of market-data ticks cannot shift the
    delays drawn for order acks."""

    type: Literal["latency"] = "latency"
    distribution: Distribution
    kinds: Annotated[list[ReplyKind], Field(min_length=1)] = field(default_factory=lambda: list(ALL_KINDS))

    _rngs: dict[ReplyKind, np.random.Generator] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.kinds = [ReplyKind(k) for k in self.kinds]
        self._rngs = {k: self.rng(k.value) for k in self.kinds}

    def uninstall(self, ctl: GatewayControl) -> None:
        """Removed: replies this fault is holding back go out now (Toxiproxy passes on what a removed
        latency toxic holds), so the delay ends with the fault."""
        super().uninstall(ctl)
        release = getattr(ctl, "release_delayed_replies", None)
        if release is not None:
            release(self.name)

    def reply_delay(self, kind: ReplyKind, now: float) -> float:
        rng = self._rngs.get(kind)
        if rng is None or not self.active(now):
            return 0.0
        return self.distribution.sample(rng) / 1000.0
