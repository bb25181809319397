"""SSH signatures as git makes them (``ssh-keygen -Y sign`` / ``-Y verify``), through the ssh-keygen tool.

A sign-off is only worth something if nobody else can make it: each signer signs with their own
private key, and ``allowed_signers`` (the OpenSSH format git uses, kept with the governance
framework) says which public keys may sign for which role. This module is the I/O edge: it runs
ssh-keygen and turns its answers into a :class:`Verdict`; nothing here decides what a verdict means.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

#: The signature namespace (``-n``): a prelive sign-off signature is never valid as a git commit
#: signature or a file signature, and the other way round.
NAMESPACE = "prelive-signoff"
_TIMEOUT_S = 20.0
_FINGERPRINT = re.compile(r"(SHA256:[A-Za-z0-9+/=]+)")


class SigningToolError(Exception):
    """ssh-keygen is missing or could not sign (the message says what to do)."""


class VerdictKind(str, Enum):
    VALID = "valid"                # the role's key signed exactly these bytes
    FORGED = "forged"              # the signature does not match the signed bytes (or is not a signature)
    UNKNOWN_KEY = "unknown key"    # a real signature, by a key allowed_signers does not list
    WRONG_ROLE = "wrong role"      # a listed key, but not for the role the entry claims
    RESTRICTED = "restricted"      # the role's key, but its allowed_signers options refuse it (namespaces, validity)
    UNVERIFIABLE = "unverifiable"  # no allowed_signers, no ssh-keygen, or no signature at all


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    detail: str = ""
    fingerprint: str = ""          # SHA256:... of the signing key, when the signature names one

    @property
    def valid(self) -> bool:
        return self.kind is VerdictKind.VALID


def ssh_keygen() -> str:
    """Path of ssh-keygen; raises SigningToolError naming the package when it is absent."""
    path = shutil.which("ssh-keygen")
    if path is None:
        raise SigningToolError("ssh-keygen was not found: install OpenSSH's client tools "
                               "(Debian/Ubuntu: apt-get install openssh-client)")
    return path


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([ssh_keygen(), *args], input=data, capture_output=True, timeout=_TIMEOUT_S,
                          stdin=None if data is not None else subprocess.DEVNULL)


def _text(proc: subprocess.CompletedProcess[bytes]) -> str:
    return (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()


def sign_bytes(payload: bytes, key_path: Path | str) -> str:
    """The armored SSH signature of ``payload`` by the private key at ``key_path`` (or its .pub with an agent)."""
    key_path = Path(key_path).expanduser()
    if not key_path.is_file():
        raise SigningToolError(f"signing key {key_path} not found (give your SSH private key, e.g. ~/.ssh/id_ed25519)")
    with tempfile.TemporaryDirectory(prefix="prelive-sign-") as tmp:
        message = Path(tmp) / "manifest.json"
        message.write_bytes(payload)
        proc = _run(["-Y", "sign", "-f", str(key_path), "-n", NAMESPACE, str(message)])
        sig = Path(tmp) / "manifest.json.sig"
        if proc.returncode != 0 or not sig.is_file():
            raise SigningToolError(f"ssh-keygen could not sign with {key_path}: {_text(proc) or 'no output'}")
        return sig.read_text(encoding="ascii")


def _fingerprint(signature_file: Path, payload: bytes) -> tuple[bool, str]:
    """(cryptographically valid for these bytes, key fingerprint), ignoring allowed_signers."""
    proc = _run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(signature_file)], payload)
    match = _FINGERPRINT.search(_text(proc))
    return proc.returncode == 0, match.group(1) if match else ""


def verify_bytes(payload: bytes, armored: str | None, allowed_signers: Path | None, role: str,
                 same_role: Callable[[str, str], bool] = lambda a, b: a == b) -> Verdict:
    """Whether ``armored`` is a signature of ``payload`` by a key allowed_signers lists for ``role``.

    Principals are ssh-keygen patterns (``*@risk.example.com``, ``Risk *``, ``!CTO,*``): a line
    admits ``role`` when its pattern list matches it as ``ssh-keygen -Y verify -I`` matches
    (case-sensitive, negation wins), or when it names the role literally in another spelling
    (``same_role``: roles compare loosely, "risk officer" is "Risk Officer"). Python decides which
    lines admit the role; ssh-keygen then verifies the signature against those lines alone, their
    options (namespaces, validity) included, so a wildcard never lends a key a role it is not listed for.
    """
    if not armored:
        return Verdict(VerdictKind.UNVERIFIABLE, "no cryptographic signature (made by an older prelive sign?)")
    if allowed_signers is None or not allowed_signers.is_file():
        return Verdict(VerdictKind.UNVERIFIABLE, "no allowed_signers file to verify against")
    try:
        lines = parse_allowed_signers(allowed_signers.read_text(encoding="utf-8", errors="replace"))
        admitting = [line for line in lines if line.admits(role, same_role)]
        with tempfile.TemporaryDirectory(prefix="prelive-verify-") as tmp:
            sig = Path(tmp) / "signature.sig"
            sig.write_text(armored, encoding="utf-8")
            rejected = ""
            if admitting:
                if not _role_is_principal(role):
                    return Verdict(VerdictKind.UNVERIFIABLE, f"role {role!r} cannot be an ssh-keygen principal "
                                                             "(no quotes, commas, *, ? or a leading !)")
                # the lines that admit the role, each naming it alone: one ssh-keygen run
                for_role = Path(tmp) / "allowed_signers"
                for_role.write_text("".join(line.for_principal(role) for line in admitting), encoding="utf-8")
                proc = _run(["-Y", "verify", "-f", str(for_role), "-I", role, "-n", NAMESPACE,
                             "-s", str(sig)], payload)
                if proc.returncode == 0:
                    match = _FINGERPRINT.search(_text(proc))
                    fingerprint = match.group(1) if match else ""
                    return Verdict(VerdictKind.VALID, f"signed by {role}'s key {fingerprint}", fingerprint)
                rejected = _text(proc)
            # not valid for the role: say why
            intact, fingerprint = _fingerprint(sig, payload)
            if not intact:
                return Verdict(VerdictKind.FORGED, "the signature does not match the signed entry "
                                                   "(edited after signing, or not a signature)", fingerprint)
            own = [line for line in lines if fingerprint and line.fingerprint == fingerprint]
            if not own:
                return Verdict(VerdictKind.UNKNOWN_KEY, f"key {fingerprint or '?'} is not in allowed_signers",
                               fingerprint)
            if not any(line.admits(role, same_role) for line in own):
                listed = ", ".join(dict.fromkeys(p for line in own for p in line.principals))
                return Verdict(VerdictKind.WRONG_ROLE, f"key {fingerprint} may sign for {listed}, "
                                                       f"not for {role}", fingerprint)
            return Verdict(VerdictKind.RESTRICTED, f"key {fingerprint} is listed for {role}, but its "
                                                   "allowed_signers options (valid-after/valid-before, namespaces) "
                                                   f"refuse this signature: {rejected or 'no answer'}", fingerprint)
    except SigningToolError as exc:
        return Verdict(VerdictKind.UNVERIFIABLE, str(exc))
    except (OSError, subprocess.SubprocessError) as exc:
        return Verdict(VerdictKind.UNVERIFIABLE, f"ssh-keygen failed: {exc}")


# ----------------------------------------------------------------------------- allowed_signers, as ssh-keygen reads it

_KEY_TYPE = re.compile(r"^(ssh-|ecdsa-|sk-)")
_PATTERN_CHARS = re.compile(r"[*?]")


def match_pattern(text: str, pattern: str) -> bool:
    """OpenSSH's match_pattern(): ``*`` any run, ``?`` any one character, everything else literal and case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def match_pattern_list(text: str, patterns: Sequence[str]) -> int:
    """OpenSSH's match_pattern_list(): 1 when a pattern matches, -1 when a negated (``!``) one does, else 0."""
    positive = 0
    for pattern in patterns:
        negated = pattern.startswith("!")
        if match_pattern(text, pattern[1:] if negated else pattern):
            if negated:
                return -1
            positive = 1
    return positive


def is_pattern(principal: str) -> bool:
    """Whether an allowed_signers principal is a pattern (a set of names), not a name."""
    return principal.startswith("!") or _PATTERN_CHARS.search(principal) is not None


def _role_is_principal(role: str) -> bool:
    return bool(role) and not is_pattern(role) and not any(c in role for c in '",\n\r')


@dataclass(frozen=True)
class AllowedSigner:
    """One allowed_signers line: its principal patterns, the rest of the line verbatim, and its key's fingerprint."""
    principals: tuple[str, ...]
    rest: str           # options, key type, key, comment: exactly as written
    fingerprint: str    # SHA256:... of the public key ("" when the line has none)

    def admits(self, role: str, same_role: Callable[[str, str], bool]) -> bool:
        """Whether this line lets its key sign as ``role``.

        As ssh-keygen (-I role): the pattern list matches, no negation matching. prelive's loose role
        names add only literal spellings ("risk officer" for "Risk Officer"); a negation excludes
        every spelling, so ``!CTO,*`` admits neither "CTO" nor "cto".
        """
        negated = [p[1:] for p in self.principals if p.startswith("!")]
        if any(match_pattern(role, n) or same_role(n, role) for n in negated):
            return False
        if match_pattern_list(role, self.principals) == 1:
            return True
        return any(not is_pattern(p) and same_role(p, role) for p in self.principals)

    def for_principal(self, role: str) -> str:
        """This line naming ``role`` alone (options and key unchanged)."""
        return f'"{role}" {self.rest}\n'


def _split_principals_field(line: str) -> tuple[str, str]:
    """(principals field, rest of the line), as ssh-keygen's strdelimw reads the first field."""
    if line.startswith('"'):
        end = line.find('"', 1)
        if end < 0:
            return line[1:], ""
        return line[1:end], line[end + 1:].strip()
    parts = line.split(None, 1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _key_fingerprint(rest: str) -> str:
    """SHA256 fingerprint (as ssh-keygen -l prints it) of the first public key in ``rest``."""
    tokens = rest.split()
    at = next((i for i, t in enumerate(tokens) if _KEY_TYPE.match(t)), None)
    if at is None or at + 1 >= len(tokens):
        return ""
    try:
        blob = base64.b64decode(tokens[at + 1], validate=True)
    except (ValueError, binascii.Error):
        return ""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def parse_allowed_signers(text: str) -> list[AllowedSigner]:
    """The lines of an allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS); comments and blank lines skipped."""
    signers = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        field, rest = _split_principals_field(line)
        principals = tuple(p for p in field.split(",") if p)
        signers.append(AllowedSigner(principals, rest, _key_fingerprint(rest)))
    return signers


def allowed_principals(text: str, *, names_only: bool = False) -> list[str]:
    """The principals an allowed_signers file names, in order, once each.

    The principals field is a comma-separated list of patterns, double-quoted when it holds
    spaces. ``names_only`` leaves out patterns (``*@risk.example.com``, ``!CTO``): they admit roles,
    they are not roles.
    """
    names: list[str] = []
    for signer in parse_allowed_signers(text):
        names += [p for p in signer.principals if p not in names and not (names_only and is_pattern(p))]
    return names
