"""The gates config: packaged defaults (defaults.yaml) with a user file merged over them."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import GatesConfigError

Op = Literal["<", "<=", ">", ">=", "==", "!="]
DEFAULTS_SOURCE = "harness/gates/defaults.yaml"


class _Strict(BaseModel):
    # A typo in a threshold name must not silently keep the default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    """``observed <op> value``; both parts can be overridden separately."""

    op: Op
    value: float


class _Gate(_Strict):
    critical: bool = False


class ArtifactValidation(_Gate):
    artifact_coverage_pct: Threshold
    test_coverage_pct: Threshold
    fixtures_valid_pct: Threshold


class HierarchicalBreakdown(_Gate):
    required_stages: list[str] = []
    stages_defined: Threshold
    required_stages_defined_pct: Threshold
    stages_with_io_pct: Threshold
    stage_inputs_resolved_pct: Threshold


class InterfaceMapping(_Gate):
    required_operations: list[str] = []
    include_observed_operations: bool = True
    ignore_observed_operations: list[str] = []
    operations_mapped_pct: Threshold
    error_codes_documented_pct: Threshold
    slas_defined_pct: Threshold


class ImplementationPrep(_Gate):
    operations_implemented_pct: Threshold
    unit_tests_run: Threshold
    unit_tests_failed: Threshold


class TestInfrastructure(_Gate):
    __test__ = False  # not a pytest class
    stage_tests_total: Threshold
    stage_tests_not_run: Threshold
    stages_with_tests_pct: Threshold


class AccountConfigGate(_Gate):
    require_paper_account: bool = True
    buying_power: Threshold


class PaperTrading(_Gate):
    p95_latency_metric: str = "order_ack_latency_p95_ms"
    latency_delta_pct: Threshold
    p95_latency_ms: Threshold
    pacing_violations: Threshold
    fill_rate_pct: Threshold
    sharpe_vs_backtest: Threshold
    trade_count_min: Threshold
    trade_count_max: Threshold
    disconnects: Threshold


class GoLive(_Gate):
    required_signers: list[str] = Field(min_length=1)
    signature_max_age_days: float | None = Field(default=None, gt=0)
    #: sha256 of the one allowed_signers file to trust: pins the governance keys where the evidence
    #: directory is writable by people who must not be able to list their own key.
    allowed_signers_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    rollback_recovery_s: Threshold


class Gates(_Strict):
    artifact_validation: ArtifactValidation
    hierarchical_breakdown: HierarchicalBreakdown
    interface_mapping: InterfaceMapping
    implementation_prep: ImplementationPrep
    test_infrastructure: TestInfrastructure
    account_config: AccountConfigGate
    paper_trading: PaperTrading
    go_live: GoLive


class EvidenceFiles(_Strict):
    coverage: str
    unit_tests: str
    stage_tests: str
    interface_map: str
    governance: str
    allowed_signers: str
    account_config: str
    paper_metrics: str
    paper_log: str
    kill_switch: str
    rollback_drill: str
    signatures: str


class EvidenceConfig(_Strict):
    files: EvidenceFiles
    required_artifacts: list[str]
    fixtures: list[str] = []

    @model_validator(mode="after")
    def _signatures_are_not_an_artifact(self) -> EvidenceConfig:
        if "signatures" in self.required_artifacts:
            raise ValueError("required_artifacts must not list 'signatures': signatures are bound to the "
                             "evidence digest, which excludes them")
        return self


class DecisionConfig(_Strict):
    min_passing_gates: int = Field(ge=1, le=7)
    minor_margin_pct: float = Field(ge=0)
    pending_is_minor: bool = True
    #: Accept stage 6/7 evidence made against the mock gateway as if it came from a real paper account.
    allow_simulated_evidence: bool = False


class GatesConfig(_Strict):
    version: Literal[1]
    evidence: EvidenceConfig
    gates: Gates
    decision: DecisionConfig
    #: Where the values came from, for the verification log (not part of the YAML).
    sources: tuple[str, ...] = (DEFAULTS_SOURCE,)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml_mapping(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GatesConfigError(source, f"not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GatesConfigError(source, f"must be a mapping at the top level, found {type(data).__name__}")
    return data


def default_config_dict() -> dict[str, Any]:
    text = resources.files("harness.gates").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return _read_yaml_mapping(text, DEFAULTS_SOURCE)


def build_config(user: dict[str, Any] | None = None, source: str = "<user config>") -> GatesConfig:
    """Validate the defaults merged with ``user`` (a mapping shaped like defaults.yaml)."""
    merged = deep_merge(default_config_dict(), user or {})
    sources = (DEFAULTS_SOURCE, source) if user else (DEFAULTS_SOURCE,)
    try:
        return GatesConfig.model_validate({**merged, "sources": sources})
    except ValidationError as exc:
        raise GatesConfigError(source if user else DEFAULTS_SOURCE, _describe(exc)) from None


def load_config(path: Path | str | None = None) -> GatesConfig:
    """The packaged defaults, with the YAML file at ``path`` merged over them when given."""
    if path is None:
        return build_config()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatesConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return build_config(_read_yaml_mapping(text, str(path)), str(path))


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "<top>"
        message = "unknown key (check the spelling against docs/gates.md)" \
            if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{where}: {message}")
    return "; ".join(lines)
