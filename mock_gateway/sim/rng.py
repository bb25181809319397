"""Seeded random streams: one seed, split into independent named streams.

Adding a fault (which draws from "faults") must not change the price path (drawn from
"market"), so every consumer takes its own stream by name.
"""
from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, *sub: str | int) -> np.random.Generator:
    """An independent generator for (seed, name, *sub); same arguments, same draws, every run."""
    key = [zlib.crc32(name.encode())] + [zlib.crc32(str(s).encode()) for s in sub]
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))
