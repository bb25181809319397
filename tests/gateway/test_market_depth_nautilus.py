"""nautilus_trader's order book subscription (its IB adapter: reqMktDepth with SMART depth, rows kept by position,
aggregated by price into OrderBookDeltas) against the mock gateway over a real socket."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("nautilus")]

AGENT = Path(__file__).with_name("nautilus_depth_agent.py")


def test_a_nautilus_order_book_fills_and_stays_uncrossed(mock_gateway):
    from peers.nautilus import ROOT, nautilus_python

    done = subprocess.run([str(nautilus_python()), str(AGENT), str(mock_gateway.port), "12"], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ), cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-4000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["batches"] >= 40, seen            # 20 rows on the first step, then edits every grid step
    assert seen["max_levels"] == 10 and seen["crossed"] == 0, seen
    bid, ask = seen["last_top"]
    assert 0 < bid < ask
