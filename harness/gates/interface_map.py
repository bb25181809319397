"""INTERFACE_MAP.yaml: the stages of the trading stack and the broker operations it uses.

The user keeps this file (format in docs/gates.md). A structural mistake (wrong type, a
duplicate id, an unknown key) is an error; an incomplete entry (a stage without outputs, an
operation without an SLA) is what gates 2-5 measure, so it is allowed here.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    id: str = Field(min_length=1)
    name: str = ""
    description: str = ""
    inputs: list[str] = []
    outputs: list[str] = []
    #: Substrings that select this stage's tests among the stage test ids ("classname::name");
    #: empty means the stage id itself.
    tests: list[str] = []

    @property
    def test_selectors(self) -> list[str]:
        return self.tests or [self.id]


class Operation(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    stage: str | None = None
    implemented: StrictBool = False
    sla_ms: float | None = Field(default=None, gt=0)
    #: code -> what it means and how the stack handles it
    error_codes: dict[int, str] = {}

    @property
    def error_codes_documented(self) -> bool:
        return bool(self.error_codes) and all(text.strip() for text in self.error_codes.values())


class InterfaceMap(_Strict):
    schema_: Literal["prelive/interface-map/v1"] = Field(alias="schema")
    external_inputs: list[str] = []
    stages: list[Stage] = []
    operations: list[Operation] = []

    @model_validator(mode="after")
    def _unique(self) -> InterfaceMap:
        for kind, names in (("stage id", [s.id for s in self.stages]),
                            ("operation name", [o.name for o in self.operations])):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind}: {', '.join(duplicates)}")
        return self

    @property
    def stage_ids(self) -> set[str]:
        return {s.id for s in self.stages}
