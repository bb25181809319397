import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fault_fakes, whatever pytest's import mode

from fault_fakes import FakeControl  # noqa: E402


@pytest.fixture
def ctl() -> FakeControl:
    return FakeControl()


@pytest.fixture(autouse=True)
def _main_thread_event_loop(main_thread_event_loop):
    """ib_insync's and ib_async's blocking APIs need a current event loop (tests/conftest.py)."""
    yield
