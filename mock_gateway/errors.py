"""Errors a request is answered with: raised by handlers and desks, turned into an error reply by the dispatch."""
from __future__ import annotations

#: TWS's answer (code 200) for a contract it cannot find; the one copy of the text.
NO_SECURITY_DEFINITION = "No security definition has been found for the request"


class RequestError(Exception):
    """A request the gateway answers with an error message (and otherwise ignores)."""

    def __init__(self, req_id: int, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.req_id, self.code, self.text = req_id, code, text


class NoSecurityDefinition(RequestError):
    """Error 200: no contract matches the request."""

    def __init__(self, req_id: int) -> None:
        super().__init__(req_id, 200, NO_SECURITY_DEFINITION)


__all__ = ["NO_SECURITY_DEFINITION", "NoSecurityDefinition", "RequestError"]
