"""A fault from its scenario-file form: ``{type: latency, distribution: {...}, schedule: {...}}``.

The runtime fault API (``gw.faults.add``) builds faults through here, with the scenario loader's
schema (the :data:`~mock_gateway.faults.registry.FaultSpec` tagged union, the same pydantic
validators, the same parameter names), the same wording of its errors and the same bounds on
numbers, so a fault that loads from YAML can be added at runtime and the other way round.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .common import NamedFault
from .registry import FAULT_TYPES, FaultSpec

#: Largest magnitude of any number in a fault (as the scenario loader: larger is a typo or an attack).
MAX_NUMBER = 1e15


class FaultSpecError(ValueError):
    """A fault that cannot be built: every problem as ``(field, message)``, the first in the attributes."""

    def __init__(self, problems: list[tuple[str | None, str]], kind: str | None = None) -> None:
        self.problems = problems
        self.kind = kind
        self.field, self.message = problems[0]
        what = f"fault {kind!r}" if kind else "fault"
        super().__init__("; ".join(f"{what}: {f}: {m}" if f else f"{what}: {m}" for f, m in problems))


class UnknownFaultType(FaultSpecError):
    """``type`` names no fault in the registry; :attr:`suggestion` is the nearest known type, if any."""

    def __init__(self, kind: object) -> None:
        known = sorted(FAULT_TYPES)
        close = difflib.get_close_matches(str(kind), known, n=1, cutoff=0.6) if isinstance(kind, str) else []
        self.suggestion: str | None = close[0] if close else None
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        super().__init__([("type", f"unknown fault type {kind!r}{hint}; known types: {', '.join(known)}")])


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(FaultSpec)


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    """Every parameter name a fault may use, to suggest the one a typo meant."""
    from . import distributions, schedule

    words: set[str] = set()
    for cls in (*FAULT_TYPES.values(), schedule.Schedule, distributions.Fixed, distributions.Uniform,
                distributions.Normal, distributions.LogNormal, distributions.Empirical):
        words |= {f.name for f in dataclasses.fields(cls) if f.init}
    return tuple(sorted(words))


def _dotted(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))


def _message(error: Mapping[str, Any]) -> str:
    """The scenario loader's wording of one pydantic error."""
    kind, msg = error["type"], error["msg"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        name = str(error["loc"][-1])
        close = difflib.get_close_matches(name, _vocabulary(), n=1, cutoff=0.75)
        return "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in ("missing", "missing_keyword_only_argument", "missing_argument"):
        return f"missing required field {error['loc'][-1]!r}"
    ctx = {k: str(v).replace("'", "") for k, v in error.get("ctx", {}).items()}
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator', 'type')} {ctx.get('tag')!r}; expected one of: " \
               f"{ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')}: field"
    return str(msg).removeprefix("Value error, ")


def _problem(error: Mapping[str, Any], kind: str) -> tuple[str | None, str]:
    loc = tuple(error["loc"])
    if loc and loc[0] == kind:      # the tagged union puts the tag first
        loc = loc[1:]
    if error["type"].startswith("missing"):
        loc = loc[:-1]          # reported where its parent mapping is, as the scenario loader does
    return _dotted(loc) or None, _message(error)


def _numbers(obj: Any, loc: tuple[str | int, ...], depth: int = 0) -> list[tuple[tuple[str | int, ...], float]]:
    if depth > 8 or isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [(loc, obj)]
    out: list[tuple[tuple[str | int, ...], float]] = []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.init:
                out += _numbers(getattr(obj, f.name, None), (*loc, f.name), depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            out += _numbers(item, (*loc, i), depth + 1)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            out += _numbers(item, (*loc, str(key)), depth + 1)
    return out


def bounds_problems(fault: NamedFault) -> list[tuple[str | None, str]]:
    """Numbers no field validator bounds: every one finite and at most :data:`MAX_NUMBER` in size."""
    problems: list[tuple[str | None, str]] = []
    for loc, value in _numbers(fault, ()):
        if isinstance(value, float) and not math.isfinite(value):
            problems.append((_dotted(loc), f"must be a finite number, not {value}"))
        elif abs(value) > MAX_NUMBER:
            problems.append((_dotted(loc), "is out of range (at most 1e15)"))
    return problems


def fault_from_spec(spec: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> NamedFault:
    """Validate one fault in its scenario-file form and build it (unbound: no seed, no start yet).

    Raises :class:`UnknownFaultType` for a ``type`` the registry does not know and
    :class:`FaultSpecError` listing every bad or unknown parameter otherwise."""
    if not isinstance(spec, Mapping):
        raise FaultSpecError([(None, f"a fault is a mapping with type: and its parameters, not {type(spec).__name__}")])
    kind = spec.get("type")
    if kind is None:
        raise FaultSpecError([("type", f"missing required field 'type' (one of: {', '.join(sorted(FAULT_TYPES))})")])
    if not isinstance(kind, str) or kind not in FAULT_TYPES:
        raise UnknownFaultType(kind)
    try:
        fault = _adapter().validate_python(dict(spec), context=dict(context or {}))
    except ValidationError as exc:
        raise FaultSpecError([_problem(e, kind) for e in exc.errors()], kind) from None
    except (TypeError, ValueError) as exc:   # a __post_init__ check outside pydantic's reach
        raise FaultSpecError([(None, str(exc))], kind) from None
    problems = bounds_problems(fault)
    if problems:
        raise FaultSpecError(problems, kind)
    return fault  # type: ignore[no-any-return]


__all__ = ["FaultSpecError", "MAX_NUMBER", "UnknownFaultType", "bounds_problems", "fault_from_spec"]
