"""Test handler: ignores IB_PORT and tries a hard-wired port, like many first bots; fails after a few tries."""
import socket
import sys
import time

for _ in range(3):
    try:
        socket.create_connection(("127.0.0.1", 1), timeout=1).close()
    except OSError as exc:
        print(f"fixed_port: cannot connect to 127.0.0.1:1: {exc}", file=sys.stderr, flush=True)
        time.sleep(1)
sys.exit(2)
