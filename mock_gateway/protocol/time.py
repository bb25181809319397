"""Times and durations as the TWS API writes and reads them (pure text <-> values)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BAR_SIZES_S = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600, "day": 86400,
                "days": 86400, "week": 7 * 86400, "weeks": 7 * 86400, "month": 30 * 86400, "months": 30 * 86400}
_DURATION_UNITS_S = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400}


def ib_time(epoch_s: float) -> str:
    """'YYYYMMDD HH:MM:SS UTC': what execDetails, bars and the handshake carry (every client parses it)."""
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y%m%d %H:%M:%S UTC")


def parse_bar_size_s(text: str) -> float:
    """'5 secs', '1 min', '1 hour', '1 day' ... to seconds; ValueError for what TWS refuses."""
    match = re.fullmatch(r"\s*(\d{1,9})\s+([A-Za-z]+)\s*", text)
    if not match or match.group(2).lower() not in _BAR_SIZES_S or int(match.group(1)) <= 0:
        raise ValueError(f"Historical data bar size setting is invalid: {text[:40]!r}")
    return int(match.group(1)) * _BAR_SIZES_S[match.group(2).lower()]


def parse_duration_s(text: str) -> float:
    """'3600 S', '2 D', '1 W', '1 M', '1 Y' to seconds."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*([SDWMY])\s*", text.upper())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"Invalid duration format: {text[:40]!r} (expected an integer and S, D, W, M or Y)")
    return int(match.group(1)) * _DURATION_UNITS_S[match.group(2)]


def parse_end_datetime(text: str) -> datetime | None:
    """endDateTime as the clients send it; '' is now. A time without a zone is read as UTC."""
    text = text.strip()
    if not text:
        return None
    parts = text.replace("-", " ", 1).split()
    try:
        if len(parts) == 1 and len(parts[0]) == 8:
            return datetime.strptime(parts[0], "%Y%m%d").replace(hour=23, minute=59, second=59, tzinfo=timezone.utc)
        when = datetime.strptime(parts[0] + parts[1], "%Y%m%d%H:%M:%S")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else timezone.utc
    except (ValueError, IndexError, KeyError, ZoneInfoNotFoundError) as exc:
        raise ValueError(f"Invalid end date/time {text[:60]!r}: {exc}") from None
    return when.replace(tzinfo=zone)


__all__ = ["ib_time", "parse_bar_size_s", "parse_duration_s", "parse_end_datetime"]
