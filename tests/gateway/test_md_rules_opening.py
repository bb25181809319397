"""A reqMktData line opens as recorded IB Gateway sessions open it: tickReqParams, marketDataType, the 10167 of
a delayed grant, then the ticks; a delayed line with the day's statistics before last, open and the book.

Sources (docs/fidelity.md, "Market data"): recorded delayed AAPL sessions in a public Go client's test data
(raw protobuf frames): server version 206 (2026-07-10) and 225 (2026-08-24): 81, 58, 10167, ticks; another
225 session of the same day (two same-contract subscriptions): 72 high, 73 low, 74 volume, 75 close, 68 last
with its size, 88 lastTimestamp, 76 open, 66 bid, 67 ask; no 71 and no halted in the opening.
"""
from __future__ import annotations

import time

from mock_gateway.config import MarketConfig

from .raw_client import RawClient

AAPL = ["", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""]


def _opening(gw, data_type: int, seconds: float = 0.4) -> list[list[str]]:
    """The frames of one reqMktData (request id 7) after reqMarketDataType(data_type)."""
    with RawClient(gw.host, gw.port) as c:
        c.hello("v157..178")
        c.start(5)
        c.read_until(lambda ms: any(x[0] == "9" for x in ms))
        n = len(c.messages)
        c.send(59, 1, data_type)
        c.send(1, 11, 7, *AAPL, 0, "", 0, 0, "")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                c.read_until(lambda ms: False, timeout_s=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                pass
        return [f for f in c.messages[n:] if len(f) > 2 and (f[1] == "7" or f[2] == "7")]


def _kind(frame: list[str]) -> tuple[str, int | None]:
    return (frame[0], int(frame[3])) if frame[0] in ("1", "2", "45", "46") else (frame[0], None)


def test_tick_req_params_then_market_data_type_open_a_live_line(mock_gateway):
    kinds = [_kind(f) for f in _opening(mock_gateway, 1, 0.2)]
    assert kinds[:2] == [("81", None), ("58", None)] and ("4", None) not in kinds


def test_a_delayed_line_opens_with_the_day_then_last_open_and_the_book_without_halted(mock_gateway_factory):
    gw = mock_gateway_factory(market=MarketConfig(data_permission="delayed"))
    frames = _opening(gw, 3)
    assert frames[0][0] == "81" and frames[1] == ["58", "1", "7", "3"]
    assert frames[2][:5] == ["4", "2", "7", "10167", "Requested market data is not subscribed. Displaying delayed "
                                                    "market data."]
    ticks = frames[3:]
    assert [_kind(f) for f in ticks[:9]] == [("1", 72), ("1", 73), ("2", 74), ("1", 75), ("1", 68), ("46", 88),
                                             ("1", 76), ("1", 66), ("1", 67)]
    assert float(ticks[4][5]) > 0                 # the last carries its size: no separate 71 opens the line
    assert ("2", 71) not in [_kind(f) for f in ticks[:9]] and ("45", 49) not in [_kind(f) for f in ticks]


def test_generic_236_reports_shortable_shares_to_ib_insync(mock_gateway):
    import asyncio

    import ib_insync

    async def run():
        ib = ib_insync.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=90, timeout=5)
        try:
            aapl = ib_insync.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            ticker = ib.reqMktData(aapl, "236")
            await asyncio.sleep(0.4)
            return ticker
        finally:
            ib.disconnect()

    ticker = asyncio.get_event_loop().run_until_complete(run())
    assert ticker.shortableShares > 1_000_000      # tick 89 (ib_insync 0.9.86 keeps no field for 46)
