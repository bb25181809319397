"""Universe cost: the default book at gateway start, the lazy load of every listed stock, and first lookups.

Prints figures; no thresholds (see STYLE.md). Run: .venv/bin/python benchmarks/universe_bench.py
Each figure is from a fresh interpreter (the member tables and calendars are cached per process).
"""
from __future__ import annotations

import subprocess
import sys

_PROBE = r"""
import time, collections
t0 = time.perf_counter()
from mock_gateway.sim import ContractBook, ContractQuery
t1 = time.perf_counter()
book = ContractBook.default()
t2 = time.perf_counter()
n = len(book)                                   # loads the lazy part: US members, liquid names, Europe
t3 = time.perf_counter()
book.match(ContractQuery(symbol="SAP", sec_type="STK", currency="EUR"))
t4 = time.perf_counter()
stocks = collections.Counter(s.currency for s in book if s.sec_type == "STK")
print(f"import {1000 * (t1 - t0):.0f} ms; default book {1000 * (t2 - t1):.1f} ms; lazy load to {n} contracts "
      f"{1000 * (t3 - t2):.0f} ms; first SAP lookup {1000 * (t4 - t3):.2f} ms; stocks by currency {dict(stocks)}")
"""


def main() -> None:
    for run in range(3):
        out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
        print(f"run {run + 1}: {out.strip()}")


if __name__ == "__main__":
    main()
