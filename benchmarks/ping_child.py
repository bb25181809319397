"""What both loop benchmarks measure from outside the gateway: another client's round trips and peak RSS.

`hist_bench.py` and `loop_hold_bench.py` start this client as a child process (``--ping PORT``) so its
round trips are timed on a loop of its own, not the gateway's.
"""
from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ping(port: int) -> None:
    """Child process: reqCurrentTime round trips until stdin closes; prints (wall time, RTT ms) pairs as JSON."""
    import select

    from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    dec = FrameDecoder()

    def read_until(pred) -> None:
        while True:
            for _, fields in dec.feed(sock.recv(65536)):
                if pred(fields):
                    return

    sock.sendall(encode_handshake("v157..176"))
    read_until(lambda f: len(f) == 2)
    sock.sendall(encode_frame([71, 2, 99, ""]))
    read_until(lambda f: f[0] == "9")
    print("ready", flush=True)
    rtts: list[tuple[float, float]] = []
    while not select.select([sys.stdin], [], [], 0)[0]:
        t0 = time.perf_counter()
        sock.sendall(encode_frame([49, 1]))
        read_until(lambda f: f[0] == "49")
        rtts.append((time.time(), (time.perf_counter() - t0) * 1000))
        time.sleep(0.002)
    print(json.dumps(rtts), flush=True)
