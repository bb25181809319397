"""Write a set of files so that none is ever seen half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_files_atomically(contents: dict[Path, bytes]) -> None:
    """Stage every file (temp file + fsync) before renaming any, so a failure leaves old files untouched.

    Each rename is atomic; the set is renamed in one quick loop after all the data is on disk.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in contents.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    for directory in {path.parent for _, path in staged}:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
