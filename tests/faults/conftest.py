import pytest

from .fakes import FakeControl


@pytest.fixture
def ctl() -> FakeControl:
    return FakeControl()
