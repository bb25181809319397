import sys
from pathlib import Path

# the live-gateway helpers of tests/faults (live.py), whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
