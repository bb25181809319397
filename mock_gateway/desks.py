"""What a request handler works with: the world, the configuration and clock, and the three desks.

The server (the composition root) builds one :class:`Desks` and hands it to every handler with
the client's :class:`~mock_gateway.replies.ReplyChannel` and the decoded request, so a handler
never reaches through the session or the server.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .account_feed import AccountFeed
from .config import GatewayConfig
from .depth import DepthDesk
from .feeds import Feeds
from .order_desk import OrderDesk
from .scanners import ScannerDesk
from .sim.clock import SimClock
from .sim.world import World
from .streamed import ReplyStreams


@dataclass(frozen=True)
class Desks:
    config: GatewayConfig
    clock: SimClock
    world: World
    feeds: Feeds          # market data, bars, real-time bars (subscriptions per connection)
    orders: OrderDesk     # placeOrder / cancels / open orders / executions into the order engine
    accounts: AccountFeed  # account values, portfolio, positions, summary, PnL (subscriptions per connection)
    scanners: ScannerDesk  # market-scanner subscriptions per connection, refreshed every 30 s
    depth: DepthDesk      # market depth lines per connection, grouped by the book they show
    #: long replies (whole option chains, reference lists) computed and sent in slices between other work
    streams: ReplyStreams = field(default_factory=ReplyStreams)


__all__ = ["Desks"]
