"""Error families of the gate engine: a bad config and a bad evidence file are the user's to fix."""
from __future__ import annotations

from pathlib import Path


class GatesConfigError(Exception):
    """The gates config (packaged defaults merged with the user's file) is invalid."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"gates config {source}: {message}")


class EvidenceError(Exception):
    """An evidence file exists but cannot be read as what it claims to be; no report is written."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        self.reason = message
        super().__init__(f"evidence file {self.path}: {message}")
