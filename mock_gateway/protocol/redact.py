"""Credential-bearing message fields, redacted before anything is written to a log.

The TWS API's authentication messages carry an ISV's opaque key and the challenge/response
exchanged with the gateway (EClient.verifyRequest / verifyMessage / verifyAndAuthRequest /
verifyAndAuthMessage, and the gateway's verifyMessageApi / verifyAndAuthMessageApi; see the
official ibapi ``client.py`` and ``decoder.py``). Their message id and version are kept, so a
log still shows that authentication happened; every other field becomes ``REDACTED``. The
verdict messages (verifyCompleted, verifyAndAuthCompleted: success flag and error text) carry
no secret and stay as they are.
"""
from __future__ import annotations

from typing import Any

REDACTED = "<redacted>"
#: (direction, message id) of the messages whose fields after the version are credentials.
SECRET_MESSAGES = frozenset({
    ("in", 65),   # verifyRequest: apiName, apiVersion
    ("in", 66),   # verifyMessage: apiData
    ("in", 72),   # verifyAndAuthRequest: apiName, apiVersion, opaqueIsvKey
    ("in", 73),   # verifyAndAuthMessage: apiData, xyzResponse
    ("out", 65),  # verifyMessageApi: apiData
    ("out", 69),  # verifyAndAuthMessageApi: apiData, xyzChallenge
})
_KEPT_FIELDS = 2  # message id, version


def is_secret_message(direction: str, fields: list[str] | None) -> bool:
    if not fields or direction not in ("in", "out"):
        return False
    try:
        msg_id = int(str(fields[0]).strip())
    except ValueError:
        return False
    return (direction, msg_id) in SECRET_MESSAGES


def redact_message(direction: str, fields: list[str] | None, attrs: dict[str, Any] | None
                   ) -> tuple[list[str] | None, dict[str, Any] | None]:
    """The fields and decoded attributes to log for one message (unchanged unless it carries credentials)."""
    if not is_secret_message(direction, fields):
        return fields, attrs
    assert fields is not None
    kept = list(fields[:_KEPT_FIELDS]) + [REDACTED] * max(0, len(fields) - _KEPT_FIELDS)
    return kept, {"redacted": True}
