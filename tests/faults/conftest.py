import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fault_fakes, whatever pytest's import mode

from fault_fakes import FakeControl  # noqa: E402


@pytest.fixture
def ctl() -> FakeControl:
    return FakeControl()
