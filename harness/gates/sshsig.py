"""SSH signatures as git makes them (``ssh-keygen -Y sign`` / ``-Y verify``), through the ssh-keygen tool.

A sign-off is only worth something if nobody else can make it: each signer signs with their own
private key, and ``allowed_signers`` (the OpenSSH format git uses, kept with the governance
framework) says which public keys may sign for which role. This module is the I/O edge: it runs
ssh-keygen and turns its answers into a :class:`Verdict`; nothing here decides what a verdict means.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
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

    ``same_role(principal, role)`` says whether an allowed_signers principal names the role
    (roles compare loosely: "risk officer" is "Risk Officer").
    """
    if not armored:
        return Verdict(VerdictKind.UNVERIFIABLE, "no cryptographic signature (made by an older prelive sign?)")
    if allowed_signers is None or not allowed_signers.is_file():
        return Verdict(VerdictKind.UNVERIFIABLE, "no allowed_signers file to verify against")
    try:
        candidates = [p for p in allowed_principals(allowed_signers.read_text(encoding="utf-8", errors="replace"))
                      if same_role(p, role)]
        with tempfile.TemporaryDirectory(prefix="prelive-verify-") as tmp:
            sig = Path(tmp) / "signature.sig"
            sig.write_text(armored, encoding="utf-8")
            rejected = ""
            for principal in candidates:   # the usual case: one ssh-keygen run
                proc = _run(["-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", NAMESPACE,
                             "-s", str(sig)], payload)
                if proc.returncode == 0:
                    match = _FINGERPRINT.search(_text(proc))
                    fingerprint = match.group(1) if match else ""
                    return Verdict(VerdictKind.VALID, f"signed by {principal}'s key {fingerprint}", fingerprint)
                rejected = _text(proc)
            # not valid for the role: say why
            intact, fingerprint = _fingerprint(sig, payload)
            if not intact:
                return Verdict(VerdictKind.FORGED, "the signature does not match the signed entry "
                                                   "(edited after signing, or not a signature)", fingerprint)
            found = _run(["-Y", "find-principals", "-f", str(allowed_signers), "-s", str(sig)])
            principals = [p for p in found.stdout.decode("utf-8", "replace").splitlines() if p.strip()] \
                if found.returncode == 0 else []
            if not principals:
                listed_for = _listed_for(allowed_signers, fingerprint, Path(tmp))
                if listed_for:   # listed, but its line's options (validity, namespaces) refuse it
                    return Verdict(VerdictKind.RESTRICTED, f"key {fingerprint} is listed for {', '.join(listed_for)}, "
                                                           "but its allowed_signers options (valid-after/valid-before, "
                                                           "namespaces) refuse this signature", fingerprint)
                return Verdict(VerdictKind.UNKNOWN_KEY, f"key {fingerprint or '?'} is not in allowed_signers",
                               fingerprint)
            if not any(same_role(p, role) for p in principals):
                return Verdict(VerdictKind.WRONG_ROLE, f"key {fingerprint} may sign for {', '.join(principals)}, "
                                                       f"not for {role}", fingerprint)
            return Verdict(VerdictKind.RESTRICTED, f"the options of its allowed_signers line refuse it "
                                                   f"(namespaces, valid-after/valid-before): {rejected or 'no answer'}",
                           fingerprint)
    except SigningToolError as exc:
        return Verdict(VerdictKind.UNVERIFIABLE, str(exc))
    except (OSError, subprocess.SubprocessError) as exc:
        return Verdict(VerdictKind.UNVERIFIABLE, f"ssh-keygen failed: {exc}")


_KEY_TYPE = re.compile(r"^(ssh-|ecdsa-|sk-)")


def _listed_for(allowed_signers: Path, fingerprint: str, tmp: Path) -> list[str]:
    """Principals whose allowed_signers line carries the key with ``fingerprint``, options ignored."""
    if not fingerprint:
        return []
    keys: list[tuple[str, str]] = []   # (public key line, principals field)
    for line in allowed_signers.read_text(encoding="utf-8", errors="replace").splitlines():
        tokens = line.strip().split()
        if not tokens or tokens[0].startswith("#"):
            continue
        at = next((i for i, t in enumerate(tokens) if _KEY_TYPE.match(t)), None)
        if at is not None and at + 1 < len(tokens):
            keys.append((f"{tokens[at]} {tokens[at + 1]}", ",".join(allowed_principals(line))))
    found = []
    for i, (key, principals) in enumerate(keys):
        pub = tmp / f"key{i}.pub"
        pub.write_text(key + "\n")
        proc = _run(["-l", "-f", str(pub)])
        if proc.returncode == 0 and fingerprint in _text(proc):
            found.append(principals)
    return found


def allowed_principals(text: str) -> list[str]:
    """The principals (roles) an allowed_signers file names, in order; comments and blank lines skipped.

    Format (ssh-keygen(1), ALLOWED SIGNERS): ``principals [options] keytype key [comment]``; the
    principals field is a comma-separated list, double-quoted when it holds spaces.
    """
    names: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            end = line.find('"', 1)
            field = line[1:end] if end > 0 else line[1:]
        else:
            field = line.split()[0]
        names += [p.strip() for p in field.split(",") if p.strip() and p.strip() not in names]
    return names
