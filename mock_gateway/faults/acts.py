"""How many times each fault acted, counted from the event log as it is written.

The harness decides whether a fault was exercised from the events it marked (their ``fault``
column: comma-separated names, a pacing rule as ``name:rule``); this tally counts the same marks
live, so ``GET /faults`` can say how often a fault acted without reading the log back. A
scheduled fault's ``end`` mark is the end of an act already counted, not a new one; adding a fault
again under a name starts its count afresh.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any


def marked_names(fault_column: object) -> list[str]:
    """The fault names an event's ``fault`` column lists (``"a,b:rule"`` -> ``["a", "b"]``)."""
    if not isinstance(fault_column, str) or not fault_column:
        return []
    names = []
    for part in fault_column.split(","):
        name = part.strip().split(":", 1)[0]
        if name and name not in names:
            names.append(name)
    return names


class FaultActs:
    """A per-name count of the events faults marked; feed it every event (``EventLog.add_observer``)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def observe(self, event: Mapping[str, Any]) -> None:
        if event.get("dir") == "sys":
            msg = event.get("msg")
            if msg == "fault_added":
                name = (event.get("attrs") or {}).get("name")
                if isinstance(name, str):
                    self._counts.pop(name, None)   # a fresh fault under an old name starts at zero
                return
            if msg == "fault" and (event.get("attrs") or {}).get("phase") == "end":
                return
        for name in marked_names(event.get("fault")):
            self._counts[name] += 1

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)


__all__ = ["FaultActs", "marked_names"]
