"""Large bar answers are formatted column-wise; the text must be what the one-bar-at-a-time encoder writes."""
from __future__ import annotations

import numpy as np
import pytest

from mock_gateway.feeds import bar_rows
from mock_gateway.protocol.time import ib_time
from mock_gateway.feeds import BarsRequest
from mock_gateway.protocol import messages as m
from mock_gateway.sim import ContractBook
from mock_gateway.sim.market import BarTable

AAPL = next(s for s in ContractBook.default() if s.symbol == "AAPL" and s.sec_type == "STK")
EPOCH0 = 1_795_530_600.0


def table() -> BarTable:
    rng = np.random.default_rng(3)
    n = 50
    price = np.round(rng.uniform(0.00001, 500, n), 5)
    price[:5] = [230.0, 0.00005, 1.08, 150.25000000000003, 13067.0]
    return BarTable(np.arange(n) * 60.0 - 3000, price, price + 1, price - 0.5, price, np.where(rng.random(n) < .3, -1.0,
                    np.rint(rng.uniform(0, 1e6, n))), np.round(price + 0.123456789, 6), rng.integers(-1, 900, n)
                    .astype(float))


@pytest.mark.parametrize("server_version", [100, 157, 176])
@pytest.mark.parametrize("bar_size_s, format_date", [(60.0, 1), (60.0, 2), (86400.0, 1)])
def test_column_formatting_writes_what_the_message_encoder_writes(server_version, bar_size_s, format_date):
    req = BarsRequest(1, AAPL, bar_size_s, "TRADES", False, format_date)
    t = table()
    bars = t.to_bars()
    from zoneinfo import ZoneInfo
    from datetime import datetime

    def date(b):
        epoch = EPOCH0 + b.time_s
        if bar_size_s >= 86400:
            return datetime.fromtimestamp(epoch, ZoneInfo(AAPL.time_zone_id)).strftime("%Y%m%d")
        return str(int(epoch)) if format_date == 2 else ib_time(epoch)

    expected = m.historical_data(server_version, 1, "a", "b", [(date(b), b) for b in bars])
    head = m.historical_data(server_version, 1, "a", "b", [])
    assert head[:-1] + [str(len(bars))] + bar_rows(server_version, req, t, EPOCH0) == expected
