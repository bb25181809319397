"""How the mock says, on the wire, that it is not IB Gateway: one informational notice at startup.

Right after the farm status messages (2104/2106/2158) the mock sends error message code 2199
with reqId -1. Clients treat every code in 2100-2199 as a warning (ib_insync and ib_async log it
at INFO, ibapi hands it to ``EWrapper.error``; none fails a request on reqId -1), and the real
gateway never sends 2199, so ``prelive probe``, ``prelive paper`` and ``prelive tap`` can tell
simulated evidence from real evidence without a user flag.
"""
from __future__ import annotations

MOCK_NOTICE_CODE = 2199
MOCK_NOTICE_TEXT = ("prelive mock gateway: simulated market and account, no connection to IBKR "
                    "(a real gateway never sends this notice)")


def is_mock_notice(code: object, text: object) -> bool:
    """Whether an error message (code, text) is the mock's self-identification."""
    try:
        return int(code) == MOCK_NOTICE_CODE and str(text).startswith("prelive mock gateway")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
