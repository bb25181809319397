"""Delay distributions in milliseconds, each sampled from a seeded stream the caller owns.

``quantile(p)`` gives the configured distribution's own quantile, so a test or a report can
compare what a client measured with what was asked for.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo

from ..datafiles import resolve_data_file

#: A delay longer than a day is no latency (and ``.inf`` would stall the world for good).
MAX_LATENCY_MS = 86_400_000.0
Ms = Annotated[float, Field(ge=0, le=MAX_LATENCY_MS, allow_inf_nan=False)]
_Z = NormalDist()


@dataclass(kw_only=True)
class Fixed:
    """Every sample is ``ms``."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: Literal["fixed"] = "fixed"
    ms: Ms

    def sample(self, rng: np.random.Generator) -> float:
        return self.ms

    def quantile(self, p: float) -> float:
        return self.ms


@dataclass(kw_only=True)
class Uniform:
    """Uniform between ``low_ms`` and ``high_ms``."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: Literal["uniform"] = "uniform"
    low_ms: Ms
    high_ms: Ms

    def __post_init__(self) -> None:
        if self.high_ms < self.low_ms:
            raise ValueError(f"high_ms ({self.high_ms}) must be >= low_ms ({self.low_ms})")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low_ms, self.high_ms))

    def quantile(self, p: float) -> float:
        return self.low_ms + p * (self.high_ms - self.low_ms)


@dataclass(kw_only=True)
class Normal:
    """Normal, clipped at 0 (a delay cannot be negative); keep ``std_ms`` well below ``mean_ms``."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: Literal["normal"] = "normal"
    mean_ms: Ms
    std_ms: Ms

    def sample(self, rng: np.random.Generator) -> float:
        return max(0.0, float(rng.normal(self.mean_ms, self.std_ms)))

    def quantile(self, p: float) -> float:
        return max(0.0, self.mean_ms + self.std_ms * _Z.inv_cdf(p))


@dataclass(kw_only=True)
class LogNormal:
    """Log-normal given by its median and 95th percentile, the figures latency reports use."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: Literal["lognormal"] = "lognormal"
    median_ms: Annotated[float, Field(gt=0, le=MAX_LATENCY_MS, allow_inf_nan=False)]
    p95_ms: Annotated[float, Field(gt=0, le=MAX_LATENCY_MS, allow_inf_nan=False)]

    def __post_init__(self) -> None:
        if self.p95_ms < self.median_ms:
            raise ValueError(f"p95_ms ({self.p95_ms}) must be >= median_ms ({self.median_ms})")

    @property
    def sigma(self) -> float:
        return math.log(self.p95_ms / self.median_ms) / _Z.inv_cdf(0.95)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.median_ms * math.exp(self.sigma * rng.standard_normal()))

    def quantile(self, p: float) -> float:
        return self.median_ms * math.exp(self.sigma * _Z.inv_cdf(p))


#: More samples than any measured session needs; a bigger file is refused rather than read into memory.
MAX_SAMPLES = 1_000_000


def read_samples_ms(path: Path) -> np.ndarray:
    """Millisecond samples from a CSV: the first column; ``#`` comments and one header line are allowed.

    Errors name the file and the line, never the line's text (the file may not be what it claims).
    """
    values: list[float] = []
    header_allowed = True
    name = Path(path).name
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            try:
                v = float(row[0])
            except ValueError:
                if header_allowed:
                    header_allowed = False
                    continue
                raise ValueError(f"{name}:{lineno}: the first column is not a number of milliseconds "
                                 f"(only one header line is allowed)") from None
            if not math.isfinite(v) or v < 0 or v > MAX_LATENCY_MS:
                raise ValueError(f"{name}:{lineno}: a latency must be a number of milliseconds from 0 to "
                                 f"{MAX_LATENCY_MS:g}")
            values.append(v)
            header_allowed = False
            if len(values) > MAX_SAMPLES:
                raise ValueError(f"{name}: more than {MAX_SAMPLES} latency samples")
    if not values:
        raise ValueError(f"{name}: no latency samples")
    return np.asarray(values, dtype=float)


def _existing_samples_file(value: Path, info: ValidationInfo) -> Path:
    """Resolve inside the scenario's folder (untrusted input, mock_gateway.datafiles) and check the
    file now, not when the first reply is due."""
    path = resolve_data_file(value, info.context, "latency samples file")
    read_samples_ms(path)
    return path


@dataclass(kw_only=True)
class Empirical:
    """Resampled (with replacement) from measured latencies, e.g. a real paper session's acks."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    kind: Literal["empirical"] = "empirical"
    file: Annotated[Path, AfterValidator(_existing_samples_file)]
    samples_ms: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.file = Path(self.file)
        self.samples_ms = read_samples_ms(self.file)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.samples_ms[rng.integers(len(self.samples_ms))])

    def quantile(self, p: float) -> float:
        return float(np.quantile(self.samples_ms, p))


Distribution = Annotated[Union[Fixed, Uniform, Normal, LogNormal, Empirical], Field(discriminator="kind")]
