"""A client of the gateway's HTTP fault-control API: ``gw.faults`` for a gateway in another process.

    faults = ControlClient("http://127.0.0.1:8474")            # token from PRELIVE_CONTROL_TOKEN if set
    faults.add("latency", name="slow", distribution={"kind": "fixed", "ms": 200}, for_s=60)
    faults.remove("slow"); faults.clear(); faults.list(); faults.status()

Standard library only (urllib), so it runs wherever the gateway's package is installed. Errors carry
the gateway's own message: :class:`ControlRequestError` (``.status``, ``.error``, ``.body``) for an
answer that is not 2xx, :class:`ControlUnreachable` when nothing answers.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

TOKEN_ENV = "PRELIVE_CONTROL_TOKEN"   # as mock_gateway.faults.http_api (not imported: keeps this light)
#: Largest answer read back (a list of faults is a few KiB; a gateway is not a download server).
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class ControlClientError(Exception):
    """Base of the control client's errors."""


class ControlUnreachable(ControlClientError, ConnectionError):
    """No gateway control API answered at the URL."""


class ControlRequestError(ControlClientError):
    """The control API answered with an error status; ``error`` is its message, as the in-process API words it."""

    def __init__(self, status: int, error: str, body: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {error}")
        self.status, self.error = status, error
        self.body: dict[str, Any] = dict(body or {})
        self.kind: str | None = self.body.get("kind")


class ControlClient:
    """The runtime fault API of a gateway at ``url`` (``http://HOST:PORT``)."""

    def __init__(self, url: str, token: str | None = None, *, timeout_s: float = 10.0) -> None:
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = f"http://{url}"
        if not url.startswith("http://"):
            raise ValueError(f"the control API speaks plain HTTP on loopback or behind your own tunnel: {url!r}")
        self.url = url
        self.token = token if token is not None else (os.environ.get(TOKEN_ENV) or None)
        self.timeout_s = timeout_s

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One call; the decoded JSON answer, or :class:`ControlRequestError` / :class:`ControlUnreachable`."""
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:   # noqa: S310 (http only, checked)
                return _decode(resp.read(MAX_RESPONSE_BYTES + 1), resp.status)
        except urllib.error.HTTPError as exc:
            answer = _decode(exc.read(MAX_RESPONSE_BYTES + 1), exc.code, error=True)
            message = answer.get("error") if isinstance(answer, dict) else None
            raise ControlRequestError(exc.code, str(message or exc.reason),
                                      answer if isinstance(answer, dict) else None) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ControlUnreachable(f"no control API answered at {self.url} ({reason}); is the gateway running "
                                     "with --control HOST:PORT?") from None

    # -------------------------------------------------------------------------- gw.faults, over HTTP
    def list(self) -> list[dict[str, Any]]:
        return self.request("GET", "/faults")  # type: ignore[no-any-return]

    def get(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/faults/{quote(name, safe='')}")  # type: ignore[no-any-return]

    def add(self, fault: str | Mapping[str, Any], name: str | None = None, **params: Any) -> dict[str, Any]:
        """As ``gw.faults.add``: a type and keywords, or a mapping in the scenario-file form."""
        spec = {"type": fault, **params} if isinstance(fault, str) else {**fault, **params}
        if name is not None:
            spec["name"] = name
        return self.request("POST", "/faults", spec)  # type: ignore[no-any-return]

    def remove(self, name: str) -> dict[str, Any]:
        return self.request("DELETE", f"/faults/{quote(name, safe='')}")  # type: ignore[no-any-return]

    def clear(self) -> list[dict[str, Any]]:
        return self.request("DELETE", "/faults")  # type: ignore[no-any-return]

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/status")  # type: ignore[no-any-return]


def _decode(raw: bytes, status: int, *, error: bool = False) -> Any:
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ControlRequestError(status, f"the answer is larger than {MAX_RESPONSE_BYTES} bytes; is this a "
                                          "prelive control API?")
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        if error:
            return {"error": raw[:200].decode("utf-8", "replace")}
        raise ControlRequestError(status, "the answer is not JSON; is this a prelive control API?") from None


__all__ = ["ControlClient", "ControlClientError", "ControlRequestError", "ControlUnreachable"]
