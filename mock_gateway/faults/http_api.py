"""The runtime fault API over HTTP, for gateways in another process or container (Toxiproxy's port 8474 idea).

``prelive gateway --control 127.0.0.1:PORT`` serves, on the gateway's own event loop:

    GET    /status          gateway version, sim time, speed, seed, sessions
    GET    /faults          every active fault: name, type, params, origin, added_at_s, active, acted
    POST   /faults          add one: the JSON body is what ``gw.faults.add`` takes
                            ({"type": ..., "name": ..., params..., "after_s", "for_s", "replace"})
    GET    /faults/{name}   one fault
    DELETE /faults/{name}   remove it (a window under way ends as at its scheduled end)
    DELETE /faults          remove every fault

Errors are ``{"error": <the in-process API's message>, "kind": <exception class>, ...}`` with 400
(bad spec, bad JSON), 401 (token), 403 (without a token: a web page's request, which carries an
Origin), 404 (no such fault or path), 405, 408 (request too slow), 409
(name taken), 411/413/431 (sizes), 503 (gateway stopped, too many connections). Never a traceback.

Trust: loopback by default; a non-loopback bind needs a bearer token, then every request must carry
``Authorization: Bearer <token>`` (compared in constant time). A request is bounded in header and
body size, JSON depth, wall time and concurrent connections; each response closes its connection.
Each add and remove is a ``fault_added`` / ``fault_removed`` event whose ``by`` names the caller.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import simpy

from ..datafiles import env_data_dirs
from .base import Fault
from .common import NamedFault, ScheduledFault
from .runtime import DuplicateFaultName, FaultApiError, GatewayNotRunning, NoSuchFault, RuntimeFaults
from .spec import MAX_NUMBER, FaultSpecError, UnknownFaultType


class Gateway(Protocol):
    """What the control API reads and drives of a running gateway (mock_gateway.server.Gateway)."""

    faults: RuntimeFaults
    env: simpy.Environment
    clock: Any            # SimClock: speed, now_datetime()
    config: Any           # GatewayConfig
    sessions: dict[int, Any]
    host: str
    port: int
    fault_acts: Any       # FaultActs: count(name)

    @property
    def running(self) -> bool: ...

    def call(self, fn: Callable[..., Any], *args: Any, timeout_s: float = 10.0) -> Any: ...

log = logging.getLogger("mock_gateway.control")

#: The environment variable a token may come from instead of ``--control-token`` (kept off command lines).
TOKEN_ENV = "PRELIVE_CONTROL_TOKEN"
#: How long and how much a connection's unread input is drained after its answer (see ControlServer._linger).
LINGER_S, LINGER_MAX_BYTES = 1.0, 1024 * 1024
#: Fields of a POST body that are ``add``'s own keywords rather than the fault's parameters.
ADD_KEYWORDS = ("after_s", "for_s", "replace")


@dataclass(frozen=True)
class ControlLimits:
    """What one request may cost the gateway: bytes, nesting, wall time, connections at once."""

    max_body_bytes: int = 64 * 1024
    max_head_bytes: int = 16 * 1024
    max_headers: int = 64
    max_json_depth: int = 32
    max_json_fields: int = 64    # members of one JSON object (a fault has a dozen; each unknown one costs a lookup)
    max_json_values: int = 4096  # values in the whole body
    request_timeout_s: float = 10.0
    max_connections: int = 16
    max_faults: int = 256        # active faults at once: each is asked about every message


class ControlApiConfigError(ValueError):
    """The control API cannot be started as asked (a bad address, or a non-loopback bind without a token)."""


class ControlListenError(OSError):
    """The control API's port could not be opened (taken, or no such interface)."""


class HttpError(Exception):
    """A request answered with an error status and ``{"error": message, ...}``."""

    def __init__(self, status: int, message: str, *, kind: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        # "error" and "status" as Toxiproxy's ApiError has them; "kind" names the in-process exception
        return {"error": self.message, "status": self.status, **({"kind": self.kind} if self.kind else {}),
                **self.extra}


REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 411: "Length Required",
           413: "Content Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}


# ---------------------------------------------------------------------------------------------- addresses
def parse_address(text: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``PORT`` -> (host, port); port 0 picks a free one."""
    text = text.strip()
    if text.startswith("http://") or text.startswith("https://"):
        raise ControlApiConfigError(f"--control takes HOST:PORT to listen on (e.g. 127.0.0.1:8474), not a URL: {text!r}")
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = default_host, text
    host = host.strip("[]") or default_host
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ControlApiConfigError(f"--control needs HOST:PORT with a port 0..65535 (e.g. 127.0.0.1:8474), "
                                    f"got {text!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback one (127.0.0.0/8, ::1); a wildcard is not."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addrs)


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback control API without a token: anyone who reaches it can break the gateway."""
    if token is not None and not token.strip():
        raise ControlApiConfigError(f"the control token is empty; set a long random one (--control-token or "
                                    f"{TOKEN_ENV}) or leave it unset on a loopback bind")
    if not is_loopback(host) and not token:
        raise ControlApiConfigError(
            f"the control API would listen on {host}, reachable from other machines, without a token: set one "
            f"with --control-token or {TOKEN_ENV} (callers then send 'Authorization: Bearer <token>'), or bind "
            "it to 127.0.0.1")


# ---------------------------------------------------------------------------------------------- JSON
def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (checked before parsing: deep input would
    cost the parser its recursion limit)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def json_size_problem(value: Any, max_fields: int, max_values: int) -> str | None:
    """Why a parsed body is too wide to judge cheaply (None: it is not): validating each unknown field
    costs the gateway's loop a nearest-name lookup, so thousands of them would stall every client."""
    count, stack = 0, [value]
    while stack:
        node = stack.pop()
        count += 1
        if count > max_values:
            return f"the body holds more than {max_values} JSON values; a fault needs a few dozen"
        if isinstance(node, dict):
            if len(node) > max_fields:
                return f"a JSON object in the body has {len(node)} fields, at most {max_fields} are accepted"
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; give a finite number")


def parse_body(raw: bytes, limits: ControlLimits) -> dict[str, Any]:
    """The POST body as a JSON object, or an :class:`HttpError` 400 saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the body is not UTF-8 text; send a JSON object such as "
                             '{"type": "latency", "distribution": {"kind": "fixed", "ms": 200}}',
                        kind="BadJson") from None
    if not text.strip():
        raise HttpError(400, 'the body is empty; send a JSON object with the fault\'s "type" and parameters, '
                             'e.g. {"type": "disconnect"}', kind="BadJson")
    if json_depth_exceeds(text, limits.max_json_depth):
        raise HttpError(400, f"the JSON nests deeper than {limits.max_json_depth} levels; a fault needs a few",
                        kind="BadJson")
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"the body is not valid JSON ({exc}); send an object such as "
                             '{"type": "disconnect"}', kind="BadJson") from None
    if not isinstance(body, dict):
        raise HttpError(400, f"the body is a JSON {type(body).__name__}; send an object with the fault's \"type\" "
                             "and parameters", kind="BadJson")
    problem = json_size_problem(body, limits.max_json_fields, limits.max_json_values)
    if problem is not None:
        raise HttpError(400, problem, kind="BadJson")
    return body


# ---------------------------------------------------------------------------------------------- the API
def _version() -> str:
    try:
        return metadata.version("prelive")
    except metadata.PackageNotFoundError:   # run from a source tree that was never installed
        return "unknown"


def untrusted_files_context() -> dict[str, Any]:
    """Where a fault added over HTTP may read a file it names (an empirical latency distribution's samples):
    only inside a folder of PRELIVE_DATA_DIRS, checked as an untrusted scenario's files are, never anywhere
    the gateway's user can read (the caller may be another machine's)."""
    dirs = env_data_dirs()
    return {"base_dir": str(dirs[0]) if dirs else os.devnull, "data_dirs": [str(d) for d in dirs]}


def _acting_now(fault: Fault, now_s: float) -> bool:
    """Whether the fault acts at this sim second: a window under way, or a per-message fault in its schedule."""
    if isinstance(fault, ScheduledFault):
        return bool(getattr(fault, "_occurring", False))
    if isinstance(fault, NamedFault):
        return fault.active(now_s)
    return True


def _error_from(exc: Exception) -> HttpError:
    """The in-process API's exception as its HTTP answer (same message)."""
    kind = type(exc).__name__
    if isinstance(exc, UnknownFaultType):
        return HttpError(400, str(exc), kind=kind, field="type", suggestion=exc.suggestion)
    if isinstance(exc, FaultSpecError):
        return HttpError(400, str(exc), kind=kind, field=exc.field,
                         problems=[{"field": f, "message": m} for f, m in exc.problems])
    if isinstance(exc, NoSuchFault):
        return HttpError(404, str(exc), kind=kind)
    if isinstance(exc, DuplicateFaultName):
        return HttpError(409, str(exc), kind=kind)
    if isinstance(exc, GatewayNotRunning):
        return HttpError(503, str(exc), kind=kind)
    return HttpError(400, str(exc), kind=kind)


class FaultControl:
    """The endpoints as plain calls on one gateway, run on its loop; each returns (status, JSON body)."""

    def __init__(self, gateway: Gateway, max_faults: int = ControlLimits.max_faults) -> None:
        self.gateway = gateway
        self.max_faults = max_faults

    def _fault_json(self) -> list[dict[str, Any]]:
        gw = self.gateway
        faults = list(gw.faults.faults)
        listed = gw.faults.list()
        now = float(gw.env.now)
        acts = getattr(gw, "fault_acts", None)
        out = []
        for fault, active in zip(faults, listed):
            out.append({**active.to_json(), "type": active.kind, "active": _acting_now(fault, now),
                        "acted": acts.count(active.name) if acts is not None else None})
        return out

    def status(self) -> dict[str, Any]:
        gw = self.gateway
        sessions = [{"conn_id": s.conn_id, "client_id": s.client_id, "state": s.state.name.lower(),
                     "server_version": s.server_version or None, "peer": s.peer}
                    for s in list(gw.sessions.values())]
        return {"gateway": "prelive mock IB Gateway", "version": _version(), "running": gw.running,
                "host": gw.host, "port": gw.port, "server_version_max": gw.config.max_server_version,
                "seed": gw.config.seed, "speed": gw.clock.speed, "sim_time_s": round(float(gw.env.now), 6),
                "sim_datetime": gw.clock.now_datetime().isoformat(), "accounts": gw.config.account_ids,
                "sessions": sessions, "faults": len(gw.faults)}

    def list_faults(self) -> list[dict[str, Any]]:
        return self._fault_json()

    def get_fault(self, name: str) -> dict[str, Any]:
        for item in self._fault_json():
            if item["name"] == name:
                return item
        raise _error_from(self.gateway.faults._no_such(name))

    def add_fault(self, body: dict[str, Any], by: str) -> dict[str, Any]:
        spec = dict(body)
        keywords: dict[str, Any] = {k: spec.pop(k) for k in ADD_KEYWORDS if k in spec}
        replace = keywords.get("replace", False)
        if not isinstance(replace, bool):
            raise HttpError(400, f"fault: replace: must be true or false, not {replace!r:.60}", kind="FaultSpecError",
                            field="replace", problems=[{"field": "replace", "message": "must be true or false"}])
        for key in ("after_s", "for_s"):
            value = keywords.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or (isinstance(value, float) and not math.isfinite(value))
                                      or abs(value) > MAX_NUMBER):
                problem = f"must be a number of sim seconds, not {value!r:.60}"
                raise HttpError(400, f"fault: {key}: {problem}", kind="FaultSpecError", field=key,
                                problems=[{"field": key, "message": problem}])
        if len(self.gateway.faults) >= self.max_faults and not (replace and spec.get("name", spec.get("type"))
                                                                 in self.gateway.faults):
            raise HttpError(409, f"{len(self.gateway.faults)} faults are active, the most this API adds to; remove "
                                 "some (DELETE /faults/{name}) or clear them (DELETE /faults) first",
                            kind="TooManyFaults")
        added = self.gateway.faults.add(spec, by=by, context=untrusted_files_context(), **keywords)
        return self.get_fault(added.name)

    def remove_fault(self, name: str, by: str) -> dict[str, Any]:
        before = {item["name"]: item for item in self._fault_json()}
        removed = self.gateway.faults.remove(name, by=by)
        return before.get(removed.name, removed.to_json())

    def clear(self, by: str) -> list[dict[str, Any]]:
        before = self._fault_json()
        self.gateway.faults.clear(by=by)
        return before


Route = Callable[[FaultControl, "Request"], tuple[int, Any]]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    peer: str
    body: bytes = b""

    def json(self, limits: ControlLimits) -> dict[str, Any]:
        return parse_body(self.body, limits)


def route(method: str, path: str) -> tuple[str, str | None]:
    """Which endpoint a request names: ("status" | "faults" | "fault", fault name), or an HttpError."""
    parts = [p for p in path.split("/") if p]
    if parts == ["status"]:
        endpoint, name, allowed = "status", None, ("GET",)
    elif parts == ["faults"]:
        endpoint, name, allowed = "faults", None, ("GET", "POST", "DELETE")
    elif len(parts) == 2 and parts[0] == "faults":
        endpoint, name, allowed = "fault", unquote(parts[1]), ("GET", "DELETE")
    else:
        raise HttpError(404, f"no endpoint {path!r}; the control API serves GET /status, GET|POST|DELETE /faults, "
                             "GET|DELETE /faults/{name}", kind="NotFound")
    if method not in allowed:
        raise HttpError(405, f"{method} {path} is not served; use {' or '.join(allowed)}", kind="MethodNotAllowed",
                        headers={"Allow": ", ".join(allowed)})
    return endpoint, name


def _refuse_browsers(headers: dict[str, str]) -> None:
    """Without a token, only programs may call: a web page the user has open can POST to a loopback
    port as a "simple" request (text/plain, no preflight), or through a DNS-rebound name as its own
    origin. Browsers send Origin on every POST and DELETE, cross-site or rebound; curl, Python and the
    prelive clients never do."""
    if "origin" in headers:
        raise HttpError(403, f"a request from a web page (Origin {headers['origin'][:80]!r}) cannot drive the "
                             "control API; call it from a program, or set a token", kind="Forbidden")


def needs_body(method: str) -> bool:
    return method == "POST"


def answer(control: FaultControl, request: Request, limits: ControlLimits) -> tuple[int, Any]:
    """Serve one parsed, authorised request (on the gateway's loop)."""
    endpoint, name = route(request.method, request.path)
    by = request.peer
    try:
        if endpoint == "status":
            return 200, control.status()
        if endpoint == "faults":
            if request.method == "GET":
                return 200, control.list_faults()
            if request.method == "DELETE":
                return 200, control.clear(by)
            return 201, control.add_fault(request.json(limits), by)
        assert name is not None
        if request.method == "GET":
            return 200, control.get_fault(name)
        return 200, control.remove_fault(name, by)
    except HttpError:
        raise
    except (FaultApiError, FaultSpecError) as exc:
        raise _error_from(exc) from None


def _one_address(host: str) -> str:
    """An IP literal for ``host`` (its first IPv4 address if it has one), so one socket and one URL serve it."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return host   # start_server reports the bad name
    addrs = [info[4][0] for info in infos]
    return next((a for a in addrs if ":" not in a), addrs[0]) if addrs else host


def _peer(sockname: object) -> str:
    """``HOST:PORT`` of the caller (``[v6]:PORT``), as the event log's ``by`` names it."""
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host = str(sockname[0])
        return f"[{host}]:{sockname[1]}" if ":" in host else f"{host}:{sockname[1]}"
    return str(sockname or "unknown")


# ---------------------------------------------------------------------------------------------- the server
class ControlServer:
    """The HTTP listener, on the gateway's event loop. ``await start()``, ``.url``, ``await stop()``."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0, *, token: str | None = None,
                 limits: ControlLimits | None = None) -> None:
        check_bind(host, token)
        self.gateway = gateway
        self.limits = limits or ControlLimits()
        self.control = FaultControl(gateway, self.limits.max_faults)
        self.host, self.port = host, port
        self._token = token.encode("utf-8") if token else None
        self._server: asyncio.base_events.Server | None = None
        self._open = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> ControlServer:
        self.host = _one_address(self.host)   # "localhost" would bind two families on two different free ports
        try:
            self._server = await asyncio.start_server(self._connection, self.host, self.port,
                                                      limit=self.limits.max_head_bytes, reuse_address=True)
        except OSError as exc:
            raise ControlListenError(exc.errno, f"cannot serve the control API on {self.host}:{self.port}: "
                                                f"{exc.strerror or exc}. Pick another --control port (0 chooses a "
                                                "free one)") from None
        sockname = self._server.sockets[0].getsockname()
        self.port = sockname[1]
        log.info("fault control API on %s", self.url)
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)

    # -------------------------------------------------------------------------- one connection
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peername = writer.get_extra_info("peername")
        peer = _peer(peername)
        self._open += 1
        try:
            if self._open > self.limits.max_connections:
                await self._respond(writer, HttpError(503, f"the control API serves at most "
                                                           f"{self.limits.max_connections} connections at once; retry",
                                                      kind="TooManyConnections", headers={"Retry-After": "1"}))
                await self._linger(reader, writer)
                return
            try:
                request = await asyncio.wait_for(self._read(reader, writer, peer), self.limits.request_timeout_s)
                status, body = self.gateway.call(answer, self.control, request, self.limits)
                await self._respond(writer, status, body, headers=(
                    {"Location": f"/faults/{body['name']}"} if status == 201 else None))
            except asyncio.TimeoutError:
                await self._respond(writer, HttpError(408, f"the request took longer than "
                                                           f"{self.limits.request_timeout_s:g} s to arrive",
                                                      kind="RequestTimeout"))
            except HttpError as exc:
                await self._respond(writer, exc)
            except (ConnectionError, asyncio.IncompleteReadError):
                return
            except Exception:   # never a traceback to the caller; the gateway's log keeps it
                log.exception("fault control API: unexpected error serving %s", peer)
                await self._respond(writer, HttpError(500, "internal error in the gateway's control API; its log "
                                                           "(stderr, -v) has the details", kind="InternalError"))
            await self._linger(reader, writer)
        except asyncio.CancelledError:
            pass
        except Exception:   # the answer itself could not be written: the connection is gone
            log.debug("fault control API: connection from %s ended while answering", peer, exc_info=True)
        finally:
            self._open -= 1
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Half-close, then discard what the client still sends (bounded in bytes and time) before closing:
        closing with unread input would reset the connection and could lose the answer just written (a 413
        or 401 sent before the body was read)."""
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            deadline = asyncio.get_running_loop().time() + LINGER_S
            discarded = 0
            while discarded < LINGER_MAX_BYTES:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                chunk = await asyncio.wait_for(reader.read(65536), left)
                if not chunk:
                    break
                discarded += len(chunk)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> Request:
        limits = self.limits
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise HttpError(431, f"the request line and headers exceed {limits.max_head_bytes} bytes",
                            kind="HeadersTooLarge") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ConnectionError("closed before a request") from None
            raise HttpError(400, "the request ended before its headers did", kind="BadRequest") from None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, "not an HTTP/1.x request line (METHOD PATH HTTP/1.1)", kind="BadRequest")
        method, target = parts[0].upper(), parts[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip() or name != name.strip():
                raise HttpError(400, f"malformed header line {line[:60]!r}", kind="BadRequest")
            if len(headers) >= limits.max_headers:
                raise HttpError(431, f"more than {limits.max_headers} headers", kind="HeadersTooLarge")
            key = name.lower()
            if key in headers and key in ("content-length", "authorization", "transfer-encoding"):
                raise HttpError(400, f"the {name} header appears twice", kind="BadRequest")
            headers[key] = value.strip()
        path = urlsplit(target).path or "/"
        request = Request(method, path, headers, peer)
        self._authorise(headers)
        route(method, path)   # 404/405 before reading a body
        if "transfer-encoding" in headers:
            raise HttpError(501, "chunked or encoded bodies are not accepted; send Content-Length",
                            kind="NotImplemented")
        length_text = headers.get("content-length")
        if length_text is None:
            if needs_body(method):
                raise HttpError(411, "POST needs a Content-Length and a JSON body", kind="LengthRequired")
            return request
        if not length_text.isdigit():
            raise HttpError(400, f"Content-Length {length_text[:20]!r} is not a byte count", kind="BadRequest")
        length = int(length_text)
        if length > limits.max_body_bytes:
            raise HttpError(413, f"the body is {length} bytes; at most {limits.max_body_bytes} are accepted",
                            kind="BodyTooLarge")
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            request.body = await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError:
            raise HttpError(400, f"the body ended before its Content-Length ({length} bytes)",
                            kind="BadRequest") from None
        return request

    def _authorise(self, headers: dict[str, str]) -> None:
        if self._token is None:
            _refuse_browsers(headers)
            return
        given = headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode("utf-8", "replace"),
                                                                self._token)
        if not ok:
            raise HttpError(401, "this control API needs 'Authorization: Bearer <token>' with the gateway's "
                                 f"control token ({TOKEN_ENV})", kind="Unauthorized",
                            headers={"WWW-Authenticate": 'Bearer realm="prelive"'})

    async def _respond(self, writer: asyncio.StreamWriter, status: int | HttpError, body: Any = None, *,
                       headers: dict[str, str] | None = None) -> None:
        if isinstance(status, HttpError):
            error = status
            status, body, headers = error.status, error.body(), error.headers
        payload = (json.dumps(body, default=str, allow_nan=False, indent=None) + "\n").encode("utf-8")
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", "Content-Type: application/json",
                f"Content-Length: {len(payload)}", "Connection: close", "Cache-Control: no-store"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.drain(), self.limits.request_timeout_s)


async def start_control_server(gateway: Gateway, address: str, token: str | None = None,
                               limits: ControlLimits | None = None) -> ControlServer:
    """Parse ``HOST:PORT``, check the bind is allowed, and serve the control API on the running loop."""
    host, port = parse_address(address)
    return await ControlServer(gateway, host, port, token=token, limits=limits).start()


__all__ = ["ControlApiConfigError", "ControlLimits", "ControlListenError", "ControlServer", "FaultControl", "HttpError", "TOKEN_ENV",
           "check_bind", "is_loopback", "json_depth_exceeds", "parse_address", "parse_body", "start_control_server"]
