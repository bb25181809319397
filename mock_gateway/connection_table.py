"""Per-connection subscription state of a feed, by connection id: the one table the market and account feeds share.

A feed keeps, for each connection that subscribed to something, a small record of what it holds;
the record is made on the first subscription and dropped when the connection closes. Feeds walk the
records in connection order so that what two clients receive in one step goes out in a stable order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .replies import ReplyChannel

C = TypeVar("C")


class ConnectionTable(Generic[C]):
    """Records of type ``C`` by connection id, made by ``make(channel)`` on first use."""

    def __init__(self, make: Callable[[ReplyChannel], C]) -> None:
        self._make = make
        self._by_id: dict[int, C] = {}

    def of(self, channel: ReplyChannel) -> C:
        """The channel's record, made now if it has none."""
        record = self._by_id.get(channel.conn_id)
        if record is None:
            record = self._by_id[channel.conn_id] = self._make(channel)
        return record

    def get(self, conn_id: int) -> C | None:
        return self._by_id.get(conn_id)

    def drop(self, conn_id: int) -> None:
        self._by_id.pop(conn_id, None)

    def live(self) -> list[C]:
        """Every record, in connection order (a list: callers may subscribe or drop while they walk it)."""
        return [self._by_id[k] for k in sorted(self._by_id)]

    def __iter__(self) -> Iterator[C]:
        return iter(self._by_id.values())


__all__ = ["ConnectionTable"]
