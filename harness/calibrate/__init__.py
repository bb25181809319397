"""Calibrate the mock from a recorded session (``prelive calibrate``) and diff the two (``prelive diff``).

Pure functions over the event log (mock_gateway.eventlog): a tap-recorded paper session and a
mock run's own log read the same, so both commands are tested on mock-recorded sessions.
"""
from .session import SessionLogError, read_session

__all__ = ["SessionLogError", "read_session"]
