"""The reference strategy: bar folding and the mean-reversion rule, deterministic for a price path."""
from __future__ import annotations

import numpy as np

from harness.client.strategy import Bar, BarAggregator, MeanReversion


def test_five_second_bars_fold_into_minute_bars_emitted_when_the_next_minute_starts():
    bars: list[Bar] = []
    agg = BarAggregator(60, bars.append)
    for i in range(24):  # two minutes of 5 s bars
        t = 1_000_020 + 5 * i  # 1_000_020 is a minute boundary
        agg.add(t, 100 + i, 101 + i, 99 + i, 100.5 + i)
    assert len(bars) == 1
    assert (bars[0].time_s, bars[0].open, bars[0].high, bars[0].low, bars[0].close) == \
        (1_000_020, 100, 112, 99, 111.5)


def test_a_replayed_bar_of_a_decided_period_is_ignored():
    bars: list[Bar] = []
    agg = BarAggregator(60, bars.append)
    for t in (1_000_020, 1_000_080, 1_000_140, 1_000_030):  # the last is late, from a decided minute
        agg.add(t, 1, 1, 1, 1)
    assert [b.time_s for b in bars] == [1_000_020, 1_000_080]


def test_mean_reversion_fades_a_large_move_and_exits_on_reversion():
    s = MeanReversion(qty=100, lookback=4, entry_z=1.0, exit_z=0.0)
    for close in (100, 101, 100, 101):
        assert s.on_close(close) == 0
    assert s.on_close(110) == -100      # far above the mean: short
    assert s.on_close(109) == -100      # still above: hold
    assert s.on_close(100) == 0         # back below the mean: flat


def _gbm(seed: int, n: int = 360) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 150 * np.exp(np.cumsum(rng.normal(0, 0.25 / np.sqrt(252 * 390), n)))


def _trades(closes: np.ndarray) -> int:
    s, trades, pos = MeanReversion(), 0, 0.0
    for c in closes:
        target = s.on_close(float(c))
        trades += target != pos
        pos = target
    return trades


def test_the_same_price_path_gives_the_same_trades():
    assert _trades(_gbm(7)) == _trades(_gbm(7))


def test_a_six_hour_session_trades_between_50_and_200_times():
    counts = [_trades(_gbm(seed)) for seed in range(20)]
    assert all(50 <= c <= 200 for c in counts), counts
