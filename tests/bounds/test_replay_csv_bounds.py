"""A replay CSV is untrusted input like the scenario naming it: every price, volume and time is bounded,
the file's size in rows, line length and symbols too, and an error says ``file:line`` showing at most the
offending field's value as a number, never the file's text. Prices follow the scenario's own bounds (finite, positive, <= 1e7)."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from harness.scenario import MAX_PRICE as SCENARIO_MAX_PRICE
from harness.scenario import ScenarioError, load_scenario
from mock_gateway.sim import replay
from mock_gateway.sim.replay import ReplayError, read_bars

pytestmark = pytest.mark.timeout(60)
HEADER = "symbol,time,open,high,low,close,volume\n"
GOOD = "AAPL,2026-11-24T14:30:00Z,100,101,99.5,100.5,6000\n"
SECRET = "hunter2-planted-secret"


def bars_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(header + "".join(rows))
    return path


def refused(path: Path) -> str:
    with pytest.raises(ReplayError) as err:
        read_bars(path)
    return str(err.value)


def test_replay_prices_have_the_scenarios_bounds():
    assert replay.MAX_PRICE == SCENARIO_MAX_PRICE


@pytest.mark.parametrize("column,value", [
    ("open", "1e308"), ("high", "inf"), ("low", "nan"), ("close", "-5"), ("close", "0"), ("open", "-inf"),
    ("high", "10000000.5"), ("low", "1e-400x"), ("open", "9" * 400),
])
def test_a_price_out_of_bounds_is_refused_with_its_line_and_column(tmp_path, column, value):
    row = dict(symbol="AAPL", time="1795530600", open="100", high="101", low="99", close="100", volume="10")
    row[column] = value
    if column in ("open", "close") and value in ("1e308", "10000000.5"):   # keep high >= it, so the bound answers
        row["high"] = value
    msg = refused(bars_file(tmp_path, GOOD, ",".join(row.values()) + "\n"))
    assert msg.startswith("bars.csv:3: ") and column in msg
    assert len(msg) < 200


@pytest.mark.parametrize("volume", ["-1", "inf", "nan", "1e13"])
def test_a_volume_out_of_bounds_is_refused(tmp_path, volume):
    msg = refused(bars_file(tmp_path, f"AAPL,1795530600,100,101,99,100,{volume}\n"))
    assert msg.startswith("bars.csv:2: volume")


@pytest.mark.parametrize("stamp", ["1795530600000", "-1e12", "inf", "nan", "9999-12-31T00:00:00", "1e308", "tomorrow"])
def test_a_time_out_of_range_is_refused(tmp_path, stamp):
    assert refused(bars_file(tmp_path, f"AAPL,{stamp},100,101,99,100,1\n")).startswith("bars.csv:2: time")


def test_bars_out_of_time_order_for_a_symbol_are_refused(tmp_path):
    msg = refused(bars_file(tmp_path, "AAPL,1795530660,100,101,99,100,1\n", "MSFT,1795530600,1,1,1,1,1\n",
                            "AAPL,1795530600,100,101,99,100,1\n"))
    assert msg.startswith("bars.csv:4: time") and "time order" in msg


def test_two_bars_at_the_same_time_for_a_symbol_are_refused(tmp_path):
    assert "time order" in refused(bars_file(tmp_path, GOOD, GOOD))


def test_symbols_interleaved_in_time_order_load(tmp_path):
    bars = read_bars(bars_file(tmp_path, "AAPL,1795530600,100,101,99,100,1\n", "MSFT,1795530600,1,1,1,1,1\n",
                               "AAPL,1795530660,100,101,99,100,1\n"))
    assert [b[0] for b in bars["AAPL"]] == [1795530600.0, 1795530660.0] and len(bars["MSFT"]) == 1


def test_a_bar_whose_high_and_low_do_not_enclose_open_and_close_is_refused(tmp_path):
    assert "do not enclose" in refused(bars_file(tmp_path, "AAPL,1795530600,100,99,98,100,1\n"))


@pytest.mark.parametrize("row", [
    f"AAPL,1795530600,{SECRET},101,99,100,{SECRET}\n",        # the offending field itself
    f"AAPL,{SECRET},100,101,99,100,1\n",
    f"{SECRET * 3},1795530600,100,101,99,100,1\n",
    f"AAPL,1795530600,100,101,99,100,1e13,{SECRET}\n",        # a secret beside an out-of-range number
])
def test_an_error_never_quotes_the_files_text(tmp_path, row):
    """At most the offending field's value, as a number: a credential file read as bars never leaks."""
    msg = refused(bars_file(tmp_path, row))
    assert msg.startswith("bars.csv:2: ") and "hunter2" not in msg and len(msg) < 200


def test_a_row_count_past_the_limit_is_refused_without_reading_on(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "MAX_ROWS", 100)
    rows = [f"AAPL,{1795530600 + 60 * i},100,101,99,100,1\n" for i in range(101)]
    assert refused(bars_file(tmp_path, *rows)).startswith("bars.csv:102: more than 100 bars")


def test_the_default_row_limit_is_reached_quickly(tmp_path):
    rows = "".join(f"A,{1795530600 + i},1,1,1,1,1\n" for i in range(replay.MAX_ROWS + 1))
    path = bars_file(tmp_path, rows)
    start = time.monotonic()
    assert f"more than {replay.MAX_ROWS} bars" in refused(path)
    assert time.monotonic() - start < 30


def test_a_line_too_long_is_refused_before_it_is_held(tmp_path):
    msg = refused(bars_file(tmp_path, GOOD, "AAPL,1795530600," + "1" * 5_000_000 + ",1,1,1,1\n"))
    assert msg.startswith("bars.csv:3: line longer than")
    assert len(msg) < 200


def test_a_header_line_too_long_is_refused(tmp_path):
    assert refused(bars_file(tmp_path, GOOD, header="symbol," + "x" * 5000 + "\n")).startswith("bars.csv:1:")


def test_too_many_symbols_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "MAX_SYMBOLS", 3)
    rows = [f"S{i},1795530600,1,1,1,1,1\n" for i in range(5)]
    assert "more than 3 symbols" in refused(bars_file(tmp_path, *rows))


@pytest.mark.parametrize("symbol", ["", "A" * 33, "AA\x07PL"])
def test_a_symbol_that_is_not_a_symbol_is_refused(tmp_path, symbol):
    assert refused(bars_file(tmp_path, f"{symbol},1795530600,1,1,1,1,1\n")).startswith("bars.csv:2: symbol")


def test_a_file_that_is_not_utf8_or_not_csv_is_a_replay_error(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_bytes(HEADER.encode() + b"AAPL,\xff\xfe,1,1,1,1,1\n")
    assert "not a UTF-8 CSV" in refused(path)
    path.write_text(HEADER + 'AAPL,"1795530600\0",1,1,1,1,1\n')
    with pytest.raises(ReplayError):
        read_bars(path)


def test_a_scenario_naming_a_hostile_replay_file_gets_the_located_error(tmp_path):
    (tmp_path / "bars.csv").write_text(HEADER + GOOD + f"AAPL,1795530660,1e308,1e308,1,1,{SECRET}\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        description: x
        duration_s: 60
        market:
          replay_csv: bars.csv
        """))
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario)
    assert err.value.field == "market.replay_csv" and "bars.csv:3: open" in err.value.message
    assert "hunter2" not in str(err.value)
