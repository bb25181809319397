"""Files a scenario names (latency samples, replayed bars) are untrusted input.

A scenario file may come from anyone, so a path in it is resolved inside the scenario's own
folder, or inside a folder the user passed explicitly (``data_dirs`` in the validation
context: ``prelive ... --data-dir DIR`` or ``PRELIVE_DATA_DIRS``), after symlinks are followed;
``../../secrets/paper.env`` or ``/etc/shadow`` is refused before it is opened. The file must be
a regular file under :data:`MAX_DATA_FILE_BYTES`. Errors about such a file name the file and the
line, never its contents.

Without a validation context (Python code building a config directly) the caller is trusted and
the path is used as given.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Largest data file a scenario may name (a day of 1-second bars for a few symbols is ~10 MiB).
MAX_DATA_FILE_BYTES = 64 * 1024 * 1024
#: os.pathsep-separated folders the user allows scenario data files in, besides the scenario's own.
DATA_DIRS_ENV = "PRELIVE_DATA_DIRS"


class DataFileRefused(ValueError):
    """A file a scenario names lies outside the allowed folders, is not a regular file, or is too large."""


def env_data_dirs() -> list[Path]:
    return [Path(p) for p in os.environ.get(DATA_DIRS_ENV, "").split(os.pathsep) if p]


def resolve_data_file(value: str | os.PathLike[str], context: Mapping[str, Any] | None, what: str) -> Path:
    """The real path of a file a scenario names, or :class:`DataFileRefused` saying why not."""
    path = Path(value)
    base = (context or {}).get("base_dir")
    if base is None:  # no scenario file involved: the caller built the config itself
        if not path.is_file():
            raise DataFileRefused(f"{what} not found: {path}")
        return path
    allowed = [Path(base), *(Path(d) for d in _as_list((context or {}).get("data_dirs")))]
    candidate = path if path.is_absolute() else Path(base) / path
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise DataFileRefused(f"{what} not found: {candidate}") from None
    roots = []
    for folder in allowed:
        try:
            roots.append(folder.resolve(strict=True))
        except (OSError, RuntimeError):
            continue
    if not any(real == root or root in real.parents for root in roots):
        raise DataFileRefused(
            f"{what} {value} is outside the scenario's folder: a scenario may only name files in its own "
            f"folder or in one passed with --data-dir (or {DATA_DIRS_ENV})")
    if not real.is_file():
        raise DataFileRefused(f"{what} {value} is not a regular file")
    size = real.stat().st_size
    if size > MAX_DATA_FILE_BYTES:
        raise DataFileRefused(f"{what} {value} is {size} bytes; the limit is {MAX_DATA_FILE_BYTES} bytes")
    return real


def _as_list(value: Any) -> Iterable[Any]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)
