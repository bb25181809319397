"""Typed views of the stage artifacts (docs/contracts.md §4) the gates read.

Only the fields the gates and the report use are declared; other fields are kept but not
checked, so a producer may add fields without breaking the gate engine (contracts change
additively). Booleans are strict: ``"yes"`` is not ``true``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class AccountConfig(_Artifact):
    schema_: Literal["prelive/account-config/v1"] = Field(alias="schema")
    generated_at: datetime | None = None
    connected: StrictBool
    account_id: str
    account_type: Literal["paper", "live"]
    buying_power: float | None = None
    permission_mismatch: StrictBool
    gateway: dict[str, Any] | None = None  # {"host", "port", "kind": "mock"|"real"}


class KillSwitch(_Artifact):
    schema_: Literal["prelive/kill-switch/v1"] = Field(alias="schema")
    at: datetime | None = None
    verified: StrictBool
    open_orders_before: int | None = None
    open_orders_after: int | None = None
    target: str | None = None


class DrillStep(_Artifact):
    name: str
    tag: str | None = None
    duration_s: float | None = None
    result: Literal["ok", "failed", "skipped"]


class DrillKillSwitch(_Artifact):
    engaged: StrictBool | None = None
    verified: StrictBool | None = None
    open_orders_after: int | None = None


class RollbackDrill(_Artifact):
    schema_: Literal["prelive/rollback-drill/v1"] = Field(alias="schema")
    target: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: list[DrillStep] = []
    total_recovery_s: float | None = None
    threshold_s: float | None = None
    failed_step: str | None = None
    kill_switch: DrillKillSwitch | None = None
    passed: StrictBool


class PaperTradingLog(_Artifact):
    schema_: Literal["prelive/paper-trading-log/v1"] = Field(alias="schema")
    scenario: str | None = None
    seed: int | None = None
    speed: float | None = None
    latency_clock: Literal["sim", "wall"] | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    event_log: str | None = None
    event_log_sha256: str | None = None
    #: Optional (contracts §4): the event log of the matching backtest run, for the equity plot.
    backtest_event_log: str | None = None
    backtest_event_log_sha256: str | None = None
    #: {"kind": "mock"|"real", ...}: which gateway the session ran against (a mock run is simulated evidence).
    gateway: dict[str, Any] | None = None
    #: sha256 of the PAPER_TRADING_METRICS.csv written with this log: the two are one set.
    metrics_csv_sha256: str | None = None
    trades: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    disconnects: list[dict[str, Any]] = []
    metrics: dict[str, float | None] = {}


class Signature(BaseModel):
    """One entry of SIGNATURES.json: a sign-off and the manifest it is bound to, signed by the signer's SSH key.

    The signed bytes are the entry itself without ``signature`` (canonical JSON, see
    harness.gates.signatures.signed_payload): the role, the name, the decision, the sha256 of every
    evidence file (event logs included), the gates config's sha256 and the decision the gates
    gave at signing time. Editing any of it breaks the signature.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = Field(min_length=1)
    name: str = Field(min_length=1)
    decision: Literal["APPROVED", "REJECTED", "CONDITIONAL"]
    comment: str = ""
    signed_at: datetime
    evidence_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    #: sha256 per evidence file at signing time (None = absent), to say what changed since.
    evidence_files: dict[str, str | None] = {}
    #: sha256 of the merged gates config the signer's evidence was evaluated with.
    config_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    #: The gates' decision on the evidence when it was signed (before this signature counted).
    gates_outcome: str | None = None
    #: Armored SSH signature (``-----BEGIN SSH SIGNATURE-----``) over the rest of the entry.
    signature: str | None = Field(default=None, max_length=16_384)

    @field_validator("signed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("signed_at needs a time zone (e.g. 2025-01-31T12:00:00Z)")
        return value


class SignaturesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["prelive/signatures/v1", "prelive/signatures/v2"] = Field(alias="schema")
    #: Each entry costs a few ssh-keygen runs to verify: a bounded list, so no file can stall the gates.
    signatures: list[Signature] = Field(default=[], max_length=1000)
