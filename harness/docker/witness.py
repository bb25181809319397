"""The handler container's clock, read from outside: a drift witness over a ``docker exec`` socket.

In container mode the handler's libfaketime clock counts from the gateway's ``run_start`` wall time
(``python -m harness.faketime exec``). To check that it really keeps to the scenario's clock, the
harness runs ``python -m harness.faketime witness`` in the handler's container: a process on the
real clock that starts a witness on the handler's own clock (the handler's clock variables, read from
its ``/proc/<pid>/environ``) and answers each newline with the handler's wall and monotonic time and
the real time of the reading. Containers share the kernel's clocks with the host, so the real time
converts to this process's monotonic clock and :func:`harness.faketime.measure_drift` applies as in
process mode.
"""
from __future__ import annotations

import contextlib
import socket
import struct
import time
from typing import Any

from ..faketime import FaketimeUnavailable

#: ``docker exec`` multiplexes stdout (1) and stderr (2) in frames with an 8-byte header.
_STDOUT, _STDERR = 1, 2
#: A reading longer than this (real seconds) means the witness is stuck; the sampling stops.
READ_TIMEOUT_S = 10.0
#: Bytes of the witness's stderr kept for the error message.
MAX_STDERR = 2000


class ContainerWitness:
    """``read_epoch`` like :class:`harness.faketime.Witness`, for a handler in a container."""

    def __init__(self, client: Any, container: Any, wait_s: float = 5.0) -> None:
        api = client.api
        self._exec = api.exec_create(container.id, ["python", "-m", "harness.faketime", "witness", f"{wait_s:g}"],
                                     stdin=True, stdout=True, stderr=True, tty=False)
        sock = api.exec_start(self._exec["Id"], socket=True)
        self._handle = sock
        self._raw: socket.socket = getattr(sock, "_sock", sock)
        self._raw.settimeout(READ_TIMEOUT_S + wait_s)   # the first answer waits for the handler to appear
        self._out, self._err = b"", b""

    def _recv_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._raw.recv(size - len(data))
            if not chunk:
                return data
            data += chunk
        return data

    def _read_line(self) -> str:
        while b"\n" not in self._out:
            header = self._recv_exact(8)
            if len(header) < 8:
                said = self._err.decode(errors="replace").strip()
                raise FaketimeUnavailable("the clock witness in the handler's container ended"
                                          + (f": {said}" if said else ""))
            stream, size = header[0], struct.unpack(">I", header[4:8])[0]
            payload = self._recv_exact(size)
            if stream == _STDOUT:
                self._out += payload
            else:
                self._err = (self._err + payload)[-MAX_STDERR:]
        line, self._out = self._out.split(b"\n", 1)
        return line.decode(errors="replace")

    def read_epoch(self) -> tuple[float, float, float]:
        """(handler wall clock, handler monotonic clock, both epoch seconds; this process's monotonic time
        at the reading)."""
        self._raw.sendall(b"\n")
        line = self._read_line()
        self._raw.settimeout(READ_TIMEOUT_S)
        try:
            wall, mono, at_wall = (float(v) for v in line.split())
        except ValueError:
            raise FaketimeUnavailable(f"the clock witness answered {line[:200]!r}") from None
        return wall, mono, time.monotonic() - (time.time() - at_wall)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_WR)     # end of stdin: the witness exits
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self._raw.close()
