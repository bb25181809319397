"""CLI commands of this area (see harness/cli.py): ``prelive gates`` and ``prelive sign``."""
from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:   # the gate engine (pandas) and rich are imported by the commands, not by `prelive --help`
    from rich.table import Table

    from harness.gates.config import GatesConfig
    from harness.gates.verification import Verification

_STYLE = {"PASS": "green", "FAIL": "red", "PENDING": "yellow"}   # by Status value
_OUTCOME_STYLE = {"GO_LIVE_APPROVED": "bold green", "CONDITIONAL_APPROVAL": "bold yellow", "REJECTED": "bold red"}


class SignDecision(str, Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CONDITIONAL = "CONDITIONAL"


EvidenceOpt = typer.Option(Path("."), "--evidence", "-e", help="Evidence directory.", file_okay=False)
ConfigOpt = typer.Option(None, "--config", "-c", help="Gates config YAML merged over the packaged defaults.",
                         dir_okay=False)


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    from harness.gates.model import EXIT_USAGE_OR_EVIDENCE_ERROR

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(EXIT_USAGE_OR_EVIDENCE_ERROR)


def _config(path: Path | None) -> GatesConfig:
    from harness.gates.config import load_config
    from harness.gates.errors import GatesConfigError

    try:
        return load_config(path)
    except GatesConfigError as exc:
        raise _fail(str(exc)) from None


def summary_table(v: Verification) -> Table:
    from rich.table import Table

    from harness.gates.model import Status

    table = Table(title="prelive gates", show_lines=False)
    for column in ("Gate", "Stage", "Status", "Critical", "Not passing"):
        table.add_column(column)
    for g in v.gates:
        gaps = "; ".join(f"{c.description} ({c.status.value.lower()})" for c in g.conditions
                         if c.status is not Status.PASS and not c.derived)
        table.add_row(g.name, g.title, f"[{_STYLE[g.status.value]}]{g.status.value}[/]", "yes" if g.critical else "",
                      gaps)
    return table


def gates(
    evidence: Path = EvidenceOpt,
    config: Path | None = ConfigOpt,
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write the outputs (default: the evidence "
                                                               "directory).", file_okay=False),
    show_config: bool = typer.Option(False, "--show-config", help="Print the merged config as YAML and exit."),
) -> None:
    """Evaluate GATE_1..GATE_8 and write PRELIVE_VERIFICATION_LOG.json, GO_LIVE_DECISION.md and .html.

    Exit codes: 0 GO_LIVE_APPROVED, 10 CONDITIONAL_APPROVAL, 20 REJECTED (REMEDIATE_AND_REVALIDATE),
    21 REJECTED (ROLLBACK_AND_INVESTIGATE), 2 usage, config or evidence error (nothing written).
    """
    import yaml
    from rich.console import Console

    from harness.gates.errors import EvidenceError
    from harness.gates.run import run_gates

    cfg = _config(config)
    if show_config:
        typer.echo(yaml.safe_dump(cfg.model_dump(mode="json", exclude={"sources"}), sort_keys=False))
        raise typer.Exit(0)
    try:
        verification, written = run_gates(evidence, cfg, out)
    except EvidenceError as exc:
        raise _fail(f"{exc}\nNothing was written.") from None
    console = Console()
    console.print(summary_table(verification))
    d = verification.decision
    console.print(f"Decision: [{_OUTCOME_STYLE[d.outcome.value]}]{d.outcome.value}[/] -> {d.action.value} "
                  f"(exit {d.exit_code})", highlight=False)
    for reason in d.reasons:
        console.print(f"  - {reason}", highlight=False, soft_wrap=True)
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    raise typer.Exit(d.exit_code)


def sign(
    role: str = typer.Option(..., "--role", help='Signing role the governance framework names, e.g. "Risk Officer".'),
    name: str = typer.Option(..., "--name", help="Name of the person signing."),
    decision: SignDecision = typer.Option(..., "--decision", case_sensitive=False),
    key: Path | None = typer.Option(None, "--key", "-k", envvar="PRELIVE_SIGNING_KEY", dir_okay=False,
                                    help="Your SSH private key (ssh-keygen -t ed25519), listed for the role in "
                                         "the governance framework's allowed_signers."),
    comment: str = typer.Option("", "--comment"),
    evidence: Path = EvidenceOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Sign the evidence as it is now with your SSH key (ssh-keygen -Y sign): every evidence file's sha256,
    the event logs, the gates config and decision. Any later change makes the signature stale; an edit
    of the signature itself makes it forged.

    Exit codes: 0 signed, 2 not signed (unknown role, key not allowed for the role, evidence error).
    """
    from rich.console import Console

    from harness.gates.errors import EvidenceError
    from harness.gates.signoff import SignOffError, sign_evidence

    if not role.strip() or not name.strip():
        raise _fail("--role and --name must not be empty")
    if key is None:
        raise _fail("--key is required: the SSH private key allowed_signers lists for your role "
                    "(or set PRELIVE_SIGNING_KEY)")
    cfg = _config(config)
    try:
        done = sign_evidence(evidence, cfg, role=role, name=name.strip(), decision=decision.value, comment=comment,
                             key=key, now=datetime.now(UTC))
    except EvidenceError as exc:
        raise _fail(f"{exc}\nNothing was signed.") from None
    except SignOffError as exc:
        raise _fail(f"{exc}\nNothing was signed.") from None
    console = Console(soft_wrap=True)
    entry = done.entry
    console.print(f"{entry['decision']} signed by {entry['role']} ({entry['name']}) in {done.path}", highlight=False)
    present = sum(f.present for f in done.before.evidence.files.values())
    console.print(f"bound to evidence digest {entry['evidence_digest']} ({present} files present) and gates config "
                  f"{entry['config_sha256'][:16]}; {done.verdict.detail}", highlight=False)
    for warning in done.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    from harness.gates.signatures import role_key
    if role_key(role) not in {role_key(r) for r in cfg.gates.go_live.required_signers}:
        console.print(f"[yellow]note:[/] {entry['role']!r} is not a required signer "
                      f"({', '.join(cfg.gates.go_live.required_signers)}); a REJECTED from it still blocks approval",
                      highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.command("gates")(gates)
    app.command("sign")(sign)
